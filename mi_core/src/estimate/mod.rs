//! The mutual information of a user's own data: `estimate(&x, &y, &EstimateConfig::default())`.
//!
//! # Method
//!
//! 1. **Rows.** x and y are `[n, d]` (or `[n]`, one column) with row i of each forming one pair.
//!    Rows holding NaN or ±∞ are an error, or dropped with [`EstimateConfig::drop_nonfinite`].
//! 2. **Split.** A seeded random permutation puts 20 % of the rows in a test split, 20 % in a
//!    validation split and the rest in training.
//! 3. **Transform.** Each column is transformed by a monotone map fitted on the training rows
//!    ([`Transform`]; rank-Gaussianising by default, standardising on request). MI is unchanged
//!    by injective maps of X and of Y, so this changes what the critic sees, not the target.
//! 4. **Train.** The critic is trained on random minibatches of the training rows with the
//!    crate's one training loop ([`crate::train::Trainer`]). Every `eval_every` steps the bound
//!    is evaluated on the validation split (the separable critic on all its rows at once, the
//!    concat critic, whose M × M scores cost M² network passes, on disjoint B-row blocks); the
//!    weights with the best validation value are kept, and training stops after `patience`
//!    evaluations without improvement (early stopping), at `max_steps`, or on divergence.
//! 5. **Report.** The bound is evaluated with the kept weights on the whole test split, for
//!    either critic on the M × M score matrix of all its M rows (in equal blocks of at most
//!    4096 rows), so InfoNCE's cap is log M rather than log B and its bias at a fixed critic is
//!    smaller. The standard error is a delete-a-group jackknife over the rows of each block
//!    (the rows share their negatives), combined over the independent blocks (their spread
//!    where there are at least 10). The test rows took no part in training or in any choice,
//!    so for a lower bound the estimate is a lower bound on I(X; Y) in expectation (up to the
//!    transform's clamped tails).
//!
//! The critic ([`CriticChoice`]) is by default chosen on the validation split: a separable
//! critic and a narrower concat critic are both trained, and the one with the larger validation
//! value of its kept weights (on the whole validation split, in blocks of the test value's size,
//! for both) is reported ([`CriticChoice::Auto`]).
//!
//! `bound = auto` trains InfoNCE first. If its validation value is more than
//! [`AUTO_SATURATION_MARGIN`] below its cap log M, InfoNCE (the lowest-variance lower bound) is
//! reported; otherwise the interpolated bound I_α, whose cap is 1 + log((M − 1)/α), is trained
//! with α from [`recommend_alpha`] at that estimate, and the better of the two on the validation
//! split is reported. The result says why.

mod ba;
mod bench;
pub mod checkpoint;
mod choose;
mod device;
mod early_stop;
mod fit;
mod prepare;
mod report;
mod sandwich;

pub use ba::{barber_agakov_estimate, BaConfig, BaEstimate};
pub use bench::{
    bench, bench_header, bench_line, bench_summary, task_tensors, tolerance, within_tolerance,
    BenchReport, BenchRow,
};
pub use checkpoint::TrainedCritic;
pub use choose::{CriticChoice, AUTO_CONCAT_HIDDEN, AUTO_CONCAT_LR};
pub use device::DeviceChoice;
pub use prepare::Transform;
pub use report::{BestLower, Estimate, EstimateAll};
pub use sandwich::{sandwich_gaussian, Sandwich, SandwichConfig, SANDWICH_MAX_BATCH};

use crate::bounds::{Alpha, Bound};
use crate::error::{Error, Result};
use crate::experiments::recommend_alpha;
use crate::train::AdamConfig;
use candle_core::Tensor;
use choose::{explain, train_best};
use prepare::{finite_rows, split, Fitted, RowStream, Rows};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How far (nats) below log B InfoNCE's validation value must stay for `auto` to keep InfoNCE.
/// InfoNCE's bias grows well before its cap: on `fig2-cubic-6` (B = 128, cap 4.85) InfoNCE
/// stopped at 3.68 while I_α reached 4.27 (truth 6), so a 1-nat margin kept the worse bound.
pub const AUTO_SATURATION_MARGIN: f64 = 1.5;
/// Fewest usable rows: below this no split leaves a test set worth the name.
pub const MIN_ROWS: usize = 200;
/// Batch size used when the data allow it (and none is given).
pub const DEFAULT_BATCH_SIZE: usize = 128;

/// Which bound to estimate with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundChoice {
    /// Chosen from the data (see the module docs).
    Auto,
    /// Every critic bound ([`ALL_BOUNDS`] and I_α), reported side by side.
    All,
    /// I_α with α recommended from a first InfoNCE estimate.
    Interpolated,
    /// This bound.
    Bound(Bound),
}

impl std::str::FromStr for BoundChoice {
    type Err = Error;

    /// `auto`, `all`, `interpolated` / `alpha`, or a critic bound's name (`infonce`/`nce`, `nwj`,
    /// `tuba`, `dv`/`mine`, `js`, `smile`, `alpha_A`).
    fn from_str(s: &str) -> Result<Self> {
        let choice = match s.trim().to_ascii_lowercase().as_str() {
            "auto" => BoundChoice::Auto,
            "all" => BoundChoice::All,
            "interpolated" | "alpha" => BoundChoice::Interpolated,
            other => BoundChoice::Bound(other.parse()?),
        };
        if let BoundChoice::Bound(b) = choice {
            check_trainable(b)?;
        }
        Ok(choice)
    }
}

/// The bounds of `--bound all` besides I_α.
pub const ALL_BOUNDS: [Bound; 6] = [
    Bound::InfoNce,
    Bound::Nwj,
    Bound::Tuba,
    Bound::Dv,
    Bound::Js {
        eval_shift: crate::bounds::JS_EVAL_SHIFT,
    },
    Bound::Smile { tau: 5.0 },
];

fn check_trainable(b: Bound) -> Result<()> {
    if b.needs_known_conditional() || matches!(b, Bound::MineEma { .. } | Bound::JsFgan) {
        return Err(Error::InvalidParameter {
            op: "estimate",
            name: "bound",
            value: b.name(),
            reason: "not a critic bound of I(X; Y) that `estimate` trains (use nce, nwj, tuba, \
                     dv, js, smile, interpolated, alpha_A, all or auto)",
        });
    }
    Ok(())
}

/// Everything `estimate` needs to know; `Default` gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EstimateConfig {
    /// The bound (default `auto`).
    pub bound: BoundChoice,
    /// α for `Interpolated` (and the I_α of `All`); recommended when `None`.
    pub alpha: Option<f64>,
    /// The critic: chosen on validation (`Auto`, the default), separable or concat.
    #[serde(default)]
    pub critic: CriticChoice,
    /// Minibatch size B; `None`: [`DEFAULT_BATCH_SIZE`], lowered for small data so that the
    /// test split holds at least 4 batches.
    pub batch_size: Option<usize>,
    /// Most training steps.
    pub max_steps: usize,
    /// Steps between two validation evaluations.
    pub eval_every: usize,
    /// Evaluations without improvement before training stops.
    pub patience: usize,
    /// Seeds the split, the weights and the minibatches.
    pub seed: u64,
    /// The per-column transform.
    pub transform: Transform,
    /// Drop rows with NaN/±∞ instead of refusing the data.
    pub drop_nonfinite: bool,
    /// Hidden width of the critic's networks.
    pub hidden: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Where the critic trains (`cpu` by default; `cuda` needs the `cuda` feature).
    #[serde(default)]
    pub device: DeviceChoice,
}

impl Default for EstimateConfig {
    fn default() -> Self {
        Self {
            bound: BoundChoice::Auto,
            alpha: None,
            critic: CriticChoice::Auto,
            batch_size: None,
            max_steps: 4000,
            eval_every: 100,
            patience: 8,
            seed: 0,
            transform: Transform::Gaussianize,
            drop_nonfinite: false,
            hidden: 256,
            lr: 5e-4,
            device: DeviceChoice::Cpu,
        }
    }
}

impl EstimateConfig {
    /// Checks every setting once.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidParameter {
                op: "estimate",
                name,
                value,
                reason,
            })
        };
        if self.batch_size.is_some_and(|b| b < 2) {
            return bad("batch_size", format!("{:?}", self.batch_size), "need B ≥ 2");
        }
        if self.max_steps == 0 || self.eval_every == 0 || self.patience == 0 {
            return bad(
                "steps",
                format!("{}/{}/{}", self.max_steps, self.eval_every, self.patience),
                "max_steps, eval_every and patience must be ≥ 1",
            );
        }
        if self.hidden == 0 {
            return bad("hidden", "0".into(), "need a hidden width ≥ 1");
        }
        if let Some(a) = self.alpha {
            Alpha::new(a)?;
            if let BoundChoice::Bound(b) = self.bound {
                return bad(
                    "alpha",
                    format!("{a} with --bound {}", b.name()),
                    "α is read only by the interpolated bound (interpolated, auto or all); \
                     drop --alpha, or name I_α with its α as alpha_A",
                );
            }
        }
        if let BoundChoice::Bound(b) = self.bound {
            check_trainable(b)?;
        }
        self.device.check()?;
        AdamConfig {
            lr: self.lr,
            ..AdamConfig::default()
        }
        .validate()
    }
}

/// The data after checks, split and transform, shared by every bound of one call.
struct Prepared {
    train: RowStream,
    val: RowStream,
    test: RowStream,
    batch_size: usize,
    n_dropped: usize,
    /// The transforms fitted on the training rows (kept with each trained critic).
    fx: std::sync::Arc<Fitted>,
    fy: std::sync::Arc<Fitted>,
    device: candle_core::Device,
}

fn prepare(x: &Tensor, y: &Tensor, config: &EstimateConfig) -> Result<Prepared> {
    config.validate()?;
    let (x, y) = (Rows::from_tensor("x", x)?, Rows::from_tensor("y", y)?);
    check_memory(config, &x, &y)?;
    let (x, y, n_dropped) = finite_rows(&x, &y, config.drop_nonfinite)?;
    let n = x.n;
    if n < MIN_ROWS {
        return Err(Error::InvalidParameter {
            op: "estimate",
            name: "rows",
            value: format!("{n} usable rows"),
            reason: "too few rows: need at least 200 for a train/validation/test split",
        });
    }
    let n_test = n / 5;
    let n_val = n / 5;
    let batch_size = match config.batch_size {
        Some(b) => b,
        None => {
            let fit = (n_test / 4).max(2);
            DEFAULT_BATCH_SIZE.min(1 << fit.ilog2())
        }
    };
    if batch_size > n_test || batch_size > n - n_test - n_val {
        return Err(Error::InvalidParameter {
            op: "estimate",
            name: "batch_size",
            value: batch_size.to_string(),
            reason: "larger than the test split (20 % of the rows): lower --batch-size or \
                     give more rows",
        });
    }
    let [tr, va, te] = split(n, n_val, n_test, config.seed);
    let (xt, yt) = (x.select(&tr), y.select(&tr));
    let (fx, fy) = (
        Fitted::fit(config.transform, &xt),
        Fitted::fit(config.transform, &yt),
    );
    let part = |idx: &[usize]| RowStream {
        x: fx.apply(&x.select(idx)),
        y: fy.apply(&y.select(idx)),
    };
    Ok(Prepared {
        train: part(&tr),
        val: part(&va),
        test: part(&te),
        batch_size,
        n_dropped,
        fx: fx.into(),
        fy: fy.into(),
        device: config.device.device()?,
    })
}

/// Copies of the data [`prepare`] makes (the finite rows, the split, the transformed rows and
/// the sorted training columns of `gaussianize`).
const DATA_COPIES: usize = 4;

/// Refuses a call whose data copies and training would need more memory than the machine has
/// ([`crate::limits::memory_cap`]), before any is allocated: `--hidden 50000` asks for two
/// 50 000 × 50 000 weight matrices and their optimizer state.
fn check_memory(config: &EstimateConfig, x: &Rows, y: &Rows) -> Result<()> {
    use crate::limits::{bytes_of, sum_bytes};
    let n = x.n.max(y.n);
    // A batch larger than the data is refused later, with its own message.
    let b = config.batch_size.unwrap_or(DEFAULT_BATCH_SIZE).min(n);
    let need = sum_bytes(&[
        bytes_of(&[n, x.dim, 8, DATA_COPIES]),
        bytes_of(&[n, y.dim, 8, DATA_COPIES]),
        fit::evaluation_bytes(n, b),
    ]);
    // The candidates train one after the other, the best one kept while the next trains.
    let need = choose::candidates(config).iter().fold(need, |acc, c| {
        let kind = choose::CriticChoice::resolved(c).ok();
        sum_bytes(&[
            acc,
            kind.and_then(|k| fit::training_bytes(c, k, x.dim, y.dim, b)),
        ])
    });
    crate::limits::check_memory(
        "estimate",
        "hidden",
        format!(
            "{} with batch size {b} on {n} rows of {} + {} columns",
            config.hidden, x.dim, y.dim
        ),
        need,
    )
}

/// α for I_α: the given one, or [`recommend_alpha`] at B and `mi` (clamped to ≥ 0).
fn alpha_bound(config: &EstimateConfig, b: usize, mi: f64) -> Result<Bound> {
    let a = match config.alpha {
        Some(a) => a,
        None => recommend_alpha(b, mi.max(0.0))?,
    };
    Ok(Bound::Interpolated {
        alpha: Alpha::new(a)?,
    })
}

/// Estimates I(X; Y) from paired rows `x [n, dx]` (or `[n]`) and `y [n, dy]` with one bound
/// (`auto`, `interpolated` or a named one; `all` is [`estimate_all`]).
///
/// ```no_run
/// use candle_core::{Device, Tensor};
/// let x = Tensor::randn(0f32, 1.0, (5000, 2), &Device::Cpu)?;
/// let y = (&x + Tensor::randn(0f32, 1.0, (5000, 2), &Device::Cpu)?)?;
/// let r = mi_core::estimate(&x, &y, &mi_core::EstimateConfig::default())?;
/// println!("{} ± {} nats ({:?})", r.estimate, r.std_err, r.warnings);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn estimate(x: &Tensor, y: &Tensor, config: &EstimateConfig) -> Result<Estimate> {
    let start = Instant::now();
    let data = prepare(x, y, config)?;
    let b = data.batch_size;
    let mut est = match config.bound {
        BoundChoice::Bound(bound) => train_best(&data, bound, config)?.0,
        BoundChoice::All => {
            return Err(Error::InvalidParameter {
                op: "estimate",
                name: "bound",
                value: "all".into(),
                reason: "`all` returns several estimates: call estimate_all",
            })
        }
        BoundChoice::Interpolated => {
            let (mut e, why) = match config.alpha {
                Some(_) => {
                    let bound = alpha_bound(config, b, 0.0)?;
                    (train_best(&data, bound, config)?.0, "α given".to_string())
                }
                None => {
                    // The pilot chooses the critic; I_α trains with that one only.
                    let (pilot, chosen) = train_best(&data, Bound::InfoNce, config)?;
                    let bound = alpha_bound(config, b, pilot.validation_estimate)?;
                    let why = format!(
                        "α recommended (Figure 4's best-α map) for B = {b} at InfoNCE's \
                         validation estimate {:.3} nats",
                        pilot.validation_estimate
                    );
                    let mut e = fit::train_one(&data, bound, &chosen)?;
                    e.why = pilot.why;
                    (e, why)
                }
            };
            explain(&mut e, why);
            e
        }
        BoundChoice::Auto => auto(&data, config)?,
    };
    est.seconds = start.elapsed().as_secs_f64();
    Ok(est)
}

fn auto(data: &Prepared, config: &EstimateConfig) -> Result<Estimate> {
    let b = data.batch_size;
    // InfoNCE chooses the critic; I_α, if needed, trains with that one only.
    let (mut nce, chosen) = train_best(data, Bound::InfoNce, config)?;
    let m = fit::test_block(data.val.x.n, b);
    let cap = (m as f64).ln();
    let v = nce.validation_estimate;
    if v < cap - AUTO_SATURATION_MARGIN {
        let why = format!(
            "auto: InfoNCE's validation estimate {v:.3} nats is more than \
             {AUTO_SATURATION_MARGIN} nats below its cap log M = {cap:.3} (M = {m} validation \
             rows per evaluation block), so InfoNCE, \
             the lowest-variance lower bound, is not saturated"
        );
        explain(&mut nce, why);
        return Ok(nce);
    }
    let bound = alpha_bound(config, b, v)?;
    let mut alpha = fit::train_one(data, bound, &chosen)?;
    let why = format!(
        "auto: InfoNCE's validation estimate {v:.3} nats is within {AUTO_SATURATION_MARGIN} nats \
         of its cap log M = {cap:.3} (M = {m} validation rows per evaluation block); trained \
         I_α with α = {} (Figure 4's best-α map at B = {b} and that estimate; cap {:.3}); \
         reported the larger validation estimate: ",
        bound_alpha(&bound),
        bound.cap(m).unwrap_or(f64::INFINITY)
    );
    if alpha.validation_estimate >= v {
        alpha.why = nce.why.take();
        let why = format!("{why}I_α {:.3} ≥ InfoNCE {v:.3}", alpha.validation_estimate);
        explain(&mut alpha, why);
        Ok(alpha)
    } else {
        let why = format!("{why}InfoNCE {v:.3} > I_α {:.3}", alpha.validation_estimate);
        explain(&mut nce, why);
        Ok(nce)
    }
}

fn bound_alpha(b: &Bound) -> f64 {
    match b {
        Bound::Interpolated { alpha } => alpha.value(),
        _ => f64::NAN,
    }
}

/// Every critic bound ([`ALL_BOUNDS`] and I_α with the given or recommended α) on the same
/// split (with the critic InfoNCE chose, [`CriticChoice`]), and the largest lower bound, chosen
/// on the validation split (not the test estimates, so the reported test value is not the
/// maximum of noisy values).
pub fn estimate_all(x: &Tensor, y: &Tensor, config: &EstimateConfig) -> Result<EstimateAll> {
    let start = Instant::now();
    let data = prepare(x, y, config)?;
    let mut results = std::collections::BTreeMap::new();
    // InfoNCE chooses the critic; every other bound trains with that one.
    let (nce, chosen) = train_best(&data, Bound::InfoNce, config)?;
    let nce_val = nce.validation_estimate;
    results.insert(nce.bound.clone(), nce);
    for bound in ALL_BOUNDS.into_iter().filter(|b| *b != Bound::InfoNce) {
        let e = fit::train_one(&data, bound, &chosen)?;
        results.insert(e.bound.clone(), e);
    }
    let alpha = alpha_bound(config, data.batch_size, nce_val)?;
    let mut e = fit::train_one(&data, alpha, &chosen)?;
    e.why = Some(match config.alpha {
        Some(_) => "α given".into(),
        None => format!("α recommended at InfoNCE's validation estimate {nce_val:.3} nats"),
    });
    results.insert(e.bound.clone(), e);
    let best_lower = results
        .values()
        .filter(|e| e.lower_bound && e.validation_estimate.is_finite())
        .max_by(|a, b| a.validation_estimate.total_cmp(&b.validation_estimate))
        .map(|e| BestLower {
            bound: e.bound.clone(),
            estimate: e.estimate,
            std_err: e.std_err,
            validation_estimate: e.validation_estimate,
        });
    Ok(EstimateAll {
        bounds: results,
        best_lower,
        seconds: start.elapsed().as_secs_f64(),
    })
}
