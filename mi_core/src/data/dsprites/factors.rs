//! The dSprites factor grid: 3 shapes × 6 scales × 40 orientations × 32 × 32 positions =
//! 737,280 images, each combination exactly once, in the upstream index order (last factor
//! fastest):
//!
//! idx = 245760·shape + 40960·scale + 1024·orientation + 32·pos_x + pos_y
//!
//! (0-based class indices; the upstream `color` factor has one value and is left out). The
//! upstream latent values are shape ∈ {1, 2, 3} (square, ellipse, heart), scale = 0.5 + 0.1·k
//! (k = 0..5), orientation = k·2π/39 (k = 0..39, so 0 and 2π both occur), pos = k/31 (k = 0..31).

use crate::error::{Error, Result};

/// Factor names, in index order.
pub const FACTOR_NAMES: [&str; 5] = ["shape", "scale", "orientation", "pos_x", "pos_y"];
/// Number of classes of each factor, in index order.
pub const FACTOR_SIZES: [usize; 5] = [3, 6, 40, 32, 32];
/// The shapes, in class order (upstream values 1, 2, 3).
pub const SHAPE_NAMES: [&str; 3] = ["square", "ellipse", "heart"];
/// Number of images: every factor combination once (the product of [`FACTOR_SIZES`]).
pub const NUM_IMAGES: usize = 737_280;
/// Images are `IMAGE_SIDE × IMAGE_SIDE` binary pixels.
pub const IMAGE_SIDE: usize = 64;
/// Pixels per image.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;

/// Index stride of each factor: the product of the sizes after it.
const STRIDES: [usize; 5] = [245_760, 40_960, 1024, 32, 1];

/// One image's factors as 0-based class indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Factors {
    /// 0 square, 1 ellipse, 2 heart.
    pub shape: usize,
    /// 0..6: scale 0.5..1.0.
    pub scale: usize,
    /// 0..40: angle k·2π/39.
    pub orientation: usize,
    /// 0..32: horizontal position k/31 (left to right).
    pub pos_x: usize,
    /// 0..32: vertical position k/31 (top to bottom in the image).
    pub pos_y: usize,
}

impl Factors {
    /// The factors of image `idx`; an error when `idx ≥ NUM_IMAGES`.
    pub fn from_index(idx: usize) -> Result<Factors> {
        if idx >= NUM_IMAGES {
            return Err(Error::InvalidParameter {
                op: "dsprites::Factors::from_index",
                name: "idx",
                value: idx.to_string(),
                reason: "dSprites has 737,280 images: 0 ≤ idx < 737280",
            });
        }
        let c: [usize; 5] = std::array::from_fn(|k| (idx / STRIDES[k]) % FACTOR_SIZES[k]);
        Ok(Factors {
            shape: c[0],
            scale: c[1],
            orientation: c[2],
            pos_x: c[3],
            pos_y: c[4],
        })
    }

    /// The factors from class indices in [`FACTOR_NAMES`] order; an error when one is out of range.
    pub fn from_classes(classes: [usize; 5]) -> Result<Factors> {
        for (k, (&c, &n)) in classes.iter().zip(FACTOR_SIZES.iter()).enumerate() {
            if c >= n {
                return Err(Error::InvalidParameter {
                    op: "dsprites::Factors::from_classes",
                    name: FACTOR_NAMES[k],
                    value: c.to_string(),
                    reason: "class index beyond the factor's size (see FACTOR_SIZES)",
                });
            }
        }
        Ok(Factors {
            shape: classes[0],
            scale: classes[1],
            orientation: classes[2],
            pos_x: classes[3],
            pos_y: classes[4],
        })
    }

    /// The image index (inverse of [`Factors::from_index`]).
    pub fn index(&self) -> usize {
        self.classes()
            .iter()
            .zip(STRIDES.iter())
            .map(|(c, s)| c * s)
            .sum()
    }

    /// Class indices in [`FACTOR_NAMES`] order.
    pub fn classes(&self) -> [usize; 5] {
        [
            self.shape,
            self.scale,
            self.orientation,
            self.pos_x,
            self.pos_y,
        ]
    }

    /// Upstream latent values in [`FACTOR_NAMES`] order: shape 1..3, scale 0.5..1.0,
    /// orientation k·2π/39 (radians), positions k/31.
    pub fn values(&self) -> [f64; 5] {
        [
            (self.shape + 1) as f64,
            0.5 + 0.5 * self.scale as f64 / 5.0,
            std::f64::consts::TAU * self.orientation as f64 / 39.0,
            self.pos_x as f64 / 31.0,
            self.pos_y as f64 / 31.0,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_sizes_agree() {
        assert_eq!(FACTOR_SIZES.iter().product::<usize>(), NUM_IMAGES);
        for k in 0..5 {
            assert_eq!(STRIDES[k], FACTOR_SIZES[k + 1..].iter().product::<usize>());
        }
    }

    #[test]
    fn index_round_trip_over_the_whole_grid() {
        // The index formula enumerates the grid in row-major order, last factor fastest.
        let mut idx = 0;
        for shape in 0..3 {
            for scale in 0..6 {
                for orientation in 0..40 {
                    for pos_x in 0..32 {
                        for pos_y in 0..32 {
                            let f = Factors::from_index(idx).unwrap();
                            let want = Factors {
                                shape,
                                scale,
                                orientation,
                                pos_x,
                                pos_y,
                            };
                            assert_eq!(f, want);
                            assert_eq!(f.index(), idx);
                            idx += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(idx, NUM_IMAGES);
        assert!(Factors::from_index(NUM_IMAGES).is_err());
        assert!(Factors::from_classes([0, 6, 0, 0, 0]).is_err());
    }

    #[test]
    fn latent_values_match_upstream() {
        // idx = 245760·2 + 40960·5 + 1024·39 + 32·31 + 31 is the last image.
        let last = Factors::from_index(NUM_IMAGES - 1).unwrap();
        assert_eq!(
            last.index(),
            245760 * 2 + 40960 * 5 + 1024 * 39 + 32 * 31 + 31
        );
        let v = last.values();
        assert_eq!(v[0], 3.0);
        assert!((v[1] - 1.0).abs() < 1e-15);
        assert!((v[2] - std::f64::consts::TAU).abs() < 1e-12);
        assert_eq!((v[3], v[4]), (1.0, 1.0));
        let first = Factors::from_index(0).unwrap().values();
        assert_eq!(first, [1.0, 0.5, 0.0, 0.0, 0.0]);
        let f = Factors::from_classes([1, 2, 1, 3, 4]).unwrap();
        let v = f.values();
        assert!((v[1] - 0.7).abs() < 1e-12);
        assert!((v[2] - 0.161_107_315_568_707_7).abs() < 1e-12); // 2π/39
        assert!((v[3] - 3.0 / 31.0).abs() < 1e-15);
        assert_eq!(f.index(), 245760 + 2 * 40960 + 1024 + 3 * 32 + 4);
    }
}
