//! The critic an estimate kept, with what re-applies it to new rows, saved as a checkpoint
//! (`mi estimate --checkpoint DIR`, [`super::Estimate::save_checkpoint`]):
//!
//! * `model.safetensors` — the kept weights (best validation value), under the trainer's names
//!   (`critic.g.0.weight`, `baseline.1.bias`, …);
//! * `transform.safetensors` — the per-column transforms fitted on the training rows:
//!   `x.mean`, `x.sd` (`[dim]`) for `standardize`, `x.sorted` (`[dim, n_train]`, each column's
//!   sorted training values) for `gaussianize`; the same for `y`;
//! * `config.json` — the format tag, the bound, the model (critic, hidden width, dimensions,
//!   baseline), B, the transform, the seed, the [`super::EstimateConfig`] and the estimate itself
//!   (the JSON of `mi estimate`).
//!
//! A checkpoint is written, not resumed: the estimate's worth is that its test rows took no part
//! in training or in any choice, which a run continued on other data (or other splits) would
//! lose. [`TrainedCritic::load`] rebuilds the critic to score new data (`scores`, `evaluate`).

use super::prepare::{Fitted, RowStream, Rows};
use super::{EstimateConfig, Transform};
use crate::bounds::Bound;
use crate::data::Batch;
use crate::error::Result;
use crate::io::{self, io_error};
use crate::train::{Model, ModelConfig};
use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The `format` tag of an estimate checkpoint's `config.json`.
pub const ESTIMATE_CHECKPOINT_FORMAT: &str = "mi_core.estimate.v1";

/// A trained critic and the transforms fitted on the training rows: scores raw rows of X and Y.
pub struct TrainedCritic {
    model: Model,
    bound: Bound,
    fx: Arc<Fitted>,
    fy: Arc<Fitted>,
    batch_size: usize,
    config: EstimateConfig,
}

impl std::fmt::Debug for TrainedCritic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrainedCritic")
            .field("bound", &self.bound.name())
            .field("model", self.model.config())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// `config.json` of an estimate checkpoint.
#[derive(Serialize, Deserialize)]
struct CheckpointConfig {
    format: String,
    bound: Bound,
    model: ModelConfig,
    batch_size: usize,
    transform: Transform,
    seed: u64,
    estimate_config: EstimateConfig,
    /// The estimate's JSON (as `mi estimate` prints it).
    estimate: serde_json::Value,
}

impl TrainedCritic {
    pub(super) fn new(
        model: Model,
        bound: Bound,
        fx: Arc<Fitted>,
        fy: Arc<Fitted>,
        batch_size: usize,
        config: EstimateConfig,
    ) -> Self {
        Self {
            model,
            bound,
            fx,
            fy,
            batch_size,
            config,
        }
    }

    /// The bound it was trained on.
    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// The batch size B it was trained and evaluated at.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The critic and its baseline.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Transformed rows `x [B, dx]`, `y [B, dy]` (raw, as given to `estimate`) as a batch on the
    /// model's device.
    fn batch(&self, x: &Tensor, y: &Tensor) -> Result<Batch> {
        let (x, y) = (Rows::from_tensor("x", x)?, Rows::from_tensor("y", y)?);
        let rows = RowStream {
            x: self.fx.apply(&x),
            y: self.fy.apply(&y),
        };
        let idx: Vec<usize> = (0..x.n).collect();
        rows.batch_of(
            &idx,
            self.model.device(),
            self.model.config().precision.dtype(),
        )
    }

    /// `scores[i, j] = f(x_j, y_i)` `[B, B]` (f64) of raw rows `x [B, dx]`, `y [B, dy]`, after
    /// the training rows' transforms.
    pub fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let batch = self.batch(x, y)?;
        Ok(self.model.scores(&batch, None)?.to_dtype(DType::F64)?)
    }

    /// The bound's value on one batch of paired raw rows (B = the number of rows).
    pub fn evaluate(&self, x: &Tensor, y: &Tensor) -> Result<f64> {
        super::fit::bound_value(&self.model, &self.bound, &self.batch(x, y)?)
    }

    /// Writes the checkpoint into `dir` (created if needed); `estimate` is recorded in
    /// `config.json`. A folder holding something else than an estimate checkpoint is refused.
    pub fn save(&self, dir: impl AsRef<Path>, estimate: &super::Estimate) -> Result<()> {
        let dir = dir.as_ref();
        check_target(dir)?;
        io::create_dir(dir)?;
        let params: HashMap<String, Tensor> = self
            .model
            .varmap()
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("checkpoint: the VarMap lock is poisoned"))?
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_tensor().to_device(&Device::Cpu)?)))
            .collect::<candle_core::Result<_>>()?;
        io::write_safetensors(dir.join("model.safetensors"), &params)?;
        let mut tf = HashMap::new();
        transform_tensors("x", &self.fx, &mut tf)?;
        transform_tensors("y", &self.fy, &mut tf)?;
        io::write_safetensors(dir.join("transform.safetensors"), &tf)?;
        let config = CheckpointConfig {
            format: ESTIMATE_CHECKPOINT_FORMAT.into(),
            bound: self.bound,
            model: *self.model.config(),
            batch_size: self.batch_size,
            transform: self.config.transform,
            seed: self.config.seed,
            estimate_config: self.config,
            estimate: serde_json::to_value(estimate).map_err(|e| io_error(dir, e))?,
        };
        let json = serde_json::to_string_pretty(&config).map_err(|e| io_error(dir, e))?;
        io::write_text_atomic(dir.join("config.json"), &json)
    }

    /// Reads a checkpoint written by [`TrainedCritic::save`] onto `device`; returns the critic
    /// and the recorded estimate (its JSON). A missing, foreign or corrupt file is an error
    /// naming it; every weight's name and shape is checked.
    pub fn load(dir: impl AsRef<Path>, device: &Device) -> Result<(Self, serde_json::Value)> {
        let dir = dir.as_ref();
        let cfg_path = dir.join("config.json");
        let text = io::read_text(&cfg_path, " (is this a folder written by --checkpoint?)")?;
        let cfg: CheckpointConfig = serde_json::from_str(&text)
            .map_err(|e| io_error(&cfg_path, format!("not an estimate checkpoint: {e}")))?;
        if cfg.format != ESTIMATE_CHECKPOINT_FORMAT {
            return Err(io_error(
                &cfg_path,
                format!(
                    "format `{}`, expected `{ESTIMATE_CHECKPOINT_FORMAT}`",
                    cfg.format
                ),
            ));
        }
        let model = Model::new(&cfg.model, cfg.seed, device)?;
        let model_path = dir.join("model.safetensors");
        crate::train::set_params(
            model.varmap(),
            &io::read_safetensors(&model_path)?,
            &model_path,
        )?;
        let tf_path = dir.join("transform.safetensors");
        let tf = io::read_safetensors(&tf_path)?;
        let fx = fitted_from("x", cfg.transform, cfg.model.net.dim_x, &tf, &tf_path)?;
        let fy = fitted_from("y", cfg.transform, cfg.model.net.dim_y, &tf, &tf_path)?;
        let critic = Self::new(
            model,
            cfg.bound,
            Arc::new(fx),
            Arc::new(fy),
            cfg.batch_size,
            cfg.estimate_config,
        );
        Ok((critic, cfg.estimate))
    }
}

/// Checks, before any training, that `mi estimate --checkpoint dir` can write what `config`
/// will save: every target folder (`dir`, or `dir/NAME` per bound of `--bound all` whose name
/// is known before training) is absent, empty or an estimate checkpoint, and `dir` can be
/// created and written into. Leaves nothing behind (a folder it created is removed again).
pub fn check_checkpoint_dir(dir: &Path, config: &EstimateConfig) -> Result<()> {
    let targets: Vec<std::path::PathBuf> = if config.bound == super::BoundChoice::All {
        let mut names: Vec<String> = super::ALL_BOUNDS.iter().map(Bound::name).collect();
        if let Some(a) = config.alpha {
            names.push(
                Bound::Interpolated {
                    alpha: crate::bounds::Alpha::new(a)?,
                }
                .name(),
            );
        }
        names.iter().map(|n| dir.join(n)).collect()
    } else {
        vec![dir.to_path_buf()]
    };
    for t in &targets {
        check_target(t)?;
    }
    check_writable(dir)
}

/// Creates `dir` (if missing), writes and removes a probe file in it, and removes again the
/// folders it created.
fn check_writable(dir: &Path) -> Result<()> {
    // The outermost folder that does not exist yet: everything from `dir` up to it is ours.
    let created = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && std::fs::metadata(a).is_err())
        .last()
        .map(Path::to_path_buf);
    std::fs::create_dir_all(dir)
        .map_err(|e| io_error(dir, format!("cannot create the --checkpoint folder: {e}")))?;
    let probe = dir.join(format!(".mi_write_check_{}", std::process::id()));
    let written = std::fs::write(&probe, b"").and_then(|()| std::fs::remove_file(&probe));
    if let Some(top) = &created {
        for a in dir.ancestors() {
            let _ = std::fs::remove_dir(a);
            if a == top.as_path() {
                break;
            }
        }
    }
    written.map_err(|e| {
        io_error(
            dir,
            format!("cannot write into the --checkpoint folder: {e}"),
        )
    })
}

/// Refuses to write into a folder that holds files but no estimate checkpoint, or into a path
/// that is not a folder.
pub(super) fn check_target(dir: &Path) -> Result<()> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(io_error(
            dir,
            "exists and is not a folder: choose a new or empty folder for --checkpoint",
        ));
    }
    let Ok(mut entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    if entries.next().is_none() {
        return Ok(());
    }
    let ours = std::fs::read_to_string(dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["format"] == ESTIMATE_CHECKPOINT_FORMAT);
    if ours {
        Ok(())
    } else {
        Err(io_error(
            dir,
            "the folder holds other files and no estimate checkpoint: choose a new or empty \
             folder for --checkpoint",
        ))
    }
}

fn transform_tensors(side: &str, f: &Fitted, out: &mut HashMap<String, Tensor>) -> Result<()> {
    let vec = |v: &[f64]| Tensor::from_slice(v, v.len(), &Device::Cpu);
    match f {
        Fitted::Standardize { mean, sd } => {
            out.insert(format!("{side}.mean"), vec(mean)?);
            out.insert(format!("{side}.sd"), vec(sd)?);
        }
        Fitted::Gaussianize { sorted } => {
            let n = sorted.first().map_or(0, Vec::len);
            let flat: Vec<f64> = sorted.iter().flatten().copied().collect();
            out.insert(
                format!("{side}.sorted"),
                Tensor::from_vec(flat, (sorted.len(), n), &Device::Cpu)?,
            );
        }
    }
    Ok(())
}

fn fitted_from(
    side: &str,
    kind: Transform,
    dim: usize,
    tf: &HashMap<String, Tensor>,
    path: &Path,
) -> Result<Fitted> {
    let get = |name: &str, rank: usize| -> Result<Tensor> {
        let key = format!("{side}.{name}");
        let t = tf
            .get(&key)
            .ok_or_else(|| io_error(path, format!("missing `{key}`")))?;
        if t.dtype() != DType::F64 || t.rank() != rank || t.dims()[0] != dim {
            return Err(io_error(
                path,
                format!(
                    "`{key}` is {:?} {:?}, expected f64 with {dim} columns",
                    t.dtype(),
                    t.dims()
                ),
            ));
        }
        Ok(t.clone())
    };
    Ok(match kind {
        Transform::Standardize => Fitted::Standardize {
            mean: get("mean", 1)?.to_vec1()?,
            sd: get("sd", 1)?.to_vec1()?,
        },
        Transform::Gaussianize => {
            let sorted: Vec<Vec<f64>> = get("sorted", 2)?.to_vec2()?;
            if sorted.first().is_some_and(Vec::is_empty) {
                return Err(io_error(path, format!("`{side}.sorted` holds no rows")));
            }
            Fitted::Gaussianize { sorted }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::Alpha;
    use crate::estimate::{fit::train_one, prepare};

    fn data(n: usize) -> Result<(Tensor, Tensor)> {
        let x: Vec<f64> = (0..n)
            .flat_map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 1.3).cos()])
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| x[2 * i] + 0.3 * x[2 * i + 1].powi(3) + 0.5 * (i as f64 * 2.1).sin())
            .collect();
        Ok((
            Tensor::from_vec(x, (n, 2), &Device::Cpu)?,
            Tensor::from_vec(y, n, &Device::Cpu)?,
        ))
    }

    #[test]
    fn round_trip_gives_the_same_scores_and_validation_values() -> Result<()> {
        let (x, y) = data(600)?;
        use super::super::CriticChoice;
        let cases = [
            (
                Transform::Gaussianize,
                Bound::Interpolated {
                    alpha: Alpha::new(0.5)?,
                },
                CriticChoice::Separable,
            ),
            (
                Transform::Standardize,
                Bound::InfoNce,
                CriticChoice::Separable,
            ),
            // Validated on B-row blocks during training, reported on test-sized ones.
            (Transform::Gaussianize, Bound::InfoNce, CriticChoice::Concat),
        ];
        for (transform, bound, critic) in cases {
            let config = EstimateConfig {
                max_steps: 60,
                eval_every: 20,
                hidden: 16,
                batch_size: Some(32),
                transform,
                critic,
                ..EstimateConfig::default()
            };
            let data = prepare(&x, &y, &config)?;
            let est = train_one(&data, bound, &config)?;
            let dir = std::env::temp_dir().join(format!(
                "mi_core_estimate_ckpt_{}_{:?}_{}",
                transform.name(),
                critic,
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            est.save_checkpoint(&dir)?;
            for f in ["model.safetensors", "transform.safetensors", "config.json"] {
                assert!(dir.join(f).is_file(), "{f}");
            }
            let (loaded, json) = TrainedCritic::load(&dir, &Device::Cpu)?;
            assert_eq!(json["estimate"].as_f64(), Some(est.estimate));
            assert_eq!(loaded.bound(), bound);
            // The kept weights give the kept validation value, on blocks of the test's size.
            let m = super::super::fit::test_block(data.val.x.n, data.batch_size);
            let v = super::super::fit::evaluate_split(
                loaded.model(),
                &bound,
                &data.val,
                m,
                usize::MAX,
                false,
            )?;
            let mean = v.mean;
            assert_eq!(m, est.eval_block);
            assert_eq!(mean, est.validation_estimate, "{transform:?} {critic:?}");
            // Raw rows: the saved transforms and weights score them as the original critic does.
            let (xr, yr) = (x.narrow(0, 100, 32)?, y.narrow(0, 100, 32)?);
            let original = est.trained_critic().expect("critic");
            let want = original.scores(&xr, &yr)?.flatten_all()?.to_vec1::<f64>()?;
            let got = loaded.scores(&xr, &yr)?.flatten_all()?.to_vec1::<f64>()?;
            assert_eq!(got, want);
            assert_eq!(loaded.evaluate(&xr, &yr)?, original.evaluate(&xr, &yr)?);
            // Saving again over our own checkpoint is fine; a corrupt file names itself.
            est.save_checkpoint(&dir)?;
            std::fs::write(dir.join("transform.safetensors"), b"")
                .map_err(|e| io_error(&dir, e))?;
            let e = TrainedCritic::load(&dir, &Device::Cpu)
                .unwrap_err()
                .to_string();
            assert!(e.contains("transform.safetensors"), "{e}");
        }
        // A folder holding other files is not overwritten.
        let other = std::env::temp_dir().join(format!("mi_core_ckpt_other_{}", std::process::id()));
        io::create_dir(&other)?;
        std::fs::write(other.join("notes.txt"), "mine").map_err(|e| io_error(&other, e))?;
        let config = EstimateConfig {
            max_steps: 20,
            eval_every: 20,
            hidden: 8,
            batch_size: Some(32),
            critic: super::super::CriticChoice::Separable,
            ..EstimateConfig::default()
        };
        let est = train_one(&prepare(&x, &y, &config)?, Bound::InfoNce, &config)?;
        let e = est.save_checkpoint(&other).unwrap_err().to_string();
        assert!(e.contains("no estimate checkpoint"), "{e}");
        Ok(())
    }
}
