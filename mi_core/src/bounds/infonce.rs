//! InfoNCE (contrastive predictive coding), paper Eq. 10 / Eq. 12.
//!
//! I ≥ E[ (1/B) Σ_i log( e^{f(x_i, y_i)} / ((1/B) Σ_j e^{f(x_j, y_i)}) ) ]
//!
//! Minibatch form with rows = y: NCE(S) = log B + (1/B) Σ_i (S[i, i] − logsumexp_j S[i, j]),
//! normalising over the x's for each y (the orientation of Eq. 12; Eq. 10 normalises over y,
//! which is NCE(Sᵀ) — also a valid bound, not numerically equal).
//!
//! * **Lower bound**, and **deterministically ≤ log B**: it saturates once I > log B, so its bias
//!   grows linearly in I there.
//! * **Low variance**; invariant to any per-y shift of the critic (optimal critic
//!   log p(y|x) + c(y)).
//!
//! With a known conditional, NCE(log p(y_i|x_j)) is **TNCE** (see [`super::tnce`]).

use super::reduce::{diag, logsumexp};
use super::validate;
use candle_core::{Result, Tensor, D};

/// NCE(S): `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::infonce;
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((infonce(&s)?.to_scalar::<f64>()? - 0.6814098366).abs() < 1e-9);
/// // the paper's Eq. 10 orientation normalises over y instead:
/// assert!((infonce(&s.t()?)?.to_scalar::<f64>()? - 0.7121134667).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn infonce(scores: &Tensor) -> Result<Tensor> {
    let b = validate::square("infonce", "scores", scores)?;
    infonce_unchecked(scores, b)
}

pub(crate) fn infonce_unchecked(scores: &Tensor, b: usize) -> Result<Tensor> {
    let lse = logsumexp(scores, D::Minus1)?;
    diag(scores)?
        .sub(&lse)?
        .mean(D::Minus1)?
        .affine(1.0, (b as f64).ln())
}
