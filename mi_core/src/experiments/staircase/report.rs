//! The sweep's results: every run's history, the per-level summary (`fig2_summary.csv`), tables
//! and the deterministic checks.

use super::{Config, RunSpec};
use crate::error::{Error, Result};
use crate::io::{csv_column, csv_strings, num, parse_csv, write_csv};
use crate::train::{CriticKind, DatasetKind, History};
use serde::{Deserialize, Serialize};

/// One finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// What ran.
    pub spec: RunSpec,
    /// Every step's logged value and true MI; where it diverged.
    pub history: History,
    /// Wall time of the run (s).
    pub elapsed_s: f64,
    /// Number of trainable parameters.
    pub parameters: usize,
}

impl RunResult {
    /// The estimator's name (`nwj`, `alpha_0.01`, `tnce`, …).
    pub fn estimator(&self) -> String {
        self.spec.bound.name()
    }
}

/// One (run, level) row of the summary (`figures/fig2_summary.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// `gaussian` / `cubic`.
    pub dataset: String,
    /// `separable` / `concat` / `conditional`.
    pub critic: String,
    /// `nwj`, `js`, `infonce`, `tnce`, `alpha_0.01`, ….
    pub estimator: String,
    /// The level's true MI.
    pub true_mi: f64,
    /// Mean of the smoothed estimate over the level's last `window` steps (NaN if the run
    /// diverged before the level ended).
    pub mean_estimate: f64,
    /// mean_estimate − true_mi.
    pub bias: f64,
    /// Variance (n − 1) of the raw estimates over the same steps.
    pub variance: f64,
}

impl SummaryRow {
    const COLUMNS: [&'static str; 7] = [
        "dataset",
        "critic",
        "estimator",
        "true_mi",
        "mean_estimate",
        "bias",
        "variance",
    ];

    /// The rows as `fig2_summary.csv` (NaN as an empty field).
    pub fn to_csv(rows: &[SummaryRow]) -> Result<String> {
        write_csv(
            &Self::COLUMNS,
            rows.iter().map(|r| {
                vec![
                    r.dataset.clone(),
                    r.critic.clone(),
                    r.estimator.clone(),
                    num(r.true_mi),
                    num(r.mean_estimate),
                    num(r.bias),
                    num(r.variance),
                ]
            }),
        )
    }

    /// Reads back a table written by [`SummaryRow::to_csv`] (e.g. the committed
    /// `figures/fig2_summary.csv`), to compare sweeps or tabulate without the stored runs (the
    /// curves themselves re-plot from the run store: [`super::stored`]).
    pub fn from_csv(text: &str) -> Result<Vec<SummaryRow>> {
        const OP: &str = "staircase::SummaryRow::from_csv";
        let (h, rows) = parse_csv(OP, text)?;
        let strings = |name| csv_strings(OP, &h, &rows, name);
        let col = |name| csv_column(OP, &h, &rows, name);
        let (dataset, critic, estimator) = (
            strings("dataset")?,
            strings("critic")?,
            strings("estimator")?,
        );
        let (true_mi, mean, bias, variance) = (
            col("true_mi")?,
            col("mean_estimate")?,
            col("bias")?,
            col("variance")?,
        );
        Ok((0..rows.len())
            .map(|k| SummaryRow {
                dataset: dataset[k].clone(),
                critic: critic[k].clone(),
                estimator: estimator[k].clone(),
                true_mi: true_mi[k],
                mean_estimate: mean[k],
                bias: bias[k],
                variance: variance[k],
            })
            .collect())
    }
}

/// The sweep's result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The settings.
    pub config: Config,
    /// Every run, in [`Config::runs`] order.
    pub runs: Vec<RunResult>,
    /// Wall time of the sweep (s), reused runs included at zero cost.
    pub elapsed_s: f64,
}

/// pandas' `ewm(span).mean()` (adjusted): s_t = Σ_k (1−a)^k v_{t−k} / Σ_k (1−a)^k, a = 2/(span+1).
pub fn ewm(values: &[f64], span: usize) -> Vec<f64> {
    let a = 2.0 / (span as f64 + 1.0);
    let (mut num, mut den) = (0.0, 0.0);
    values
        .iter()
        .map(|&v| {
            num = v + (1.0 - a) * num;
            den = 1.0 + (1.0 - a) * den;
            num / den
        })
        .collect()
}

impl Report {
    /// The run of one (dataset, critic, estimator name).
    pub fn run(
        &self,
        dataset: DatasetKind,
        critic: CriticKind,
        estimator: &str,
    ) -> Option<&RunResult> {
        self.runs.iter().find(|r| {
            r.spec.dataset == dataset && r.spec.critic == critic && r.estimator() == estimator
        })
    }

    /// The smoothed estimates of a run.
    pub fn smoothed(&self, run: &RunResult) -> Vec<f64> {
        ewm(&run.history.estimates, self.config.span)
    }

    /// One row per level per run (levels of at least two steps; the schedule's single step at
    /// 0 nats is skipped).
    pub fn summary(&self) -> Vec<SummaryRow> {
        let mut rows = Vec::new();
        let Ok(schedule) = self.config.schedule() else {
            return rows;
        };
        let mi: Vec<f64> = schedule.values();
        // Level segments [start, end) of the schedule.
        let mut segments = Vec::new();
        let mut start = 0;
        for t in 1..=mi.len() {
            if t == mi.len() || mi[t] != mi[start] {
                if t - start >= 2 {
                    segments.push((start, t, mi[start]));
                }
                start = t;
            }
        }
        for run in &self.runs {
            let smooth = self.smoothed(run);
            let raw = &run.history.estimates;
            for &(s, e, level) in &segments {
                let lo = e.saturating_sub(self.config.window).max(s);
                let complete = raw.len() >= e && raw[lo..e].iter().all(|v| v.is_finite());
                let (mean, var) = if complete {
                    let n = (e - lo) as f64;
                    let mean = smooth[lo..e].iter().sum::<f64>() / n;
                    let rm = raw[lo..e].iter().sum::<f64>() / n;
                    let var = if e - lo > 1 {
                        raw[lo..e].iter().map(|v| (v - rm).powi(2)).sum::<f64>() / (n - 1.0)
                    } else {
                        f64::NAN
                    };
                    (mean, var)
                } else {
                    (f64::NAN, f64::NAN)
                };
                rows.push(SummaryRow {
                    dataset: run.spec.dataset.name().into(),
                    critic: run.spec.critic.name().into(),
                    estimator: run.estimator(),
                    true_mi: level,
                    mean_estimate: mean,
                    bias: mean - level,
                    variance: var,
                });
            }
        }
        rows
    }

    /// `dataset, critic, estimator, true_mi, mean_estimate, bias, variance`
    /// (`figures/fig2_summary.csv`; NaN as an empty field).
    pub fn summary_csv(&self) -> Result<String> {
        SummaryRow::to_csv(&self.summary())
    }

    /// The summary as a DataFrame with the columns of [`Report::summary_csv`].
    #[cfg(feature = "tables")]
    pub fn summary_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let r = self.summary();
        crate::table::TableBuilder::new()
            .str("dataset", r.iter().map(|r| r.dataset.clone()))
            .str("critic", r.iter().map(|r| r.critic.clone()))
            .str("estimator", r.iter().map(|r| r.estimator.clone()))
            .f64("true_mi", r.iter().map(|r| r.true_mi))
            .f64("mean_estimate", r.iter().map(|r| r.mean_estimate))
            .f64("bias", r.iter().map(|r| r.bias))
            .f64("variance", r.iter().map(|r| r.variance))
            .build()
    }

    /// The summary as one line per run: `run`, then the mean smoothed estimate at each level
    /// (`I = 2`, `I = 4`, …; NaN where the run diverged before the level ended).
    #[cfg(feature = "tables")]
    pub fn by_run_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let rows = self.summary();
        let mut levels: Vec<f64> = Vec::new();
        for r in &rows {
            if !levels.contains(&r.true_mi) {
                levels.push(r.true_mi);
            }
        }
        let mean = |run: &RunResult, level: f64| {
            rows.iter()
                .find(|r| {
                    r.dataset == run.spec.dataset.name()
                        && r.critic == run.spec.critic.name()
                        && r.estimator == run.estimator()
                        && r.true_mi == level
                })
                .map_or(f64::NAN, |r| r.mean_estimate)
        };
        let mut t =
            crate::table::TableBuilder::new().str("run", self.runs.iter().map(|r| r.spec.name()));
        for &level in &levels {
            t = t.f64(
                &format!("I = {level}"),
                self.runs.iter().map(|r| mean(r, level)),
            );
        }
        t.build()
    }

    /// Checks every run's deterministic cap ([`Bound::cap`]) on every logged step; errors with
    /// the first run that exceeds its cap.
    pub fn check_caps(&self) -> Result<()> {
        for run in &self.runs {
            let Some(cap) = run.spec.bound.cap(self.config.batch_size) else {
                continue;
            };
            let top = run
                .history
                .estimates
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            if top > cap + 1e-6 {
                return Err(Error::InvalidParameter {
                    op: "staircase::check_caps",
                    name: "estimate",
                    value: format!("{top} in {}", run.spec.name()),
                    reason: "a logged value exceeds its bound's deterministic cap",
                });
            }
        }
        Ok(())
    }

    /// Every logged step as a long table: `step, dataset, critic, estimator, true_mi, estimate,
    /// smoothed` (EMA with the config's span, 200 in the paper).
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let (mut step, mut dataset, mut critic, mut estimator) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut truth, mut estimate, mut smoothed) = (Vec::new(), Vec::new(), Vec::new());
        for run in &self.runs {
            let s = self.smoothed(run);
            let name = run.estimator();
            for (t, (&v, &m)) in run
                .history
                .estimates
                .iter()
                .zip(&run.history.true_mi)
                .enumerate()
            {
                step.push(t as u64);
                dataset.push(run.spec.dataset.name().to_string());
                critic.push(run.spec.critic.name().to_string());
                estimator.push(name.clone());
                truth.push(m);
                estimate.push(v);
                smoothed.push(s[t]);
            }
        }
        crate::table::TableBuilder::new()
            .u64("step", step)
            .str("dataset", dataset)
            .str("critic", critic)
            .str("estimator", estimator)
            .f64("true_mi", truth)
            .f64("estimate", estimate)
            .f64("smoothed", smoothed)
            .build()
    }

    /// Total wall time of the runs themselves (s), summed over workers.
    pub fn run_seconds(&self) -> f64 {
        self.runs.iter().map(|r| r.elapsed_s).sum()
    }
}
