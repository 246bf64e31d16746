//! The multivariate Student-t (X, Y) ("Beyond Normal"'s Student-t tasks): (X, Y) = Z/√(W/ν) with
//! Z ~ N(0, Σ) and W ~ χ²_ν independent. The shared W couples X and Y even when Σ is diagonal.
//!
//! Marginals of a multivariate t are t with the same ν and the sub-blocks of Σ, and a
//! d-dimensional t has entropy ½ log det Σ + (d/2) log(νπ) + g_ν(d) with
//!
//! g_ν(d) = log Γ(ν/2) − log Γ((ν + d)/2) + ((ν + d)/2)·[ψ((ν + d)/2) − ψ(ν/2)],
//!
//! so I(X; Y) = h(X) + h(Y) − h(X, Y) is the Gaussian MI of Σ plus g_ν(m) + g_ν(n) − g_ν(m + n)
//! (the (d/2) log(νπ) terms cancel). For ν = 1, m = n = 1, Σ = I this is log(8π) − 3.

use super::normal::{split_rows, JointNormal};
use crate::data::Sampler;
use crate::error::{Error, Result};
use crate::special::{digamma, ln_gamma};
use rand_distr::{ChiSquared, Distribution};

/// The multivariate Student-t with ν degrees of freedom and dispersion Σ of a [`JointNormal`].
#[derive(Clone, Debug, PartialEq)]
pub struct StudentT {
    dispersion: JointNormal,
    df: f64,
    chi2: ChiSquared<f64>,
}

impl StudentT {
    /// ν > 0 degrees of freedom.
    pub fn new(dispersion: JointNormal, df: f64) -> Result<Self> {
        let chi2 = ChiSquared::new(df)
            .ok()
            .filter(|_| df.is_finite() && df > 0.0)
            .ok_or_else(|| Error::InvalidParameter {
                op: "StudentT",
                name: "df",
                value: df.to_string(),
                reason: "the degrees of freedom must be finite and > 0",
            })?;
        Ok(Self {
            dispersion,
            df,
            chi2,
        })
    }

    /// The degrees of freedom ν.
    pub fn df(&self) -> f64 {
        self.df
    }

    /// The non-Gaussian part of the MI: g_ν(m) + g_ν(n) − g_ν(m + n) ≥ 0.
    pub fn mi_correction(df: f64, dim_x: usize, dim_y: usize) -> f64 {
        let g = |d: usize| {
            let h = 0.5 * (df + d as f64);
            ln_gamma(0.5 * df) - ln_gamma(h) + h * (digamma(h) - digamma(0.5 * df))
        };
        g(dim_x) + g(dim_y) - g(dim_x + dim_y)
    }
}

impl Sampler for StudentT {
    fn dim_x(&self) -> usize {
        self.dispersion.dim_x()
    }

    fn dim_y(&self) -> usize {
        self.dispersion.dim_y()
    }

    fn mutual_information(&self) -> f64 {
        self.dispersion.mutual_information()
            + Self::mi_correction(self.df, self.dim_x(), self.dim_y())
    }

    /// Per row: the Gaussian row z, then w ~ χ²_ν; the row is z·√(ν/w).
    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        let d = self.dim_x() + self.dim_y();
        let mut joint = Vec::with_capacity(n * d);
        for _ in 0..n {
            let mut z = self.dispersion.sample_joint(1, rng);
            let w: f64 = self.chi2.sample(rng);
            let s = (self.df / w).sqrt();
            z.iter_mut().for_each(|v| *v *= s);
            joint.extend(z);
        }
        split_rows(&joint, self.dim_x(), self.dim_y())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn cauchy_pair_has_the_closed_form() -> Result<()> {
        // ν = 1, m = n = 1, Σ = I: g(1) = log √π + 2 log 2, g(2) = log 2 + 3 (ψ(3/2) − ψ(1/2) = 2,
        // ψ(1) − ψ(1/2) = 2 log 2), so I = log(8π) − 3 = 0.224171427529236...
        let t = StudentT::new(JointNormal::dense(1, 1, 0.0)?, 1.0)?;
        let want = (8.0 * std::f64::consts::PI).ln() - 3.0;
        assert!((t.mutual_information() - want).abs() < 1e-13);
        assert!((want - 0.224_171_427_529_236).abs() < 1e-13);
        // ν = 2, m = n = 2, Σ = I: g(2) = 2(ψ(2) − ψ(1)) = 2, g(4) = −log 2 + 3(ψ(3) − ψ(1))
        // = 4.5 − log 2, so I = log 2 − ½.
        let t = StudentT::new(JointNormal::dense(2, 2, 0.0)?, 2.0)?;
        assert!((t.mutual_information() - (2f64.ln() - 0.5)).abs() < 1e-13);
        // The correction vanishes as ν → ∞ (the Gaussian limit) and is positive.
        assert!(StudentT::mi_correction(1e7, 2, 2).abs() < 1e-6);
        assert!(StudentT::mi_correction(2.0, 2, 2) > 0.0);
        assert!(StudentT::new(JointNormal::dense(1, 1, 0.0)?, 0.0).is_err());
        Ok(())
    }

    /// log density of the d-dimensional t with dispersion Σ, from Σ⁻¹ and log det Σ.
    fn log_t(z: &[f64], df: f64, inv: &[f64], ln_det: f64) -> f64 {
        let d = z.len();
        let q: f64 = (0..d)
            .map(|i| (0..d).map(|j| z[i] * inv[i * d + j] * z[j]).sum::<f64>())
            .sum();
        let h = 0.5 * (df + d as f64);
        ln_gamma(h)
            - ln_gamma(0.5 * df)
            - 0.5 * d as f64 * (df * std::f64::consts::PI).ln()
            - 0.5 * ln_det
            - h * (q / df).ln_1p()
    }

    /// Monte Carlo E[log p(x, y) − log p(x) − log p(y)] with the densities written out (no ψ):
    /// an independent check of the ψ terms.
    #[test]
    fn monte_carlo_agrees_with_the_closed_form() -> Result<()> {
        let n = 100_000;
        // (1 × 1, ν = 3, ρ = 0.5) and (2 × 2, ν = 2, Σ = I).
        let cases: [(usize, f64, f64); 2] = [(1, 3.0, 0.5), (2, 2.0, 0.0)];
        for (k, (dim, df, rho)) in cases.into_iter().enumerate() {
            let t = StudentT::new(JointNormal::sparse(dim, dim, dim.min(1), rho)?, df)?;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11 + k as u64);
            let (x, y) = t.sample_f64(n, &mut rng);
            // Σ = [[I, ρ e₁e₁ᵀ], [ρ e₁e₁ᵀ, I]]: inverse and log det by blocks of the first pair.
            let d = 2 * dim;
            let mut inv = vec![0.0; d * d];
            for i in 0..d {
                inv[i * d + i] = 1.0;
            }
            let s = 1.0 - rho * rho;
            inv[0] = 1.0 / s;
            inv[dim * d + dim] = 1.0 / s;
            inv[dim] = -rho / s;
            inv[dim * d] = -rho / s;
            let ln_det = s.ln();
            let eye: Vec<f64> = (0..dim * dim)
                .map(|i| f64::from(u8::from(i / dim == i % dim)))
                .collect();
            let vals: Vec<f64> = x
                .chunks(dim)
                .zip(y.chunks(dim))
                .map(|(a, b)| {
                    let joint: Vec<f64> = a.iter().chain(b).copied().collect();
                    log_t(&joint, df, &inv, ln_det)
                        - log_t(a, df, &eye, 0.0)
                        - log_t(b, df, &eye, 0.0)
                })
                .collect();
            let mean = vals.iter().sum::<f64>() / n as f64;
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se = (var / n as f64).sqrt();
            let truth = t.mutual_information();
            assert!(
                (mean - truth).abs() < 4.0 * se,
                "case {k}: Monte Carlo {mean} ± {se} vs closed form {truth}"
            );
        }
        Ok(())
    }
}
