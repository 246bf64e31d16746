//! The task-suite benchmark (`mi tasks bench`): every task × bound, estimate against the truth.
//! A regression benchmark, not a timed test.

use super::{
    barber_agakov_estimate, estimate, estimate_all, BaConfig, BoundChoice, EstimateConfig,
};
use crate::data::Sampler;
use crate::error::Result;
use crate::tasks::Task;
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use serde::Serialize;

/// The benchmark's tolerance at `truth`: max(0.1 nats, 5 % of the truth).
pub fn tolerance(truth: f64) -> f64 {
    (0.05 * truth).max(0.1)
}

/// An estimate is "within tolerance" when |estimate − truth| ≤ [`tolerance`]`(truth)`.
pub fn within_tolerance(truth: f64, estimate: f64) -> bool {
    (estimate - truth).abs() <= tolerance(truth)
}

/// One task × bound.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    /// The task's name.
    pub task: String,
    /// Its true MI (nats).
    pub true_mi: f64,
    /// The bound reported.
    pub bound: String,
    /// The held-out estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_err: f64,
    /// |estimate − truth|.
    pub abs_error: f64,
    /// [`within_tolerance`].
    pub within: bool,
    /// The estimate's warnings.
    pub warnings: usize,
    /// Wall time of this bound's estimate.
    pub seconds: f64,
}

/// Copies of a task's sample that drawing and saving it holds at once (the sampler's joint draw,
/// the split into x and y, the file's bytes).
const SAMPLE_COPIES: usize = 3;

/// `n` samples of `task` drawn with `seed`, as `[n, d]` f64 tensors; an `n` whose sample would
/// not fit in memory is refused before anything is drawn.
pub fn task_tensors(task: &Task, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    crate::limits::check_memory(
        "tasks",
        "n",
        format!("{n} samples of {} + {} columns", task.dim_x(), task.dim_y()),
        crate::limits::sum_bytes(&[
            crate::limits::bytes_of(&[n, task.dim_x(), 8, SAMPLE_COPIES]),
            crate::limits::bytes_of(&[n, task.dim_y(), 8, SAMPLE_COPIES]),
        ]),
    )?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (x, y) = task.sample_f64(n, &mut rng);
    Ok((
        Tensor::from_vec(x, (n, task.dim_x()), &Device::Cpu)?,
        Tensor::from_vec(y, (n, task.dim_y()), &Device::Cpu)?,
    ))
}

/// What [`bench`] measured: one row per task × bound, and the settings.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// One row per task × bound, in task order.
    pub rows: Vec<BenchRow>,
    /// Samples per task.
    pub n: usize,
    /// The data seed.
    pub data_seed: u64,
    /// The estimator's settings.
    pub config: EstimateConfig,
}

impl BenchReport {
    /// How many rows are within tolerance.
    pub fn within_count(&self) -> usize {
        self.rows.iter().filter(|r| r.within).count()
    }

    /// The rows as a plain-text table (the `--format table` output), then the count within
    /// tolerance.
    pub fn render_table(&self) -> String {
        let mut out = bench_header();
        out.push('\n');
        for r in &self.rows {
            out.push_str(&bench_line(r));
            out.push('\n');
        }
        out.push_str(&bench_summary(self.within_count(), self.rows.len()));
        out.push('\n');
        out
    }

    /// The rows as a DataFrame: `task, true_mi, bound, estimate, std_err, abs_error, tolerance,
    /// within, warnings, seconds` (nats; `within` is a boolean: |estimate − truth| ≤
    /// tolerance = max(0.1, 5 % of the truth)).
    #[cfg(feature = "tables")]
    pub fn to_dataframe(&self) -> Result<polars::prelude::DataFrame> {
        let r = &self.rows;
        crate::table::TableBuilder::new()
            .str("task", r.iter().map(|r| r.task.as_str()))
            .f64("true_mi", r.iter().map(|r| r.true_mi))
            .str("bound", r.iter().map(|r| r.bound.as_str()))
            .f64("estimate", r.iter().map(|r| r.estimate))
            .f64("std_err", r.iter().map(|r| r.std_err))
            .f64("abs_error", r.iter().map(|r| r.abs_error))
            .f64("tolerance", r.iter().map(|r| tolerance(r.true_mi)))
            .bool("within", r.iter().map(|r| r.within))
            .u64("warnings", r.iter().map(|r| r.warnings as u64))
            .f64("seconds", r.iter().map(|r| r.seconds))
            .build()
    }
}

/// The closing line of the text table: how many rows are within tolerance.
pub fn bench_summary(within: usize, rows: usize) -> String {
    format!("{within}/{rows} within max(0.1 nats, 5 %) of the truth")
}

/// The bound name of the Barber–Agakov rows.
pub const BARBER_AGAKOV: &str = "barber_agakov";

/// The decoder settings of the benchmark's Barber–Agakov rows: the defaults with the
/// estimate's seed, transform of Y and non-finite handling.
fn ba_config(config: &EstimateConfig) -> BaConfig {
    BaConfig {
        seed: config.seed,
        transform_y: config.transform,
        drop_nonfinite: config.drop_nonfinite,
        ..BaConfig::default()
    }
}

/// Runs `config` (one bound, `auto` or `all`) on `n` samples of each task (data seed `seed`),
/// calling `on_row` as each row is ready. With `all`, tasks whose h(X) is known
/// ([`Task::entropy_x`]) also get a [`BARBER_AGAKOV`] row ([`barber_agakov_estimate`]).
pub fn bench(
    tasks: &[Task],
    n: usize,
    seed: u64,
    config: &EstimateConfig,
    on_row: &mut dyn FnMut(&BenchRow),
) -> Result<BenchReport> {
    let mut rows = Vec::new();
    for task in tasks {
        let (x, y) = task_tensors(task, n, seed)?;
        let truth = task.mutual_information();
        // (bound, estimate, std_err, warnings, seconds)
        let mut results: Vec<(String, f64, f64, usize, f64)> = match config.bound {
            BoundChoice::All => estimate_all(&x, &y, config)?
                .bounds
                .into_values()
                .collect::<Vec<_>>(),
            _ => vec![estimate(&x, &y, config)?],
        }
        .into_iter()
        .map(|e| (e.bound, e.estimate, e.std_err, e.warnings.len(), e.seconds))
        .collect();
        if let (BoundChoice::All, Some(h)) = (config.bound, task.entropy_x()) {
            let ba = barber_agakov_estimate(&x, &y, h, &ba_config(config))?;
            results.push((
                BARBER_AGAKOV.into(),
                ba.estimate,
                ba.std_err,
                ba.warnings.len(),
                ba.seconds,
            ));
        }
        for (bound, est, std_err, warnings, seconds) in results {
            let row = BenchRow {
                task: task.name().to_string(),
                true_mi: truth,
                bound,
                estimate: est,
                std_err,
                abs_error: (est - truth).abs(),
                within: within_tolerance(truth, est),
                warnings,
                seconds,
            };
            on_row(&row);
            rows.push(row);
        }
    }
    Ok(BenchReport {
        rows,
        n,
        data_seed: seed,
        config: *config,
    })
}

/// One line of [`BenchReport::render_table`].
pub fn bench_line(r: &BenchRow) -> String {
    format!(
        "{:<24} {:>8.3} {:<26} {:>9.3} {:>8.3} {:>8.3} {:>6} {:>8} {:>8.1}",
        r.task,
        r.true_mi,
        r.bound,
        r.estimate,
        r.std_err,
        r.abs_error,
        if r.within { "yes" } else { "no" },
        r.warnings,
        r.seconds
    )
}

/// The header of [`BenchReport::render_table`].
pub fn bench_header() -> String {
    format!(
        "{:<24} {:>8} {:<26} {:>9} {:>8} {:>8} {:>6} {:>8} {:>8}",
        "task",
        "true_mi",
        "bound",
        "estimate",
        "std_err",
        "abs_err",
        "within",
        "warnings",
        "seconds"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_the_larger_of_a_tenth_and_five_percent() {
        assert!(within_tolerance(1.0, 1.09) && !within_tolerance(1.0, 1.11));
        assert!(within_tolerance(10.0, 9.5) && !within_tolerance(10.0, 9.49));
    }
}
