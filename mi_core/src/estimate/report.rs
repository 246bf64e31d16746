//! What `estimate` returns (the JSON contract of `mi estimate`) and the warnings it attaches.

use super::{TrainedCritic, Transform};
use crate::bounds::BoundKind;
use crate::error::{Error, Result};
use crate::train::CriticKind;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// InfoNCE or I_α within this many nats of its cap reads as saturated.
pub const CAP_MARGIN: f64 = 0.2;
/// A high-variance bound (NWJ, TUBA, DV, JS, SMILE) whose standard error exceeds this fraction
/// of the estimate (and this many nats) gets a warning.
pub const HIGH_SE_FRACTION: f64 = 0.1;
/// Below this many rows the estimate gets a small-data warning.
pub const FEW_ROWS: usize = 1000;
/// The normal 95 % interval `estimate ± Φ⁻¹(0.975) · std_err`, or `None` when either is not
/// finite or the standard error is negative.
pub fn ci95(estimate: f64, std_err: f64) -> Option<[f64; 2]> {
    let z = crate::special::normal_quantile(0.975);
    (estimate.is_finite() && std_err.is_finite() && std_err >= 0.0)
        .then_some([estimate - z * std_err, estimate + z * std_err])
}

/// One held-out estimate (nats). Non-finite numbers serialise as `null`.
#[derive(Clone, Debug, Serialize)]
pub struct Estimate {
    /// Mean of the bound over the test blocks.
    pub estimate: f64,
    /// Its standard error: the spread over the test blocks when there are at least 10 of them
    /// (the concat critic), else a delete-a-group jackknife within each block (rows share their
    /// negatives), combined over the independent blocks.
    pub std_err: f64,
    /// The normal 95 % interval [`ci95`] of `estimate` (`null` when not finite). It covers the
    /// test split's sampling noise for the kept critic, not the bound's gap to the true MI.
    pub ci95: Option<[f64; 2]>,
    /// The bound's name (`infonce`, `alpha_0.05`, …).
    pub bound: String,
    /// Lower, upper or neither.
    pub kind: BoundKind,
    /// Whether the estimate is a lower bound on I(X; Y) in expectation.
    pub lower_bound: bool,
    /// α of I_α.
    pub alpha: Option<f64>,
    /// The deterministic cap at the evaluation block size M (log M for InfoNCE, 1 + log((M − 1)/α)
    /// for I_α).
    pub cap: Option<f64>,
    /// Minibatch size B.
    pub batch_size: usize,
    /// Training steps run.
    pub steps: usize,
    /// The step whose weights were kept (best validation value).
    pub best_step: usize,
    /// Whether training stopped on the patience rule before `max_steps`.
    pub stopped_early: bool,
    /// The step with a non-finite value, if training diverged.
    pub diverged_at: Option<usize>,
    /// Rows in each split.
    pub n_train: usize,
    /// Validation rows.
    pub n_val: usize,
    /// Test rows.
    pub n_test: usize,
    /// Rows dropped for NaN/±∞.
    pub n_dropped: usize,
    /// Rows per evaluation block M: the bound is evaluated on M × M score matrices of the test
    /// split (the whole split, in equal blocks of up to 4096 rows, for either critic).
    pub eval_block: usize,
    /// Number of disjoint test blocks.
    pub test_batches: usize,
    /// Standard deviation of the bound over the test blocks (`null` for one block).
    pub test_batch_sd: f64,
    /// The validation value of the kept weights (the best during training), on blocks of
    /// [`Self::eval_block`]'s size like the test value: the value candidates are chosen on.
    pub validation_estimate: f64,
    /// The bound on as many training blocks as test blocks, with the kept weights.
    pub train_estimate: f64,
    /// The critic.
    pub critic: CriticKind,
    /// The per-column transform.
    pub transform: Transform,
    /// The seed.
    pub seed: u64,
    /// Why this bound (and α) and this critic were used: for `auto`, a recommended α and
    /// [`super::CriticChoice::Auto`].
    pub why: Option<String>,
    /// What the user should know about this number.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
    /// The kept critic, for [`Estimate::save_checkpoint`] (not part of the JSON).
    #[serde(skip)]
    pub(crate) trained: Option<Arc<TrainedCritic>>,
}

/// The largest lower bound of `--bound all`, chosen on the validation split.
#[derive(Clone, Debug, Serialize)]
pub struct BestLower {
    /// Its name.
    pub bound: String,
    /// Its test estimate.
    pub estimate: f64,
    /// Its standard error.
    pub std_err: f64,
    /// The validation value it was chosen by.
    pub validation_estimate: f64,
}

/// Every bound on the same data: one [`Estimate`] per bound name, and the best lower bound.
#[derive(Clone, Debug, Serialize)]
pub struct EstimateAll {
    /// Bound name → estimate.
    #[serde(flatten)]
    pub bounds: BTreeMap<String, Estimate>,
    /// The lower bound with the largest validation value.
    pub best_lower: Option<BestLower>,
    /// Wall time of the whole call.
    pub seconds: f64,
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| Error::Io {
        path: "<stdout>".into(),
        detail: e.to_string(),
    })
}

impl Estimate {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        to_json(self)
    }

    /// The critic whose weights gave this estimate (the best on the validation split), with the
    /// transforms fitted on the training rows.
    pub fn trained_critic(&self) -> Option<&TrainedCritic> {
        self.trained.as_deref()
    }

    /// Writes the kept critic, its transforms and this estimate into `dir`
    /// ([`super::checkpoint`]: `model.safetensors`, `transform.safetensors`, `config.json`).
    pub fn save_checkpoint(&self, dir: impl AsRef<Path>) -> Result<()> {
        let critic = self
            .trained
            .as_deref()
            .ok_or_else(|| Error::InvalidParameter {
                op: "save_checkpoint",
                name: "estimate",
                value: self.bound.clone(),
                reason: "this estimate holds no trained critic",
            })?;
        critic.save(dir, self)
    }

    /// A plain-text summary: the estimate line, then the warnings.
    pub fn render_table(&self) -> String {
        let mut out =
            format!(
            "{:<14} {:>10} {:>9} {:>8} {:>6} {:>7}\n{:<14} {:>10.4} {:>9.4} {:>8} {:>6} {:>7.1}\n",
            "bound", "estimate", "std_err", "kind", "B", "seconds", self.bound, self.estimate,
            self.std_err, self.kind.name(), self.batch_size, self.seconds
        );
        if let Some(why) = &self.why {
            out.push_str(&format!("why: {why}\n"));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

impl EstimateAll {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        to_json(self)
    }

    /// Writes each bound's checkpoint into `dir/NAME` ([`Estimate::save_checkpoint`]).
    /// Every target is checked before any is written, so a refused one leaves the others as
    /// they were.
    pub fn save_checkpoints(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        for name in self.bounds.keys() {
            super::checkpoint::check_target(&dir.join(name))?;
        }
        for (name, e) in &self.bounds {
            e.save_checkpoint(dir.join(name))?;
        }
        Ok(())
    }

    /// A plain-text table: one row per bound, then the best lower bound.
    pub fn render_table(&self) -> String {
        let mut out = format!(
            "{:<14} {:>10} {:>9} {:>8} {:>10} {:>7}\n",
            "bound", "estimate", "std_err", "kind", "validation", "seconds"
        );
        for (name, e) in &self.bounds {
            out.push_str(&format!(
                "{:<14} {:>10.4} {:>9.4} {:>8} {:>10.4} {:>7.1}\n",
                name,
                e.estimate,
                e.std_err,
                e.kind.name(),
                e.validation_estimate,
                e.seconds
            ));
        }
        if let Some(b) = &self.best_lower {
            out.push_str(&format!(
                "best lower bound: {} = {:.4} ± {:.4}\n",
                b.bound, b.estimate, b.std_err
            ));
        }
        out
    }
}

/// The warnings a user needs about one estimate.
pub(crate) fn warnings(e: &Estimate, max_steps: usize) -> Vec<String> {
    let mut w = Vec::new();
    let n = e.n_train + e.n_val + e.n_test;
    if n < FEW_ROWS {
        w.push(format!(
            "only {n} rows: with fewer than ~{FEW_ROWS} samples the estimate is noisy and tends \
             to be low; treat it as rough"
        ));
    }
    if let Some(cap) = e.cap {
        if e.estimate > cap - CAP_MARGIN {
            w.push(if e.bound == "infonce" {
                format!(
                    "InfoNCE is within {CAP_MARGIN} nats of its cap log M = {cap:.3} (M = {} \
                     rows per evaluation block): the true MI may be much larger — give more \
                     rows or use --bound interpolated",
                    e.eval_block
                )
            } else {
                format!(
                    "{} is within {CAP_MARGIN} nats of its cap 1 + log((M − 1)/α) = {cap:.3} \
                     (M = {} rows per evaluation block): the true MI may be larger — give more \
                     rows or lower α",
                    e.bound, e.eval_block
                )
            });
        }
    }
    let high_variance = matches!(e.bound.as_str(), "nwj" | "tuba" | "dv")
        || e.bound.starts_with("js")
        || e.bound.starts_with("smile");
    if high_variance && e.std_err > (HIGH_SE_FRACTION * e.estimate.abs()).max(HIGH_SE_FRACTION) {
        w.push(format!(
            "{}'s standard error is {:.2} nats: the exponential term's variance explodes at \
             high MI; prefer infonce or interpolated",
            e.bound, e.std_err
        ));
    }
    if let Some(t) = e.diverged_at {
        w.push(format!(
            "training stopped on divergence (a non-finite value) at step {t}; the estimate uses \
             the weights of step {}",
            e.best_step
        ));
    }
    let gap = e.train_estimate - e.estimate;
    let tolerance = (3.0 * e.std_err).max(0.2);
    if gap.is_finite() && gap > tolerance {
        w.push(format!(
            "the training estimate {:.3} exceeds the test estimate {:.3} by {gap:.2} nats: the \
             critic overfits the training rows; more data or a smaller critic would help",
            e.train_estimate, e.estimate
        ));
    }
    if !e.stopped_early
        && e.diverged_at.is_none()
        && e.steps >= max_steps
        && e.best_step + 1 >= max_steps
    {
        w.push(format!(
            "the validation estimate was still rising at the last step ({max_steps}): more \
             steps (--steps) may give a larger estimate"
        ));
    }
    if e.estimate < -2.0 * e.std_err.max(0.0) && e.estimate < -0.05 {
        w.push(format!(
            "the estimate {:.3} is below zero: the critic scores the test rows worse than \
             chance (extreme values outside the training range? keep --transform gaussianize)",
            e.estimate
        ));
    }
    if !e.std_err.is_finite() {
        w.push(
            "no standard error: the test split is too small to resample (give more rows)".into(),
        );
    }
    if e.kind != BoundKind::Lower {
        w.push(format!(
            "{} is not a bound: it may over- or underestimate the MI",
            e.bound
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Estimate {
        Estimate {
            estimate: 1.0,
            std_err: 0.02,
            ci95: ci95(1.0, 0.02),
            bound: "infonce".into(),
            kind: BoundKind::Lower,
            lower_bound: true,
            alpha: None,
            cap: Some(128f64.ln()),
            batch_size: 128,
            steps: 500,
            best_step: 300,
            stopped_early: true,
            diverged_at: None,
            n_train: 6000,
            n_val: 2000,
            n_test: 2000,
            n_dropped: 0,
            eval_block: 2000,
            test_batches: 1,
            test_batch_sd: f64::NAN,
            validation_estimate: 1.01,
            train_estimate: 1.05,
            critic: CriticKind::Separable,
            transform: Transform::Gaussianize,
            seed: 0,
            why: None,
            warnings: Vec::new(),
            seconds: 1.0,
            trained: None,
        }
    }

    fn has(e: &Estimate, needle: &str) -> bool {
        warnings(e, 4000).iter().any(|w| w.contains(needle))
    }

    #[test]
    fn ci95_is_the_normal_interval_and_none_when_not_finite() {
        let [lo, hi] = ci95(1.0, 0.1).expect("finite");
        assert!((lo - 0.804_003_601_545_994_6).abs() < 1e-12, "{lo}");
        assert!((hi - 1.195_996_398_454_005_4).abs() < 1e-12, "{hi}");
        assert_eq!(ci95(1.0, 0.0), Some([1.0, 1.0]));
        for (e, se) in [
            (f64::NAN, 0.1),
            (1.0, f64::INFINITY),
            (f64::NEG_INFINITY, 0.1),
            (1.0, -0.1),
        ] {
            assert_eq!(ci95(e, se), None, "{e} {se}");
        }
        let json = base().to_json().expect("json");
        assert!(json.contains("\"ci95\""), "{json}");
    }

    #[test]
    fn a_clean_estimate_has_no_warnings() {
        assert!(
            warnings(&base(), 4000).is_empty(),
            "{:?}",
            warnings(&base(), 4000)
        );
    }

    #[test]
    fn each_warning_fires_on_its_condition() {
        let cap = 128f64.ln();
        assert!(has(
            &Estimate {
                estimate: cap - 0.1,
                ..base()
            },
            "cap log M"
        ));
        let alpha = Estimate {
            bound: "alpha_0.1".into(),
            cap: Some(1.0 + (127.0f64 / 0.1).ln()),
            estimate: 1.0 + (127.0f64 / 0.1).ln() - 0.05,
            train_estimate: 8.0,
            ..base()
        };
        assert!(has(&alpha, "lower α"));
        let nwj = Estimate {
            bound: "nwj".into(),
            cap: None,
            std_err: 0.3,
            ..base()
        };
        assert!(has(&nwj, "variance explodes"));
        assert!(!has(
            &Estimate {
                std_err: 0.05,
                ..nwj.clone()
            },
            "variance explodes"
        ));
        assert!(has(
            &Estimate {
                diverged_at: Some(77),
                ..base()
            },
            "divergence"
        ));
        assert!(has(
            &Estimate {
                n_train: 300,
                n_val: 100,
                n_test: 100,
                ..base()
            },
            "only 500 rows"
        ));
        assert!(has(
            &Estimate {
                train_estimate: 1.6,
                ..base()
            },
            "overfits"
        ));
        let rising = Estimate {
            stopped_early: false,
            steps: 4000,
            best_step: 4000,
            ..base()
        };
        assert!(has(&rising, "still rising"));
        assert!(has(
            &Estimate {
                test_batches: 1,
                std_err: f64::NAN,
                ..base()
            },
            "no standard error"
        ));
        let dv = Estimate {
            bound: "dv".into(),
            kind: BoundKind::Neither,
            lower_bound: false,
            ..base()
        };
        assert!(has(&dv, "not a bound"));
        assert!(has(
            &Estimate {
                estimate: -0.5,
                ..base()
            },
            "below zero"
        ));
    }
}
