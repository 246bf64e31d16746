//! TUBA, NWJ and MINE's EMA variant — one family: the tractable unnormalised Barber–Agakov bound.
//!
//! **I_TUBA** (paper Eq. 6), for any baseline a(y) > 0:
//!
//! I ≥ E_{p(x,y)}[f] − E_{p(y)}[ E_{p(x)}[e^f] / a(y) + log a(y) − 1 ].
//!
//! Minibatch form, with ℓ_i = log a(y_i) shifting row i (S' = S − ℓ[:, None]):
//! TUBA(S, ℓ) = 1 + mean_diag(S') − exp(LME_off(S')).
//!
//! * **Lower bound**, unbiased estimate of itself (the marginal term is a plain mean).
//! * **High variance** at high MI: the marginal term averages e^f, whose variance grows like
//!   e^{I}; its optimum is f = log p(y|x), a = p(y), where it is tight.
//!
//! **I_NWJ** (Eq. 7) is TUBA with log a ≡ 1: NWJ(S) = mean_diag(S) − e^{−1}·mean_off(e^S),
//! optimal critic f* = 1 + log p(y|x)/p(y). Same bias/variance character as TUBA.
//!
//! **MINE with an EMA baseline** (§2.2): a scalar baseline a_t, an exponential moving average of
//! exp(LME_off(S_t)) held constant in the gradient. The gradient is MINE's "bias-corrected"
//! gradient E_p[∇f] − E_q[e^f ∇f]/a_t (a_t includes the current batch, as MINE defines it); the
//! reported value is TUBA(S_t, log a_{t−1}), scored with the baseline of the *previous* batches
//! only. TUBA is a lower bound for any baseline independent of the batch it scores; one that
//! already holds the batch is not (with β = 0 it would be DV exactly). MINE's own DV number is
//! not a bound either.

use super::reduce::{logmeanexp_off_diag, mean_diag, straight_through};
use super::validate;
use candle_core::{Result, Tensor};

/// TUBA(S, ℓ): `scores [..., B, B]`, `log_baseline [..., B]` (ℓ_i = log a(y_i)) → `[...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::tuba;
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// let l = Tensor::new(&[0.1f64, -0.2, 0.3], &Device::Cpu)?;
/// let v = tuba(&s, &l)?.to_scalar::<f64>()?;
/// assert!((v - 1.3697448400).abs() < 1e-9);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn tuba(scores: &Tensor, log_baseline: &Tensor) -> Result<Tensor> {
    validate::square("tuba", "scores", scores)?;
    validate::per_row("tuba", "log_baseline", log_baseline, scores)?;
    let shifted = scores.broadcast_sub(&log_baseline.unsqueeze(candle_core::D::Minus1)?)?;
    tuba_shifted(&shifted)
}

/// 1 + mean_diag(S') − exp(LME_off(S')) for an already row-shifted S'.
fn tuba_shifted(shifted: &Tensor) -> Result<Tensor> {
    let joint = mean_diag(shifted)?;
    let marginal = logmeanexp_off_diag(shifted)?.exp()?;
    joint.sub(&marginal)?.affine(1.0, 1.0)
}

/// TUBA with one scalar log-baseline c for every row: `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::tuba_scalar;
/// // TUBA(c·1, ℓ ≡ c) = 0
/// let s = Tensor::full(3.0f64, (4, 4), &Device::Cpu)?;
/// assert!(tuba_scalar(&s, 3.0)?.to_scalar::<f64>()?.abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn tuba_scalar(scores: &Tensor, log_baseline: f64) -> Result<Tensor> {
    validate::square("tuba", "scores", scores)?;
    tuba_shifted(&scores.affine(1.0, -log_baseline)?)
}

/// NWJ(S) = mean_diag(S) − exp(LME_off(S) − 1): `[..., B, B] → [...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::nwj;
/// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
/// assert!((nwj(&s)?.to_scalar::<f64>()? - 1.0968153340).abs() < 1e-9);
/// // NWJ(0) = −1/e
/// let z = Tensor::zeros((5, 5), candle_core::DType::F64, &Device::Cpu)?;
/// assert!((nwj(&z)?.to_scalar::<f64>()? + (-1.0f64).exp()).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn nwj(scores: &Tensor) -> Result<Tensor> {
    validate::square("nwj", "scores", scores)?;
    tuba_shifted(&scores.affine(1.0, -1.0)?)
}

/// The state of MINE's moving average a_t of e^f over minibatches, kept in log space.
///
/// a_t = β·a_{t−1} + (1 − β)·exp(LME_off(S_t)), a_0 = 1 (so log a_0 = 0).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MineEma {
    decay: f64,
    log_a: f64,
}

impl MineEma {
    /// A fresh EMA with decay β ∈ [0, 1) (β = 0.99 is MINE's `ma_rate = 0.01`).
    pub fn new(decay: f64) -> crate::error::Result<Self> {
        validate::param_in(
            "mine_ema",
            "decay",
            decay,
            0.0,
            1.0,
            "the EMA decay β must lie in [0, 1)",
        )?;
        if decay == 1.0 {
            return Err(crate::error::Error::InvalidParameter {
                op: "mine_ema",
                name: "decay",
                value: "1".into(),
                reason: "the EMA decay β must lie in [0, 1)",
            });
        }
        Ok(Self { decay, log_a: 0.0 })
    }

    /// The decay β.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// The current log a_t (after the last [`MineEma::step`]: the baseline the next batch is
    /// scored with).
    pub fn log_baseline(&self) -> f64 {
        self.log_a
    }

    /// Scores this batch against the previous batches' baseline, then folds it into the EMA:
    /// `[B, B] → []`.
    ///
    /// The value is TUBA(S_t, log a_{t−1}), a lower bound (a_0 = 1 on the first batch). Its
    /// gradient is MINE's corrected gradient E_p[∇f] − E_q[e^f ∇f]/a_t, with a_t (this batch
    /// included) held constant. Leading batch dimensions are refused (one EMA, one batch).
    pub fn step(&mut self, scores: &Tensor) -> Result<Tensor> {
        validate::square("mine_ema", "scores", scores)?;
        if scores.rank() != 2 {
            return Err(crate::error::Error::Shape {
                op: "mine_ema",
                detail: format!(
                    "the EMA takes one [B, B] batch at a time, got {:?}",
                    scores.dims()
                ),
            }
            .into_candle());
        }
        let lme = logmeanexp_off_diag(scores)?;
        let joint = mean_diag(scores)?;
        let previous = self.log_a;
        let value = joint
            .sub(&lme.affine(1.0, -previous)?.exp()?)?
            .affine(1.0, 1.0 - previous)?;
        let batch_log = lme.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        self.log_a = log_add_exp(
            self.decay.ln() + previous,
            (-self.decay).ln_1p() + batch_log,
        );
        let objective = joint.sub(&lme.affine(1.0, -self.log_a)?.exp()?)?;
        straight_through(&value, &objective)
    }
}

fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}
