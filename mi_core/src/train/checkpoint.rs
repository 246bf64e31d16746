//! Checkpoints: a directory with
//!
//! * `model.safetensors` — the objective's parameters under their names (a critic's
//!   `critic.g.0.weight`, `baseline.1.bias`, …; an encoder's `encoder.conv1.weight`, …);
//! * `optimizer.safetensors` — Adam's moments `m.NAME`, `v.NAME` (f64);
//! * `config.json` — the format tag, the objective's kind (`critic`, `infomax`), the next step,
//!   the seed, Adam's settings and step count, and the objective's state: its settings, its
//!   non-parameter state (MINE's EMA, Lagrange multipliers) and the history so far.
//!
//! One format for every [`Objective`] trained by the one loop ([`TrainLoop`]).
//!
//! Files are written through `io` (temporary names, then renamed), so an interrupted save leaves the
//! previous checkpoint intact. Loading checks every name and shape and reports a missing, empty or corrupt
//! file with its path.

use super::objective::{named_vars, Objective, TrainLoop};
use super::AdamConfig;
use crate::error::Result;
use crate::io::{self, io_error as io_err};
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The `format` tag of `config.json`.
pub const CHECKPOINT_FORMAT: &str = "mi_core.checkpoint.v2";

#[derive(Serialize, Deserialize)]
struct State<S> {
    format: String,
    /// [`Objective::KIND`]: which objective wrote it.
    kind: String,
    step: usize,
    seed: u64,
    adam: AdamConfig,
    adam_t: u64,
    objective: S,
}

/// `config.json` read only as far as its format and kind, so that a wrong file gets its own
/// message before the objective's state is parsed.
#[derive(Deserialize)]
struct Header {
    format: String,
    kind: String,
}

impl<O: Objective> TrainLoop<O> {
    /// Writes the checkpoint into `dir` (created if needed): `model.safetensors`,
    /// `optimizer.safetensors` and `config.json` (format, kind, step, seed, Adam's settings and
    /// step count, the objective's settings, state and history).
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        io::create_dir(dir)?;
        let params: HashMap<String, Tensor> = named_vars(self.objective.varmap())?
            .into_iter()
            .map(|(k, v)| Ok((k, v.as_tensor().to_device(&Device::Cpu)?)))
            .collect::<candle_core::Result<_>>()?;
        io::write_safetensors(dir.join("model.safetensors"), &params)?;
        let opt: HashMap<String, Tensor> = match &self.adam {
            Some(a) => a.state_tensors()?.into_iter().collect(),
            None => HashMap::new(),
        };
        io::write_safetensors(dir.join("optimizer.safetensors"), &opt)?;
        let state = State {
            format: CHECKPOINT_FORMAT.into(),
            kind: O::KIND.into(),
            step: self.step,
            seed: self.seed,
            adam: self.adam_config,
            adam_t: self.adam.as_ref().map_or(0, super::Adam::t),
            objective: self.objective.state(),
        };
        let json = serde_json::to_string(&state).map_err(|e| io_err(dir, e))?;
        io::write_text_atomic(dir.join("config.json"), &json)
    }

    /// Reloads a run saved by [`TrainLoop::save`] onto `device`; continuing it reproduces the
    /// uninterrupted run on the CPU. Every parameter's name and shape is checked, and a missing,
    /// empty, corrupt or foreign file is reported with its path.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<Self>
    where
        O::State: DeserializeOwned,
    {
        let dir = dir.as_ref();
        let cfg_path = dir.join("config.json");
        let text = io::read_text(
            &cfg_path,
            " (is this a checkpoint directory written by `save`?)",
        )?;
        let header: Header = serde_json::from_str(&text)
            .map_err(|e| io_err(&cfg_path, format!("not a checkpoint config: {e}")))?;
        if header.format != CHECKPOINT_FORMAT {
            return Err(io_err(
                &cfg_path,
                format!("format `{}`, expected `{CHECKPOINT_FORMAT}`", header.format),
            ));
        }
        if header.kind != O::KIND {
            return Err(io_err(
                &cfg_path,
                format!(
                    "a `{}` checkpoint cannot be loaded as a `{}` run",
                    header.kind,
                    O::KIND
                ),
            ));
        }
        let state: State<O::State> = serde_json::from_str(&text)
            .map_err(|e| io_err(&cfg_path, format!("not a checkpoint config: {e}")))?;
        let objective =
            O::from_state(state.objective, state.step, device).map_err(|e| io_err(&cfg_path, e))?;
        let mut run = TrainLoop::with_objective(objective, state.adam, state.seed)?;
        let model_path = dir.join("model.safetensors");
        let params = io::read_safetensors(&model_path)?;
        set_params(run.objective.varmap(), &params, &model_path)?;
        if let Some(adam) = run.adam.as_mut() {
            let opt_path = dir.join("optimizer.safetensors");
            let opt = io::read_safetensors(&opt_path)?;
            adam.restore(state.adam_t, &opt)
                .map_err(|e| io_err(&opt_path, e))?;
        }
        run.step = state.step;
        Ok(run)
    }
}

impl<O: Objective> TrainLoop<O> {
    /// Sets the parameters from a `model.safetensors` written by [`TrainLoop::save`] (or a copy
    /// of one), every name, shape and dtype checked; the optimiser, step and history are left as
    /// they are. For evaluating a trained model without its checkpoint's other files.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let params = io::read_safetensors(path)?;
        set_params(self.objective.varmap(), &params, path)
    }
}

/// Sets every variable of `varmap` from `params` (read from `path`, named in errors), checking
/// names, shapes and dtypes both ways.
pub(crate) fn set_params(
    varmap: &VarMap,
    params: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<()> {
    let vars = varmap
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
