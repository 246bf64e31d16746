//! The paper's experiments, one file per figure: `run(&Config) -> Result<Report>`.
//!
//! * [`bound_survey`] — every bound with its optimal critic over MI × batch size (§2).
//! * [`bias_variance`] — Figure 3: bias, variance and MSE of each estimator with its optimal
//!   critic on the correlated Gaussian, over MI × batch size.
//! * [`dsprites`] — Figure 5: scores (|Spearman|, MI, MIG) and feature selectivity of a
//!   representation of dSprites.
//! * [`gradient_accuracy`] — Figure 4: the accuracy of each estimator's gradient with respect to
//!   an encoder's parameters, and the α of I_α that minimises it.
//! * [`staircase`] — Figure 2: critics trained by every bound while the true MI climbs a
//!   staircase, on Gaussian and cubic data.
//! * [`recommend_alpha`] — an α for I_α given a batch size and a rough MI, read off Figure 4's
//!   best-α map.
//!
//! The optimal-critic experiments share one [`Grid`] (MI × B × replicates, seed, threads); every
//! (MI, B) cell draws from its own random stream (the seed plus the cell's coordinates), so a
//! cell's numbers do not depend on which other cells are in the grid.

pub mod bias_variance;
pub mod bound_survey;
pub mod dsprites;
pub mod gradient_accuracy;
mod grid;
mod recommend;
pub mod staircase;

pub use grid::{CellRow, Grid, GridReport};
pub use recommend::{recommend_alpha, BEST_ALPHA_BATCH_SIZES, BEST_ALPHA_MAP, BEST_ALPHA_MIS};

use crate::error::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The RNG of one (MI, B) cell: the run's seed, on a stream named by the cell's coordinates.
pub(crate) fn cell_rng(seed: u64, mi: f64, batch_size: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mi_milli = (mi * 1000.0).round().max(0.0) as u64;
    rng.set_stream(
        mi_milli
            .wrapping_mul(1_000_003)
            .wrapping_add(batch_size as u64),
    );
    rng
}

/// Replicates per chunk so that one `[chunk, B, B]` tensor holds at most `max_elems` entries.
pub(crate) fn chunk_len(replicates: usize, batch_size: usize, max_elems: usize) -> usize {
    (max_elems / (batch_size * batch_size)).clamp(1, replicates.max(1))
}

/// Evaluates `work` on every (MI, B) cell with `threads` workers (0 = one per core), calling
/// `on_cell` on the caller's thread as cells finish; results come back in `cells` order, and
/// each cell's numbers are the same whatever the thread count (every cell has its own RNG).
pub(crate) fn run_cells<T: Send>(
    cells: &[(f64, usize)],
    threads: usize,
    work: &(dyn Fn(f64, usize) -> Result<T> + Sync),
    on_cell: &mut dyn FnMut(f64, usize),
) -> Result<Vec<T>> {
    // Largest batches first, so the workers finish together.
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cells[i].1));
    parallel(
        cells.len(),
        &order,
        threads,
        &|i| work(cells[i].0, cells[i].1),
        &mut |i| on_cell(cells[i].0, cells[i].1),
    )
}

/// Runs `work(i)` for i in `0..n` on `threads` workers (0 = one per core), handing out items
/// in `order`; `on_done(i)` runs on the caller's thread as items finish. Results come back in
/// index order. The first error stops handing out work and is returned.
pub(crate) fn parallel<T: Send>(
    n: usize,
    order: &[usize],
    threads: usize,
    work: &(dyn Fn(usize) -> Result<T> + Sync),
    on_done: &mut dyn FnMut(usize),
) -> Result<Vec<T>> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
    .min(n.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<T>)>();
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                if tx.send((i, work(i))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            match result {
                Ok(v) => {
                    results[i] = Some(v);
                    on_done(i);
                }
                Err(e) => {
                    // Stop handing out work; running items finish and are dropped.
                    next.store(usize::MAX / 2, std::sync::atomic::Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(())
    })?;
    results
        .into_iter()
        .map(|r| {
            r.ok_or_else(|| Error::InvalidParameter {
                op: "experiment",
                name: "work",
                value: String::new(),
                reason: "a worker stopped before finishing its item (is `order` a permutation?)",
            })
        })
        .collect()
}

/// Mean, unbiased variance and standard error of the mean.
pub(crate) fn mean_var_sem(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        f64::NAN
    };
    (mean, var, (var / n).sqrt())
}

/// The sandwich at one (MI, B) cell: mean TNCE ≤ I ≤ mean leave-one-out upper bound, each with
/// `n_se` standard errors of slack (and 1e-9 for exact values), and TNCE ≤ log B. `lower` and
/// `upper` are (mean, standard error).
pub(crate) fn check_sandwich_cell(
    op: &'static str,
    mi: f64,
    batch_size: usize,
    lower: (f64, f64),
    upper: (f64, f64),
    n_se: f64,
) -> Result<()> {
    let ok = lower.0 <= mi + n_se * lower.1 + 1e-9
        && mi <= upper.0 + n_se * upper.1 + 1e-9
        && lower.0 <= (batch_size as f64).ln() + 1e-9;
    if ok {
        return Ok(());
    }
    Err(Error::InvalidParameter {
        op,
        name: "cell",
        value: format!(
            "I = {mi}, B = {batch_size}: TNCE {} ± {}, leave-one-out {} ± {}",
            lower.0, lower.1, upper.0, upper.1
        ),
        reason: "the sandwich TNCE ≤ I ≤ leave-one-out upper bound (TNCE ≤ log B) is broken",
    })
}

/// Runs `run` reporting its progress over `cells` cells ([`crate::progress`]).
pub(crate) fn with_progress<T>(
    cells: usize,
    what: &str,
    run: impl FnOnce(&mut dyn FnMut(f64, usize)) -> Result<T>,
) -> Result<T> {
    let progress = crate::progress::Progress::new(what, cells as u64, "cells");
    let out = run(&mut |mi, b| {
        progress.set_message(format!("I = {mi}, B = {b}"));
        progress.inc(1);
    });
    progress.finish();
    out
}

/// The distinct values of `v`, sorted.
pub(crate) fn distinct_sorted(v: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    out.sort_by(|a, b| a.total_cmp(b));
    out.dedup();
    out
}
