//! Choosing a bound by value: the serde `Bound` enum (one `match`) and its stateful `Estimator`.

use super::{
    dv, infonce, interpolated, js, js_fgan, loo_upper, nwj, rate, smile, tnce, tuba, Alpha, MineEma,
};
use candle_core::{Result, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a bound's value guarantees about the mutual information.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundKind {
    /// A lower bound on I(X; Y) (in expectation over batches).
    Lower,
    /// An upper bound on I(X; Y) (in expectation over batches).
    Upper,
    /// Neither (DV, SMILE, and the JS f-GAN objective, which bounds 2·JSD − log 4).
    Neither,
}

impl BoundKind {
    /// `lower`, `upper` or `neither`, as in tables, JSON and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            BoundKind::Lower => "lower",
            BoundKind::Upper => "upper",
            BoundKind::Neither => "neither",
        }
    }
}

/// Every score-matrix bound of the paper, selected by value.
///
/// Serialises as `{"name": "interpolated", "alpha": 0.5}`; parses from names like `nwj`,
/// `alpha_0.5`, `js`, `smile_5`, `mine_ema_0.99` (see [`FromStr`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Bound {
    /// [`tuba`] with the learned log-baseline.
    Tuba,
    /// [`nwj`].
    Nwj,
    /// [`dv`] (MINE's estimate).
    Dv,
    /// MINE with an EMA baseline ([`MineEma`]), decay β.
    MineEma {
        /// The EMA decay β ∈ [0, 1).
        decay: f64,
    },
    /// [`infonce`].
    #[serde(rename = "infonce")]
    InfoNce,
    /// [`interpolated`] I_α with the learned log-baseline.
    Interpolated {
        /// The interpolation weight.
        alpha: Alpha,
    },
    /// [`js_fgan`], the f-GAN objective itself.
    JsFgan,
    /// [`js`]: NWJ(S + eval_shift) value, JS gradient.
    Js {
        /// The shift c of NWJ(S + c); 1 is tight at the JS-optimal critic, 0 is the colab's.
        eval_shift: f64,
    },
    /// [`smile`] with clip τ.
    Smile {
        /// The clip τ > 0.
        tau: f64,
    },
    /// [`tnce`]: the scores are log p(y_i|x_j).
    Tnce,
    /// [`loo_upper`]: the scores are log p(y_i|x_j).
    LooUpper,
    /// [`rate`]: the scores are log p(y_i|x_j) and the log-baseline a normalised log q(y_i).
    Rate,
}

impl Bound {
    /// The bound's name as used in tables and on the command line (`nwj`, `alpha_0.5`, `js`, …);
    /// it parses back with [`FromStr`].
    pub fn name(&self) -> String {
        match self {
            Bound::Tuba => "tuba".into(),
            Bound::Nwj => "nwj".into(),
            Bound::Dv => "dv".into(),
            Bound::MineEma { decay } => format!("mine_ema_{decay}"),
            Bound::InfoNce => "infonce".into(),
            Bound::Interpolated { alpha } => format!("alpha_{alpha}"),
            Bound::JsFgan => "js_fgan".into(),
            Bound::Js { eval_shift } if *eval_shift == super::JS_EVAL_SHIFT => "js".into(),
            Bound::Js { eval_shift } => format!("js_shift_{eval_shift}"),
            Bound::Smile { tau } => format!("smile_{tau}"),
            Bound::Tnce => "tnce".into(),
            Bound::LooUpper => "loo_upper".into(),
            Bound::Rate => "rate".into(),
        }
    }

    /// Whether the value is a lower bound, an upper bound, or neither.
    pub fn kind(&self) -> BoundKind {
        match self {
            Bound::Tuba
            | Bound::Nwj
            | Bound::MineEma { .. }
            | Bound::InfoNce
            | Bound::Interpolated { .. }
            | Bound::Js { .. }
            | Bound::Tnce => BoundKind::Lower,
            Bound::LooUpper | Bound::Rate => BoundKind::Upper,
            Bound::Dv | Bound::Smile { .. } | Bound::JsFgan => BoundKind::Neither,
        }
    }

    /// The deterministic per-batch cap at batch size B, if the bound has one: log B for InfoNCE
    /// and TNCE, 1 + log((B − 1)/α) for I_α with α > 0 (each of I_α's joint terms is at most
    /// log((B − 1)/α) and its marginal term is ≥ 0; the paper's I_α ≤ log(K/α), K = B − 1).
    ///
    /// ```
    /// use mi_core::bounds::{Alpha, Bound};
    /// assert_eq!(Bound::InfoNce.cap(64), Some(64f64.ln()));
    /// let alpha = Bound::Interpolated { alpha: Alpha::new(0.5)? };
    /// assert_eq!(alpha.cap(64), Some(1.0 + (63.0f64 / 0.5).ln()));
    /// assert_eq!(Bound::Nwj.cap(64), None);
    /// # Ok::<(), mi_core::Error>(())
    /// ```
    pub fn cap(&self, batch_size: usize) -> Option<f64> {
        let b = batch_size as f64;
        match self {
            Bound::InfoNce | Bound::Tnce => Some(b.ln()),
            Bound::Interpolated { alpha } if alpha.value() > 0.0 => {
                Some(1.0 + ((b - 1.0) / alpha.value()).ln())
            }
            _ => None,
        }
    }

    /// Whether the bound reads its scores as a known log p(y_i|x_j) rather than a critic.
    pub fn needs_known_conditional(&self) -> bool {
        matches!(self, Bound::Tnce | Bound::LooUpper | Bound::Rate)
    }

    /// Whether the bound uses the per-row log-baseline (TUBA, I_α: learned a(y); rate: log q(y)).
    pub fn uses_log_baseline(&self) -> bool {
        matches!(self, Bound::Tuba | Bound::Interpolated { .. } | Bound::Rate)
    }

    /// Evaluates the bound once, with a fresh state (for [`Bound::MineEma`]: a₀ = 1, one update).
    /// See [`Estimator::evaluate`] for the arguments.
    pub fn evaluate(&self, scores: &Tensor, log_baseline: Option<&Tensor>) -> Result<Tensor> {
        Estimator::new(*self)?.evaluate(scores, log_baseline)
    }
}

/// A [`Bound`] together with the state it carries across batches (MINE's EMA).
#[derive(Clone, Debug)]
pub struct Estimator {
    bound: Bound,
    ema: Option<MineEma>,
}

impl Estimator {
    /// Validates the bound's parameters and starts a fresh state.
    pub fn new(bound: Bound) -> crate::error::Result<Self> {
        let ema = match bound {
            Bound::MineEma { decay } => Some(MineEma::new(decay)?),
            Bound::Smile { tau } => {
                super::dv::check_tau(tau)?;
                None
            }
            Bound::Js { eval_shift } => {
                super::js::check_eval_shift(eval_shift)?;
                None
            }
            _ => None,
        };
        Ok(Self { bound, ema })
    }

    /// The bound.
    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// Evaluates on `scores [..., B, B]` (`[B, B]` for MINE-EMA) with an optional
    /// `log_baseline [..., B]`, returning `[...]`: the reported value, whose gradient is the
    /// training objective's (they differ for I_JS and SMILE). Maximise it; the loss is −value.
    ///
    /// TUBA and I_α read a missing log-baseline as zeros (a ≡ 1); the rate requires it.
    ///
    /// ```
    /// use candle_core::{Device, Tensor};
    /// use mi_core::bounds::{Bound, Estimator};
    /// let s = Tensor::new(&[[1.0f64, 0.5, -0.3], [0.2, 2.0, 0.1], [-1.0, 0.4, 1.5]], &Device::Cpu)?;
    /// let mut est = Estimator::new("nwj".parse::<Bound>()?)?;
    /// assert!((est.evaluate(&s, None)?.to_scalar::<f64>()? - 1.0968153340).abs() < 1e-9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evaluate(&mut self, scores: &Tensor, log_baseline: Option<&Tensor>) -> Result<Tensor> {
        let zeros;
        let baseline = match log_baseline {
            Some(b) => b,
            None if self.bound == Bound::Rate => {
                return Err(crate::error::Error::Shape {
                    op: "rate",
                    detail: "the rate needs log q(y_i) as its log_baseline [..., B]".into(),
                }
                .into_candle())
            }
            None => {
                // One zero per row ([..., B]); the bounds validate the scores themselves.
                let dims = scores.dims();
                let rows = dims[..dims.len().saturating_sub(1)].to_vec();
                zeros = Tensor::zeros(rows, scores.dtype(), scores.device())?;
                &zeros
            }
        };
        match self.bound {
            Bound::Tuba => tuba(scores, baseline),
            Bound::Nwj => nwj(scores),
            Bound::Dv => dv(scores),
            Bound::MineEma { .. } => match self.ema.as_mut() {
                Some(ema) => ema.step(scores),
                None => Err(candle_core::Error::msg(
                    "mine_ema: estimator built without its EMA",
                )),
            },
            Bound::InfoNce => infonce(scores),
            Bound::Interpolated { alpha } => interpolated(scores, baseline, alpha),
            Bound::JsFgan => js_fgan(scores),
            Bound::Js { eval_shift } => js(scores, eval_shift),
            Bound::Smile { tau } => smile(scores, tau),
            Bound::Tnce => tnce(scores),
            Bound::LooUpper => loo_upper(scores),
            Bound::Rate => {
                super::validate::square("rate", "log_cond", scores)?;
                rate(&super::reduce::diag(scores)?, baseline)
            }
        }
    }

    /// The carried state: MINE's EMA (`None` for stateless bounds).
    pub fn ema(&self) -> Option<MineEma> {
        self.ema
    }

    /// Restores MINE's EMA (from [`Estimator::ema`]); errors for any other bound or decay.
    pub fn set_ema(&mut self, ema: MineEma) -> crate::error::Result<()> {
        match self.bound {
            Bound::MineEma { decay } if decay == ema.decay() => {
                self.ema = Some(ema);
                Ok(())
            }
            _ => Err(crate::error::Error::InvalidParameter {
                op: "Estimator::set_ema",
                name: "ema",
                value: format!("{ema:?}"),
                reason: "only a mine_ema estimator with the same decay carries this state",
            }),
        }
    }

    /// Resets the state (MINE's EMA back to a₀ = 1).
    pub fn reset(&mut self) -> crate::error::Result<()> {
        *self = Self::new(self.bound)?;
        Ok(())
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Bound {
    type Err = crate::error::Error;

    /// Parses `tuba`, `nwj`, `dv`, `mine_ema[_β]` (β = 0.99), `infonce`, `alpha_A` /
    /// `interpolated_A`, `js_fgan`, `js[_shift_C]`, `smile[_τ]` (τ = 5), `tnce`, `loo_upper`,
    /// `rate`.
    fn from_str(s: &str) -> crate::error::Result<Self> {
        let num = |rest: &str, name: &'static str| -> crate::error::Result<f64> {
            rest.parse::<f64>()
                .map_err(|_| crate::error::Error::InvalidParameter {
                    op: "bound",
                    name,
                    value: crate::limits::excerpt(rest),
                    reason: "not a number",
                })
        };
        let s = s.trim().to_ascii_lowercase();
        let bound = match s.as_str() {
            "tuba" => Bound::Tuba,
            "nwj" => Bound::Nwj,
            "dv" | "mine" => Bound::Dv,
            "mine_ema" => Bound::MineEma { decay: 0.99 },
            "infonce" | "nce" => Bound::InfoNce,
            "js_fgan" => Bound::JsFgan,
            "js" => Bound::Js {
                eval_shift: super::JS_EVAL_SHIFT,
            },
            "smile" => Bound::Smile { tau: 5.0 },
            "tnce" => Bound::Tnce,
            "loo_upper" | "mbu" => Bound::LooUpper,
            "rate" => Bound::Rate,
            _ => {
                if let Some(r) = s
                    .strip_prefix("alpha_")
                    .or_else(|| s.strip_prefix("interpolated_"))
                {
                    Bound::Interpolated {
                        alpha: Alpha::new(num(r, "alpha")?)?,
                    }
                } else if let Some(r) = s.strip_prefix("mine_ema_") {
                    Bound::MineEma {
                        decay: num(r, "decay")?,
                    }
                } else if let Some(r) = s.strip_prefix("js_shift_") {
                    Bound::Js {
                        eval_shift: num(r, "eval_shift")?,
                    }
                } else if let Some(r) = s.strip_prefix("smile_") {
                    Bound::Smile {
                        tau: num(r, "tau")?,
                    }
                } else {
                    return Err(crate::error::Error::InvalidParameter {
                        op: "bound",
                        name: "name",
                        value: crate::limits::excerpt(&s),
                        reason: "unknown bound (tuba, nwj, dv, mine_ema[_β], infonce, alpha_A, \
                                 js_fgan, js[_shift_C], smile[_τ], tnce, loo_upper, rate)",
                    });
                }
            }
        };
        Estimator::new(bound)?;
        Ok(bound)
    }
}
