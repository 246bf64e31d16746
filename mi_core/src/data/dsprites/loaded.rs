//! The upstream dSprites npz in memory: its `imgs` member (`uint8 [737280, 64, 64]`, 0/1) packed
//! to bits (512 bytes per image, 377 MB in all), unpacked to 0.0/1.0 per image on request.

use super::factors::{IMAGE_SIDE, NUM_IMAGES};
use super::ImageSource;
use crate::error::{Error, Result};
use crate::io::{read_npz_u8_bits, PackedBits};
use std::path::Path;

/// The images key in the upstream npz.
pub const IMAGES_KEY: &str = "imgs";

/// Images read from an upstream-format npz.
#[derive(Clone, Debug)]
pub struct NpzImages {
    name: String,
    bits: PackedBits,
}

impl NpzImages {
    /// Reads the upstream npz at `path`; an error naming the file if it is not a valid npz, has
    /// no `imgs` array of `uint8 [n, 64, 64]`, or holds fewer or more than 737,280 images.
    pub fn open(path: &Path) -> Result<NpzImages> {
        Self::open_checked(path, true)
    }

    /// Reads a small npz in the upstream format holding the first `n < 737,280` images
    /// (test fixtures only).
    #[cfg(test)]
    pub(crate) fn open_fixture(path: &Path) -> Result<NpzImages> {
        Self::open_checked(path, false)
    }

    pub(super) fn open_checked(path: &Path, require_full: bool) -> Result<NpzImages> {
        let bits = read_npz_u8_bits(path, IMAGES_KEY, &[IMAGE_SIDE, IMAGE_SIDE])?;
        if require_full && bits.count != NUM_IMAGES {
            return Err(Error::Io {
                path: path.display().to_string(),
                detail: format!(
                    "holds {} images; the dSprites file has all {NUM_IMAGES} (truncated or a \
                     different dataset)",
                    bits.count
                ),
            });
        }
        Ok(NpzImages {
            name: path.display().to_string(),
            bits,
        })
    }
}

impl ImageSource for NpzImages {
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
                op: "dsprites::NpzImages::write_image",
                name: "idx",
                value: idx.to_string(),
                reason: "index beyond the number of images in the file",
            })
    }
}
