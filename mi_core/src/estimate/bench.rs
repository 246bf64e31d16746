//! The task-suite benchmark (`mi tasks bench`): every task × bound, estimate against the truth.
//! A regression benchmark, not a timed test.

use super::{estimate, estimate_all, BoundChoice, EstimateConfig};
use crate::data::Sampler;
use crate::error::Result;
use crate::tasks::Task;
use candle_core::{Device, Tensor};
use rand::SeedableRng;
use serde::Serialize;

/// An estimate is "within tolerance" when |estimate − truth| ≤ max(0.1 nats, 5 % of the truth).
pub fn within_tolerance(truth: f64, estimate: f64) -> bool {
    (estimate - truth).abs() <= (0.05 * truth).max(0.1)
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

/// `n` samples of `task` drawn with `seed`, as `[n, d]` f64 tensors.
pub fn task_tensors(task: &Task, n: usize, seed: u64) -> Result<(Tensor, Tensor)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (x, y) = task.sample_f64(n, &mut rng);
    Ok((
        Tensor::from_vec(x, (n, task.dim_x()), &Device::Cpu)?,
        Tensor::from_vec(y, (n, task.dim_y()), &Device::Cpu)?,
    ))
}

/// Runs `config` (one bound, `auto` or `all`) on `n` samples of each task (data seed `seed`),
/// calling `on_row` as each row is ready.
pub fn bench(
    tasks: &[Task],
    n: usize,
    seed: u64,
    config: &EstimateConfig,
    on_row: &mut dyn FnMut(&BenchRow),
) -> Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    for task in tasks {
        let (x, y) = task_tensors(task, n, seed)?;
        let truth = task.mutual_information();
        let results = match config.bound {
            BoundChoice::All => estimate_all(&x, &y, config)?.bounds.into_values().collect(),
            _ => vec![estimate(&x, &y, config)?],
        };
        for e in results {
            let row = BenchRow {
                task: task.name().to_string(),
                true_mi: truth,
                bound: e.bound.clone(),
                estimate: e.estimate,
                std_err: e.std_err,
                abs_error: (e.estimate - truth).abs(),
                within: within_tolerance(truth, e.estimate),
                warnings: e.warnings.len(),
                seconds: e.seconds,
            };
            on_row(&row);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// One line of [`render_bench_table`].
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

/// The header of [`render_bench_table`].
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

/// A plain-text table of the rows and a count of those within tolerance.
pub fn render_bench_table(rows: &[BenchRow]) -> String {
    let mut out = bench_header();
    out.push('\n');
    for r in rows {
        out.push_str(&bench_line(r));
        out.push('\n');
    }
    let ok = rows.iter().filter(|r| r.within).count();
    out.push_str(&format!(
        "{ok}/{} within max(0.1 nats, 5 %) of the truth\n",
        rows.len()
    ));
    out
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
