//! The cubic variant of the Gaussian benchmark (paper Fig. 2, bottom row; spec §6.2):
//! (x, z) with z = (W y)^3 elementwise, W ~ N(0, 1)^{d×d} drawn once per run and kept fixed.
//!
//! z ↦ y = W⁻¹ ∛z is a bijection, so I(X; Z) = I(X; Y), and the densities follow by change of
//! variables: log p(z | x) = log p(y | x) − log|det W| − Σ_k log(3 u_k²) with u = W y = ∛z.
//! The Jacobian term depends on z only, so density ratios (the optimal critics) are unchanged.
//!
//! [`Cubic::standardized`] multiplies each coordinate of z by a constant so that it has unit
//! variance (an invertible map, so the MI and the density ratios are unchanged again): raw z
//! reaches the thousands, and critics initialised for unit-scale inputs start with scores that
//! overflow the exponential bounds (see `experiments::staircase`).

use super::{CorrelatedGaussian, Sampler};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor, D};
use rand_distr::{Distribution, StandardNormal};

/// The cubic transform of a [`CorrelatedGaussian`] with a fixed mixing matrix W.
#[derive(Clone, Debug, PartialEq)]
pub struct Cubic {
    base: CorrelatedGaussian,
    w: Vec<f64>,
    w_inv: Vec<f64>,
    ln_abs_det_w: f64,
    /// z_k = scale_k (W y)_k³ (all ones unless [`Cubic::standardized`]).
    scale: Vec<f64>,
}

impl Cubic {
    /// Draws W ~ N(0, 1)^{d×d} (row-major) from `rng`.
    pub fn new<R: rand::Rng + ?Sized>(base: CorrelatedGaussian, rng: &mut R) -> Result<Self> {
        let d = base.dim();
        let w = (0..d * d).map(|_| StandardNormal.sample(rng)).collect();
        Self::with_matrix(base, w)
    }

    /// Uses the given row-major `d × d` matrix W; errors if it is not invertible.
    pub fn with_matrix(base: CorrelatedGaussian, w: Vec<f64>) -> Result<Self> {
        let d = base.dim();
        if w.len() != d * d {
            return Err(Error::Shape {
                op: "Cubic",
                detail: format!("W must hold d·d = {} entries, got {}", d * d, w.len()),
            });
        }
        let (w_inv, ln_abs_det_w) = invert(&w, d).ok_or_else(|| Error::InvalidParameter {
            op: "Cubic",
            name: "W",
            value: format!("{d}×{d} matrix"),
            reason: "W must be invertible (and finite)",
        })?;
        Ok(Self {
            base,
            w,
            w_inv,
            ln_abs_det_w,
            scale: vec![1.0; d],
        })
    }

    /// The same data with each coordinate of z scaled to unit variance: z_k = (W y)_k³ / σ_k with
    /// σ_k = √15 · s_k³, s_k² = Σ_j W_kj² (y ~ N(0, I) marginally at every MI level, so (W y)_k ~
    /// N(0, s_k²) and E[(W y)_k⁶] = 15 s_k⁶). The scale does not depend on the MI: one W, one
    /// scale for a whole staircase. I(X; Z) is unchanged.
    pub fn standardized(&self) -> Self {
        let d = self.base.dim();
        let scale = self
            .w
            .chunks(d)
            .map(|row| {
                let s2: f64 = row.iter().map(|v| v * v).sum();
                1.0 / (15f64.sqrt() * s2.powf(1.5))
            })
            .collect();
        Self {
            scale,
            ..self.clone()
        }
    }

    /// Per-coordinate factor applied to (W y)³ (ones for the raw cubic data).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// The same W on a Gaussian with another MI (for a schedule of levels within one run).
    pub fn with_mi(&self, mi: f64) -> Result<Self> {
        Ok(Self {
            base: CorrelatedGaussian::from_mi(self.base.dim(), mi)?,
            ..self.clone()
        })
    }

    /// The underlying Gaussian.
    pub fn base(&self) -> &CorrelatedGaussian {
        &self.base
    }

    /// W, row-major.
    pub fn w(&self) -> &[f64] {
        &self.w
    }

    /// y = W⁻¹ ∛z: `z [B, d]` → `[B, d]` (computed in f64 on the CPU, returned in z's dtype and
    /// device).
    pub fn invert(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let rows = self.cbrt_rows(z)?;
        let d = self.base.dim();
        let y: Vec<f64> = rows
            .chunks(d)
            .flat_map(|u| matvec(&self.w_inv, u, d))
            .collect();
        Tensor::from_vec(y, z.dims(), &Device::Cpu)?
            .to_dtype(z.dtype())?
            .to_device(z.device())
    }

    fn cbrt_rows(&self, z: &Tensor) -> candle_core::Result<Vec<f64>> {
        let d = self.base.dim();
        if z.rank() != 2 || z.dim(D::Minus1)? != d {
            return Err(Error::Shape {
                op: "Cubic",
                detail: format!("z must be [B, {d}], got {:?}", z.dims()),
            }
            .into_candle());
        }
        crate::bounds::validate::float_and_finite("Cubic", "z", z)?;
        let flat = z.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        Ok(flat
            .into_iter()
            .zip(self.scale.iter().cycle())
            .map(|(v, c)| (v / c).cbrt())
            .collect())
    }

    /// log|det ∂z/∂y| per row: `z [B, d]` → `[B]` (in z's dtype and device).
    fn log_jacobian(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let d = self.base.dim();
        let u = self.cbrt_rows(z)?;
        let ln_det = self.ln_abs_det_w + self.scale.iter().map(|c| c.ln()).sum::<f64>();
        let lj: Vec<f64> = u
            .chunks(d)
            .map(|r| ln_det + r.iter().map(|v| (3.0 * v * v).ln()).sum::<f64>())
            .collect();
        let n = lj.len();
        Tensor::from_vec(lj, n, &Device::Cpu)?
            .to_dtype(z.dtype())?
            .to_device(z.device())
    }

    /// Lp[i, j] = log p(z_i | x_j) (with the Jacobian): `x, z [B, d]` → `[B, B]`.
    pub fn log_cond_pairs(&self, x: &Tensor, z: &Tensor) -> candle_core::Result<Tensor> {
        let lp = self.base.log_cond_pairs(x, &self.invert(z)?)?;
        lp.broadcast_sub(&self.log_jacobian(z)?.unsqueeze(D::Minus1)?)
    }

    /// log p(z_i): `z [B, d]` → `[B]`.
    pub fn log_marginal(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        self.base
            .log_marginal(&self.invert(z)?)?
            .sub(&self.log_jacobian(z)?)
    }

    /// r[i, j] = log p(z_i | x_j) − log p(z_i) = the Gaussian's ratio at y = W⁻¹∛z.
    pub fn log_ratio_pairs(&self, x: &Tensor, z: &Tensor) -> candle_core::Result<Tensor> {
        self.base.log_ratio_pairs(x, &self.invert(z)?)
    }
}

impl Sampler for Cubic {
    fn dim_x(&self) -> usize {
        self.base.dim()
    }

    fn dim_y(&self) -> usize {
        self.base.dim()
    }

    fn mutual_information(&self) -> f64 {
        self.base.mutual_information()
    }

    /// Draws (x, y) from the Gaussian with the same RNG stream, then z_i = scale ⊙ (W y_i)^3.
    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        let d = self.base.dim();
        let (x, y) = self.base.sample_f64(n, rng);
        let z = y
            .chunks(d)
            .flat_map(|row| {
                matvec(&self.w, row, d)
                    .into_iter()
                    .zip(&self.scale)
                    .map(|(u, c)| c * u * u * u)
            })
            .collect();
        (x, z)
    }
}

fn matvec(m: &[f64], v: &[f64], d: usize) -> Vec<f64> {
    m.chunks(d)
        .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
        .collect()
}

/// Gauss–Jordan inverse with partial pivoting; returns (A⁻¹, log|det A|), or None if singular.
fn invert(a: &[f64], d: usize) -> Option<(Vec<f64>, f64)> {
    let mut m = a.to_vec();
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        inv[i * d + i] = 1.0;
    }
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    if !scale.is_finite() || scale == 0.0 {
        return None;
    }
    let mut ln_det = 0.0;
    for col in 0..d {
        let pivot =
            (col..d).max_by(|&r, &s| m[r * d + col].abs().total_cmp(&m[s * d + col].abs()))?;
        let p = m[pivot * d + col];
        if p.abs() <= 1e-12 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..d {
                m.swap(pivot * d + k, col * d + k);
                inv.swap(pivot * d + k, col * d + k);
            }
        }
        ln_det += p.abs().ln();
        for k in 0..d {
            m[col * d + k] /= p;
            inv[col * d + k] /= p;
        }
        for r in 0..d {
            if r != col {
                let f = m[r * d + col];
                if f != 0.0 {
                    for k in 0..d {
                        m[r * d + k] -= f * m[col * d + k];
                        inv[r * d + k] -= f * inv[col * d + k];
                    }
                }
            }
        }
    }
    Some((inv, ln_det))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_matrix_is_identity() {
        let a = vec![2.0, 1.0, 0.5, -1.0, 3.0, 0.0, 0.25, 0.0, -4.0];
        let (inv, ln_det) = invert(&a, 3).expect("invertible");
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        // det = 2(−12) − 1(4) + 0.5(−0.75) = −28.375
        assert!((ln_det - 28.375f64.ln()).abs() < 1e-12);
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_none());
    }
}
