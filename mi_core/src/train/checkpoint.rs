//! Checkpoints: a directory with
//!
//! * `model.safetensors` — the critic's and baseline's parameters under their names
//!   (`critic.g.0.weight`, `baseline.1.bias`, …);
//! * `optimizer.safetensors` — Adam's moments `m.NAME`, `v.NAME` (f64);
//! * `config.json` — the format tag, model and fit settings, the bound, the next step, Adam's
//!   step count, MINE's EMA and the history so far.
//!
//! Files are written through `io` (temporary names, then renamed), so an interrupted save leaves the
//! previous checkpoint intact. Loading checks every name and shape and reports a missing, empty or corrupt
//! file with its path.

use super::{Adam, FitConfig, History, Model, ModelConfig, Trainer};
use crate::bounds::{Bound, Estimator, MineEma};
use crate::error::Result;
use crate::io::{self, io_error as io_err};
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The `format` tag of `config.json`.
pub const CHECKPOINT_FORMAT: &str = "mi_core.checkpoint.v1";

#[derive(Serialize, Deserialize)]
struct State {
    format: String,
    model: ModelConfig,
    bound: Bound,
    fit: FitConfig,
    step: usize,
    adam_t: u64,
    ema: Option<MineEma>,
    history: History,
}

impl Trainer {
    /// Writes the checkpoint into `dir` (created if needed).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        io::create_dir(dir)?;
        let params: HashMap<String, Tensor> =
            {
                let vars =
                    self.model.varmap.data().lock().map_err(|_| {
                        candle_core::Error::msg("save: the VarMap lock is poisoned")
                    })?;
                vars.iter()
                    .map(|(k, v)| Ok((k.clone(), v.as_tensor().to_device(&Device::Cpu)?)))
                    .collect::<candle_core::Result<_>>()?
            };
        let model_path = dir.join("model.safetensors");
        io::write_safetensors(&model_path, &params)?;
        let opt: HashMap<String, Tensor> = match &self.adam {
            Some(a) => a.state_tensors()?.into_iter().collect(),
            None => HashMap::new(),
        };
        io::write_safetensors(dir.join("optimizer.safetensors"), &opt)?;
        let state = State {
            format: CHECKPOINT_FORMAT.into(),
            model: self.model.config,
            bound: self.estimator.bound(),
            fit: self.config,
            step: self.step,
            adam_t: self.adam.as_ref().map_or(0, Adam::t),
            ema: self.estimator.ema(),
            history: self.history.clone(),
        };
        let json = serde_json::to_string(&state).map_err(|e| io_err(dir, e))?;
        io::write_text_atomic(dir.join("config.json"), &json)
    }

    /// Reloads a run saved by [`Trainer::save`] onto `device`; continuing it with
    /// [`Trainer::run`] reproduces the uninterrupted run on the CPU.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        let cfg_path = dir.join("config.json");
        let text = io::read_text(
            &cfg_path,
            " (is this a checkpoint directory written by Trainer::save?)",
        )?;
        let state: State = serde_json::from_str(&text)
            .map_err(|e| io_err(&cfg_path, format!("not a checkpoint config: {e}")))?;
        if state.format != CHECKPOINT_FORMAT {
            return Err(io_err(
                &cfg_path,
                format!("format `{}`, expected `{CHECKPOINT_FORMAT}`", state.format),
            ));
        }
        let mut trainer = Trainer::new(&state.model, state.bound, &state.fit, device)?;
        let model_path = dir.join("model.safetensors");
        let params = io::read_safetensors(&model_path)?;
        set_params(&trainer.model, &params, &model_path)?;
        if let Some(adam) = trainer.adam.as_mut() {
            let opt_path = dir.join("optimizer.safetensors");
            let opt = io::read_safetensors(&opt_path)?;
            adam.restore(state.adam_t, &opt)
                .map_err(|e| io_err(&opt_path, e))?;
        }
        let mut estimator = Estimator::new(state.bound)?;
        if let Some(ema) = state.ema {
            estimator.set_ema(ema)?;
        }
        if state.history.estimates.len() != state.step {
            return Err(io_err(
                &cfg_path,
                format!(
                    "step {} but {} logged estimates",
                    state.step,
                    state.history.estimates.len()
                ),
            ));
        }
        trainer.estimator = estimator;
        trainer.step = state.step;
        trainer.history = state.history;
        Ok(trainer)
    }
}

fn set_params(model: &Model, params: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let vars = model
        .varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("load: the VarMap lock is poisoned"))?;
    for (name, var) in vars.iter() {
        let t = params
            .get(name)
            .ok_or_else(|| io_err(path, format!("missing parameter `{name}`")))?;
        if t.dims() != var.dims() || t.dtype() != var.dtype() {
            return Err(io_err(
                path,
                format!(
                    "`{name}` is {:?} {:?}, the model expects {:?} {:?}",
                    t.dtype(),
                    t.dims(),
                    var.dtype(),
                    var.dims()
                ),
            ));
        }
        var.set(&t.to_device(var.device())?)?;
    }
    if let Some(extra) = params.keys().find(|k| !vars.contains_key(*k)) {
        return Err(io_err(
            path,
            format!("unexpected parameter `{extra}` (another model?)"),
        ));
    }
    Ok(())
}
