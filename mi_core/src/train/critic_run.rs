//! The critic objective: a [`Model`] (critic + baseline) trained on a [`Bound`] through its
//! [`Estimator`], and [`Trainer`], the training loop over it.

use super::objective::{Forward, Objective, TrainLoop};
use super::{fused, Adam, CriticKind, FitConfig, History, Model, ModelConfig, StepLog, Stream};
use crate::bounds::{Bound, Estimator, MineEma};
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A critic and its bound, with the run's history: what [`Trainer`] trains.
pub struct CriticRun {
    model: Model,
    estimator: Estimator,
    config: FitConfig,
    history: History,
    /// The fused CPU step, where it applies ([`fused`]); `None`: Candle autograd.
    fused: Option<fused::FusedStep>,
}

/// The critic objective's checkpointed state.
#[derive(Serialize, Deserialize)]
pub struct CriticState {
    model: ModelConfig,
    bound: Bound,
    fit: FitConfig,
    ema: Option<MineEma>,
    history: History,
}

/// A critic run in progress: model, bound (with its state), optimiser, step counter and history.
pub type Trainer = TrainLoop<CriticRun>;

impl CriticRun {
    fn new(model: &ModelConfig, bound: Bound, config: &FitConfig, device: &Device) -> Result<Self> {
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
        Ok(Self {
            model: Model::new(model, config.seed, device)?,
            estimator: Estimator::new(bound)?,
            config: *config,
            history: History::default(),
            fused: None,
        })
    }
}

impl Objective for CriticRun {
    const KIND: &'static str = "critic";
    type Data<'d> = dyn Stream + 'd;
    type Log = StepLog;
    type State = CriticState;

    fn varmap(&self) -> &VarMap {
        &self.model.varmap
    }

    fn forward(
        &mut self,
        stream: &dyn Stream,
        t: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Forward<StepLog>> {
        let true_mi = stream.true_mi(t);
        let batch = stream.batch(
            t,
            self.config.batch_size,
            rng,
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
        let finite = estimate.is_finite();
        Ok(Forward {
            log: StepLog {
                step: t,
                true_mi,
                estimate,
            },
            loss: match value {
                Some(v) if finite => Some(v.neg()?),
                _ => None,
            },
            finite,
        })
    }

    fn record(&mut self, _step: usize, log: &StepLog) {
        self.history.estimates.push(log.estimate);
        self.history.true_mi.push(log.true_mi);
    }

    fn record_divergence(&mut self, step: usize) {
        self.history.diverged_at = Some(step);
    }

    fn diverged_at(&self) -> Option<usize> {
        self.history.diverged_at
    }

    fn update(&mut self, loss: &Tensor, adam: &mut Adam) -> Result<()> {
        let grads = loss.backward()?;
        match self.fused.as_mut() {
            Some(fused) => fused.backward_and_update(&grads, adam)?,
            None => adam.step(&grads)?,
        }
        Ok(())
    }

    fn state(&self) -> CriticState {
        CriticState {
            model: self.model.config,
            bound: self.estimator.bound(),
            fit: self.config,
            ema: self.estimator.ema(),
            history: self.history.clone(),
        }
    }

    fn from_state(state: CriticState, steps: usize, device: &Device) -> Result<Self> {
        if state.history.estimates.len() != steps {
            return Err(Error::InvalidParameter {
                op: "Trainer::load",
                name: "history",
                value: format!("{} logged estimates", state.history.estimates.len()),
                reason: "a checkpoint's history must hold one estimate per step done",
            });
        }
        let mut run = CriticRun::new(&state.model, state.bound, &state.fit, device)?;
        if let Some(ema) = state.ema {
            run.estimator.set_ema(ema)?;
        }
        run.history = state.history;
        Ok(run)
    }
}

impl TrainLoop<CriticRun> {
    /// A fresh run. Errors on B < 2, on a bound that reads log p(y|x) (TNCE, leave-one-out,
    /// rate) with a learned critic, and on bad optimiser settings.
    pub fn new(
        model: &ModelConfig,
        bound: Bound,
        config: &FitConfig,
        device: &Device,
    ) -> Result<Self> {
        let run = CriticRun::new(model, bound, config, device)?;
        let mut trainer = TrainLoop::with_objective(run, config.adam, config.seed)?;
        trainer.set_fused(fused::enabled_by_env())?;
        Ok(trainer)
    }

    /// Chooses between the fused CPU step (where it applies: a CPU, f32 model with a separable
    /// or concat critic) and Candle autograd (the general path and the reference); returns
    /// whether the fused step is now in use. Both give the same run up to f32 rounding.
    pub fn set_fused(&mut self, on: bool) -> Result<bool> {
        self.objective.fused = if on {
            fused::FusedStep::new(&self.objective.model, self.adam.as_ref())?
        } else {
            None
        };
        Ok(self.objective.fused.is_some())
    }

    /// Whether steps run on the fused CPU path ([`Trainer::set_fused`]).
    pub fn is_fused(&self) -> bool {
        self.objective.fused.is_some()
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.objective.model
    }

    /// The model, ending the run (its current weights).
    pub fn into_model(self) -> Model {
        self.objective.model
    }

    /// The bound.
    pub fn bound(&self) -> Bound {
        self.objective.estimator.bound()
    }

    /// The run's settings.
    pub fn config(&self) -> &FitConfig {
        &self.objective.config
    }

    /// The log so far.
    pub fn history(&self) -> &History {
        &self.objective.history
    }

    /// Runs until `until` steps are done (or the run diverges), calling `on_step` after each.
    pub fn run(
        &mut self,
        stream: &dyn Stream,
        until: usize,
        on_step: &mut dyn FnMut(&StepLog),
    ) -> Result<()> {
        check_stream(stream, &self.objective.model.config)?;
        self.run_until(stream, until, on_step)
    }
}

pub(super) fn all_finite(t: &Tensor) -> Result<bool> {
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
