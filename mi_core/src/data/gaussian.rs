//! The correlated Gaussian of the paper's benchmarks (§3; spec §6.1).
//!
//! x, ε ~ N(0, I_d) independent, y = ρx + √(1 − ρ²)·ε: per-coordinate correlation ρ, none across
//! coordinates, so I(X; Y) = −(d/2)·log(1 − ρ²).

use super::Sampler;
use crate::density::{diag_gaussian_log_prob_pairs, std_normal_log_prob};
use crate::error::{Error, Result};
use candle_core::Tensor;
use rand_distr::{Distribution, StandardNormal};

/// ρ giving `mi` nats in `dim` dimensions: ρ = √(1 − exp(−2I/d)).
///
/// ```
/// assert!((mi_core::data::mi_to_rho(20, 2.0) - 0.42576).abs() < 1e-5);
/// ```
pub fn mi_to_rho(dim: usize, mi: f64) -> f64 {
    (-(-2.0 * mi / dim as f64).exp_m1()).sqrt()
}

/// I(X; Y) = −(d/2)·log(1 − ρ²) for `dim` coordinates of correlation ρ.
///
/// ```
/// assert!((mi_core::data::rho_to_mi(1, 0.5) - 0.14384).abs() < 1e-5);
/// ```
pub fn rho_to_mi(dim: usize, rho: f64) -> f64 {
    -0.5 * dim as f64 * (-rho * rho).ln_1p()
}

/// The correlated Gaussian with `dim` coordinates of correlation `rho`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorrelatedGaussian {
    dim: usize,
    rho: f64,
}

impl CorrelatedGaussian {
    /// Errors unless `dim ≥ 1` and −1 < ρ < 1.
    pub fn new(dim: usize, rho: f64) -> Result<Self> {
        if dim == 0 {
            return Err(Error::InvalidParameter {
                op: "CorrelatedGaussian",
                name: "dim",
                value: "0".into(),
                reason: "need at least one dimension",
            });
        }
        if !(rho.is_finite() && rho.abs() < 1.0) {
            return Err(Error::InvalidParameter {
                op: "CorrelatedGaussian",
                name: "rho",
                value: rho.to_string(),
                reason: "the correlation must lie in (−1, 1)",
            });
        }
        Ok(Self { dim, rho })
    }

    /// The Gaussian with I(X; Y) = `mi` nats (finite, ≥ 0).
    pub fn from_mi(dim: usize, mi: f64) -> Result<Self> {
        if !(mi.is_finite() && mi >= 0.0) {
            return Err(Error::InvalidParameter {
                op: "CorrelatedGaussian",
                name: "mi",
                value: mi.to_string(),
                reason: "the mutual information must be finite and ≥ 0",
            });
        }
        Self::new(dim, mi_to_rho(dim.max(1), mi))
    }

    /// The number of coordinates d.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The correlation ρ.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// Lp[i, j] = log p(y_i | x_j) = log N(y_i; ρx_j, (1 − ρ²)I): `x, y [..., B, d]` → `[..., B, B]`.
    pub fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        let var = Tensor::full(1.0 - self.rho * self.rho, (), x.device())?.to_dtype(x.dtype())?;
        diag_gaussian_log_prob_pairs(y, &x.affine(self.rho, 0.0)?, &var)
    }

    /// log p(y_i) = log N(y_i; 0, I): `y [..., B, d]` → `[..., B]`.
    pub fn log_marginal(&self, y: &Tensor) -> candle_core::Result<Tensor> {
        std_normal_log_prob(y)
    }

    /// The density ratio r[i, j] = log p(y_i | x_j) − log p(y_i): `[..., B, d]` → `[..., B, B]`.
    /// NWJ's optimal critic is 1 + r; TUBA's is (Lp, log p(y)); InfoNCE's is Lp or r.
    pub fn log_ratio_pairs(&self, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        let lp = self.log_cond_pairs(x, y)?;
        lp.broadcast_sub(&self.log_marginal(y)?.unsqueeze(candle_core::D::Minus1)?)
    }
}

impl Sampler for CorrelatedGaussian {
    fn dim_x(&self) -> usize {
        self.dim
    }

    fn dim_y(&self) -> usize {
        self.dim
    }

    fn mutual_information(&self) -> f64 {
        rho_to_mi(self.dim, self.rho)
    }

    /// Per row, 2d standard normals: the first d are x, the last d are ε.
    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        let d = self.dim;
        let s = (1.0 - self.rho * self.rho).sqrt();
        let mut x = Vec::with_capacity(n * d);
        let mut y = Vec::with_capacity(n * d);
        let mut eps = vec![0.0; d];
        for _ in 0..n {
            let start = x.len();
            for _ in 0..d {
                x.push(StandardNormal.sample(rng));
            }
            for e in eps.iter_mut() {
                *e = StandardNormal.sample(rng);
            }
            for k in 0..d {
                y.push(self.rho * x[start + k] + s * eps[k]);
            }
        }
        (x, y)
    }
}
