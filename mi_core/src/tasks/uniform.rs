//! Additive uniform noise ("Beyond Normal"): X ~ U(0, 1), N ~ U(−ε, ε) independent, Y = X + N.
//!
//! I(X; Y) = h(Y) − h(N) with h(N) = log 2ε, and Y's density is the trapezoid U(0,1) ∗ U(−ε, ε):
//!
//! * ε ≤ ½: ramps of width 2ε up to height 1, so h(Y) = ε and I = ε − log 2ε;
//! * ε ≥ ½: ramps of width 1 up to height 1/(2ε), so h(Y) = log 2ε + 1/(4ε) and I = 1/(4ε).
//!
//! The two branches meet at ε = ½ (I = ½).

use crate::data::Sampler;
use crate::error::{Error, Result};
use rand::RngExt;

/// Y = X + N, X ~ U(0, 1), N ~ U(−ε, ε).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdditiveUniform {
    eps: f64,
}

impl AdditiveUniform {
    /// ε > 0 (finite).
    pub fn new(eps: f64) -> Result<Self> {
        if !(eps.is_finite() && eps > 0.0) {
            return Err(Error::InvalidParameter {
                op: "AdditiveUniform",
                name: "eps",
                value: eps.to_string(),
                reason: "the noise half-width must be finite and > 0",
            });
        }
        Ok(Self { eps })
    }

    /// The density of Y at `y` (the trapezoid).
    pub fn density_y(&self, y: f64) -> f64 {
        // P(X ∈ [y − ε, y + ε] ∩ [0, 1]) / (2ε).
        let lo = (y - self.eps).max(0.0);
        let hi = (y + self.eps).min(1.0);
        (hi - lo).max(0.0) / (2.0 * self.eps)
    }
}

impl Sampler for AdditiveUniform {
    fn dim_x(&self) -> usize {
        1
    }

    fn dim_y(&self) -> usize {
        1
    }

    fn mutual_information(&self) -> f64 {
        let e = self.eps;
        if e <= 0.5 {
            e - (2.0 * e).ln()
        } else {
            0.25 / e
        }
    }

    /// Per row: x, then the noise.
    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        let mut x = Vec::with_capacity(n);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let a: f64 = rng.random();
            let u: f64 = rng.random();
            x.push(a);
            y.push(a + self.eps * (2.0 * u - 1.0));
        }
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// h(Y) by the midpoint rule on a fine grid over [−ε, 1 + ε], minus log 2ε.
    fn mi_by_quadrature(task: &AdditiveUniform) -> f64 {
        let (a, b) = (-task.eps, 1.0 + task.eps);
        let k = 2_000_000;
        let h = (b - a) / k as f64;
        let entropy: f64 = (0..k)
            .map(|i| {
                let p = task.density_y(a + (i as f64 + 0.5) * h);
                if p > 0.0 {
                    -p * p.ln() * h
                } else {
                    0.0
                }
            })
            .sum();
        entropy - (2.0 * task.eps).ln()
    }

    #[test]
    fn both_branches_match_quadrature() -> Result<()> {
        for &eps in &[0.05, 0.1, 0.3, 0.5, 0.75, 2.0] {
            let task = AdditiveUniform::new(eps)?;
            let (closed, numeric) = (task.mutual_information(), mi_by_quadrature(&task));
            assert!(
                (closed - numeric).abs() < 1e-5,
                "ε = {eps}: {closed} vs {numeric}"
            );
        }
        assert!(AdditiveUniform::new(0.0).is_err());
        Ok(())
    }
}
