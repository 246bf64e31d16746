//! The Figure 5 search as data: one [`TrialRow`] per trained run (its settings, wall time,
//! the objective's terms at the end of training and the scores of the evaluation), kept in one
//! CSV table (`figures/fig5_trials.csv`) by [`record_trial`]. The rows are serde rows: written
//! and read through the same struct, so a column is named in one place.

use super::run::Report;
use crate::error::{Error, Result};
use crate::infomax::TcLower;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The end-of-training terms are means over this many last steps (fewer when the run is
/// shorter): one step's I_JS or TC_ub is a single minibatch estimate.
pub const TAIL_STEPS: usize = 100;

/// One trial of the Figure 5 search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialRow {
    /// The trial's name (unique in the table: a rerun replaces its row).
    pub trial: String,
    /// The profile it started from and the overrides applied, as typed.
    pub settings: String,
    /// Batch size B.
    pub batch: usize,
    /// Steps trained.
    pub steps: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// The lower bound inside TC_ub (`js` or `tnce`).
    pub tc_lower: String,
    /// TC threshold δ (nats).
    pub delta: f64,
    /// Smoothness threshold γ (nats).
    pub gamma: f64,
    /// Pixel-noise std.
    pub noise_std: f64,
    /// Steps without the TC term, then steps of its ramp.
    pub warmup: usize,
    /// See `warmup`.
    pub ramp: usize,
    /// Seconds of training in the call that recorded the row (a resumed run's earlier calls are
    /// not counted: see `resumed_from`).
    pub train_seconds: f64,
    /// The step that call resumed from (empty: trained from scratch).
    pub resumed_from: Option<usize>,
    /// Threads of the training.
    pub threads: usize,
    /// The CPU (`lscpu`'s model name) the time was measured on.
    pub cpu: String,
    /// Means over the last [`TAIL_STEPS`] steps: I_JS, TC_ub, the smoothness KL, λ_TC as used.
    pub i_js: f64,
    /// See `i_js`.
    pub tc_ub: f64,
    /// See `i_js`.
    pub kl: f64,
    /// See `i_js`.
    pub lambda_tc: f64,
    /// Active latents (spec §7.4's variance rule) and their MBU_k (nats, tail means), `;`-joined.
    pub active: usize,
    /// See `active`.
    pub active_mbu: String,
    /// Images evaluated.
    pub eval_images: usize,
    /// Per factor: the best |Spearman| over latents, its latent and the factor's MIG.
    pub shape_rho: f64,
    /// See `shape_rho`.
    pub scale_rho: f64,
    /// See `shape_rho`.
    pub orientation_rho: f64,
    /// See `shape_rho`.
    pub pos_x_rho: f64,
    /// See `shape_rho`.
    pub pos_y_rho: f64,
    /// See `shape_rho`.
    pub scale_latent: usize,
    /// See `shape_rho`.
    pub pos_x_latent: usize,
    /// See `shape_rho`.
    pub pos_y_latent: usize,
    /// See `shape_rho`.
    pub shape_mig: f64,
    /// See `shape_rho`.
    pub scale_mig: f64,
    /// See `shape_rho`.
    pub orientation_mig: f64,
    /// See `shape_rho`.
    pub pos_x_mig: f64,
    /// See `shape_rho`.
    pub pos_y_mig: f64,
    /// [`Report::paper_finding`] at |Spearman| ≥ [`LEARNED_RHO`]: all five parts hold.
    pub reproduced: bool,
}

/// The |Spearman| at which the trials table calls a factor learned.
pub const LEARNED_RHO: f64 = 0.5;

impl TrialRow {
    /// The row of a finished run: `settings` says how its config was chosen, `cpu` and
    /// `threads` where it ran.
    pub fn new(trial: &str, settings: &str, report: &Report, cpu: &str, threads: usize) -> Self {
        let c = &report.config;
        let logs = &report.history.logs;
        let tail = &logs[logs.len().saturating_sub(TAIL_STEPS)..];
        let mean = |f: &dyn Fn(&crate::train::InfoMaxLog) -> f64| {
            if tail.is_empty() {
                f64::NAN
            } else {
                tail.iter().map(f).sum::<f64>() / tail.len() as f64
            }
        };
        let active_mbu = report
            .active
            .iter()
            .map(|&k| {
                format!(
                    "{:.3}",
                    mean(&|l| l.mbu.get(k).copied().unwrap_or(f64::NAN))
                )
            })
            .collect::<Vec<_>>()
            .join(";");
        let score = |name: &str| report.factor_scores.iter().find(|s| s.factor == name);
        let rho = |name: &str| score(name).map_or(f64::NAN, |s| s.best_abs_spearman);
        let latent = |name: &str| score(name).map_or(usize::MAX, |s| s.best_latent);
        let mig = |name: &str| {
            report
                .mig
                .iter()
                .find(|(f, _)| f == name)
                .map_or(f64::NAN, |(_, m)| *m)
        };
        Self {
            trial: trial.to_string(),
            settings: settings.to_string(),
            batch: c.fit.batch_size,
            steps: logs.len(),
            lr: c.fit.adam.lr,
            tc_lower: match c.infomax.tc_lower {
                TcLower::Js => "js",
                TcLower::Tnce => "tnce",
            }
            .to_string(),
            delta: c.infomax.delta,
            gamma: c.infomax.gamma,
            noise_std: c.infomax.noise_std,
            warmup: c.infomax.tc_schedule.warmup,
            ramp: c.infomax.tc_schedule.ramp,
            train_seconds: report.train_seconds,
            resumed_from: report.resumed_from,
            threads,
            cpu: cpu.to_string(),
            i_js: mean(&|l| l.i_js),
            tc_ub: mean(&|l| l.tc_ub),
            kl: mean(&|l| l.kl),
            lambda_tc: mean(&|l| l.lambda_tc),
            active: report.active.len(),
            active_mbu,
            eval_images: report.eval_images,
            shape_rho: rho("shape"),
            scale_rho: rho("scale"),
            orientation_rho: rho("orientation"),
            pos_x_rho: rho("pos_x"),
            pos_y_rho: rho("pos_y"),
            scale_latent: latent("scale"),
            pos_x_latent: latent("pos_x"),
            pos_y_latent: latent("pos_y"),
            shape_mig: mig("shape"),
            scale_mig: mig("scale"),
            orientation_mig: mig("orientation"),
            pos_x_mig: mig("pos_x"),
            pos_y_mig: mig("pos_y"),
            reproduced: report.paper_finding(LEARNED_RHO).reproduced(),
        }
    }
}

fn table_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: format!("{e} (the Figure 5 trials table)"),
    }
}

/// Reads a trials table (an absent file is an empty table).
pub fn read_trials(path: &Path) -> Result<Vec<TrialRow>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = crate::io::read_text(path, " (the Figure 5 trials table)")?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.deserialize()
        .map(|row| row.map_err(|e| table_error(path, e)))
        .collect()
}

/// Adds `row` to the trials table at `path` (created if absent; a row with the same trial
/// name is replaced in place), written all or nothing. A file that is not a trials table is an
/// error and is left as it is.
pub fn record_trial(path: &Path, row: &TrialRow) -> Result<()> {
    let mut rows = read_trials(path)?;
    match rows.iter_mut().find(|r| r.trial == row.trial) {
        Some(old) => *old = row.clone(),
        None => rows.push(row.clone()),
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for r in &rows {
        w.serialize(r).map_err(|e| table_error(path, e))?;
    }
    let bytes = w.into_inner().map_err(|e| table_error(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| table_error(path, e))?;
    crate::io::write_text_atomic(path, &text)
}
