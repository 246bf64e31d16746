//! I_JS: a critic trained with the Jensen–Shannon f-GAN objective, reported through NWJ (§2.6).
//!
//! **JSD f-GAN objective**: JSD_fgan(S) = mean_i −softplus(−S[i, i]) − mean_off softplus(S[i, j]).
//! Always < 0; maximised at T* = log p(x, y)/(p(x)p(y)), where it equals 2·JSD − log 4.
//! A lower bound on 2·JSD − log 4, **not** on the MI. Low variance: its terms are bounded in
//! slope, so training is stable even at high MI.
//!
//! **I_JS** reports NWJ(S + c) on the JS-trained critic while its gradient is ∇JSD_fgan:
//! value = stop_gradient(NWJ(S + c)) + JSD_fgan − stop_gradient(JSD_fgan), which returns the
//! value exactly however large the objective is.
//! With c = `eval_shift` = 1 (our default) the value is tight at T*: NWJ(T* + 1) = I.
//! c = 0 reproduces the authors' colab, whose number sits 1/e below I at the optimum.
//! The value is a **lower bound** (NWJ is one for any critic), with NWJ's variance.

use super::reduce::{mean_diag, mean_off_diag, softplus, straight_through};
use super::tuba::nwj;
use super::validate;
use candle_core::{Result, Tensor};

/// The default `eval_shift` of I_JS (see the module docs).
pub const JS_EVAL_SHIFT: f64 = 1.0;
/// The largest |c| of I_JS's evaluation shift. NWJ(S + c) holds e^(S + c − 1), which leaves
/// f64's range (e^709) once c nears 709 whatever the scores; the shift that makes the value
/// tight is 1, and ±100 leaves every useful shift in and every meaningless one out.
pub const JS_MAX_EVAL_SHIFT: f64 = 100.0;

/// Refuses an evaluation shift outside ±[`JS_MAX_EVAL_SHIFT`] (or not a number).
pub(crate) fn check_eval_shift(eval_shift: f64) -> crate::error::Result<()> {
    if eval_shift.is_nan() || eval_shift.abs() > JS_MAX_EVAL_SHIFT {
        return Err(crate::error::Error::InvalidParameter {
            op: "js",
            name: "eval_shift",
            value: format!("{eval_shift:e}"),
            reason: "the evaluation shift c of NWJ(S + c) must be finite and within ±100 (the \
                     tight one is 1; e^(S + c) overflows f64 beyond ~709)",
        });
    }
    Ok(())
}

/// JSD_fgan(S): `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{DType, Device, Tensor};
/// use mi_core::bounds::js_fgan;
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((js_fgan(&s)?.to_scalar::<f64>()? + 0.9300751085).abs() < 1e-9);
/// let z = Tensor::zeros((4, 4), DType::F64, &Device::Cpu)?;
/// assert!((js_fgan(&z)?.to_scalar::<f64>()? + 2.0 * 2f64.ln()).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn js_fgan(scores: &Tensor) -> Result<Tensor> {
    validate::square("js_fgan", "scores", scores)?;
    js_fgan_unchecked(scores)
}

pub(crate) fn js_fgan_unchecked(scores: &Tensor) -> Result<Tensor> {
    let joint = mean_diag(&softplus(&scores.neg()?)?)?.neg()?;
    joint.sub(&mean_off_diag(&softplus(scores)?)?)
}

/// I_JS: value NWJ(S + eval_shift), gradient ∇JSD_fgan(S). `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{js, nwj};
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((js(&s, 0.0)?.to_scalar::<f64>()? - 1.0968153340).abs() < 1e-9);
/// assert!((js(&s, 1.0)?.to_scalar::<f64>()? - 1.4040304489).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn js(scores: &Tensor, eval_shift: f64) -> Result<Tensor> {
    validate::square("js", "scores", scores)?;
    check_eval_shift(eval_shift).map_err(crate::error::Error::into_candle)?;
    let value = nwj(&scores.affine(1.0, eval_shift)?)?;
    straight_through(&value, &js_fgan_unchecked(scores)?)
}
