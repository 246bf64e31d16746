//! File input and output. Everything that touches the file system lives here.

mod columns;
mod csv_input;
mod csv_table;
#[cfg(feature = "plots")]
pub mod figure;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod input_tests;
pub mod npy;
mod npz_bits;
#[cfg(feature = "parquet")]
mod parquet;
#[cfg(feature = "parquet")]
mod png_bits;
mod run_store;
mod tensors;
mod xy;

pub use columns::{read_npz, read_table, Table};
pub(crate) use csv_table::{csv_column, csv_strings, num, parse_csv, write_csv};
pub use npy::{read_npy, write_npy};
#[cfg(test)]
pub(crate) use npz_bits::fixture;
pub use npz_bits::{read_npz_u8_bits, PackedBits};
#[cfg(feature = "parquet")]
pub(crate) use parquet::one_line;
#[cfg(feature = "parquet")]
pub use parquet::read_parquet_frame;
#[cfg(all(test, feature = "parquet"))]
pub(crate) use png_bits::fixture as png_bits_fixture;
#[cfg(feature = "parquet")]
pub use png_bits::png_to_bits;
pub use run_store::RunStore;
pub use tensors::{create_dir, read_safetensors, read_text, write_safetensors, write_text_atomic};
pub use xy::{read_xy, XySource};

use crate::error::{Error, Result};
use std::path::Path;

/// An I/O error naming the file.
pub fn io_error(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

/// Writes `path` all or nothing: `write` fills `path` with the extension `.tmp` beside it, which
/// is then renamed over `path` (a rename within one folder is atomic), so a reader — or a resumed
/// run after a crash — never sees a half-written file.
pub fn write_atomic(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = path.with_extension("tmp");
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        detail: format!("cannot move {} into place: {e}", tmp.display()),
    })
}

/// Writes a text file (a CSV table, a JSON report), creating its parent folders.
pub fn write_text(path: impl AsRef<Path>, text: &str) -> Result<()> {
    let path = path.as_ref();
    let fail = |e: std::io::Error| Error::Io {
        path: path.display().to_string(),
        detail: format!("cannot write: {e}"),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}
