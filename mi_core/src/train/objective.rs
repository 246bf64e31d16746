//! The one training loop, generic over what it trains: [`TrainLoop`] runs any [`Objective`]
//! (a critic and its bound — [`super::Trainer`]; an encoder under the regularised InfoMax
//! objective — `experiments::dsprites`) with the same step order, per-step random streams,
//! Adam, divergence handling, checkpoints and resume.
//!
//! One step t:
//! 1. step t's RNG is the seed on stream t + 1 (independent of every other step, so a resumed
//!    run draws exactly what the uninterrupted run drew);
//! 2. [`Objective::forward`] computes the loss to minimise and the values to log, **before**
//!    the update;
//! 3. a non-finite logged value ends the run ("diverged at step t", recorded by the objective,
//!    no error: a sweep goes on); otherwise the log is recorded and the step counted;
//! 4. [`Objective::update`] takes one Adam step on the loss (by default Candle autograd;
//!    the MLP critics override it with their fused CPU backward);
//! 5. [`Objective::after_update`] updates state that is not a parameter (Lagrange multipliers).

use super::{Adam, AdamConfig};
use crate::error::Result;
use candle_core::{Device, Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What step t's forward pass produced.
pub struct Forward<L> {
    /// The values logged for step t (computed before its update).
    pub log: L,
    /// The scalar to minimise; `None` when there is nothing to train (no parameters) or when
    /// the step diverged.
    pub loss: Option<Tensor>,
    /// Whether every logged value is finite; `false` ends the run at step t.
    pub finite: bool,
}

/// Something [`TrainLoop`] can train: parameters in a [`VarMap`], a forward pass per step, a
/// history it keeps, and a checkpointable state.
pub trait Objective: Sized {
    /// The checkpoint's `kind` (e.g. `critic`, `infomax`): a checkpoint of one kind does not
    /// load as another.
    const KIND: &'static str;
    /// What a step reads its batch from (a trait object may borrow for `'d`).
    type Data<'d>: ?Sized;
    /// What one step logs.
    type Log;
    /// Settings, non-parameter state and history, as saved in `config.json`.
    type State: Serialize + DeserializeOwned;

    /// The trainable parameters (all of them are updated by Adam).
    fn varmap(&self) -> &VarMap;

    /// Step t's forward pass on a batch drawn from `data` with `rng`.
    fn forward(
        &mut self,
        data: &Self::Data<'_>,
        step: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Forward<Self::Log>>;

    /// Appends step t's (finite) log to the history.
    fn record(&mut self, step: usize, log: &Self::Log);

    /// Notes that step t diverged (the run stops there).
    fn record_divergence(&mut self, step: usize);

    /// The step at which the run diverged, if it did.
    fn diverged_at(&self) -> Option<usize>;

    /// One optimiser step on `loss` (Candle autograd by default).
    fn update(&mut self, loss: &Tensor, adam: &mut Adam) -> Result<()> {
        let grads = loss.backward()?;
        adam.step(&grads)?;
        Ok(())
    }

    /// State updates after the optimiser step (default: none).
    fn after_update(&mut self, _log: &Self::Log) -> Result<()> {
        Ok(())
    }

    /// The state to checkpoint.
    fn state(&self) -> Self::State;

    /// Rebuilds the objective (fresh parameters, which the loader then overwrites) with the
    /// saved state, for a run that has done `steps` steps; errors if the state does not fit.
    fn from_state(state: Self::State, steps: usize, device: &Device) -> Result<Self>;
}

/// A run in progress: an objective, its optimiser, the seed and the step counter.
pub struct TrainLoop<O: Objective> {
    pub(super) objective: O,
    pub(super) adam: Option<Adam>,
    pub(super) seed: u64,
    pub(super) adam_config: AdamConfig,
    pub(super) step: usize,
}

impl<O: Objective> TrainLoop<O> {
    /// A fresh run of `objective` with Adam over all of its parameters (none: no optimiser, the
    /// settings are still checked); `seed` seeds every step's batch.
    pub fn with_objective(objective: O, adam: AdamConfig, seed: u64) -> Result<Self> {
        let vars = named_vars(objective.varmap())?;
        let optimiser = if vars.is_empty() {
            adam.validate()?;
            None
        } else {
            Some(Adam::new(adam, vars)?)
        };
        Ok(Self {
            objective,
            adam: optimiser,
            seed,
            adam_config: adam,
            step: 0,
        })
    }

    /// The objective (its model, history and state).
    pub fn objective(&self) -> &O {
        &self.objective
    }

    /// The optimiser (`None` when there is nothing to train).
    pub fn adam(&self) -> Option<&Adam> {
        self.adam.as_ref()
    }

    /// The next step to run (= steps done).
    pub fn step(&self) -> usize {
        self.step
    }

    /// Whether the run stopped on a non-finite value.
    pub fn diverged(&self) -> bool {
        self.objective.diverged_at().is_some()
    }

    /// Step t's RNG: the seed on stream t + 1.
    fn step_rng(&self, step: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(step as u64 + 1);
        rng
    }

    /// Runs one step and returns its log; `None` once the run has diverged (nothing more runs).
    /// The step that diverges returns its (non-finite) log.
    pub fn step_once(&mut self, data: &O::Data<'_>) -> Result<Option<O::Log>> {
        if self.diverged() {
            return Ok(None);
        }
        let t = self.step;
        let mut rng = self.step_rng(t);
        let fwd = self.objective.forward(data, t, &mut rng)?;
        if !fwd.finite {
            self.objective.record_divergence(t);
            return Ok(Some(fwd.log));
        }
        self.objective.record(t, &fwd.log);
        self.step += 1;
        if let (Some(adam), Some(loss)) = (self.adam.as_mut(), fwd.loss.as_ref()) {
            self.objective.update(loss, adam)?;
        }
        self.objective.after_update(&fwd.log)?;
        Ok(Some(fwd.log))
    }

    /// Runs until `until` steps are done (or the run diverges), calling `on_step` after each.
    pub fn run_until(
        &mut self,
        data: &O::Data<'_>,
        until: usize,
        on_step: &mut dyn FnMut(&O::Log),
    ) -> Result<()> {
        while self.step < until && !self.diverged() {
            if let Some(log) = self.step_once(data)? {
                on_step(&log);
            }
        }
        Ok(())
    }
}

/// The parameters of a [`VarMap`] with their names (the checkpoint keys).
pub(crate) fn named_vars(varmap: &VarMap) -> Result<Vec<(String, Var)>> {
    Ok(varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("the VarMap lock is poisoned"))?
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}
