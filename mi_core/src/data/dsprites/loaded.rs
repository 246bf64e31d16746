//! dSprites images read from a file into memory as packed bits (512 bytes per image, 377 MB for
//! all 737,280), unpacked to 0.0/1.0 per image on request. Two formats, told apart by the file
//! name's extension:
//! - `.parquet` (cargo feature `parquet`): the Hugging Face copies' schema, PNG images and TFDS
//!   labels ([`super::parquet`]);
//! - anything else: the upstream npz, its `imgs` member (`uint8 [737280, 64, 64]`, 0/1).

use super::factors::{IMAGE_SIDE, NUM_IMAGES};
use super::ImageSource;
use crate::error::{Error, Result};
use crate::io::{io_error, read_npz_u8_bits, PackedBits};
use std::path::Path;

/// The images key in the upstream npz.
pub const IMAGES_KEY: &str = "imgs";

/// Images read from an upstream-format npz or a Hugging Face-format parquet file.
#[derive(Clone, Debug)]
pub struct FileImages {
    name: String,
    bits: PackedBits,
}

/// True when `path` names a parquet file (by its extension).
pub(super) fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

impl FileImages {
    /// Reads the file at `path` (`.parquet`, else npz); an error naming the file if it cannot be
    /// read, is not in the expected format, or holds fewer or more than 737,280 images.
    pub fn open(path: &Path) -> Result<FileImages> {
        Self::open_checked(path, true)
    }

    /// Reads a small file in an upstream format holding the first `n < 737,280` images (test
    /// fixtures only).
    #[cfg(test)]
    pub(crate) fn open_fixture(path: &Path) -> Result<FileImages> {
        Self::open_checked(path, false)
    }

    pub(super) fn open_checked(path: &Path, require_full: bool) -> Result<FileImages> {
        let bits = if is_parquet(path) {
            read_parquet(path)?
        } else {
            read_npz_u8_bits(path, IMAGES_KEY, &[IMAGE_SIDE, IMAGE_SIDE])?
        };
        if require_full && bits.count != NUM_IMAGES {
            return Err(io_error(
                path,
                format!(
                    "holds {} images; the dSprites file has all {NUM_IMAGES} (truncated or a \
                     different dataset)",
                    bits.count
                ),
            ));
        }
        Ok(FileImages {
            name: path.display().to_string(),
            bits,
        })
    }
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path) -> Result<PackedBits> {
    super::parquet::read_images(path)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(path: &Path) -> Result<PackedBits> {
    Err(io_error(
        path,
        "a parquet file, but mi_core was built without the `parquet` feature (build with \
         `--features mi_core/parquet`, or use the upstream npz)",
    ))
}

impl ImageSource for FileImages {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> usize {
        self.bits.count
    }

    fn write_image(&self, idx: usize, out: &mut [f32]) -> Result<()> {
        super::check_out(out)?;
        self.bits
            .unpack_into(idx, out)
            .ok_or_else(|| Error::InvalidParameter {
                op: "dsprites::FileImages::write_image",
                name: "idx",
                value: idx.to_string(),
                reason: "index beyond the number of images in the file",
            })
    }
}
