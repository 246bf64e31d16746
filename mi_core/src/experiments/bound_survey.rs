//! Every bound with its optimal critic, side by side (the paper's §2.1–2.5 in numbers).
//!
//! On the d-dimensional correlated Gaussian, for each (MI, B) cell, R batches are drawn and every
//! bound of [`Config::bounds`] is evaluated on the *same* batches, each with the critic that is
//! optimal for it (all built from the analytic log p(y|x) and log p(y), in f64):
//!
//! | bound | scores | log-baseline |
//! |---|---|---|
//! | TUBA, I_α | Lp = log p(y_i\|x_j) | log p(y_i) |
//! | NWJ | 1 + log r, r = p(y\|x)/p(y) | — |
//! | DV, InfoNCE, SMILE | log r (any per-row shift gives the same InfoNCE) | — |
//! | I_JS | log r (the JS-optimal critic; value NWJ(log r + c)) | — |
//! | TNCE, leave-one-out upper | Lp | — |
//! | rate | Lp | log p(y_i) (normalised) |
//!
//! Each row also carries the largest single-batch value and the bound's deterministic cap where it
//! has one (log B for InfoNCE/TNCE, 1 + log((B − 1)/α) for I_α), so "never above the cap" is a
//! column to read, not a claim.

use super::distinct_sorted;
use super::{mean_var_sem, with_progress, Grid, GridReport};
use crate::bounds::{Alpha, Bound, BoundKind, JS_EVAL_SHIFT};
use crate::error::{Error, Result};
use crate::io::{csv_column, csv_strings, num, parse_csv, write_csv};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The grid and the bounds of the survey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// MI × B × replicates, seed and threads.
    #[serde(flatten)]
    pub grid: Grid,
    /// The bounds, each evaluated with its optimal critic (MINE's EMA, which carries state
    /// across batches, and the JS f-GAN objective, which is not an MI value, are refused).
    pub bounds: Vec<Bound>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grid: Grid::default(),
            bounds: default_bounds(),
        }
    }
}

/// TUBA, NWJ, DV, InfoNCE, I_JS, SMILE (τ = 5), I_α for α ∈ {0.01, 0.5, 0.99}, TNCE, the
/// leave-one-out upper bound and the rate.
pub fn default_bounds() -> Vec<Bound> {
    let mut bounds = vec![
        Bound::Tuba,
        Bound::Nwj,
        Bound::Dv,
        Bound::InfoNce,
        Bound::Js {
            eval_shift: JS_EVAL_SHIFT,
        },
        Bound::Smile { tau: 5.0 },
    ];
    bounds.extend(
        [0.01, 0.5, 0.99]
            .into_iter()
            .filter_map(|a| Alpha::new(a).ok())
            .map(|alpha| Bound::Interpolated { alpha }),
    );
    bounds.extend([Bound::Tnce, Bound::LooUpper, Bound::Rate]);
    bounds
}

impl Config {
    /// Checks the grid and that every bound has an optimal critic here.
    pub fn validate(&self) -> Result<()> {
        self.grid.validate("bound_survey")?;
        for b in &self.bounds {
            if matches!(b, Bound::MineEma { .. } | Bound::JsFgan) {
                return Err(Error::InvalidParameter {
                    op: "bound_survey",
                    name: "bounds",
                    value: b.name(),
                    reason: "MINE's EMA carries state across batches and the JS f-GAN objective \
                             is not an MI value: use dv / js instead",
                });
            }
        }
        if self.bounds.is_empty() {
            return Err(Error::InvalidParameter {
                op: "bound_survey",
                name: "bounds",
                value: "[]".into(),
                reason: "name at least one bound",
            });
        }
        Ok(())
    }
}

/// One (bound, MI, B) cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The bound's name ([`Bound::name`]).
    pub bound: String,
    /// `lower`, `upper` or `neither`.
    pub kind: BoundKind,
    /// The true MI (nats).
    pub mi: f64,
    /// The batch size B.
    pub batch_size: usize,
    /// Mean over the R batches.
    pub mean: f64,
    /// mean − MI.
    pub bias: f64,
    /// Standard error of the mean.
    pub sem: f64,
    /// The largest single-batch value.
    pub max: f64,
    /// The deterministic cap ([`Bound::cap`]), if any.
    pub cap: Option<f64>,
}

/// The result of [`run`].
pub type Report = GridReport<Config, Row>;

super::grid::impl_cell_row!(Row, bound);

impl GridReport<Config, Row> {
    /// Reads back a table written by [`Report::to_csv`] (e.g. `figures/01_bounds_gaussian.csv`)
    /// to re-plot it without recomputing: the bounds (in first-appearance order) and the grid come
    /// from the rows, `replicates` (not in the table) from the caller; each row's kind and cap
    /// are re-derived from its bound and checked against the table.
    pub fn from_csv(text: &str, replicates: usize) -> Result<Report> {
        const OP: &str = "bound_survey::Report::from_csv";
        let (h, rows) = parse_csv(OP, text)?;
        let col = |name| csv_column(OP, &h, &rows, name);
        let (mi, b, mean, bias) = (col("mi")?, col("batch_size")?, col("mean")?, col("bias")?);
        let (sem, max, cap) = (col("sem")?, col("max")?, col("cap")?);
        let (names, kinds) = (
            csv_strings(OP, &h, &rows, "bound")?,
            csv_strings(OP, &h, &rows, "kind")?,
        );
        let mut bounds: Vec<Bound> = Vec::new();
        let mut out = Vec::with_capacity(rows.len());
        for k in 0..rows.len() {
            let bound: Bound = names[k].parse()?;
            let batch_size = b[k] as usize;
            let derived_cap = bound.cap(batch_size);
            let cap_matches = match derived_cap {
                Some(c) => (c - cap[k]).abs() <= 1e-12 * c.abs().max(1.0),
                None => cap[k].is_nan(),
            };
            if bound.kind().name() != kinds[k] || !cap_matches {
                return Err(Error::InvalidParameter {
                    op: OP,
                    name: "row",
                    value: format!("{} (kind {}, cap {})", names[k], kinds[k], cap[k]),
                    reason: "the kind or cap does not match the bound's (another version?)",
                });
            }
            if !bounds.contains(&bound) {
                bounds.push(bound);
            }
            out.push(Row {
                bound: bound.name(),
                kind: bound.kind(),
                mi: mi[k],
                batch_size,
                mean: mean[k],
                bias: bias[k],
                sem: sem[k],
                max: max[k],
                cap: derived_cap,
            });
        }
        let config = Config {
            grid: Grid {
                mis: distinct_sorted(&mi),
                batch_sizes: distinct_sorted(&b).iter().map(|&x| x as usize).collect(),
                replicates,
                ..Grid::default()
            },
            bounds,
        };
        config.validate()?;
        Ok(Report {
            config,
            rows: out,
            elapsed_s: f64::NAN,
        })
    }

    /// `bound, kind, mi, batch_size, mean, bias, sem, max, cap` (cap empty where none).
    pub fn to_csv(&self) -> Result<String> {
        write_csv(
            &[
                "bound",
                "kind",
                "mi",
                "batch_size",
                "mean",
                "bias",
                "sem",
                "max",
                "cap",
            ],
            self.rows.iter().map(|r| {
                vec![
                    r.bound.clone(),
                    r.kind.name().into(),
                    num(r.mi),
                    r.batch_size.to_string(),
                    num(r.mean),
                    num(r.bias),
                    num(r.sem),
                    num(r.max),
                    r.cap.map(num).unwrap_or_default(),
                ]
            }),
        )
    }

    /// The rows as a DataFrame with the columns of [`Report::to_csv`] (cap NaN where none).
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let r = &self.rows;
        crate::table::TableBuilder::new()
            .str("bound", r.iter().map(|r| r.bound.clone()))
            .str("kind", r.iter().map(|r| r.kind.name()))
            .f64("mi", r.iter().map(|r| r.mi))
            .u64("batch_size", r.iter().map(|r| r.batch_size as u64))
            .f64("mean", r.iter().map(|r| r.mean))
            .f64("bias", r.iter().map(|r| r.bias))
            .f64("sem", r.iter().map(|r| r.sem))
            .f64("max", r.iter().map(|r| r.max))
            .f64("cap", r.iter().map(|r| r.cap.unwrap_or(f64::NAN)))
            .build()
    }

    /// The mean estimates at one batch size as a bound × MI table (`bound`, `kind`, then one
    /// column `I=…` per MI), for reading.
    #[cfg(feature = "tables")]
    pub fn means_at(&self, batch_size: usize) -> Result<polars::prelude::DataFrame> {
        if !self.config.grid.batch_sizes.contains(&batch_size) {
            return Err(Error::InvalidParameter {
                op: "bound_survey::means_at",
                name: "batch_size",
                value: batch_size.to_string(),
                reason: "not a batch size of this report",
            });
        }
        let bounds = &self.config.bounds;
        let mut t = crate::table::TableBuilder::new()
            .str("bound", bounds.iter().map(|b| b.name()))
            .str("kind", bounds.iter().map(|b| b.kind().name()));
        for &mi in &self.config.grid.mis {
            t = t.f64(
                &format!("I={mi}"),
                bounds.iter().map(|b| {
                    self.row(&b.name(), mi, batch_size)
                        .map_or(f64::NAN, |r| r.mean)
                }),
            );
        }
        t.build()
    }

    /// Checks the sandwich E[TNCE] ≤ I ≤ E[leave-one-out upper bound] (and TNCE ≤ log B) in every
    /// (MI, B) cell, with `n_se` standard errors of slack; errors with the first cell where it
    /// fails.
    pub fn check_sandwich(&self, n_se: f64) -> Result<()> {
        for &mi in &self.config.grid.mis {
            for &b in &self.config.grid.batch_sizes {
                let (lo, hi) = self.sandwich_at(mi, b)?;
                super::check_sandwich_cell(
                    "bound_survey::check_sandwich",
                    mi,
                    b,
                    (lo.mean, lo.sem),
                    (hi.mean, hi.sem),
                    n_se,
                )?;
            }
        }
        Ok(())
    }

    /// The sandwich per cell: `I, B, TNCE, LOO upper, gap` (means; gap = upper − lower).
    #[cfg(feature = "tables")]
    pub fn sandwich_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let mut cells = Vec::new();
        for &mi in &self.config.grid.mis {
            for &b in &self.config.grid.batch_sizes {
                let (lo, hi) = self.sandwich_at(mi, b)?;
                cells.push((mi, b as u64, lo.mean, hi.mean));
            }
        }
        crate::table::TableBuilder::new()
            .f64("I", cells.iter().map(|c| c.0))
            .u64("B", cells.iter().map(|c| c.1))
            .f64("TNCE", cells.iter().map(|c| c.2))
            .f64("LOO upper", cells.iter().map(|c| c.3))
            .f64("gap", cells.iter().map(|c| c.3 - c.2))
            .build()
    }

    fn sandwich_at(&self, mi: f64, batch_size: usize) -> Result<(&Row, &Row)> {
        let get = |name: &str| {
            self.row(name, mi, batch_size)
                .ok_or_else(|| Error::InvalidParameter {
                    op: "bound_survey::sandwich",
                    name: "bounds",
                    value: format!("{name} at I = {mi}, B = {batch_size}"),
                    reason: "the sandwich needs the tnce and loo_upper rows",
                })
        };
        Ok((get("tnce")?, get("loo_upper")?))
    }
}

/// Every bound on one score matrix and on its transpose (the score convention made visible:
/// only the bounds that normalise over one axis, InfoNCE and I_α, change).
#[derive(Clone, Debug, PartialEq)]
pub struct Orientations {
    /// The bounds, in order.
    pub bounds: Vec<Bound>,
    /// Each bound on S.
    pub on_scores: Vec<f64>,
    /// Each bound on Sᵀ.
    pub on_transpose: Vec<f64>,
    /// B.
    pub batch_size: usize,
}

impl Orientations {
    /// Evaluates each bound (fresh state, no baseline) on `scores [B, B]` and on its transpose.
    pub fn evaluate(scores: &candle_core::Tensor, bounds: &[Bound]) -> Result<Self> {
        let transpose = scores.t()?.contiguous()?;
        let eval = |b: &Bound, s: &candle_core::Tensor| -> Result<f64> {
            Ok(b.evaluate(s, None)?
                .to_dtype(candle_core::DType::F64)?
                .to_scalar::<f64>()?)
        };
        Ok(Self {
            batch_size: scores.dim(0)?,
            bounds: bounds.to_vec(),
            on_scores: bounds
                .iter()
                .map(|b| eval(b, scores))
                .collect::<Result<_>>()?,
            on_transpose: bounds
                .iter()
                .map(|b| eval(b, &transpose))
                .collect::<Result<_>>()?,
        })
    }

    /// The values (on S, on Sᵀ) of the bound named `name`.
    pub fn value(&self, name: &str) -> Option<(f64, f64)> {
        let k = self.bounds.iter().position(|b| b.name() == name)?;
        Some((self.on_scores[k], self.on_transpose[k]))
    }

    /// Checks every bound's deterministic cap ([`Bound::cap`]) on both orientations.
    pub fn check_caps(&self) -> Result<()> {
        for (k, b) in self.bounds.iter().enumerate() {
            let top = self.on_scores[k].max(self.on_transpose[k]);
            if b.cap(self.batch_size).is_some_and(|cap| top > cap) {
                return Err(Error::InvalidParameter {
                    op: "Orientations::check_caps",
                    name: "value",
                    value: format!("{b} = {top}"),
                    reason: "above the bound's deterministic cap",
                });
            }
        }
        Ok(())
    }

    /// `bound, kind, scores S, transpose Sᵀ` (`figures/01_toy_matrix.csv`).
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        crate::table::TableBuilder::new()
            .str("bound", self.bounds.iter().map(|b| b.name()))
            .str("kind", self.bounds.iter().map(|b| b.kind().name()))
            .f64("scores S", self.on_scores.iter().copied())
            .f64("transpose Sᵀ", self.on_transpose.iter().copied())
            .build()
    }
}

/// Runs the survey with a progress bar on the terminal.
pub fn run(config: &Config) -> Result<Report> {
    with_progress(config.grid.num_cells(), "bounds", |on_cell| {
        run_with(config, on_cell)
    })
}

/// Runs the survey, calling `on_cell(mi, batch_size)` after each cell.
pub fn run_with(config: &Config, on_cell: &mut dyn FnMut(f64, usize)) -> Result<Report> {
    config.validate()?;
    let start = Instant::now();
    let work = |mi: f64, b: usize| cell(mi, b, config);
    let mut rows = Vec::new();
    for ((mi, b), values) in config.grid.sweep(&work, on_cell)? {
        for (bound, v) in config.bounds.iter().zip(values) {
            let (mean, _variance, sem) = mean_var_sem(&v);
            rows.push(Row {
                bound: bound.name(),
                kind: bound.kind(),
                mi,
                batch_size: b,
                mean,
                bias: mean - mi,
                sem,
                max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                cap: bound.cap(b),
            });
        }
    }
    Ok(Report {
        config: config.clone(),
        rows,
        elapsed_s: start.elapsed().as_secs_f64(),
    })
}

/// The optimal-critic inputs of `bound`: its scores and log-baseline.
fn inputs<'a>(
    bound: &Bound,
    lp: &'a Tensor,
    log_py: &'a Tensor,
    log_r: &'a Tensor,
    nwj_scores: &'a Tensor,
) -> (&'a Tensor, &'a Tensor) {
    match bound {
        Bound::Tuba | Bound::Interpolated { .. } | Bound::Rate => (lp, log_py),
        Bound::Tnce | Bound::LooUpper => (lp, log_py),
        Bound::Nwj => (nwj_scores, log_py),
        _ => (log_r, log_py),
    }
}

/// Every bound's R values in one cell, in `config.bounds` order.
fn cell(mi: f64, b: usize, config: &Config) -> Result<Vec<Vec<f64>>> {
    let mut out = vec![Vec::with_capacity(config.grid.replicates); config.bounds.len()];
    config.grid.gaussian_chunks(mi, b, |lp, log_py| {
        let log_r = lp.broadcast_sub(&log_py.unsqueeze(2)?)?;
        let nwj_scores = (&log_r + 1.0)?;
        for (o, bound) in out.iter_mut().zip(&config.bounds) {
            let (s, l) = inputs(bound, lp, log_py, &log_r, &nwj_scores);
            o.extend(bound.evaluate(s, Some(l))?.to_vec1::<f64>()?);
        }
        Ok(())
    })?;
    Ok(out)
}
