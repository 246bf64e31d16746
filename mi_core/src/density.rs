//! Analytic log-densities as score matrices: the known conditionals of the structured bounds
//! and the optimal critics of the Gaussian benchmarks.
//!
//! Shapes follow the bounds' convention: a pairwise matrix has entry `[i, j] = log p(y_i | x_j)`,
//! row i the y sample, column j the conditioning x (through its mean and variance).

use crate::bounds::validate;
use crate::error::Error;
use candle_core::{Result, Tensor, D};

const LN_2PI: f64 = 1.837_877_066_409_345_5;

fn same_shape(op: &'static str, a: (&str, &Tensor), b: (&str, &Tensor)) -> Result<()> {
    if a.1.dims() != b.1.dims() || a.1.rank() < 2 {
        return Err(Error::Shape {
            op,
            detail: format!(
                "{} and {} must both be [..., B, D] with equal shapes, got {:?} and {:?}",
                a.0,
                b.0,
                a.1.dims(),
                b.1.dims()
            ),
        }
        .into_candle());
    }
    Ok(())
}

fn check_gaussian(op: &'static str, y: &Tensor, mean: &Tensor, var: &Tensor) -> Result<Tensor> {
    same_shape(op, ("y", y), ("mean", mean))?;
    let var = var.broadcast_as(mean.shape()).map_err(|_| {
        Error::Shape {
            op,
            detail: format!(
                "var {:?} must broadcast to the shape of mean {:?}",
                var.dims(),
                mean.dims()
            ),
        }
        .into_candle()
    })?;
    validate::float_and_finite(op, "y", y)?;
    validate::float_and_finite(op, "mean", mean)?;
    validate::float_and_finite(op, "var", &var)?;
    let min_var = var
        .flatten_all()?
        .min(0)?
        .to_dtype(candle_core::DType::F64)?
        .to_scalar::<f64>()?;
    if min_var.is_nan() || min_var <= 0.0 {
        return Err(Error::InvalidParameter {
            op,
            name: "var",
            value: min_var.to_string(),
            reason: "every variance must be > 0",
        }
        .into_candle());
    }
    Ok(var)
}

/// log N(y; 0, I) per row: `y [..., B, D] → [..., B]`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use mi_core::density::std_normal_log_prob;
/// let y = Tensor::zeros((1, 2), DType::F64, &Device::Cpu)?;
/// let v = std_normal_log_prob(&y)?.to_vec1::<f64>()?[0];
/// assert!((v + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn std_normal_log_prob(y: &Tensor) -> Result<Tensor> {
    validate::float_and_finite("std_normal_log_prob", "y", y)?;
    let d = y.dim(D::Minus1)? as f64;
    y.sqr()?.sum(D::Minus1)?.affine(-0.5, -0.5 * d * LN_2PI)
}

/// Row-wise diagonal-Gaussian log-density: `x, mean, log_var [..., B, D]` → `[..., B]` with
/// entry `i = log N(x_i; mean_i, diag exp(log_var_i))` (a Gaussian decoder's log q(x_i | y_i),
/// the input of [`barber_agakov`](crate::bounds::barber_agakov)). Differentiable in `mean` and
/// `log_var`; only `x` is checked for finiteness (a network's non-finite output gives a
/// non-finite value, which the training loop records as a divergence).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::density::diag_gaussian_log_prob;
/// let x = Tensor::new(&[[1.0f64, 0.0]], &Device::Cpu)?;
/// let zero = Tensor::zeros((1, 2), candle_core::DType::F64, &Device::Cpu)?;
/// let v = diag_gaussian_log_prob(&x, &zero, &zero)?.to_vec1::<f64>()?[0];
/// assert!((v - (-(2.0 * std::f64::consts::PI).ln() - 0.5)).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn diag_gaussian_log_prob(x: &Tensor, mean: &Tensor, log_var: &Tensor) -> Result<Tensor> {
    let op = "diag_gaussian_log_prob";
    same_shape(op, ("x", x), ("mean", mean))?;
    same_shape(op, ("x", x), ("log_var", log_var))?;
    validate::float_and_finite(op, "x", x)?;
    let d = x.dim(D::Minus1)? as f64;
    x.sub(mean)?
        .sqr()?
        .mul(&log_var.neg()?.exp()?)?
        .add(log_var)?
        .sum(D::Minus1)?
        .affine(-0.5, -0.5 * d * LN_2PI)
}

/// Pairwise diagonal-Gaussian log-densities: `y [..., B, D]`, `mean [..., B, D]`, `var`
/// broadcastable to `[..., B, D]` → `[..., B, B]` with entry `[i, j] = log N(y_i; mean_j, diag var_j)`.
///
/// Computed with two matrix products (no `[B, B, D]` tensor): Σ_k [−½log 2π − ½log v_jk −
/// μ_jk²/(2v_jk)] − (y²)(1/(2v))ᵀ + y(μ/v)ᵀ. Differentiable in all three inputs.
pub fn diag_gaussian_log_prob_pairs(y: &Tensor, mean: &Tensor, var: &Tensor) -> Result<Tensor> {
    let var = check_gaussian("diag_gaussian_log_prob_pairs", y, mean, var)?;
    let d = y.dim(D::Minus1)? as f64;
    let inv_var = var.recip()?;
    let col = var
        .log()?
        .add(&mean.sqr()?.mul(&inv_var)?)?
        .sum(D::Minus1)?
        .affine(-0.5, -0.5 * d * LN_2PI)?; // [..., B] over j
    let quad = y
        .sqr()?
        .matmul(&inv_var.affine(0.5, 0.0)?.transpose(D::Minus1, D::Minus2)?)?;
    let cross = y.matmul(&mean.mul(&inv_var)?.transpose(D::Minus1, D::Minus2)?)?;
    cross.sub(&quad)?.broadcast_add(&col.unsqueeze(D::Minus2)?)
}

/// Per-dimension pairwise log-densities: `y, mean [..., B, D]`, `var` broadcastable to them →
/// `[..., D, B, B]` with entry `[k, i, j] = log N(y_ik; mean_jk, var_jk)` (input of
/// [`tc_upper`](crate::bounds::tc_upper)). Summing over k gives
/// [`diag_gaussian_log_prob_pairs`].
pub fn diag_gaussian_log_prob_pairs_per_dim(
    y: &Tensor,
    mean: &Tensor,
    var: &Tensor,
) -> Result<Tensor> {
    let var = check_gaussian("diag_gaussian_log_prob_pairs_per_dim", y, mean, var)?;
    let t = |x: &Tensor| x.transpose(D::Minus1, D::Minus2);
    let yk = t(y)?.unsqueeze(D::Minus1)?; // [..., D, B, 1]
    let mk = t(mean)?.unsqueeze(D::Minus2)?; // [..., D, 1, B]
    let vk = t(&var)?.unsqueeze(D::Minus2)?; // [..., D, 1, B]
    let sq = yk.broadcast_sub(&mk)?.sqr()?;
    let quad = sq.broadcast_div(&vk.affine(2.0, 0.0)?)?;
    quad.broadcast_add(&vk.log()?.affine(0.5, 0.5 * LN_2PI)?)?
        .neg()
}
