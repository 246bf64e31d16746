//! The interpolated bound I_α (paper Eq. 11), between InfoNCE (α = 1) and TUBA (α = 0).
//!
//! The critic is replaced by 1 + log( e^{f(x₁, y)} / (α·m(y; x_{1:K}) + (1 − α)·q(y)) ), with
//! m the mean of e^f over a batch of x's and q(y) a learned (unnormalised) baseline.
//!
//! Minibatch form (the colab's exact leave-one-out estimator; K = B − 1), with
//! L = [`loo_logmeanexp`](super::loo_logmeanexp)(S), ℓ_i = log q(y_i) and
//! A[i, j] = log(α·e^{L[i, j]} + (1 − α)·e^{ℓ_i}):
//!
//! I_α = 1 + mean_off(S[i, i] − A[i, j]) − mean_off(exp(S[i, j] − A[i, i])).
//!
//! * **Lower bound**; capped at 1 + log((B − 1)/α) deterministically, so it can exceed log B.
//! * **Bias–variance trade-off** set by α: small α tracks high MI (TUBA-like, more variance),
//!   large α has InfoNCE's low variance and saturation. α = 0 is exactly TUBA(S, ℓ); α = 1 is
//!   exactly the mean of InfoNCE over the B leave-one-out sub-batches of size B − 1.

use super::reduce::{diag, log_interpolate, logmeanexp_off_diag, loo_logmeanexp, mean_off_diag};
use super::{tuba, validate, Alpha};
use candle_core::{Result, Tensor, D};

/// I_α(S, ℓ, α): `scores [..., B, B]`, `log_baseline [..., B]` (ℓ_i = log q(y_i)) → `[...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{interpolated, Alpha};
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// let l = Tensor::new(&[0.1f64, -0.2, 0.3], &Device::Cpu)?;
/// let v = interpolated(&s, &l, Alpha::new(0.3)?)?.to_scalar::<f64>()?;
/// assert!((v - 0.9786551012).abs() < 1e-9);
/// let v1 = interpolated(&s, &l, Alpha::new(1.0)?)?.to_scalar::<f64>()?;
/// assert!((v1 - 0.4642013695).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn interpolated(scores: &Tensor, log_baseline: &Tensor, alpha: Alpha) -> Result<Tensor> {
    validate::square("interpolated", "scores", scores)?;
    validate::per_row("interpolated", "log_baseline", log_baseline, scores)?;
    if alpha.value() == 0.0 {
        // A[i, j] = ℓ_i: exactly TUBA, without the O(B²) leave-one-out matrix.
        return tuba(scores, log_baseline);
    }
    interpolated_unchecked(scores, log_baseline, alpha, &loo_logmeanexp(scores)?)
}

/// I_α for several α on the same scores, sharing one leave-one-out matrix:
/// `scores [..., B, B]`, `log_baseline [..., B]` → one `[...]` tensor per α, in order.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{interpolated, interpolated_many, Alpha};
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// let l = Tensor::new(&[0.1f64, -0.2, 0.3], &Device::Cpu)?;
/// let alphas = [Alpha::new(0.0)?, Alpha::new(0.3)?, Alpha::new(1.0)?];
/// let many = interpolated_many(&s, &l, &alphas)?;
/// for (a, v) in alphas.iter().zip(&many) {
///     let one = interpolated(&s, &l, *a)?.to_scalar::<f64>()?;
///     assert_eq!(v.to_scalar::<f64>()?, one);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn interpolated_many(
    scores: &Tensor,
    log_baseline: &Tensor,
    alphas: &[Alpha],
) -> Result<Vec<Tensor>> {
    validate::square("interpolated", "scores", scores)?;
    validate::per_row("interpolated", "log_baseline", log_baseline, scores)?;
    let loo = if alphas.iter().any(|a| a.value() > 0.0) {
        Some(loo_logmeanexp(scores)?)
    } else {
        None
    };
    alphas
        .iter()
        .map(|&alpha| match &loo {
            Some(loo) if alpha.value() > 0.0 => {
                interpolated_unchecked(scores, log_baseline, alpha, loo)
            }
            _ => tuba(scores, log_baseline),
        })
        .collect()
}

fn interpolated_unchecked(
    scores: &Tensor,
    log_baseline: &Tensor,
    alpha: Alpha,
    loo: &Tensor,
) -> Result<Tensor> {
    let log_q = log_baseline.unsqueeze(D::Minus1)?;
    let a = log_interpolate(loo, &log_q, alpha)?;
    // The mean of the per-entry differences S[i, i] − A[i, j] (i ≠ j): both terms carry the
    // scores' common offset, which a difference of two means would round away.
    let joint = mean_off_diag(&diag(scores)?.unsqueeze(D::Minus1)?.broadcast_sub(&a)?)?;
    let marginal =
        logmeanexp_off_diag(&scores.broadcast_sub(&diag(&a)?.unsqueeze(D::Minus1)?)?)?.exp()?;
    joint.sub(&marginal)?.affine(1.0, 1.0)
}
