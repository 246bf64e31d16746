//! Donsker–Varadhan (MINE's estimate) and SMILE, its clipped variant.
//!
//! **I_DV** (paper Eq. 5): I ≥ E_{p(x,y)}[f] − log E_{p(x)p(y)}[e^f] holds in expectation only for
//! the *expectations*; the minibatch estimate DV(S) = mean_diag(S) − LME_off(S) puts the log
//! outside the average, so it is **neither an upper nor a lower bound** (biased by Jensen).
//! Lower variance than NWJ for the same critic; the bias shrinks as B grows.
//!
//! **SMILE** (Song & Ermon 2020): DV with the marginal term computed on scores clipped to
//! [−τ, τ]: mean_diag(S) − LME_off(clip(S, −τ, τ)). Clipping bounds the variance of the
//! partition-function estimate (≤ (e^τ − e^{−τ})²/4 per sample) at the price of a bias; as in
//! the authors' code the critic is trained with the JS f-GAN gradient and SMILE is the reported
//! value. **Neither** an upper nor a lower bound. τ = ∞ recovers DV.

use super::js::js_fgan_unchecked;
use super::reduce::{logmeanexp_off_diag, mean_diag, straight_through};
use super::validate;
use candle_core::{Result, Tensor};

/// DV(S) = mean_diag(S) − LME_off(S): `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::dv;
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((dv(&s)?.to_scalar::<f64>()? - 1.4083605937).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn dv(scores: &Tensor) -> Result<Tensor> {
    validate::square("dv", "scores", scores)?;
    mean_diag(scores)?.sub(&logmeanexp_off_diag(scores)?)
}

/// Checks SMILE's clip: τ > 0 (+∞ allowed, no clipping).
pub(crate) fn check_tau(tau: f64) -> crate::error::Result<()> {
    if tau.is_nan() || tau <= 0.0 {
        return Err(crate::error::Error::InvalidParameter {
            op: "smile",
            name: "tau",
            value: tau.to_string(),
            reason: "the clip τ must be > 0 (+∞ for no clipping)",
        });
    }
    Ok(())
}

/// SMILE with clip τ > 0: value mean_diag(S) − LME_off(clip(S, −τ, τ)), gradient ∇JSD_fgan(S).
/// `[..., B, B] → [...]`. Errors unless τ > 0 (τ = +∞ allowed: the value is DV).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{dv, smile};
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// // all |scores| ≤ 2 < τ: no clipping, the value is DV's
/// let v = smile(&s, 5.0)?.to_scalar::<f64>()?;
/// assert!((v - dv(&s)?.to_scalar::<f64>()?).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn smile(scores: &Tensor, tau: f64) -> Result<Tensor> {
    validate::square("smile", "scores", scores)?;
    check_tau(tau).map_err(crate::error::Error::into_candle)?;
    let clipped = if tau.is_finite() {
        scores.clamp(-tau, tau)?
    } else {
        scores.clone()
    };
    let value = mean_diag(scores)?.sub(&logmeanexp_off_diag(&clipped)?)?;
    straight_through(&value, &js_fgan_unchecked(scores)?)
}
