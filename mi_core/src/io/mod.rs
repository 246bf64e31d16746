//! File input and output. Everything that touches the file system lives here.

#[cfg(feature = "plots")]
pub mod figure;
pub mod npy;

pub use npy::{read_npy, write_npy};

use crate::error::{Error, Result};
use std::path::Path;

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
