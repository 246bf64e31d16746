//! One training loop for every critic and bound: [`Trainer`] (step by step, checkpoint, resume)
//! and [`fit`] (a whole run with a progress bar).
//!
//! Each step draws a fresh batch from the [`Stream`], scores it with the critic, evaluates the
//! [`Bound`] through its [`Estimator`] (which carries MINE's EMA, and gives I_JS its NWJ value
//! with the JS gradient), **logs the value computed before the update**, and takes one Adam step
//! on loss = −value over the critic and baseline jointly. A non-finite value ends the run as
//! "diverged at step N" without raising an error, so a sweep goes on.
//!
//! On the CPU in f32 the separable and concat MLP critics (with any baseline) train through a
//! fused step — forward, backward and Adam over preallocated buffers, the bound itself still
//! evaluated and differentiated by Candle on the `[B, B]` scores — which agrees with the Candle
//! autograd step to f32 rounding; `MI_CORE_FUSED=0` or [`Trainer::set_fused`]`(false)` forces
//! autograd, the general path and the reference.
//!
//! Runs are deterministic on the CPU: the weights come from the seed ([`crate::nn`]) and step t's
//! batch from its own RNG stream (seed, t), so a run resumed from a checkpoint reproduces the
//! uninterrupted run's later estimates exactly.
//!
//! ```
//! use candle_core::Device;
//! use mi_core::bounds::Bound;
//! use mi_core::critic::{BaselineKind, CriticConfig};
//! use mi_core::data::CorrelatedGaussian;
//! use mi_core::train::{CriticKind, FitConfig, FixedStream, ModelConfig, Trainer};
//!
//! let stream = FixedStream(CorrelatedGaussian::from_mi(4, 1.0)?);
//! let mut net = CriticConfig::paper(4);
//! net.hidden = 32;
//! let model = ModelConfig { critic: CriticKind::Separable, baseline: BaselineKind::Constant,
//!                           net, ..ModelConfig::paper(4) };
//! let fit = FitConfig { steps: 30, batch_size: 32, ..FitConfig::default() };
//! let mut trainer = Trainer::new(&model, Bound::InfoNce, &fit, &Device::Cpu)?;
//! trainer.run(&stream, fit.steps, &mut |_| {})?;
//! assert_eq!(trainer.history().estimates.len(), 30);
//! assert!(trainer.history().estimates.iter().all(|v| *v <= 32f64.ln()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod adam;
mod checkpoint;
mod fused;
mod stream;

pub use adam::{Adam, AdamConfig};
pub use checkpoint::CHECKPOINT_FORMAT;
pub use fused::FUSED_ENV;
pub use stream::{CubicScale, DatasetKind, FixedStream, StaircaseStream, Stream};

use crate::bounds::{Bound, Estimator};
use crate::critic::{
    Baseline, BaselineKind, ConcatCritic, ConditionalCritic, Critic, CriticConfig,
    KnownConditional, SeparableCritic,
};
use crate::data::Batch;
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Which critic a model trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticKind {
    /// [`SeparableCritic`].
    Separable,
    /// [`ConcatCritic`] (the paper's "joint" critic).
    Concat,
    /// The stream's known log p(y|x) ([`ConditionalCritic`]); nothing to train.
    Conditional,
}

impl CriticKind {
    /// `separable`, `concat` or `conditional`.
    pub fn name(&self) -> &'static str {
        match self {
            CriticKind::Separable => "separable",
            CriticKind::Concat => "concat",
            CriticKind::Conditional => "conditional",
        }
    }
}

/// Floating-point precision of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// f32 (the default for training).
    F32,
    /// f64.
    F64,
}

impl Precision {
    fn f64() -> Self {
        Precision::F64
    }

    /// The candle dtype.
    pub fn dtype(&self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }
}

/// A critic and a baseline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The critic.
    pub critic: CriticKind,
    /// The baseline a(y).
    pub baseline: BaselineKind,
    /// The critic networks' shapes.
    pub net: CriticConfig,
    /// Width of the learned baseline's hidden layers (512 in the reference).
    pub baseline_hidden: usize,
    /// Number of hidden layers of the learned baseline (2).
    pub baseline_layers: usize,
    /// Precision of parameters and batches.
    pub precision: Precision,
}

impl ModelConfig {
    /// The paper's separable critic with no baseline, f32, for `dim`-dimensional x and y.
    pub fn paper(dim: usize) -> Self {
        Self {
            critic: CriticKind::Separable,
            baseline: BaselineKind::Constant,
            net: CriticConfig::paper(dim),
            baseline_hidden: 512,
            baseline_layers: 2,
            precision: Precision::F32,
        }
    }

    /// The reference's baseline for a bound: a learned a(y) for TUBA and I_α, none otherwise.
    pub fn baseline_for(bound: &Bound) -> BaselineKind {
        match bound {
            Bound::Tuba | Bound::Interpolated { .. } => BaselineKind::Learned,
            Bound::Rate => BaselineKind::Gaussian,
            _ => BaselineKind::Constant,
        }
    }
}

enum ModelCritic {
    Separable(SeparableCritic),
    Concat(ConcatCritic),
    Conditional,
}

/// A critic and its baseline, with their parameters in one [`VarMap`] (`critic.*`, `baseline.*`).
pub struct Model {
    config: ModelConfig,
    varmap: VarMap,
    critic: ModelCritic,
    baseline: Baseline,
    device: Device,
}

impl Model {
    /// Builds the networks with the reference initialisation from `seed`.
    pub fn new(config: &ModelConfig, seed: u64, device: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, config.precision.dtype(), device);
        let critic = match config.critic {
            CriticKind::Separable => {
                ModelCritic::Separable(SeparableCritic::new(&config.net, vb.pp("critic"))?)
            }
            CriticKind::Concat => {
                ModelCritic::Concat(ConcatCritic::new(&config.net, vb.pp("critic"))?)
            }
            CriticKind::Conditional => ModelCritic::Conditional,
        };
        let baseline = Baseline::new(
            config.baseline,
            config.net.dim_y,
            config.baseline_hidden,
            config.baseline_layers,
            vb.pp("baseline"),
        )?;
        crate::nn::init_reference(&varmap, seed)?;
        Ok(Self {
            config: *config,
            varmap,
            critic,
            baseline,
            device: device.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The parameters.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.varmap.all_vars().iter().map(|v| v.elem_count()).sum()
    }

    /// `scores[i, j] = f(x_j, y_i)` for the batch; the conditional critic reads `known`.
    pub fn scores(&self, batch: &Batch, known: Option<&dyn KnownConditional>) -> Result<Tensor> {
        Ok(match &self.critic {
            ModelCritic::Separable(c) => c.scores(&batch.x, &batch.y)?,
            ModelCritic::Concat(c) => c.scores(&batch.x, &batch.y)?,
            ModelCritic::Conditional => {
                let known = known.ok_or_else(|| Error::InvalidParameter {
                    op: "Model::scores",
                    name: "critic",
                    value: "conditional".into(),
                    reason: "the conditional critic needs data with a known p(y|x)",
                })?;
                ConditionalCritic(known).scores(&batch.x, &batch.y)?
            }
        })
    }

    /// log a(y_i) `[B]`, or `None` for the constant baseline.
    pub fn log_baseline(&self, y: &Tensor) -> Result<Option<Tensor>> {
        Ok(self.baseline.log_baseline(y)?)
    }
}

/// How a run trains.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    /// Number of steps (20 000 in the paper).
    pub steps: usize,
    /// Batch size B (64).
    pub batch_size: usize,
    /// The optimiser.
    pub adam: AdamConfig,
    /// Seeds the weights and every step's batch.
    pub seed: u64,
    /// Precision in which the bound is evaluated (and differentiated) from the critic's scores.
    /// f64 by default: an f32 critic's scores of a few hundred (cubic data, an untrained
    /// baseline) overflow e^s in f32 — a spurious "divergence" at step 0 — while f64 holds up
    /// to e^709 and Adam is indifferent to the gradient's scale. The cost is a `[B, B]` cast.
    #[serde(default = "Precision::f64")]
    pub bound_precision: Precision,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            steps: 20_000,
            batch_size: 64,
            adam: AdamConfig::default(),
            seed: 0,
            bound_precision: Precision::F64,
        }
    }
}

/// What one step logged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLog {
    /// The step index t.
    pub step: usize,
    /// The true MI at t (NaN if unknown).
    pub true_mi: f64,
    /// The bound's value on step t's batch, before step t's update.
    pub estimate: f64,
}

/// A run's log so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The logged value of every step (finite; a run that diverged stops before its
    /// non-finite step).
    pub estimates: Vec<f64>,
    /// The true MI of every step.
    pub true_mi: Vec<f64>,
    /// The step whose value (or critic output) was not finite, if any: the run stopped there,
    /// and `estimates` holds the steps before it.
    pub diverged_at: Option<usize>,
}

/// A run in progress: model, bound (with its state), optimiser, step counter and history.
pub struct Trainer {
    model: Model,
    estimator: Estimator,
    adam: Option<Adam>,
    config: FitConfig,
    step: usize,
    history: History,
    /// The fused CPU step, where it applies ([`fused`]); `None`: Candle autograd.
    fused: Option<fused::FusedStep>,
}

impl Trainer {
    /// A fresh run. Errors on B < 2, on a bound that reads log p(y|x) (TNCE, leave-one-out,
    /// rate) with a learned critic, and on bad optimiser settings.
    pub fn new(
        model: &ModelConfig,
        bound: Bound,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self> {
        if config.batch_size < 2 {
            return Err(Error::InvalidParameter {
                op: "Trainer",
                name: "batch_size",
                value: config.batch_size.to_string(),
                reason: "the bounds need B ≥ 2 (one joint pair and at least one marginal pair)",
            });
        }
        if bound.needs_known_conditional() && model.critic != CriticKind::Conditional {
            return Err(Error::InvalidParameter {
                op: "Trainer",
                name: "critic",
                value: model.critic.name().into(),
                reason: "this bound reads its scores as log p(y|x): use the conditional critic",
            });
        }
        let model = Model::new(model, config.seed, device)?;
        let vars: Vec<(String, candle_core::Var)> = model
            .varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("Trainer: the VarMap lock is poisoned"))?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let adam = if vars.is_empty() {
            config.adam.validate()?;
            None
        } else {
            Some(Adam::new(config.adam, vars)?)
        };
        let fused = if fused::enabled_by_env() {
            fused::FusedStep::new(&model, adam.as_ref())?
        } else {
            None
        };
        Ok(Self {
            model,
            estimator: Estimator::new(bound)?,
            adam,
            config: *config,
            step: 0,
            history: History::default(),
            fused,
        })
    }

    /// Chooses between the fused CPU step (where it applies: a CPU, f32 model with a separable
    /// or concat critic) and Candle autograd (the general path and the reference); returns
    /// whether the fused step is now in use. Both give the same run up to f32 rounding.
    pub fn set_fused(&mut self, on: bool) -> Result<bool> {
        self.fused = if on {
            fused::FusedStep::new(&self.model, self.adam.as_ref())?
        } else {
            None
        };
        Ok(self.fused.is_some())
    }

    /// Whether steps run on the fused CPU path ([`Trainer::set_fused`]).
    pub fn is_fused(&self) -> bool {
        self.fused.is_some()
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The bound.
    pub fn bound(&self) -> Bound {
        self.estimator.bound()
    }

    /// The run's settings.
    pub fn config(&self) -> &FitConfig {
        &self.config
    }

    /// The next step to run (= steps done).
    pub fn step(&self) -> usize {
        self.step
    }

    /// The log so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Whether the run stopped on a non-finite value.
    pub fn diverged(&self) -> bool {
        self.history.diverged_at.is_some()
    }

    /// Step t's RNG: the seed on stream t (independent of every other step).
    fn step_rng(&self, step: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(step as u64 + 1);
        rng
    }

    /// Runs one step and returns its log (after a divergence, nothing more is run).
    pub fn step_once(&mut self, stream: &dyn Stream) -> Result<StepLog> {
        let t = self.step;
        let true_mi = stream.true_mi(t);
        if self.diverged() {
            return Ok(StepLog {
                step: t,
                true_mi,
                estimate: f64::NAN,
            });
        }
        let mut rng = self.step_rng(t);
        let batch = stream.batch(
            t,
            self.config.batch_size,
            &mut rng,
            &self.model.device,
            self.model.config.precision.dtype(),
        )?;
        for (input, v) in [("x", &batch.x), ("y", &batch.y)] {
            // NaN would vanish silently inside the networks (ReLU maps NaN to 0).
            if !all_finite(v)? {
                return Err(Error::NonFinite {
                    op: "Trainer::step",
                    input,
                    shape: v.dims().to_vec(),
                });
            }
        }
        let (scores, log_base) = match self.fused.as_mut() {
            Some(fused) => fused.forward(&self.model, &batch)?,
            None => (
                self.model.scores(&batch, stream.known(t))?,
                self.model.log_baseline(&batch.y)?,
            ),
        };
        // A critic that blew up (non-finite scores) ends the run like a non-finite value; the
        // bounds themselves refuse such input with an error.
        let blown = !all_finite(&scores)? || !log_base.as_ref().map_or(Ok(true), all_finite)?;
        let eval = self.config.bound_precision.dtype();
        let (scores, log_base) = (
            scores.to_dtype(eval)?,
            log_base.map(|b| b.to_dtype(eval)).transpose()?,
        );
        let value = if blown {
            None
        } else {
            Some(self.estimator.evaluate(&scores, log_base.as_ref())?)
        };
        let estimate = match &value {
            Some(v) => v.to_dtype(DType::F64)?.to_scalar::<f64>()?,
            None => f64::NAN,
        };
        if !estimate.is_finite() {
            // Not logged (the history holds finite values only); the run stops here.
            self.history.diverged_at = Some(t);
            return Ok(StepLog {
                step: t,
                true_mi,
                estimate,
            });
        }
        self.history.estimates.push(estimate);
        self.history.true_mi.push(true_mi);
        self.step += 1;
        if let (Some(adam), Some(value)) = (self.adam.as_mut(), value) {
            let grads = value.neg()?.backward()?;
            match self.fused.as_mut() {
                Some(fused) => fused.backward_and_update(&grads, adam)?,
                None => adam.step(&grads)?,
            }
        }
        Ok(StepLog {
            step: t,
            true_mi,
            estimate,
        })
    }

    /// Runs until `until` steps are done (or the run diverges), calling `on_step` after each.
    pub fn run(
        &mut self,
        stream: &dyn Stream,
        until: usize,
        on_step: &mut dyn FnMut(&StepLog),
    ) -> Result<()> {
        check_stream(stream, &self.model.config)?;
        while self.step < until && !self.diverged() {
            let log = self.step_once(stream)?;
            on_step(&log);
        }
        Ok(())
    }
}

/// Sets how many threads candle's CPU kernels use (candle reads `RAYON_NUM_THREADS` on every
/// parallel kernel). For sweeps of many small runs, 1 thread per run and runs in parallel beats
/// splitting each matmul: on a loaded 2-core machine candle's kernels are slower on 2 threads
/// than on 1. Call it before training starts (it changes the process environment).
pub fn set_kernel_threads(n: usize) {
    std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
}

fn all_finite(t: &Tensor) -> Result<bool> {
    Ok(t.sum_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?
        .is_finite())
}

fn check_stream(stream: &dyn Stream, model: &ModelConfig) -> Result<()> {
    if model.critic != CriticKind::Conditional
        && (stream.dim_x(), stream.dim_y()) != (model.net.dim_x, model.net.dim_y)
    {
        return Err(Error::Shape {
            op: "Trainer::run",
            detail: format!(
                "the data has dim_x = {}, dim_y = {}; the critic expects {} and {}",
                stream.dim_x(),
                stream.dim_y(),
                model.net.dim_x,
                model.net.dim_y
            ),
        });
    }
    Ok(())
}

/// Trains a fresh model for `config.steps` steps, reporting progress ([`crate::progress`]), and
/// returns the trainer (its history, model and state).
pub fn fit(
    model: &ModelConfig,
    bound: Bound,
    config: &FitConfig,
    stream: &dyn Stream,
    device: &Device,
) -> Result<Trainer> {
    let mut trainer = Trainer::new(model, bound, config, device)?;
    let progress = crate::progress::Progress::new(
        format!("{} {}", model.critic.name(), bound.name()),
        config.steps as u64,
        "steps",
    );
    trainer.run(stream, config.steps, &mut |log| {
        if log.step % 50 == 0 {
            progress.set_message(format!(
                "I = {:.1}, estimate {:.3}",
                log.true_mi, log.estimate
            ));
        }
        progress.inc(1);
    })?;
    progress.finish();
    Ok(trainer)
}
