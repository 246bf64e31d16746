//! Figure 3: bias, variance and MSE of each estimator with its optimal critic.
//!
//! On the d-dimensional correlated Gaussian at each MI, for each batch size B, R independent
//! batches are drawn and every estimator is evaluated on the *same* batches, in f64:
//!
//! * `nwj` — NWJ(1 + r) = TUBA(Lp, log p(y)), unbiased;
//! * `alpha_α` — I_α(Lp, log p(y), α) for each α of the config;
//! * `tnce` — InfoNCE with the true conditional, ≤ log B;
//! * `loo_upper` — the leave-one-out upper bound.
//!
//! All R replicates of a cell are one batched computation on `[R, B, B]` tensors (chunked over R
//! so memory stays bounded), not a loop over replicates.

use super::{distinct_sorted, mean_var_sem, with_progress, Grid, GridReport};
use crate::bounds::{interpolated_many, loo_upper, tnce, Alpha};
use crate::error::Result;
use crate::io::{csv_column, csv_strings, num, parse_csv, write_csv};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The grid and the estimators of Figure 3.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// MI × B × replicates, seed and threads.
    #[serde(flatten)]
    pub grid: Grid,
    /// The α values of I_α.
    pub alphas: Vec<f64>,
    /// Keep every replicate's value in the report (for tests and histograms).
    pub keep_samples: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grid: Grid {
                batch_sizes: vec![4, 8, 16, 32, 64, 128, 256, 512],
                replicates: 2000,
                ..Grid::default()
            },
            alphas: vec![0.01, 0.1, 0.5, 0.9],
            keep_samples: false,
        }
    }
}

impl Config {
    /// Checks the grid (dim ≥ 1, MI ≥ 0, B ≥ 2, R ≥ 2, α ∈ [0, 1]).
    pub fn validate(&self) -> Result<()> {
        self.grid.validate("bias_variance")?;
        for &a in &self.alphas {
            Alpha::new(a)?;
        }
        Ok(())
    }

    /// The estimator names, in report order.
    pub fn estimators(&self) -> Vec<String> {
        let mut names = vec!["nwj".to_string()];
        names.extend(self.alphas.iter().map(|a| format!("alpha_{a}")));
        names.extend(["tnce".to_string(), "loo_upper".to_string()]);
        names
    }
}

/// One (estimator, MI, B) cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `nwj`, `alpha_0.01`, …, `tnce`, `loo_upper`.
    pub estimator: String,
    /// The true MI (nats).
    pub mi: f64,
    /// The batch size B.
    pub batch_size: usize,
    /// Mean estimate over the R batches.
    pub mean: f64,
    /// mean − MI.
    pub bias: f64,
    /// Variance over the R batches (R − 1 denominator).
    pub variance: f64,
    /// bias² + variance.
    pub mse: f64,
    /// Standard error of the mean, √(variance / R).
    pub sem: f64,
    /// Every replicate's value, when `keep_samples` is set.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub samples: Vec<f64>,
}

/// The result of [`run`].
pub type Report = GridReport<Config, Row>;

super::grid::impl_cell_row!(Row, estimator);

impl GridReport<Config, Row> {
    /// Checks the sandwich E[TNCE] ≤ I ≤ E[leave-one-out upper bound] and TNCE ≤ log B at every
    /// cell with B ≥ `min_batch_size`, with `n_se` standard errors of slack (cells without both
    /// rows are skipped).
    pub fn check_sandwich(&self, min_batch_size: usize, n_se: f64) -> Result<()> {
        for r in self.rows.iter().filter(|r| r.estimator == "tnce") {
            if r.batch_size < min_batch_size {
                continue;
            }
            if let Some(hi) = self.row("loo_upper", r.mi, r.batch_size) {
                super::check_sandwich_cell(
                    "bias_variance::check_sandwich",
                    r.mi,
                    r.batch_size,
                    (r.mean, r.sem),
                    (hi.mean, hi.sem),
                    n_se,
                )?;
            }
        }
        Ok(())
    }

    /// The rows as a DataFrame with the columns of [`Report::to_csv`].
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let r = &self.rows;
        crate::table::TableBuilder::new()
            .str("estimator", r.iter().map(|r| r.estimator.clone()))
            .f64("mi", r.iter().map(|r| r.mi))
            .u64("batch_size", r.iter().map(|r| r.batch_size as u64))
            .f64("mean", r.iter().map(|r| r.mean))
            .f64("bias", r.iter().map(|r| r.bias))
            .f64("variance", r.iter().map(|r| r.variance))
            .f64("mse", r.iter().map(|r| r.mse))
            .f64("sem", r.iter().map(|r| r.sem))
            .build()
    }

    /// Reads back a table written by [`Report::to_csv`] (e.g. the committed
    /// `figures/fig3_bias_variance.csv`) to re-plot it without recomputing; the grid and the α's
    /// are taken from the rows, `replicates` (not in the table) from the caller.
    pub fn from_csv(text: &str, replicates: usize) -> Result<Report> {
        const OP: &str = "bias_variance::Report::from_csv";
        let (h, rows) = parse_csv(OP, text)?;
        let col = |name| csv_column(OP, &h, &rows, name);
        let (mi, b, mean, bias) = (col("mi")?, col("batch_size")?, col("mean")?, col("bias")?);
        let (variance, mse, sem) = (col("variance")?, col("mse")?, col("sem")?);
        let names = csv_strings(OP, &h, &rows, "estimator")?;
        let mut alphas: Vec<f64> = Vec::new();
        for n in &names {
            if let Some(a) = n.strip_prefix("alpha_").and_then(|a| a.parse::<f64>().ok()) {
                if !alphas.contains(&a) {
                    alphas.push(a);
                }
            }
        }
        let config = Config {
            grid: Grid {
                mis: distinct_sorted(&mi),
                batch_sizes: distinct_sorted(&b).iter().map(|&x| x as usize).collect(),
                replicates,
                ..Config::default().grid
            },
            alphas,
            ..Config::default()
        };
        config.validate()?;
        let rows = (0..rows.len())
            .map(|k| Row {
                estimator: names[k].clone(),
                mi: mi[k],
                batch_size: b[k] as usize,
                mean: mean[k],
                bias: bias[k],
                variance: variance[k],
                mse: mse[k],
                sem: sem[k],
                samples: Vec::new(),
            })
            .collect();
        Ok(Report {
            config,
            rows,
            elapsed_s: f64::NAN,
        })
    }

    /// `estimator, mi, batch_size, mean, bias, variance, mse, sem` (figures/fig3_bias_variance.csv).
    pub fn to_csv(&self) -> Result<String> {
        write_csv(
            &[
                "estimator",
                "mi",
                "batch_size",
                "mean",
                "bias",
                "variance",
                "mse",
                "sem",
            ],
            self.rows.iter().map(|r| {
                vec![
                    r.estimator.clone(),
                    num(r.mi),
                    r.batch_size.to_string(),
                    num(r.mean),
                    num(r.bias),
                    num(r.variance),
                    num(r.mse),
                    num(r.sem),
                ]
            }),
        )
    }
}

/// Runs the grid with a progress bar on the terminal.
pub fn run(config: &Config) -> Result<Report> {
    with_progress(config.grid.num_cells(), "fig3", |on_cell| {
        run_with(config, on_cell)
    })
}

/// Runs the grid, calling `on_cell(mi, batch_size)` after each cell.
pub fn run_with(config: &Config, on_cell: &mut dyn FnMut(f64, usize)) -> Result<Report> {
    config.validate()?;
    let start = Instant::now();
    let alphas: Vec<Alpha> = config
        .alphas
        .iter()
        .map(|&a| Alpha::new(a))
        .collect::<Result<_>>()?;
    let names = config.estimators();
    let work = |mi: f64, b: usize| cell(mi, b, &alphas, config);
    let mut rows = Vec::new();
    for ((mi, b), values) in config.grid.sweep(&work, on_cell)? {
        for (name, v) in names.iter().zip(values) {
            let (mean, variance, sem) = mean_var_sem(&v);
            let bias = mean - mi;
            rows.push(Row {
                estimator: name.clone(),
                mi,
                batch_size: b,
                mean,
                bias,
                variance,
                mse: bias * bias + variance,
                sem,
                samples: if config.keep_samples { v } else { Vec::new() },
            });
        }
    }
    Ok(Report {
        config: config.clone(),
        rows,
        elapsed_s: start.elapsed().as_secs_f64(),
    })
}

/// Every estimator's R values in one cell, in [`Config::estimators`] order.
fn cell(mi: f64, b: usize, alphas: &[Alpha], config: &Config) -> Result<Vec<Vec<f64>>> {
    let mut out = vec![Vec::with_capacity(config.grid.replicates); alphas.len() + 3];
    config.grid.gaussian_chunks(mi, b, |lp, log_py| {
        let mut all: Vec<Tensor> = vec![crate::bounds::tuba(lp, log_py)?];
        all.extend(interpolated_many(lp, log_py, alphas)?);
        all.push(tnce(lp)?);
        all.push(loo_upper(lp)?);
        for (o, t) in out.iter_mut().zip(all) {
            o.extend(t.to_vec1::<f64>()?);
        }
        Ok(())
    })?;
    Ok(out)
}
