//! The regularised InfoMax objective as something the one training loop trains: a
//! [`ConvEncoder`](crate::encoder::ConvEncoder) and the structured critic's q(y)
//! ([`InfoMax`]) on dSprites batches, with the Lagrange multipliers as non-parameter state
//! (dual ascent after every update) and every term logged per step. [`InfoMaxTrainer`] is
//! [`TrainLoop`] over it: same step order, per-step random streams, Adam, divergence,
//! checkpoints (weights, optimiser, multipliers, config and history) and exact resume.
//!
//! Step t draws, from its own random stream and in this order: the batch's image indices
//! (uniform over the 737,280), the reparameterisation noise ε ~ N(0, I) `[B, K]`, and the pixel
//! noise ~ N(0, 1) `[B, 1, 64, 64]` (scaled by `noise_std` inside [`InfoMax::terms`]).

use super::fused::{self, encoder::FusedEncoder};
use super::objective::{Forward, Objective, TrainLoop};
use super::{Adam, AdamConfig};
use crate::data::dsprites::{Dsprites, IMAGE_SIDE};
use crate::error::{Error, Result};
use crate::infomax::{InfoMax, InfoMaxConfig, Multipliers, Terms};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// How an InfoMax run trains.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct InfoMaxFit {
    /// Number of steps.
    pub steps: usize,
    /// Batch size B (the leave-one-out bounds need a large B: 256 or more in the paper's setting).
    pub batch_size: usize,
    /// The optimiser (Adam, lr 1e-4 in the spec's setting).
    pub adam: AdamConfig,
    /// Seeds the weights and every step's batch and noise.
    pub seed: u64,
}

impl Default for InfoMaxFit {
    fn default() -> Self {
        Self {
            steps: 100_000,
            batch_size: 256,
            adam: AdamConfig {
                lr: 1e-4,
                ..AdamConfig::default()
            },
            seed: 0,
        }
    }
}

/// What one InfoMax step logged (every term before the step's update).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InfoMaxLog {
    /// The step index t.
    pub step: usize,
    /// The loss minimised (Lagrangian).
    pub loss: f64,
    /// I_JS(X; Y) (its NWJ value) with the structured critic.
    pub i_js: f64,
    /// The leave-one-out upper bound on I(X; Y_k) for every latent k.
    pub mbu: Vec<f64>,
    /// TC_ub = Σ_k MBU_k − LB (LB = I_JS by default, `InfoMaxConfig::tc_lower`).
    pub tc_ub: f64,
    /// The smoothness term E KL(p(y|x) ‖ p(y|x+ε)).
    pub kl: f64,
    /// λ_TC used in this step.
    pub lambda_tc: f64,
    /// λ_smooth used in this step.
    pub lambda_smooth: f64,
}

/// An InfoMax run's log so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InfoMaxHistory {
    /// Every finite step's log.
    pub logs: Vec<InfoMaxLog>,
    /// The step whose terms were not finite, if any (the run stopped there).
    pub diverged_at: Option<usize>,
}

/// The encoder and q(y) under the InfoMax objective, with its multipliers and history: what
/// [`InfoMaxTrainer`] trains.
pub struct InfoMaxRun {
    model: InfoMax,
    varmap: VarMap,
    config: InfoMaxConfig,
    fit: InfoMaxFit,
    multipliers: Multipliers,
    history: InfoMaxHistory,
    device: Device,
    /// The terms of the step being run, for the dual-ascent update after it.
    pending: Option<Terms>,
    /// The fused CPU step of the encoder ([`fused::encoder`]); `None`: Candle autograd.
    pub(super) fused: Option<FusedEncoder>,
}

/// The InfoMax objective's checkpointed state.
#[derive(Serialize, Deserialize)]
pub struct InfoMaxState {
    config: InfoMaxConfig,
    fit: InfoMaxFit,
    multipliers: Multipliers,
    history: InfoMaxHistory,
}

/// An InfoMax run in progress ([`TrainLoop`] over [`InfoMaxRun`]).
pub type InfoMaxTrainer = TrainLoop<InfoMaxRun>;

impl InfoMaxRun {
    fn new(config: &InfoMaxConfig, fit: &InfoMaxFit, device: &Device) -> Result<Self> {
        config.validate()?;
        fit.adam.validate()?;
        if fit.batch_size < 2 {
            return Err(Error::InvalidParameter {
                op: "InfoMaxTrainer",
                name: "batch_size",
                value: fit.batch_size.to_string(),
                reason: "the bounds need B ≥ 2 (one joint pair and at least one marginal pair)",
            });
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let model = InfoMax::new(config, vb)?;
        crate::nn::init_reference(&varmap, fit.seed)?;
        let mut run = Self {
            model,
            varmap,
            config: config.clone(),
            fit: *fit,
            multipliers: Multipliers::initial(config),
            history: InfoMaxHistory::default(),
            device: device.clone(),
            pending: None,
            fused: None,
        };
        run.set_fused(fused::enabled_by_env())?;
        Ok(run)
    }

    /// Turns the fused CPU encoder step on (where it applies: a CPU run) or off; returns whether
    /// it is now in use.
    fn set_fused(&mut self, on: bool) -> Result<bool> {
        self.fused = if on && self.device.is_cpu() {
            Some(FusedEncoder::new(
                &self.varmap,
                "encoder",
                &self.config.encoder,
                self.config.noise_std,
            )?)
        } else {
            None
        };
        Ok(self.fused.is_some())
    }
}

fn normal_tensor(rng: &mut ChaCha8Rng, shape: &[usize], device: &Device) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut *rng)).collect();
    Ok(Tensor::from_vec(v, shape, device)?)
}

impl Objective for InfoMaxRun {
    const KIND: &'static str = "infomax";
    type Data<'d> = Dsprites;
    type Log = InfoMaxLog;
    type State = InfoMaxState;

    fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn forward(
        &mut self,
        data: &Dsprites,
        t: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Forward<InfoMaxLog>> {
        let b = self.fit.batch_size;
        let (x, _) = data.batch(b, rng, &self.device)?;
        let k = self.config.encoder.latents;
        let eps = normal_tensor(rng, &[b, k], &self.device)?;
        let noise = normal_tensor(rng, &[b, 1, IMAGE_SIDE, IMAGE_SIDE], &self.device)?;
        let m = self.multipliers.at_step(&self.config, t);
        let terms = match self.fused.as_mut() {
            Some(fused) => {
                self.model
                    .check_step("InfoMax::terms", &x, &eps, &noise, &m)?;
                let both = fused.forward(&x, &noise)?;
                self.model.terms_of_encoded(&both, &eps, &m)?
            }
            None => self.model.terms(&x, &eps, &noise, &m)?,
        };
        let loss = terms.loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let log = InfoMaxLog {
            step: t,
            loss,
            i_js: terms.i_js,
            mbu: terms.mbu.clone(),
            tc_ub: terms.tc_ub,
            kl: terms.kl,
            lambda_tc: m.tc,
            lambda_smooth: m.smooth,
        };
        let finite = [loss, terms.i_js, terms.tc_ub, terms.kl]
            .iter()
            .chain(&terms.mbu)
            .all(|v| v.is_finite());
        let loss = finite.then(|| terms.loss.clone());
        self.pending = finite.then_some(terms);
        Ok(Forward { log, loss, finite })
    }

    fn update(&mut self, loss: &Tensor, adam: &mut Adam) -> Result<()> {
        let grads = loss.backward()?;
        match self.fused.as_mut() {
            Some(fused) => fused.backward_and_update(&grads, adam),
            None => Ok(adam.step(&grads)?),
        }
    }

    fn record(&mut self, _step: usize, log: &InfoMaxLog) {
        self.history.logs.push(log.clone());
    }

    fn record_divergence(&mut self, step: usize) {
        self.history.diverged_at = Some(step);
    }

    fn diverged_at(&self) -> Option<usize> {
        self.history.diverged_at
    }

    fn after_update(&mut self, log: &InfoMaxLog) -> Result<()> {
        if let Some(terms) = self.pending.take() {
            self.multipliers.update_at(&terms, &self.config, log.step);
        }
        Ok(())
    }

    fn state(&self) -> InfoMaxState {
        InfoMaxState {
            config: self.config.clone(),
            fit: self.fit,
            multipliers: self.multipliers,
            history: self.history.clone(),
        }
    }

    fn from_state(state: InfoMaxState, steps: usize, device: &Device) -> Result<Self> {
        if state.history.logs.len() != steps {
            return Err(Error::InvalidParameter {
                op: "InfoMaxTrainer::load",
                name: "history",
                value: format!("{} logged steps", state.history.logs.len()),
                reason: "a checkpoint's history must hold one log per step done",
            });
        }
        let mut run = InfoMaxRun::new(&state.config, &state.fit, device)?;
        run.multipliers = state.multipliers;
        run.history = state.history;
        Ok(run)
    }
}

impl TrainLoop<InfoMaxRun> {
    /// A fresh InfoMax run (weights from `fit.seed`).
    pub fn new(config: &InfoMaxConfig, fit: &InfoMaxFit, device: &Device) -> Result<Self> {
        let run = InfoMaxRun::new(config, fit, device)?;
        TrainLoop::with_objective(run, fit.adam, fit.seed)
    }

    /// Chooses between the fused CPU encoder step (the default on the CPU, unless
    /// `MI_CORE_FUSED=0`) and Candle autograd (the general path and the reference); returns
    /// whether the fused step is now in use. Both give the same run up to f32 rounding.
    pub fn set_fused(&mut self, on: bool) -> Result<bool> {
        self.objective.set_fused(on)
    }

    /// Whether steps run on the fused CPU encoder step ([`Self::set_fused`]).
    pub fn is_fused(&self) -> bool {
        self.objective.fused.is_some()
    }

    /// The device the run trains on.
    pub fn device(&self) -> &Device {
        &self.objective.device
    }

    /// The encoder and q(y).
    pub fn model(&self) -> &InfoMax {
        &self.objective.model
    }

    /// The objective's settings.
    pub fn config(&self) -> &InfoMaxConfig {
        &self.objective.config
    }

    /// The run's settings.
    pub fn fit(&self) -> &InfoMaxFit {
        &self.objective.fit
    }

    /// The multipliers the next step will use.
    pub fn multipliers(&self) -> Multipliers {
        self.objective.multipliers
    }

    /// The log so far.
    pub fn history(&self) -> &InfoMaxHistory {
        &self.objective.history
    }
}
