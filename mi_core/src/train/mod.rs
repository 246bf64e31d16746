//! One training loop for everything that trains: [`TrainLoop`] over an [`Objective`] (step
//! order, per-step random streams, Adam, divergence, checkpoints, resume). [`Trainer`] is that
//! loop over a critic and its bound ([`CriticRun`]); [`fit`] runs a whole critic run with a
//! progress bar. The dSprites encoder trains through the same loop under the InfoMax objective.
//!
//! A critic step draws a fresh batch from the [`Stream`], scores it with the critic, evaluates the
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
mod critic_run;
mod fused;
mod infomax_run;
mod objective;
mod stream;

pub use adam::{Adam, AdamConfig};
pub(crate) use checkpoint::set_params;
pub use checkpoint::CHECKPOINT_FORMAT;
pub use critic_run::{CriticRun, CriticState, Trainer};
pub use fused::FUSED_ENV;
pub use infomax_run::{
    InfoMaxFit, InfoMaxHistory, InfoMaxLog, InfoMaxRun, InfoMaxState, InfoMaxTrainer,
};
pub(crate) use objective::named_vars;
pub use objective::{Forward, Objective, TrainLoop};
pub use stream::{CubicScale, DatasetKind, FixedStream, StaircaseStream, Stream};

use crate::bounds::Bound;
use crate::critic::{
    Baseline, BaselineKind, ConcatCritic, ConditionalCritic, Critic, CriticConfig,
    KnownConditional, SeparableCritic,
};
use crate::data::Batch;
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
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

/// Sets how many threads candle's CPU kernels use (candle reads `RAYON_NUM_THREADS` on every
/// parallel kernel). For sweeps of many small runs, 1 thread per run and runs in parallel beats
/// splitting each matmul: on a loaded 2-core machine candle's kernels are slower on 2 threads
/// than on 1. Call it before training starts (it changes the process environment).
pub fn set_kernel_threads(n: usize) {
    std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
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
