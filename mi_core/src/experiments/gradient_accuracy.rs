//! Figure 4: how accurately each estimator's gradient tracks ∂I/∂ρ of an encoder.
//!
//! The encoder p_ρ(y | x) = N(ρ ⊙ x, diag(1 − ρ²)) on x ~ N(0, I_d), reparameterised as
//! y = ρ ⊙ x + √(1 − ρ²) ⊙ ε, has I(ρ) = −½ Σ_i log(1 − ρ_i²) and the true gradient
//! ∂I/∂ρ_i = ρ_i / (1 − ρ_i²). Each estimator is evaluated with the critic built from the
//! *current* ρ — Lp[i, j] = Σ_k log N(y_ik; ρ_k x_jk, 1 − ρ_k²) and log p(y) = log N(y; 0, I) — and
//! differentiated with respect to ρ, so gradients flow through the samples and the critic.
//!
//! For every (MI, B) cell and estimator, the gradient MSE is the mean over R replicates of
//! (1/d)·‖ĝ − ∇I‖². Estimators: `tnce` and I_α for each α of the grid (α = 0 is NWJ's optimal
//! critic, α = 1 the leave-one-out InfoNCE). The best α of a cell minimises the gradient MSE.
//!
//! Replicates are batched: ρ is a `[R, 1, d]` variable (one copy per replicate, all equal), so
//! one backward pass through the sum of the R values gives every replicate's own gradient.

use super::{cell_rng, distinct_sorted, with_progress, Grid, GridReport};
use crate::bounds::{interpolated_many, tnce, Alpha};
use crate::data::mi_to_rho;
use crate::density::{diag_gaussian_log_prob_pairs, std_normal_log_prob};
use crate::error::{Error, Result};
use crate::io::{csv_column, csv_strings, num, parse_csv, write_csv};
use candle_core::{DType, Device, Tensor, Var};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The α grid of Figure 4 (0 = NWJ's optimal critic, 1 = leave-one-out InfoNCE).
pub const ALPHA_GRID: [f64; 12] = [
    0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.99, 1.0,
];

/// The grid of Figure 4.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// MI × B × replicates, seed and threads; every ρ_i = mi_to_rho(d, MI).
    #[serde(flatten)]
    pub grid: Grid,
    /// The α grid of I_α.
    pub alphas: Vec<f64>,
    /// Compute in f64 instead of f32 (2× slower; the samples are drawn in f64 either way and
    /// the leave-one-out reductions are exact in f32, so the MSEs agree within their noise).
    pub double_precision: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grid: Grid {
                batch_sizes: vec![4, 8, 16, 32, 64, 128, 256, 512],
                max_chunk_elems: 1 << 21,
                ..Grid::default()
            },
            alphas: ALPHA_GRID.to_vec(),
            double_precision: false,
        }
    }
}

impl Config {
    /// Checks the grid (MI > 0 is not required: at MI = 0 the true gradient is 0).
    pub fn validate(&self) -> Result<()> {
        self.grid.validate("gradient_accuracy")?;
        if self.alphas.is_empty() {
            return Err(Error::InvalidParameter {
                op: "gradient_accuracy",
                name: "alphas",
                value: "[]".into(),
                reason: "need at least one α",
            });
        }
        for &a in &self.alphas {
            Alpha::new(a)?;
        }
        Ok(())
    }
}

/// ∂I/∂ρ_i = ρ_i / (1 − ρ_i²) for the Gaussian encoder.
///
/// ```
/// use mi_core::experiments::gradient_accuracy::true_gradient;
/// assert!((true_gradient(0.5) - 0.5 / 0.75).abs() < 1e-15);
/// ```
pub fn true_gradient(rho: f64) -> f64 {
    rho / (1.0 - rho * rho)
}

/// One (estimator, MI, B) cell of gradient accuracy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// `tnce` or `alpha_α`.
    pub estimator: String,
    /// α for I_α rows, NaN for `tnce`.
    pub alpha: f64,
    /// The true MI (nats).
    pub mi: f64,
    /// The batch size B.
    pub batch_size: usize,
    /// Mean over replicates of (1/d)·‖ĝ − ∇I‖².
    pub grad_mse: f64,
    /// Standard error of `grad_mse`.
    pub grad_mse_sem: f64,
    /// Mean over replicates and coordinates of ĝ_i (all ρ_i are equal).
    pub grad_mean: f64,
    /// Standard error of `grad_mean` (over replicates of the coordinate average).
    pub grad_mean_sem: f64,
    /// The true ∂I/∂ρ_i.
    pub true_grad: f64,
}

/// The α minimising the gradient MSE in one (MI, B) cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BestAlpha {
    /// The true MI (nats).
    pub mi: f64,
    /// The batch size.
    pub batch_size: usize,
    /// argmin over the α grid of the gradient MSE.
    pub best_alpha: f64,
    /// That MSE.
    pub best_grad_mse: f64,
}

/// The result of [`run`].
pub type Report = GridReport<Config, Row>;

super::grid::impl_cell_row!(Row, estimator);

impl GridReport<Config, Row> {
    /// The best α of every (MI, B) cell, over the I_α rows.
    pub fn best_alpha(&self) -> Vec<BestAlpha> {
        let mut out = Vec::new();
        for &mi in &self.config.grid.mis {
            for &b in &self.config.grid.batch_sizes {
                let best = self
                    .rows
                    .iter()
                    .filter(|r| r.mi == mi && r.batch_size == b && !r.alpha.is_nan())
                    .min_by(|x, y| x.grad_mse.total_cmp(&y.grad_mse));
                if let Some(r) = best {
                    out.push(BestAlpha {
                        mi,
                        batch_size: b,
                        best_alpha: r.alpha,
                        best_grad_mse: r.grad_mse,
                    });
                }
            }
        }
        out
    }

    /// Reads back a table written by [`Report::to_csv`] (e.g. the committed
    /// `figures/fig4_gradient_mse.csv`) to re-plot it without recomputing; the grid and the α's
    /// come from the rows, `replicates` from the caller. Columns the table does not hold
    /// (standard errors, mean gradients) are NaN; the true gradient is recomputed.
    pub fn from_csv(text: &str, replicates: usize) -> Result<Report> {
        const OP: &str = "gradient_accuracy::Report::from_csv";
        let (h, rows) = parse_csv(OP, text)?;
        let col = |name| csv_column(OP, &h, &rows, name);
        let (alpha, mi, b, mse) = (
            col("alpha")?,
            col("mi")?,
            col("batch_size")?,
            col("grad_mse")?,
        );
        let names = csv_strings(OP, &h, &rows, "estimator")?;
        let config = Config {
            grid: Grid {
                mis: distinct_sorted(&mi),
                batch_sizes: distinct_sorted(&b).iter().map(|&x| x as usize).collect(),
                replicates,
                ..Config::default().grid
            },
            alphas: distinct_sorted(&alpha),
            ..Config::default()
        };
        config.validate()?;
        let rows = (0..rows.len())
            .map(|k| Row {
                estimator: names[k].clone(),
                alpha: alpha[k],
                mi: mi[k],
                batch_size: b[k] as usize,
                grad_mse: mse[k],
                grad_mse_sem: f64::NAN,
                grad_mean: f64::NAN,
                grad_mean_sem: f64::NAN,
                true_grad: true_gradient(mi_to_rho(config.grid.dim, mi[k])),
            })
            .collect();
        Ok(Report {
            config,
            rows,
            elapsed_s: f64::NAN,
        })
    }

    /// `estimator, alpha, mi, batch_size, grad_mse` (figures/fig4_gradient_mse.csv).
    pub fn to_csv(&self) -> Result<String> {
        write_csv(
            &["estimator", "alpha", "mi", "batch_size", "grad_mse"],
            self.rows.iter().map(|r| {
                vec![
                    r.estimator.clone(),
                    num(r.alpha),
                    num(r.mi),
                    r.batch_size.to_string(),
                    num(r.grad_mse),
                ]
            }),
        )
    }

    /// The rows as a DataFrame with the columns of [`Report::to_csv`]
    /// (`estimator, alpha, mi, batch_size, grad_mse`; `alpha` NaN for TNCE).
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let r = &self.rows;
        crate::table::TableBuilder::new()
            .str("estimator", r.iter().map(|r| r.estimator.clone()))
            .f64("alpha", r.iter().map(|r| r.alpha))
            .f64("mi", r.iter().map(|r| r.mi))
            .u64("batch_size", r.iter().map(|r| r.batch_size as u64))
            .f64("grad_mse", r.iter().map(|r| r.grad_mse))
            .build()
    }

    /// [`Report::best_alpha`] as a DataFrame: `mi, batch_size, best_alpha, best_grad_mse`.
    #[cfg(feature = "tables")]
    pub fn best_alpha_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let b = self.best_alpha();
        crate::table::TableBuilder::new()
            .f64("mi", b.iter().map(|b| b.mi))
            .u64("batch_size", b.iter().map(|b| b.batch_size as u64))
            .f64("best_alpha", b.iter().map(|b| b.best_alpha))
            .f64("best_grad_mse", b.iter().map(|b| b.best_grad_mse))
            .build()
    }

    /// `mi, batch_size, best_alpha, best_grad_mse` (figures/fig4_best_alpha.csv).
    pub fn best_alpha_csv(&self) -> Result<String> {
        write_csv(
            &["mi", "batch_size", "best_alpha", "best_grad_mse"],
            self.best_alpha().into_iter().map(|b| {
                vec![
                    num(b.mi),
                    b.batch_size.to_string(),
                    num(b.best_alpha),
                    num(b.best_grad_mse),
                ]
            }),
        )
    }
}

/// Runs the grid with a progress bar on the terminal.
pub fn run(config: &Config) -> Result<Report> {
    with_progress(config.grid.num_cells(), "fig4", |on_cell| {
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
    let work = |mi: f64, b: usize| cell(mi, b, &alphas, config);
    let rows = config
        .grid
        .sweep(&work, on_cell)?
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .collect();
    Ok(Report {
        config: config.clone(),
        rows,
        elapsed_s: start.elapsed().as_secs_f64(),
    })
}

/// Per-replicate statistics of one estimator: (1/d)‖ĝ − g*‖² and the coordinate mean of ĝ.
#[derive(Default)]
struct Acc {
    mse: Vec<f64>,
    mean: Vec<f64>,
}

fn cell(mi: f64, b: usize, alphas: &[Alpha], config: &Config) -> Result<Vec<Row>> {
    let d = config.grid.dim;
    let rho0 = mi_to_rho(d, mi);
    let g_true = true_gradient(rho0);
    let mut rng = cell_rng(config.grid.seed, mi, b);
    let chunk = config.grid.chunk_len(b);
    let dtype = if config.double_precision {
        DType::F64
    } else {
        DType::F32
    };
    let mut accs: Vec<Acc> = (0..=alphas.len()).map(|_| Acc::default()).collect();
    let mut done = 0;
    while done < config.grid.replicates {
        let c = chunk.min(config.grid.replicates - done);
        let normals = |rng: &mut rand_chacha::ChaCha8Rng| -> Result<Tensor> {
            let v: Vec<f64> = (0..c * b * d)
                .map(|_| StandardNormal.sample(&mut *rng))
                .collect();
            Ok(Tensor::from_vec(v, (c, b, d), &Device::Cpu)?.to_dtype(dtype)?)
        };
        let x = normals(&mut rng)?;
        let eps = normals(&mut rng)?;
        let rho = Var::from_tensor(&Tensor::full(rho0, (c, 1, d), &Device::Cpu)?.to_dtype(dtype)?)?;
        let r = rho.as_tensor();
        let var = r.sqr()?.affine(-1.0, 1.0)?;
        let mean = x.broadcast_mul(r)?;
        let y = mean.add(&eps.broadcast_mul(&var.sqrt()?)?)?;
        let lp = diag_gaussian_log_prob_pairs(&y, &mean, &var)?;
        let log_py = std_normal_log_prob(&y)?;
        let mut values = vec![tnce(&lp)?];
        values.extend(interpolated_many(&lp, &log_py, alphas)?);
        for (acc, v) in accs.iter_mut().zip(values) {
            let grads = v.sum_all()?.backward()?;
            let g = match grads.get(r) {
                Some(g) => g.reshape((c, d))?.to_dtype(DType::F64)?.to_vec2::<f64>()?,
                None => vec![vec![0.0; d]; c],
            };
            for row in g {
                acc.mse
                    .push(row.iter().map(|v| (v - g_true).powi(2)).sum::<f64>() / d as f64);
                acc.mean.push(row.iter().sum::<f64>() / d as f64);
            }
        }
        done += c;
    }
    let names = std::iter::once(("tnce".to_string(), f64::NAN))
        .chain(alphas.iter().map(|a| (format!("alpha_{a}"), a.value())));
    Ok(names
        .zip(accs)
        .map(|((estimator, alpha), acc)| {
            let (grad_mse, _, grad_mse_sem) = super::mean_var_sem(&acc.mse);
            let (grad_mean, _, grad_mean_sem) = super::mean_var_sem(&acc.mean);
            Row {
                estimator,
                alpha,
                mi,
                batch_size: b,
                grad_mse,
                grad_mse_sem,
                grad_mean,
                grad_mean_sem,
                true_grad: g_true,
            }
        })
        .collect())
}
