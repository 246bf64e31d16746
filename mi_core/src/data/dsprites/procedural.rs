//! Procedural dSprites: image `idx` rendered from its factors alone (random access, nothing
//! precomputed), on the exact upstream factor grid and index order.
//!
//! Geometry, in pixel units on the 64×64 canvas (x to the right, rows downwards; a pixel is on
//! when its centre lies inside the shape):
//!
//! - centre: `c = CENTRE_MIN + (CENTRE_MAX − CENTRE_MIN)·pos` for pos = k/31 ∈ [0, 1], x from
//!   `pos_x`, the row from `pos_y`; the shape rotates about this centre;
//! - size: half-side `h = HALF_SIDE·scale` (scale 0.5..1.0), so the square is `2h` wide;
//! - square `|u|, |v| ≤ h`; ellipse `(u/1.3h)² + (v/0.65h)² ≤ 1` (long axis horizontal at
//!   orientation 0); heart `(x² + y² − 1)³ ≤ x²y³` with `x = u/(0.95h)`, `y = v/(0.95h) + 0.125`
//!   (point downwards at orientation 0, bounding box centred);
//! - orientation: `(u, v)` is the pixel offset rotated by −θ, θ = k·2π/39 counter-clockwise as
//!   seen on screen; k = 39 is drawn with θ = 0 (k mod 39), so the first and last orientation
//!   images are identical, as upstream's 0 and 2π are the same rotation.
//!
//! How close to upstream: the factor grid, index order and latent values are exact (tested).
//! The pixel geometry (the centre range, `HALF_SIDE`, the ellipse's axes, the heart's outline)
//! is an approximation chosen from descriptions of the upstream images; no upstream image was
//! available on the machine where this was written, so the pixel agreement with upstream has not
//! been measured (see `dsprites/mod.rs`, "How close is the procedural source").

use super::factors::{Factors, IMAGE_PIXELS, IMAGE_SIDE};
use super::ImageSource;
use crate::error::{Error, Result};

/// Object centre (pixels) at pos = 0.
pub const CENTRE_MIN: f64 = 0.2 * IMAGE_SIDE as f64;
/// Object centre (pixels) at pos = 1.
pub const CENTRE_MAX: f64 = 0.8 * IMAGE_SIDE as f64;
/// Half the square's side (pixels) at scale 1.0.
pub const HALF_SIDE: f64 = 8.0;

/// dSprites rendered on the fly from the index (see the module doc for the geometry).
#[derive(Clone, Copy, Debug, Default)]
pub struct Procedural;

impl Procedural {
    /// The procedural source (stateless).
    pub fn new() -> Self {
        Procedural
    }
}

/// True when the point `(u, v)` (pixels from the centre, v upwards, unrotated frame) lies in
/// shape `shape` of half-side `h`.
fn inside(shape: usize, u: f64, v: f64, h: f64) -> bool {
    match shape {
        0 => u.abs() <= h && v.abs() <= h,
        1 => {
            let (a, b) = (u / (1.3 * h), v / (0.65 * h));
            a * a + b * b <= 1.0
        }
        _ => {
            let x = u / (0.95 * h);
            let y = v / (0.95 * h) + 0.125;
            let r = x * x + y * y - 1.0;
            r * r * r <= x * x * y * y * y
        }
    }
}

/// Renders the image of `f` into `out` (`IMAGE_PIXELS` values, row-major, 0.0/1.0).
fn render(f: &Factors, out: &mut [f32]) {
    let v = f.values();
    let h = HALF_SIDE * v[1];
    let theta = std::f64::consts::TAU * (f.orientation % 39) as f64 / 39.0;
    let (s, c) = theta.sin_cos();
    let cx = CENTRE_MIN + (CENTRE_MAX - CENTRE_MIN) * v[3];
    let cy = CENTRE_MIN + (CENTRE_MAX - CENTRE_MIN) * v[4];
    // Every shape lies within 1.5·h of its centre: scan only that box.
    let reach = 1.5 * h + 1.0;
    let lo = |m: f64| ((m - reach).floor().max(0.0)) as usize;
    let hi = |m: f64| ((m + reach).ceil().min(IMAGE_SIDE as f64)) as usize;
    out.fill(0.0);
    for row in lo(cy)..hi(cy) {
        let dy_up = cy - (row as f64 + 0.5);
        for col in lo(cx)..hi(cx) {
            let dx = col as f64 + 0.5 - cx;
            // Rotate the offset by −θ into the shape's own frame.
            let u = c * dx + s * dy_up;
            let w = -s * dx + c * dy_up;
            if inside(f.shape, u, w, h) {
                out[row * IMAGE_SIDE + col] = 1.0;
            }
        }
    }
}

impl ImageSource for Procedural {
    fn name(&self) -> &str {
        "procedural"
    }

    fn len(&self) -> usize {
        super::NUM_IMAGES
    }

    fn write_image(&self, idx: usize, out: &mut [f32]) -> Result<()> {
        super::check_out(out)?;
        let f = Factors::from_index(idx).map_err(|_| Error::InvalidParameter {
            op: "dsprites::Procedural::write_image",
            name: "idx",
            value: idx.to_string(),
            reason: "dSprites has 737,280 images: 0 ≤ idx < 737280",
        })?;
        render(&f, out);
        debug_assert_eq!(out.len(), IMAGE_PIXELS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::factors::NUM_IMAGES;
    use super::*;

    fn image(f: [usize; 5]) -> Vec<f32> {
        let mut out = vec![0.0; IMAGE_PIXELS];
        let idx = Factors::from_classes(f).unwrap().index();
        Procedural.write_image(idx, &mut out).unwrap();
        out
    }

    fn area(img: &[f32]) -> f64 {
        img.iter().map(|&p| p as f64).sum()
    }

    /// (column, row) centroid of the on pixels.
    fn centroid(img: &[f32]) -> (f64, f64) {
        let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
        for (i, &p) in img.iter().enumerate() {
            if p > 0.0 {
                sx += (i % IMAGE_SIDE) as f64 + 0.5;
                sy += (i / IMAGE_SIDE) as f64 + 0.5;
                n += 1.0;
            }
        }
        (sx / n, sy / n)
    }

    #[test]
    fn binary_deterministic_and_checked() {
        let mut a = vec![0.5; IMAGE_PIXELS];
        let mut b = vec![0.0; IMAGE_PIXELS];
        for idx in [0, 1, 12_345, 400_000, NUM_IMAGES - 1] {
            Procedural.write_image(idx, &mut a).unwrap();
            Procedural.write_image(idx, &mut b).unwrap();
            assert_eq!(a, b);
            assert!(a.iter().all(|&p| p == 0.0 || p == 1.0));
            assert!(area(&a) > 0.0);
        }
        assert!(Procedural.write_image(NUM_IMAGES, &mut a).is_err());
        let mut short = vec![0.0; 10];
        assert!(Procedural.write_image(0, &mut short).is_err());
    }

    #[test]
    fn square_area_is_its_side_squared_and_grows_with_scale() {
        for shape in 0..3 {
            let areas: Vec<f64> = (0..6)
                .map(|s| area(&image([shape, s, 0, 16, 16])))
                .collect();
            for w in areas.windows(2) {
                assert!(w[1] > w[0], "shape {shape}: areas {areas:?}");
            }
        }
        // Unrotated square: (2h)² pixels up to one row/column of boundary pixels.
        for s in 0..6 {
            let side = 2.0 * HALF_SIDE * (0.5 + 0.1 * s as f64);
            let a = area(&image([0, s, 0, 16, 16]));
            assert!(
                (a - side * side).abs() <= 2.0 * side + 1.0,
                "scale {s}: {a}"
            );
        }
    }

    #[test]
    fn shapes_differ_in_area() {
        let sq = area(&image([0, 5, 0, 16, 16]));
        let el = area(&image([1, 5, 0, 16, 16]));
        let he = area(&image([2, 5, 0, 16, 16]));
        // Continuous areas: 4h², π·1.3·0.65·h² ≈ 2.65h², heart ≈ 3.7·0.95²·h² ≈ 3.3h² (h = 8).
        assert!((sq - 256.0).abs() < 20.0, "square {sq}");
        assert!((el - 2.655 * 64.0).abs() < 15.0, "ellipse {el}");
        assert!(el < he && he < sq, "{el} {he} {sq}");
    }

    #[test]
    fn centroid_moves_monotonically_with_position() {
        for shape in 0..3 {
            let xs: Vec<(f64, f64)> = (0..32)
                .map(|k| centroid(&image([shape, 3, 7, k, 10])))
                .collect();
            for w in xs.windows(2) {
                assert!(w[1].0 > w[0].0, "x should grow: {w:?}");
                assert!((w[1].1 - w[0].1).abs() < 0.5, "row about fixed: {w:?}");
            }
            let ys: Vec<(f64, f64)> = (0..32)
                .map(|k| centroid(&image([shape, 3, 7, 10, k])))
                .collect();
            for w in ys.windows(2) {
                assert!(w[1].1 > w[0].1, "row should grow: {w:?}");
            }
            // The square's centroid sits at the centre formula (within half a pixel).
            let (cx, _) = centroid(&image([0, 5, 0, 31, 0]));
            assert!((cx - CENTRE_MAX).abs() < 0.5, "{cx}");
        }
    }

    #[test]
    fn rotation_preserves_area_and_full_turn_is_identity() {
        for shape in 0..3 {
            let a0 = area(&image([shape, 5, 0, 16, 16]));
            for k in 1..40 {
                let a = area(&image([shape, 5, k, 16, 16]));
                assert!(
                    (a - a0).abs() / a0 < 0.08,
                    "shape {shape} k {k}: {a} vs {a0}"
                );
            }
            assert_eq!(image([shape, 2, 0, 5, 9]), image([shape, 2, 39, 5, 9]));
            // A quarter turn of the ellipse swaps its extents; the square's is a symmetry.
            assert_ne!(image([1, 5, 0, 16, 16]), image([1, 5, 10, 16, 16]));
        }
    }

    #[test]
    fn objects_stay_inside_the_canvas() {
        // At the extreme positions and the largest scale no on pixel lies on the border rows
        // or columns: nothing is clipped.
        let last = IMAGE_SIDE - 1;
        for shape in 0..3 {
            for k in 0..40 {
                for (px, py) in [(0, 0), (31, 31), (0, 31), (31, 0)] {
                    let img = image([shape, 5, k, px, py]);
                    let touches = (0..IMAGE_SIDE).any(|i| {
                        img[i] > 0.0
                            || img[last * IMAGE_SIDE + i] > 0.0
                            || img[i * IMAGE_SIDE] > 0.0
                            || img[i * IMAGE_SIDE + last] > 0.0
                    });
                    assert!(!touches, "shape {shape} k {k} at ({px},{py})");
                }
            }
        }
    }
}
