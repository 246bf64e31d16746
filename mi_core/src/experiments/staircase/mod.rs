//! Figure 2: critics trained by each bound while the true MI climbs a staircase 2 → 4 → 6 → 8 →
//! 10 nats, on the correlated Gaussian and on its cubic transform (spec §7.1).
//!
//! Every (dataset, critic, estimator) run trains a fresh critic (and baseline, for TUBA and I_α)
//! with [`crate::train`]: Adam at 5e−4, B = 64, a fresh batch per step, the value logged before
//! each update. TNCE uses the known conditional instead of a learned critic. Runs go in parallel
//! over `threads` workers, each single-threaded in effect — on a small CPU this beats splitting
//! every matmul — and, with `runs_dir` set, each finished run is written there and reused by a
//! later call with the same settings, so a long sweep can be stopped and resumed.
//!
//! The summary reads, per level and run, the last `window` (1000) steps of the level: the mean of
//! the smoothed estimate (pandas' `ewm(span = 200)`, as in the reference), its bias against the
//! true MI, and the variance of the raw per-step estimates over the same steps.
//!
//! Files: this one holds the sweep's settings ([`Config`], [`RunSpec`]); `report.rs` the results
//! and their summary, tables and checks ([`Report`]); `sweep.rs` the training of the runs
//! ([`run`], [`run_with`], [`stored`]), with finished runs kept in an [`crate::io::RunStore`].

mod report;
mod sweep;

pub use report::{ewm, Report, RunResult, SummaryRow};
pub use sweep::{run, run_with, stored};

use crate::bounds::Bound;
use crate::critic::CriticConfig;
use crate::data::Staircase;
use crate::error::{Error, Result};
use crate::train::{
    AdamConfig, CriticKind, CubicScale, DatasetKind, FitConfig, ModelConfig, Precision,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The estimators of the paper's Figure 2 panels (one row of panels per dataset).
pub const PAPER_PANELS: [&str; 4] = ["nwj", "js", "infonce", "alpha_0.01"];

/// The estimators of the paper's Figure 2 sweep ([`Config::paper`]), by [`Bound::name`], each
/// trained with the separable and the concat critic.
pub const PAPER_ESTIMATORS: [&str; 9] = [
    "nwj",
    "tuba",
    "mine_ema_0.99",
    "infonce",
    "js",
    "smile_5",
    "alpha_0.01",
    "alpha_0.5",
    "alpha_0.99",
];

/// The sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Dimension of x and y (20).
    pub dim: usize,
    /// Datasets (rows of the figure).
    pub datasets: Vec<DatasetKind>,
    /// Learned critics (separable, concat).
    pub critics: Vec<CriticKind>,
    /// Bounds trained with each learned critic.
    pub estimators: Vec<Bound>,
    /// Bounds run with the known conditional as critic (TNCE), once per dataset.
    pub conditional: Vec<Bound>,
    /// Steps per run (20 000); the staircase's five levels share them equally.
    pub steps: usize,
    /// Batch size B (64).
    pub batch_size: usize,
    /// Critic networks (dims are taken from `dim`).
    pub hidden: usize,
    /// Hidden layers of the critics and the baseline.
    pub layers: usize,
    /// Embedding width of the separable critic.
    pub embed: usize,
    /// Hidden width of the learned baseline (512).
    pub baseline_hidden: usize,
    /// The optimiser.
    pub adam: AdamConfig,
    /// Seeds every run (each run adds its own stream) and the cubic W.
    pub seed: u64,
    /// Parallel runs (0 = one per core).
    pub threads: usize,
    /// Steps at the end of each level that the summary reads (1000).
    pub window: usize,
    /// Span of the smoothing EMA (200).
    pub span: usize,
    /// Where finished runs are stored and reused from (None: nowhere).
    pub runs_dir: Option<PathBuf>,
    /// Scale of the cubic data: [`CubicScale::Unit`] by default (per-coordinate unit variance,
    /// MI unchanged). With [`CubicScale::Raw`] (z in the thousands) NWJ, TUBA and JS diverge and
    /// DV/α = 0.01 collapse on both critics here; the paper does not say how it scaled z.
    #[serde(default)]
    pub cubic_scale: CubicScale,
}

impl Config {
    /// The paper's sweep: 2 datasets × {separable, concat} × 9 bounds + TNCE = 38 runs of 20 000
    /// steps at B = 64 with the paper's networks.
    pub fn paper() -> Self {
        // Static names that parse (checked by a test).
        let estimators = PAPER_ESTIMATORS
            .iter()
            .filter_map(|s| s.parse::<Bound>().ok())
            .collect();
        Self {
            dim: 20,
            datasets: vec![DatasetKind::Gaussian, DatasetKind::Cubic],
            critics: vec![CriticKind::Separable, CriticKind::Concat],
            estimators,
            conditional: vec![Bound::Tnce],
            steps: 20_000,
            batch_size: 64,
            hidden: 256,
            layers: 2,
            embed: 32,
            baseline_hidden: 512,
            adam: AdamConfig::default(),
            seed: 0,
            threads: 0,
            window: 1000,
            span: 200,
            runs_dir: None,
            cubic_scale: CubicScale::Unit,
        }
    }

    /// A few minutes on 2 CPU cores: the same 38 runs and batch size with 2 500 steps (500 per
    /// level), 64-wide critics and a 128-wide baseline; the summary reads each level's last 250
    /// steps and the smoothing span is 50.
    pub fn quick() -> Self {
        Self {
            steps: 2_500,
            hidden: 64,
            baseline_hidden: 128,
            window: 250,
            span: 50,
            ..Self::paper()
        }
    }

    /// The schedule: five 2-nat levels over `steps`.
    pub fn schedule(&self) -> Result<Staircase> {
        Staircase::paper(self.steps)
    }

    /// Checks the sweep's settings.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidParameter {
                op: "staircase",
                name,
                value,
                reason,
            })
        };
        if self.dim == 0 || self.hidden == 0 || self.embed == 0 || self.baseline_hidden == 0 {
            return bad(
                "dim/hidden/embed/baseline_hidden",
                format!(
                    "{}/{}/{}/{}",
                    self.dim, self.hidden, self.embed, self.baseline_hidden
                ),
                "need widths ≥ 1",
            );
        }
        if self.batch_size < 2 {
            return bad(
                "batch_size",
                self.batch_size.to_string(),
                "the bounds need B ≥ 2",
            );
        }
        if self.window == 0 || self.span == 0 {
            return bad(
                "window/span",
                format!("{}/{}", self.window, self.span),
                "need ≥ 1",
            );
        }
        if let Some(b) = self.estimators.iter().find(|b| b.needs_known_conditional()) {
            return bad(
                "estimators",
                b.name(),
                "reads log p(y|x): list it under `conditional`",
            );
        }
        if self.critics.contains(&CriticKind::Conditional) {
            return bad(
                "critics",
                "conditional".into(),
                "list bounds for the known conditional under `conditional`",
            );
        }
        self.adam.validate()?;
        self.schedule()?;
        if self.runs().is_empty() {
            return bad("estimators", "[]".into(), "the sweep has no runs");
        }
        Ok(())
    }

    /// Every run of the sweep: per dataset, each learned critic × estimator, then the
    /// conditional bounds.
    pub fn runs(&self) -> Vec<RunSpec> {
        let mut out = Vec::new();
        for &dataset in &self.datasets {
            for &critic in &self.critics {
                for &bound in &self.estimators {
                    out.push(RunSpec {
                        dataset,
                        critic,
                        bound,
                    });
                }
            }
            for &bound in &self.conditional {
                out.push(RunSpec {
                    dataset,
                    critic: CriticKind::Conditional,
                    bound,
                });
            }
        }
        out
    }

    /// The model of one run.
    pub fn model(&self, spec: &RunSpec) -> ModelConfig {
        ModelConfig {
            critic: spec.critic,
            baseline: ModelConfig::baseline_for(&spec.bound),
            net: CriticConfig {
                hidden: self.hidden,
                layers: self.layers,
                embed: self.embed,
                ..CriticConfig::paper(self.dim)
            },
            baseline_hidden: self.baseline_hidden,
            baseline_layers: self.layers,
            precision: Precision::F32,
        }
    }

    /// The training settings of one run (its seed: the sweep's seed on the run's own stream).
    pub fn fit(&self, spec: &RunSpec) -> FitConfig {
        FitConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            adam: self.adam,
            seed: self
                .seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(crate::seed::name_hash(&spec.name())),
            ..FitConfig::default()
        }
    }
}

/// One run of the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The data.
    pub dataset: DatasetKind,
    /// The critic.
    pub critic: CriticKind,
    /// The bound trained (and logged).
    pub bound: Bound,
}

impl RunSpec {
    /// `gaussian-concat-nwj`.
    pub fn name(&self) -> String {
        format!(
            "{}-{}-{}",
            self.dataset.name(),
            self.critic.name(),
            self.bound.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_sweep_has_38_runs() {
        let c = Config::paper();
        assert_eq!(c.estimators.len(), 9);
        assert_eq!(c.runs().len(), 38);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn ewm_matches_pandas_adjusted() {
        // pandas: pd.Series([1, 2, 3, 10]).ewm(span=3).mean() → 1, 1.666667, 2.428571, 6.466667
        let s = ewm(&[1.0, 2.0, 3.0, 10.0], 3);
        let want = [1.0, 5.0 / 3.0, 17.0 / 7.0, 97.0 / 15.0];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
    }
}
