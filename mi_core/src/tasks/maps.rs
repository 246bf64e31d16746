//! Invertible maps that change how the data look but not their mutual information:
//! I(f(X); g(Y)) = I(X; Y) for injective f and g. "Beyond Normal" builds its hard tasks this way
//! from Gaussians and Student-t's whose MI is known in closed form.
//!
//! * [`MarginalMap`]: a strictly increasing function applied to every coordinate (half-cube,
//!   asinh, wiggly, bimodal).
//! * [`spiral`]: x ↦ R(v‖x‖²) x, a rotation of the first two coordinates by an angle that grows
//!   with the squared norm; rotations keep the norm, so [`unspiral`] inverts it exactly.

use crate::special::normal_cdf;

/// x + Σₖ aₖ sin(ωₖ x + φₖ) with Σₖ |aₖ ωₖ| < 1, so the derivative stays above 0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wiggle {
    /// (amplitude aₖ, frequency ωₖ, phase φₖ) of each term.
    pub terms: [(f64, f64, f64); 2],
}

/// The wiggle applied to X (Σ|aω| = 0.85).
pub const WIGGLE_X: Wiggle = Wiggle {
    terms: [(0.4, 1.0, 0.0), (0.15, 3.0, 1.0)],
};
/// The wiggle applied to Y (Σ|aω| = 0.9).
pub const WIGGLE_Y: Wiggle = Wiggle {
    terms: [(0.3, 2.0, 0.0), (0.06, 5.0, 0.5)],
};

/// Standard deviation of each component of the bimodal marginal ½N(−1, s²) + ½N(1, s²).
pub const BIMODAL_SD: f64 = 0.5;

/// A strictly increasing map ℝ → ℝ applied to each coordinate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MarginalMap {
    /// x (no change).
    Identity,
    /// sign(x)·|x|^{3/2}.
    HalfCube,
    /// asinh(x) = log(x + √(x² + 1)): tames heavy tails.
    Asinh,
    /// [`Wiggle`].
    Wiggly(Wiggle),
    /// F⁻¹(Φ(x)), F the CDF of ½N(−1, s²) + ½N(1, s²) with s = [`BIMODAL_SD`]: a standard normal
    /// coordinate comes out bimodal.
    Bimodal,
}

impl MarginalMap {
    /// The map's name (`half_cube`, `asinh`, …).
    pub fn name(&self) -> &'static str {
        match self {
            MarginalMap::Identity => "identity",
            MarginalMap::HalfCube => "half_cube",
            MarginalMap::Asinh => "asinh",
            MarginalMap::Wiggly(_) => "wiggly",
            MarginalMap::Bimodal => "bimodal",
        }
    }

    /// The map at `v`.
    pub fn apply(&self, v: f64) -> f64 {
        match self {
            MarginalMap::Identity => v,
            MarginalMap::HalfCube => v.signum() * v.abs().powf(1.5),
            MarginalMap::Asinh => v.asinh(),
            MarginalMap::Wiggly(w) => {
                v + w
                    .terms
                    .iter()
                    .map(|(a, f, p)| a * (f * v + p).sin())
                    .sum::<f64>()
            }
            MarginalMap::Bimodal => bimodal(v),
        }
    }

    /// Applies the map to every entry.
    pub fn apply_all(&self, values: &mut [f64]) {
        if *self != MarginalMap::Identity {
            values.iter_mut().for_each(|v| *v = self.apply(*v));
        }
    }
}

/// F⁻¹(Φ(z)) by bisection, odd by construction (F and Φ are symmetric), computed from the lower
/// tail so that Φ(z) keeps its relative precision.
fn bimodal(z: f64) -> f64 {
    if z.is_nan() || z == 0.0 {
        return z;
    }
    if z > 0.0 {
        return -bimodal(-z);
    }
    let p = normal_cdf(z);
    let mix =
        |x: f64| 0.5 * (normal_cdf((x + 1.0) / BIMODAL_SD) + normal_cdf((x - 1.0) / BIMODAL_SD));
    // F(x) ≤ Φ((x + 1)/s), so F⁻¹(p) ≥ s·z − 1; and F⁻¹(p) ≤ 0 for p ≤ ½.
    let (mut lo, mut hi) = (BIMODAL_SD * z - 1.0 - 1e-9, 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if mix(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The spiral: rotates (x₀, x₁) of each row of width `dim` (≥ 2) by θ = `speed`·‖x‖².
pub fn spiral(rows: &mut [f64], dim: usize, speed: f64) {
    rotate(rows, dim, speed);
}

/// The inverse of [`spiral`]: the same rotation backwards (‖x‖ is unchanged by the rotation).
pub fn unspiral(rows: &mut [f64], dim: usize, speed: f64) {
    rotate(rows, dim, -speed);
}

fn rotate(rows: &mut [f64], dim: usize, speed: f64) {
    if dim < 2 {
        return;
    }
    for r in rows.chunks_mut(dim) {
        let theta = speed * r.iter().map(|v| v * v).sum::<f64>();
        let (s, c) = theta.sin_cos();
        let (a, b) = (r[0], r[1]);
        r[0] = c * a - s * b;
        r[1] = s * a + c * b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marginal_maps_are_strictly_increasing() {
        let maps = [
            MarginalMap::HalfCube,
            MarginalMap::Asinh,
            MarginalMap::Wiggly(WIGGLE_X),
            MarginalMap::Wiggly(WIGGLE_Y),
            MarginalMap::Bimodal,
        ];
        for m in maps {
            let grid: Vec<f64> = (-4000..=4000).map(|i| i as f64 * 2e-3).collect();
            for w in grid.windows(2) {
                assert!(m.apply(w[1]) > m.apply(w[0]), "{} at {}", m.name(), w[0]);
            }
        }
    }

    #[test]
    fn bimodal_pushes_a_normal_onto_the_mixture() {
        // F(F⁻¹(Φ(z))) = Φ(z), and the map is odd.
        let mix = |x: f64| {
            0.5 * (normal_cdf((x + 1.0) / BIMODAL_SD) + normal_cdf((x - 1.0) / BIMODAL_SD))
        };
        for &z in &[-30.0, -5.0, -1.0, -0.1, 0.0, 0.3, 2.0] {
            let x = MarginalMap::Bimodal.apply(z);
            let p = normal_cdf(z);
            assert!(
                (mix(x) - p).abs() <= 1e-12 * p.min(1.0 - p) + 1e-15,
                "z = {z}"
            );
            assert_eq!(MarginalMap::Bimodal.apply(-z), -x);
        }
        // Two modes: the median 0 maps to 0, the quartiles close to ±1.
        let q = MarginalMap::Bimodal.apply(crate::special::normal_quantile(0.75));
        assert!((q - 1.0).abs() < 0.05, "{q}");
    }

    #[test]
    fn spiral_is_inverted_exactly_and_keeps_the_norm() {
        let orig: Vec<f64> = (0..30)
            .map(|i| ((i * 7919) % 101) as f64 / 17.0 - 2.9)
            .collect();
        let mut rows = orig.clone();
        spiral(&mut rows, 3, 1.0 / 3.0);
        assert_ne!(rows, orig);
        for (a, b) in rows.chunks(3).zip(orig.chunks(3)) {
            let n = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>();
            assert!((n(a) - n(b)).abs() < 1e-12);
        }
        unspiral(&mut rows, 3, 1.0 / 3.0);
        for (a, b) in rows.iter().zip(&orig) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}
