//! Figure 5's run: train the convolutional encoder on dSprites under the regularised InfoMax
//! objective (through the one training loop, [`InfoMaxTrainer`]), with checkpoints every N
//! steps and exact resume, then encode a uniform subset of the factor grid and score it.
//!
//! **Evaluation.** The posterior means μ(x) of `eval.images` images drawn uniformly without
//! replacement from the 737,280 (seeded; all of them when `eval.images` ≥ 737,280), encoded in
//! batches (images rendered in parallel, candle's kernels multithreaded). Active latents:
//! Var_x[μ_k] above `eval.active.min_relative_variance` (1 %) of the largest latent variance
//! (spec §7.4). Scores: for every factor the best |Spearman| over latents and which latent;
//! the factor × latent MI matrix after 20-bin discretisation and MIG per factor, as
//! disentanglement_lib computes them ([`metrics`]).

use super::metrics::{
    self, ActiveRule, Codes, FactorScore, Selectivity, SelectivityAxes, MIG_BINS,
};
use crate::data::dsprites::{self, Dsprites, FACTOR_NAMES, FACTOR_SIZES, NUM_IMAGES};
use crate::error::{Error, Result};
use crate::infomax::InfoMaxConfig;
use crate::io::{num, write_csv};
use crate::train::{InfoMaxFit, InfoMaxHistory, InfoMaxLog, InfoMaxTrainer};
use candle_core::{DType, Device};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// How the trained encoder is evaluated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Images encoded (a uniform subset without replacement; ≥ 737,280: the whole grid).
    pub images: usize,
    /// Images per encoder batch.
    pub batch: usize,
    /// Bins per latent for the MI matrix and MIG (20, as disentanglement_lib).
    pub bins: usize,
    /// Which latents are "active".
    pub active: ActiveRule,
    /// Seeds the subset.
    pub seed: u64,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            images: 65_536,
            batch: 512,
            bins: MIG_BINS,
            active: ActiveRule::default(),
            seed: 0,
        }
    }
}

/// Everything Figure 5's run depends on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The objective (encoder, q(y), thresholds, multipliers).
    pub infomax: InfoMaxConfig,
    /// Steps, batch size, Adam, seed.
    pub fit: InfoMaxFit,
    /// Save a checkpoint every this many steps (and at the end); 0: only at the end.
    pub checkpoint_every: usize,
    /// The evaluation.
    pub eval: EvalConfig,
}

impl Config {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        self.infomax.validate()?;
        self.fit.adam.validate()?;
        self.eval.active.validate()?;
        let bad = |name, value: usize, reason| {
            Err(Error::InvalidParameter {
                op: "dsprites::Config",
                name,
                value: value.to_string(),
                reason,
            })
        };
        if self.fit.batch_size < 2 {
            return bad(
                "fit.batch_size",
                self.fit.batch_size,
                "the bounds need B ≥ 2",
            );
        }
        if self.eval.images < 2 {
            return bad(
                "eval.images",
                self.eval.images,
                "evaluate at least 2 images",
            );
        }
        if self.eval.batch == 0 {
            return bad(
                "eval.batch",
                self.eval.batch,
                "encode at least 1 image per batch",
            );
        }
        if self.eval.bins < 2 {
            return bad(
                "eval.bins",
                self.eval.bins,
                "discretise into at least 2 bins",
            );
        }
        Ok(())
    }
}

/// What Figure 5's run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The settings.
    pub config: Config,
    /// Which images were used (procedural, npz, hub) and why.
    pub source: String,
    /// Every step's terms, from step 0 (resumed runs included).
    pub history: InfoMaxHistory,
    /// The step this call resumed from (`None`: trained from scratch).
    pub resumed_from: Option<usize>,
    /// Seconds of training in this call, and of evaluation.
    pub train_seconds: f64,
    /// Seconds of evaluation.
    pub eval_seconds: f64,
    /// Images evaluated.
    pub eval_images: usize,
    /// Var_x[μ_k] per latent.
    pub variances: Vec<f64>,
    /// The active latents.
    pub active: Vec<usize>,
    /// Per factor: the best |Spearman| over latents and which latent.
    pub factor_scores: Vec<FactorScore>,
    /// MIG per factor.
    pub mig: Vec<(String, f64)>,
    /// The factor × latent MI matrix (nats), rows in factor order.
    pub mi: Vec<Vec<f64>>,
    /// Figure 5's conditional means, per active latent.
    pub selectivity: Selectivity,
}

/// Trains (or resumes from `checkpoint_dir`) and evaluates, reporting progress.
pub fn run(
    config: &Config,
    data: &Dsprites,
    checkpoint_dir: Option<&Path>,
    device: &Device,
) -> Result<Report> {
    run_with(config, data, checkpoint_dir, device, &mut |_| {})
}

/// [`run`], calling `on_step` after every training step.
pub fn run_with(
    config: &Config,
    data: &Dsprites,
    checkpoint_dir: Option<&Path>,
    device: &Device,
    on_step: &mut dyn FnMut(&InfoMaxLog),
) -> Result<Report> {
    config.validate()?;
    let (trainer, resumed_from, train_seconds) =
        train(config, data, checkpoint_dir, device, on_step)?;
    evaluate(config, data, &trainer, resumed_from, train_seconds)
}

/// Evaluates a trained encoder without training it: the encoder and q(y) from `model` (the
/// `model.safetensors` of a checkpoint, or the `fig5_model.safetensors` a run writes next to
/// its figures), built with `config.infomax`. The report's history is empty, `resumed_from` is
/// `None` and `train_seconds` 0: the run's own record (`figures/fig5_trials.csv`) says how it
/// was trained.
pub fn evaluate_saved(
    config: &Config,
    data: &Dsprites,
    model: &Path,
    device: &Device,
) -> Result<Report> {
    config.validate()?;
    let mut trainer = InfoMaxTrainer::new(&config.infomax, &config.fit, device)?;
    trainer.load_weights(model)?;
    evaluate(config, data, &trainer, None, 0.0)
}

fn evaluate(
    config: &Config,
    data: &Dsprites,
    trainer: &InfoMaxTrainer,
    resumed_from: Option<usize>,
    train_seconds: f64,
) -> Result<Report> {
    let start = Instant::now();
    let indices = eval_indices(&config.eval)?;
    let codes = posterior_means(trainer, data, &indices, config.eval.batch)?;
    let rows: Vec<[usize; 5]> = indices
        .iter()
        .map(|&i| Ok(dsprites::Factors::from_index(i)?.classes()))
        .collect::<Result<_>>()?;
    let factors = metrics::Factors::new(&FACTOR_NAMES, &FACTOR_SIZES, &rows)?;
    let variances = metrics::latent_variances(&codes);
    let active = metrics::active_latents(&codes, &config.eval.active)?;
    let factor_scores = metrics::factor_scores(&codes, &factors)?;
    let mi = metrics::mi_matrix(&codes, &factors, config.eval.bins)?;
    let mig = metrics::mig_from_mi(&mi, &factors)?;
    let selectivity = Selectivity::compute(&codes, &factors, &active, &selectivity_axes())?;
    Ok(Report {
        config: config.clone(),
        source: data.source_name().to_string(),
        history: trainer.history().clone(),
        resumed_from,
        train_seconds,
        eval_seconds: start.elapsed().as_secs_f64(),
        eval_images: indices.len(),
        variances,
        active,
        factor_scores,
        mig,
        mi,
        selectivity,
    })
}

/// The axes of Figure 5 in `data::dsprites`' factor order, with the upstream latent values.
pub fn selectivity_axes() -> SelectivityAxes {
    let values = |f: usize| -> Vec<f64> {
        (0..FACTOR_SIZES[f])
            .map(|c| {
                let mut classes = [0usize; 5];
                classes[f] = c;
                dsprites::Factors::from_classes(classes).map_or(f64::NAN, |x| x.values()[f])
            })
            .collect()
    };
    SelectivityAxes {
        shape_names: dsprites::SHAPE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        scale_values: values(1),
        orientation_values: values(2),
        ..SelectivityAxes::default()
    }
}

fn train(
    config: &Config,
    data: &Dsprites,
    checkpoint_dir: Option<&Path>,
    device: &Device,
    on_step: &mut dyn FnMut(&InfoMaxLog),
) -> Result<(InfoMaxTrainer, Option<usize>, f64)> {
    let stored = checkpoint_dir.filter(|d| d.join("config.json").is_file());
    let mut trainer = match stored {
        Some(dir) => {
            let t = InfoMaxTrainer::load(dir, device)?;
            // More (or fewer) steps continue the same run; anything else is another run.
            let same_fit = InfoMaxFit {
                steps: config.fit.steps,
                ..*t.fit()
            } == config.fit;
            if t.config() != &config.infomax || !same_fit {
                return Err(Error::InvalidParameter {
                    op: "dsprites::run",
                    name: "checkpoint_dir",
                    value: dir.display().to_string(),
                    reason: "its checkpoint was trained with other settings: \
                             choose another folder or delete it to start afresh",
                });
            }
            t
        }
        None => InfoMaxTrainer::new(&config.infomax, &config.fit, device)?,
    };
    let resumed_from = stored.map(|_| trainer.step());
    let total = config.fit.steps;
    let progress = crate::progress::Progress::new("InfoMax (dSprites)", total as u64, "steps");
    progress.inc(trainer.step().min(total) as u64);
    let start = Instant::now();
    let every = if config.checkpoint_every == 0 {
        total
    } else {
        config.checkpoint_every
    };
    while trainer.step() < total && !trainer.diverged() {
        let until = ((trainer.step() / every + 1) * every).min(total);
        trainer.run_until(data, until, &mut |log| {
            progress.inc(1);
            if log.step % 10 == 0 {
                progress.set_message(format!(
                    "I_JS {:.2}  TC_ub {:.2}  KL {:.3}  λ_TC {:.2}",
                    log.i_js, log.tc_ub, log.kl, log.lambda_tc
                ));
            }
            on_step(log);
        })?;
        if let Some(dir) = checkpoint_dir {
            trainer.save(dir)?;
        }
    }
    progress.finish();
    Ok((trainer, resumed_from, start.elapsed().as_secs_f64()))
}

/// The evaluation subset: `images` indices drawn uniformly without replacement (sorted), or
/// the whole grid.
pub fn eval_indices(eval: &EvalConfig) -> Result<Vec<usize>> {
    if eval.images >= NUM_IMAGES {
        return Ok((0..NUM_IMAGES).collect());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(eval.seed);
    let mut idx = rand::seq::index::sample(&mut rng, NUM_IMAGES, eval.images).into_vec();
    idx.sort_unstable();
    Ok(idx)
}

/// The posterior means μ(x) `[N, K]` of the images `indices`, encoded `batch` at a time.
pub fn posterior_means(
    trainer: &InfoMaxTrainer,
    data: &Dsprites,
    indices: &[usize],
    batch: usize,
) -> Result<Codes> {
    let encoder = &trainer.model().encoder;
    let device = trainer.device();
    let k = trainer.config().encoder.latents;
    let progress =
        crate::progress::Progress::new("encoding dSprites", indices.len() as u64, "images");
    let mut means = Vec::with_capacity(indices.len() * k);
    for chunk in indices.chunks(batch.max(1)) {
        let x = data.images(chunk, device)?;
        let mean = encoder.forward(&x)?.mean.to_dtype(DType::F64)?;
        means.extend(mean.flatten_all()?.to_vec1::<f64>()?);
        progress.inc(chunk.len() as u64);
    }
    progress.finish();
    Codes::new(indices.len(), k, means)
}

impl Report {
    /// The factor names, in the rows' order.
    pub fn factor_names(&self) -> Vec<String> {
        FACTOR_NAMES.iter().map(|s| s.to_string()).collect()
    }

    /// The factor scores as a DataFrame (the columns of [`Report::factor_scores_csv`]).
    #[cfg(feature = "tables")]
    pub fn factor_scores_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let s = &self.factor_scores;
        crate::table::TableBuilder::new()
            .str("factor", s.iter().map(|r| r.factor.clone()))
            .u64("best_latent", s.iter().map(|r| r.best_latent as u64))
            .f64("best_abs_spearman", s.iter().map(|r| r.best_abs_spearman))
            .build()
    }

    /// MIG per factor as a DataFrame (`factor, mig`).
    #[cfg(feature = "tables")]
    pub fn mig_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        crate::table::TableBuilder::new()
            .str("factor", self.mig.iter().map(|(f, _)| f.clone()))
            .f64("mig", self.mig.iter().map(|(_, m)| *m))
            .build()
    }

    /// The factor × latent MI matrix as a DataFrame: `factor`, then `latent_0` … `latent_{K−1}`.
    #[cfg(feature = "tables")]
    pub fn mi_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let k = self.mi.first().map_or(0, Vec::len);
        let mut t = crate::table::TableBuilder::new().str("factor", self.factor_names());
        for j in 0..k {
            t = t.f64(&format!("latent_{j}"), self.mi.iter().map(|row| row[j]));
        }
        t.build()
    }

    /// Facts every run must satisfy: one finite log per step done, KL ≥ 0 and MBU's and
    /// TC's inputs finite, and every MI matrix entry in [0, H(factor)] (plug-in MI of a
    /// discrete pair never exceeds either entropy).
    pub fn check(&self) -> Result<()> {
        let fail = |name: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidParameter {
                op: "dsprites::Report::check",
                name,
                value,
                reason,
            })
        };
        for (t, log) in self.history.logs.iter().enumerate() {
            if log.step != t {
                return fail(
                    "history",
                    format!("log {t} is step {}", log.step),
                    "one log per step, in order",
                );
            }
            let finite = [log.loss, log.i_js, log.tc_ub, log.kl]
                .iter()
                .chain(&log.mbu)
                .all(|v| v.is_finite());
            if !finite || log.kl < -1e-9 {
                return fail(
                    "history",
                    format!("step {t}: KL {}", log.kl),
                    "every logged term finite and KL ≥ 0",
                );
            }
        }
        for (f, row) in self.mi.iter().enumerate() {
            let h = (FACTOR_SIZES[f] as f64).ln();
            if let Some(v) = row.iter().find(|v| !(**v >= -1e-12 && **v <= h + 1e-9)) {
                return fail(
                    "mi",
                    format!("MI({}, ·) = {v}", FACTOR_NAMES[f]),
                    "a discrete MI lies in [0, H(factor)]",
                );
            }
        }
        Ok(())
    }

    /// The last step's log, if any step ran.
    pub fn last(&self) -> Option<&InfoMaxLog> {
        self.history.logs.last()
    }

    /// `factor, best_latent, best_abs_spearman` (`figures/fig5_factor_scores.csv`).
    pub fn factor_scores_csv(&self) -> Result<String> {
        write_csv(
            &["factor", "best_latent", "best_abs_spearman"],
            self.factor_scores.iter().map(|s| {
                vec![
                    s.factor.clone(),
                    s.best_latent.to_string(),
                    num(s.best_abs_spearman),
                ]
            }),
        )
    }

    /// The factor × latent MI matrix: `factor, latent_0, …, latent_{K−1}` (nats).
    pub fn mi_csv(&self) -> Result<String> {
        let k = self.mi.first().map_or(0, Vec::len);
        let mut header = vec!["factor".to_string()];
        header.extend((0..k).map(|j| format!("latent_{j}")));
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        write_csv(
            &header,
            self.mi.iter().zip(FACTOR_NAMES).map(|(row, f)| {
                std::iter::once(f.to_string())
                    .chain(row.iter().map(|v| num(*v)))
                    .collect()
            }),
        )
    }

    /// `factor, mig` (`figures/fig5_mig.csv`).
    pub fn mig_csv(&self) -> Result<String> {
        write_csv(
            &["factor", "mig"],
            self.mig.iter().map(|(f, m)| vec![f.clone(), num(*m)]),
        )
    }

    /// Whether the run reproduces the paper's finding — separate latents for x position,
    /// y position and scale, rotation not learned — with the thresholds used: a factor is
    /// "learned" when its best |Spearman| is at least `learned`, and the three learned factors
    /// must have three different best latents.
    pub fn paper_finding(&self, learned: f64) -> PaperFinding {
        let score = |name: &str| self.factor_scores.iter().find(|s| s.factor == name);
        let is_learned = |name: &str| score(name).is_some_and(|s| s.best_abs_spearman >= learned);
        let latents: Vec<usize> = ["pos_x", "pos_y", "scale"]
            .iter()
            .filter_map(|n| score(n).map(|s| s.best_latent))
            .collect();
        let distinct = latents.len() == 3
            && latents[0] != latents[1]
            && latents[0] != latents[2]
            && latents[1] != latents[2];
        PaperFinding {
            pos_x: is_learned("pos_x"),
            pos_y: is_learned("pos_y"),
            scale: is_learned("scale"),
            separate_latents: distinct,
            orientation_not_learned: !is_learned("orientation"),
        }
    }
}

/// The paper's Figure 5 claim, checked on a report ([`Report::paper_finding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PaperFinding {
    /// x position learned.
    pub pos_x: bool,
    /// y position learned.
    pub pos_y: bool,
    /// scale learned.
    pub scale: bool,
    /// x, y and scale each by its own latent.
    pub separate_latents: bool,
    /// rotation not learned.
    pub orientation_not_learned: bool,
}

impl PaperFinding {
    /// All five parts hold.
    pub fn reproduced(&self) -> bool {
        self.pos_x
            && self.pos_y
            && self.scale
            && self.separate_latents
            && self.orientation_not_learned
    }
}
