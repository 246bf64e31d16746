//! Bounds with a known conditional p(y|x) (paper §2.5), read from Lp[i, j] = log p(y_i | x_j).
//!
//! * **TNCE** (Eq. 12): InfoNCE on Lp, (1/B) Σ_i log[ p(y_i|x_i) / ((1/B) Σ_j p(y_i|x_j)) ].
//!   **Lower bound**, ≤ log B, low variance; no learned parts.
//! * **Leave-one-out upper bound** (Eq. 13): (1/B) Σ_i log[ p(y_i|x_i) / ((1/(B−1)) Σ_{j≠i}
//!   p(y_i|x_j)) ]. **Upper bound in expectation**; large bias and variance at small B.
//! * **Rate** R (Eq. 1): (1/B) Σ_i [log p(y_i|x_i) − log q(y_i)] with a *normalised* q(y).
//!   **Upper bound**, tight at q = p(y); unbiased estimate of E[KL(p(y|x) ‖ q(y))].
//! * **Reparameterised critics** (Eq. 14, [`reparameterized_scores`]): f = 1 + log p(y|x) − log q(y) turns NWJ into
//!   TUBA(Lp, log q) = [`tuba`](super::tuba)(Lp, log q) — valid for any q > 0 — and I_α into
//!   [`interpolated`](super::interpolated)(Lp, log q, α). Call those directly on Lp.
//! * **Total-correlation upper bound** for a mean-field encoder p(y|x) = Π_k p(y_k|x):
//!   TC(Y) = Σ_k I(X; Y_k) − I(X; Y) ≤ Σ_k MBU(Lp⁽ᵏ⁾) − LB, with LB any lower bound on I(X; Y)
//!   (default TNCE(Σ_k Lp⁽ᵏ⁾)). An upper bound in expectation.

use super::infonce::infonce_unchecked;
use super::reduce::{diag, logmeanexp_row_off_diag};
use super::validate;
use candle_core::{Result, Tensor, D};

/// TNCE = NCE(Lp): `log_cond [..., B, B]` (Lp[i, j] = log p(y_i|x_j)) → `[...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::tnce;
/// let lp = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((tnce(&lp)?.to_scalar::<f64>()? - 0.6814098366).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn tnce(log_cond: &Tensor) -> Result<Tensor> {
    let b = validate::square("tnce", "log_cond", log_cond)?;
    infonce_unchecked(log_cond, b)
}

/// The leave-one-out ("minibatch") upper bound MBU(Lp): `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::loo_upper;
/// let lp = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((loo_upper(&lp)?.to_scalar::<f64>()? - 1.4145089352).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn loo_upper(log_cond: &Tensor) -> Result<Tensor> {
    validate::square("loo_upper", "log_cond", log_cond)?;
    loo_upper_unchecked(log_cond)
}

fn loo_upper_unchecked(log_cond: &Tensor) -> Result<Tensor> {
    diag(log_cond)?
        .sub(&logmeanexp_row_off_diag(log_cond)?)?
        .mean(D::Minus1)
}

/// The rate R = mean_i [log p(y_i|x_i) − log q(y_i)]: `log_joint_cond [..., B]` (the diagonal
/// log p(y_i|x_i)), `log_q [..., B]` (a normalised density) → `[...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::rate;
/// let lp = Tensor::new(&[-1.0f64, -2.0], &Device::Cpu)?;
/// let lq = Tensor::new(&[-3.0f64, -3.0], &Device::Cpu)?;
/// assert!((rate(&lp, &lq)?.to_scalar::<f64>()? - 1.5).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn rate(log_joint_cond: &Tensor, log_q: &Tensor) -> Result<Tensor> {
    if log_joint_cond.rank() == 0 || log_joint_cond.dims() != log_q.dims() {
        return Err(crate::error::Error::Shape {
            op: "rate",
            detail: format!(
                "log p(y_i|x_i) and log q(y_i) must both be [..., B], got {:?} and {:?}",
                log_joint_cond.dims(),
                log_q.dims()
            ),
        }
        .into_candle());
    }
    validate::float_and_finite("rate", "log_joint_cond", log_joint_cond)?;
    validate::float_and_finite("rate", "log_q", log_q)?;
    log_joint_cond.sub(log_q)?.mean(D::Minus1)
}

/// The total-correlation upper bound with TNCE as the lower bound on I(X; Y):
/// `per_dim [..., K, B, B]` (entry [k, i, j] = log p(y_ik | x_j)) → `[...]`.
///
/// Σ_k MBU(Lp⁽ᵏ⁾) − TNCE(Σ_k Lp⁽ᵏ⁾).
pub fn tc_upper(per_dim: &Tensor) -> Result<Tensor> {
    check_per_dim("tc_upper", per_dim)?;
    let total = per_dim.sum(D::Minus(3))?;
    let b = total.dim(D::Minus1)?;
    let lower = infonce_unchecked(&total, b)?;
    sum_mbu(per_dim)?.sub(&lower)
}

/// The total-correlation upper bound Σ_k MBU(Lp⁽ᵏ⁾) − `mi_lower`, with any lower bound on
/// I(X; Y) (e.g. I_JS with a structured critic): `per_dim [..., K, B, B]`, `mi_lower [...]` → `[...]`.
pub fn tc_upper_with_lower(per_dim: &Tensor, mi_lower: &Tensor) -> Result<Tensor> {
    check_per_dim("tc_upper", per_dim)?;
    let want = &per_dim.dims()[..per_dim.rank() - 3];
    if mi_lower.dims() != want {
        return Err(crate::error::Error::Shape {
            op: "tc_upper",
            detail: format!(
                "mi_lower must have the leading shape {want:?} of per_dim {:?}, got {:?}",
                per_dim.dims(),
                mi_lower.dims()
            ),
        }
        .into_candle());
    }
    validate::float_and_finite("tc_upper", "mi_lower", mi_lower)?;
    sum_mbu(per_dim)?.sub(mi_lower)
}

fn check_per_dim(op: &'static str, per_dim: &Tensor) -> Result<()> {
    if per_dim.rank() < 3 {
        return Err(crate::error::Error::Shape {
            op,
            detail: format!("per_dim must be [..., K, B, B], got {:?}", per_dim.dims()),
        }
        .into_candle());
    }
    validate::square(op, "per_dim", per_dim).map(|_| ())
}

fn sum_mbu(per_dim: &Tensor) -> Result<Tensor> {
    loo_upper_unchecked(per_dim)?.sum(D::Minus1)
}

/// The reparameterised critic f = 1 + log p(y|x) − log q(y) (Eq. 14) as a score matrix:
/// `log_cond [..., B, B]`, `log_q [..., B]` → `[..., B, B]`, f[i, j] = 1 + Lp[i, j] − log q(y_i).
///
/// Any critic bound applies to it; NWJ(f) equals TUBA(Lp, log q), a lower bound for any q > 0
/// that is unbiased when q = p(y).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{nwj, reparameterized_scores, tuba};
/// let lp = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// let lq = Tensor::new(&[0.1f64, -0.2, 0.3], &Device::Cpu)?;
/// let f = reparameterized_scores(&lp, &lq)?;
/// let (a, b) = (nwj(&f)?.to_scalar::<f64>()?, tuba(&lp, &lq)?.to_scalar::<f64>()?);
/// assert!((a - b).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn reparameterized_scores(log_cond: &Tensor, log_q: &Tensor) -> Result<Tensor> {
    validate::square("reparameterized_scores", "log_cond", log_cond)?;
    validate::per_row("reparameterized_scores", "log_q", log_q, log_cond)?;
    log_cond
        .broadcast_sub(&log_q.unsqueeze(D::Minus1)?)?
        .affine(1.0, 1.0)
}
