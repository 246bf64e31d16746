//! The regularised, decoder-free InfoMax objective of the dSprites experiment (paper §3.1,
//! spec §7.4): maximise I(X; Y) subject to a total-correlation and a smoothness constraint,
//!
//!   max I_JS(X; Y)  s.t.  TC_ub = Σ_k MBU_k − I_JS ≤ δ (or − TNCE: [`TcLower`]),   R = E_b KL(p(y|x_b) ‖ p(y|x_b + ε)) ≤ γ,
//!
//! with ε ~ N(0, noise_std²) per pixel (noise_std = 0.5; the paper's N(0, 0.5) read as a std).
//!
//! * **Encoder** p(y|x) = N(μ(x), diag σ²(x)): the [`ConvEncoder`]; y = μ + σ ⊙ ε_y.
//! * **Structured critic** S[i, j] = Lp[i, j] − log q(y_i), Lp[i, j] = log p(y_i | x_j) (rows = y),
//!   q an unnormalised MLP on y (two hidden layers, output log q).
//! * **I_JS** is [`Bound::Js`] with [`JS_EVAL_SHIFT`] evaluated through [`Bound::evaluate`],
//!   exactly as the trainer does: the value is NWJ(S + 1), the gradient that of the JS f-GAN
//!   objective JSD_fgan(S).
//! * **MBU_k** = [`loo_upper`] of the per-latent Lp⁽ᵏ⁾ `[K, B, B]` (an upper bound on I(X; Y_k) in
//!   expectation), and TC_ub = [`tc_upper_with_lower`]`(Lp⁽ᵏ⁾, I_JS)`.
//! * **Smoothness** R = mean_b KL(p(y|x_b) ‖ p(y|x_b + ε)), closed form ([`Posterior::kl`](crate::encoder::Posterior::kl)).
//! * **Loss** (minimised): −I_JS + λ_TC·(TC_ub − δ) + λ_S·(R − γ) with the multipliers as
//!   constants. Its value is −NWJ + …; its gradient is −(1 + λ_TC)·∇JSD_fgan + λ_TC·Σ_k ∇MBU_k +
//!   λ_S·∇R (I_JS enters TC_ub with its JS gradient too).
//! * **Multipliers**: dual ascent λ ← max(0, λ + η·(constraint − threshold)) after each step
//!   ([`Penalty::Dual`]), or fixed penalties ([`Penalty::Fixed`]).
//!
//! **Precision.** The networks run in their `VarBuilder`'s dtype (f32 for training). μ and logvar
//! are cast to f64 and everything after — the sample y, Lp, the bounds, the KL, the loss — is
//! computed in f64, like the trainer's default `bound_precision`: Lp grows like 1/σ² as the
//! encoder sharpens, and e^S of the NWJ value overflows f32 beyond S ≈ 88. The casts are
//! differentiable, so the f64 loss back-propagates into the f32 parameters; q(y) reads y cast
//! back to the network dtype.
//!
//! **Noise inputs.** [`InfoMax::terms`] takes standard-normal draws for both noises (ε_y `[B, K]`
//! and the pixel noise `[B, C, S, S]`) and scales the pixel noise by `noise_std` itself, so the
//! config is the one place the scale lives and a step is deterministic given the caller's RNG.
//! x and x + ε are encoded in one batch of 2B.

use crate::bounds::{js_fgan, loo_upper, tc_upper_with_lower, tnce, Bound, JS_EVAL_SHIFT};
use crate::encoder::{ConvEncoder, EncoderConfig, Posterior};
use crate::error::Error;
use crate::nn::{Mlp, MlpConfig};
use candle_core::{DType, Result, Tensor, D};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

/// The dtype of everything after the encoder's output (see the module docs).
pub const OBJECTIVE_DTYPE: DType = DType::F64;

/// How the two constraints enter the loss.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Penalty {
    /// Lagrange multipliers by dual ascent, λ ← max(0, λ + η·(constraint − threshold)) after
    /// every step, starting at `init_*`.
    Dual {
        /// Step size η of λ_TC.
        eta_tc: f64,
        /// Step size η of λ_S.
        eta_smooth: f64,
        /// λ_TC at step 0.
        init_tc: f64,
        /// λ_S at step 0.
        init_smooth: f64,
    },
    /// Fixed penalty weights.
    Fixed {
        /// λ_TC.
        lambda_tc: f64,
        /// λ_S.
        lambda_smooth: f64,
    },
}

impl Default for Penalty {
    /// Dual ascent from λ = 1 with η = 0.01 (our proposal; the paper gives no values): λ of order
    /// one weighs a nat of violation like a nat of I_JS, and η = 0.01 moves λ by 1 over ~100 steps
    /// of a one-nat violation — slow next to the 1e5 training steps, fast next to Adam's drift.
    fn default() -> Self {
        Penalty::Dual {
            eta_tc: 0.01,
            eta_smooth: 0.01,
            init_tc: 1.0,
            init_smooth: 1.0,
        }
    }
}

/// The lower bound on I(X; Y) inside TC_ub = Σ_k MBU_k − LB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TcLower {
    /// I_JS of the structured critic (the paper's choice): the same bound that is maximised.
    /// While q(y) is untrained I_JS is far below 0 (−13 nats at initialisation with the default
    /// encoder, B = 64), so TC_ub is large whatever the latents do and dual ascent drives λ_TC up.
    #[default]
    Js,
    /// TNCE(Lp) = InfoNCE with the known conditional: no learned part, ≤ log B.
    Tnce,
}

/// The objective's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InfoMaxConfig {
    /// The encoder (default: disentanglement_lib's conv encoder, 10 latents).
    pub encoder: EncoderConfig,
    /// Width of q's hidden layers (256, the spec's proposal).
    pub q_hidden: usize,
    /// Number of q's hidden layers (2, the paper).
    pub q_layers: usize,
    /// TC threshold δ in nats (0.1; the spec's sweep is {0.01, 0.1, 1}).
    pub delta: f64,
    /// Smoothness threshold γ in nats (1; the spec's sweep is {0.1, 1, 10}).
    pub gamma: f64,
    /// Std of the pixel noise ε (0.5); 0 turns the smoothness term off (R = 0).
    pub noise_std: f64,
    /// Dual ascent (default) or fixed penalties.
    pub penalty: Penalty,
    /// The lower bound on I(X; Y) in TC_ub (I_JS, as the paper).
    #[serde(default)]
    pub tc_lower: TcLower,
    /// How the TC constraint is introduced (default: in full from step 0).
    #[serde(default)]
    pub tc_schedule: TcSchedule,
}

/// How the TC constraint enters the loss over training: off for `warmup` steps (I_JS and q(y)
/// train alone, λ_TC is not updated), then its weight w_t rises linearly from 1/`ramp` to 1 over
/// `ramp` steps. The loss uses w_t·λ_TC and dual ascent moves λ_TC by w_t·η_TC·(TC_ub − δ), so a
/// constraint that is far from met when it switches on does not drive λ_TC up at once. The
/// default (0, 0) is the constraint in full from step 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcSchedule {
    /// Steps without the TC term.
    pub warmup: usize,
    /// Steps over which its weight rises to 1 after the warm-up (0: at once).
    pub ramp: usize,
}

impl TcSchedule {
    /// The weight w_t ∈ [0, 1] of the TC term at step t (0-based).
    pub fn weight(&self, step: usize) -> f64 {
        if step < self.warmup {
            0.0
        } else if self.ramp == 0 {
            1.0
        } else {
            ((step - self.warmup + 1) as f64 / self.ramp as f64).min(1.0)
        }
    }
}

impl Default for InfoMaxConfig {
    fn default() -> Self {
        Self {
            encoder: EncoderConfig::default(),
            q_hidden: 256,
            q_layers: 2,
            delta: 0.1,
            gamma: 1.0,
            noise_std: 0.5,
            penalty: Penalty::default(),
            tc_lower: TcLower::Js,
            tc_schedule: TcSchedule::default(),
        }
    }
}

fn check(name: &'static str, value: f64, ok: bool, reason: &'static str) -> crate::Result<()> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            op: "InfoMaxConfig",
            name,
            value: value.to_string(),
            reason,
        })
    }
}

impl InfoMaxConfig {
    /// q's network: K → q_hidden × q_layers → 1.
    pub fn q_config(&self) -> MlpConfig {
        MlpConfig {
            input: self.encoder.latents,
            hidden: self.q_hidden,
            layers: self.q_layers,
            output: 1,
        }
    }

    /// Checks the encoder, q, the thresholds, the noise and the penalty.
    pub fn validate(&self) -> crate::Result<()> {
        self.encoder.validate()?;
        self.q_config().validate("InfoMaxConfig.q")?;
        let nonneg = "must be finite and ≥ 0";
        check("delta", self.delta, self.delta >= 0.0, nonneg)?;
        check("gamma", self.gamma, self.gamma >= 0.0, nonneg)?;
        check("noise_std", self.noise_std, self.noise_std >= 0.0, nonneg)?;
        match self.penalty {
            Penalty::Dual {
                eta_tc,
                eta_smooth,
                init_tc,
                init_smooth,
            } => {
                let pos = "a dual-ascent step size must be finite and > 0";
                check("eta_tc", eta_tc, eta_tc > 0.0, pos)?;
                check("eta_smooth", eta_smooth, eta_smooth > 0.0, pos)?;
                check("init_tc", init_tc, init_tc >= 0.0, nonneg)?;
                check("init_smooth", init_smooth, init_smooth >= 0.0, nonneg)
            }
            Penalty::Fixed {
                lambda_tc,
                lambda_smooth,
            } => {
                check("lambda_tc", lambda_tc, lambda_tc >= 0.0, nonneg)?;
                check("lambda_smooth", lambda_smooth, lambda_smooth >= 0.0, nonneg)
            }
        }
    }
}

/// The Lagrange multipliers (or fixed penalty weights) λ_TC and λ_S.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Multipliers {
    /// λ_TC.
    pub tc: f64,
    /// λ_S.
    pub smooth: f64,
}

impl Multipliers {
    /// The values at step 0: `init_*` for dual ascent, the fixed weights otherwise.
    pub fn initial(cfg: &InfoMaxConfig) -> Self {
        match cfg.penalty {
            Penalty::Dual {
                init_tc,
                init_smooth,
                ..
            } => Self {
                tc: init_tc,
                smooth: init_smooth,
            },
            Penalty::Fixed {
                lambda_tc,
                lambda_smooth,
            } => Self {
                tc: lambda_tc,
                smooth: lambda_smooth,
            },
        }
    }

    /// The multipliers step `step`'s loss uses: λ_TC weighted by the TC schedule's w_t.
    pub fn at_step(&self, cfg: &InfoMaxConfig, step: usize) -> Self {
        Self {
            tc: self.tc * cfg.tc_schedule.weight(step),
            smooth: self.smooth,
        }
    }

    /// One dual-ascent step after step `step`: λ_TC ← max(0, λ_TC + w_t·η_TC·(TC_ub − δ)) (w_t
    /// of [`TcSchedule`]; λ_TC is left alone while w_t = 0), λ_S ← max(0, λ_S + η_S·(R − γ)).
    /// No-op for fixed penalties, and for a multiplier whose constraint value is not finite (a
    /// diverged step must not reset λ).
    pub fn update_at(&mut self, terms: &Terms, cfg: &InfoMaxConfig, step: usize) {
        self.dual_step(terms, cfg, cfg.tc_schedule.weight(step));
    }

    /// One dual-ascent step from a step's terms: λ_TC ← max(0, λ_TC + η_TC·(TC_ub − δ)),
    /// λ_S ← max(0, λ_S + η_S·(R − γ)). No-op for fixed penalties, and for a multiplier whose
    /// constraint value is not finite (a diverged step must not reset λ).
    pub fn update(&mut self, terms: &Terms, cfg: &InfoMaxConfig) {
        self.dual_step(terms, cfg, 1.0);
    }

    fn dual_step(&mut self, terms: &Terms, cfg: &InfoMaxConfig, w_tc: f64) {
        if let Penalty::Dual {
            eta_tc, eta_smooth, ..
        } = cfg.penalty
        {
            let step = |lambda: f64, eta: f64, violation: f64| {
                if violation.is_finite() {
                    (lambda + eta * violation).max(0.0)
                } else {
                    lambda
                }
            };
            self.tc = step(self.tc, w_tc * eta_tc, terms.tc_ub - cfg.delta);
            self.smooth = step(self.smooth, eta_smooth, terms.kl - cfg.gamma);
        }
    }
}

/// One step's objective: the loss to minimise and every term as a number for the log.
#[derive(Clone, Debug)]
pub struct Terms {
    /// Scalar f64 loss −I_JS + λ_TC·(TC_ub − δ) + λ_S·(R − γ) (see the module docs).
    pub loss: Tensor,
    /// I_JS = NWJ(S + 1) of the structured critic (a lower bound on I(X; Y)).
    pub i_js: f64,
    /// JSD_fgan(S), the objective whose gradient trains I_JS.
    pub js_fgan: f64,
    /// TNCE(Lp), the critic-free lower bound on I(X; Y) (≤ log B).
    pub tnce: f64,
    /// MBU_k = LOO-upper(Lp⁽ᵏ⁾) per latent, k = 0 … K − 1.
    pub mbu: Vec<f64>,
    /// TC_ub = Σ_k MBU_k − LB, LB = I_JS (or TNCE, [`TcLower`]).
    pub tc_ub: f64,
    /// R = mean_b KL(p(y|x_b) ‖ p(y|x_b + ε)).
    pub kl: f64,
    /// The multipliers the loss used.
    pub multipliers: Multipliers,
}

/// The encoder and q(y), with the objective's configuration.
#[derive(Clone, Debug)]
pub struct InfoMax {
    /// The encoder, under `encoder.*`.
    pub encoder: ConvEncoder,
    /// log q(y), under `q.*` (`q.0.weight`, …).
    pub q: Mlp,
    config: InfoMaxConfig,
}

fn scalar(t: &Tensor) -> Result<f64> {
    t.to_dtype(DType::F64)?.to_scalar::<f64>()
}

impl InfoMax {
    /// Validates `config` and creates the encoder under `vb.pp("encoder")` and q under
    /// `vb.pp("q")` (zeros until [`init_reference`](crate::nn::init_reference)).
    pub fn new(config: &InfoMaxConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            encoder: ConvEncoder::new(&config.encoder, vb.pp("encoder"))?,
            q: Mlp::new(&config.q_config(), vb.pp("q"))?,
            config: config.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &InfoMaxConfig {
        &self.config
    }

    /// The objective on one batch: `x [B, C, S, S]` (B ≥ 2), `eps_latent [B, K]` and `noise`
    /// (the shape of x) standard normal — the pixel noise is scaled by `noise_std` here — and the
    /// multipliers to weigh the constraints with (constants of the loss).
    ///
    /// A non-finite encoder output (a diverged run) gives NaN terms and a NaN loss, which the
    /// training loop records as the divergence step; non-finite noise is an
    /// [`Error::NonFinite`] on its own name.
    pub fn terms(
        &self,
        x: &Tensor,
        eps_latent: &Tensor,
        noise: &Tensor,
        m: &Multipliers,
    ) -> Result<Terms> {
        self.check_step("InfoMax::terms", x, eps_latent, noise, m)?;
        let both = self.encode_pair(x, noise)?;
        self.terms_of_encoded(&both, eps_latent, m)
    }

    /// Checks one step's inputs (see [`Self::terms`]) and returns B.
    pub(crate) fn check_step(
        &self,
        op: &'static str,
        x: &Tensor,
        eps_latent: &Tensor,
        noise: &Tensor,
        m: &Multipliers,
    ) -> Result<usize> {
        let b = x.dims().first().copied().unwrap_or(0);
        if b < 2 || noise.dims() != x.dims() {
            return Err(Error::Shape {
                op,
                detail: format!(
                    "x must be [B ≥ 2, C, S, S] and noise the same shape, got x {:?}, noise {:?}",
                    x.dims(),
                    noise.dims()
                ),
            }
            .into_candle());
        }
        for (name, v) in [("multipliers.tc", m.tc), ("multipliers.smooth", m.smooth)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::InvalidParameter {
                    op,
                    name,
                    value: v.to_string(),
                    reason: "a multiplier must be finite and ≥ 0",
                }
                .into_candle());
            }
        }
        crate::bounds::validate::float_and_finite(op, "noise", noise)?;
        crate::bounds::validate::float_and_finite(op, "eps_latent", eps_latent)?;
        Ok(b)
    }

    /// The encoder on the 2B images [x; x + noise_std·noise] (one batch): the posterior `[2B, K]`
    /// in the encoder's dtype, clean rows first. The fused CPU step computes the same thing
    /// without Candle's graph (`train/fused/encoder.rs`).
    pub fn encode_pair(&self, x: &Tensor, noise: &Tensor) -> Result<Posterior> {
        let x = x.to_dtype(self.encoder.dtype())?;
        let noisy = x.add(
            &noise
                .to_dtype(x.dtype())?
                .affine(self.config.noise_std, 0.0)?,
        )?;
        self.encoder.forward(&Tensor::cat(&[&x, &noisy], 0)?)
    }

    /// The objective from the encoder's output on [x; x + ε] (`both`: μ and logvar `[2B, K]`,
    /// clean rows first, as [`Self::encode_pair`] gives them), `eps_latent [B, K]` and the
    /// multipliers.
    pub fn terms_of_encoded(
        &self,
        both: &Posterior,
        eps_latent: &Tensor,
        m: &Multipliers,
    ) -> Result<Terms> {
        let rows = both.mean.dims().first().copied().unwrap_or(0);
        let b = rows / 2;
        if rows % 2 != 0 || b < 2 || eps_latent.dims().first() != Some(&b) {
            return Err(Error::Shape {
                op: "InfoMax::terms_of_encoded",
                detail: format!(
                    "the posterior must have 2B rows (B ≥ 2: x, then x + ε) and eps_latent B, \
                     got {:?} and {:?}",
                    both.mean.dims(),
                    eps_latent.dims()
                ),
            }
            .into_candle());
        }
        let device = both.mean.device();
        let both = both.to_dtype(OBJECTIVE_DTYPE)?;
        let joint = Tensor::cat(&[&both.mean, &both.logvar], 1)?;
        let finite = joint
            .sum_all()?
            .to_dtype(DType::F64)?
            .to_scalar::<f64>()?
            .is_finite();
        if !finite {
            // The encoder blew up: a diverged step, not bad input (the loop records it).
            let nan = f64::NAN;
            return Ok(Terms {
                loss: Tensor::new(nan, device)?,
                i_js: nan,
                js_fgan: nan,
                tnce: nan,
                mbu: vec![nan; self.config.encoder.latents],
                tc_ub: nan,
                kl: nan,
                multipliers: *m,
            });
        }
        let (p, p_noisy) = (both.narrow(0, b)?, both.narrow(b, b)?);

        let y = p.sample(eps_latent)?;
        let per_latent = p.log_prob_pairs_per_latent(&y)?; // [K, B, B]
        let lp = per_latent.sum(0)?; // [B, B]
        let log_q = self
            .q
            .forward(&y.to_dtype(self.encoder.dtype())?)?
            .squeeze(D::Minus1)?
            .to_dtype(OBJECTIVE_DTYPE)?; // [B]
        let scores = lp.broadcast_sub(&log_q.unsqueeze(D::Minus1)?)?;
        let i_js = Bound::Js {
            eval_shift: JS_EVAL_SHIFT,
        }
        .evaluate(&scores, None)?;
        let mbu = loo_upper(&per_latent)?; // [K]
        let lower = match self.config.tc_lower {
            TcLower::Js => i_js.clone(),
            TcLower::Tnce => tnce(&lp)?,
        };
        let tc_ub = tc_upper_with_lower(&per_latent, &lower)?;
        let kl = p.kl(&p_noisy)?.mean(0)?;
        let loss = i_js
            .neg()?
            .add(&tc_ub.affine(m.tc, -m.tc * self.config.delta)?)?
            .add(&kl.affine(m.smooth, -m.smooth * self.config.gamma)?)?;
        Ok(Terms {
            i_js: scalar(&i_js)?,
            js_fgan: scalar(&js_fgan(&scores.detach())?)?,
            tnce: scalar(&tnce(&lp.detach())?)?,
            mbu: mbu.to_vec1::<f64>()?,
            tc_ub: scalar(&tc_ub)?,
            kl: scalar(&kl)?,
            multipliers: *m,
            loss,
        })
    }
}

#[cfg(test)]
mod tests;
