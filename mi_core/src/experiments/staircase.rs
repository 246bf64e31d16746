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

use super::{csv, num, parallel};
use crate::bounds::Bound;
use crate::critic::CriticConfig;
use crate::data::Staircase;
use crate::error::{Error, Result};
use crate::train::{
    AdamConfig, CriticKind, CubicScale, DatasetKind, FitConfig, History, ModelConfig, Precision,
    StaircaseStream, Trainer,
};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;

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
        let estimators = [
            "nwj",
            "tuba",
            "mine_ema_0.99",
            "infonce",
            "js",
            "smile_5",
            "alpha_0.01",
            "alpha_0.5",
            "alpha_0.99",
        ]
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
    pub fn summary_csv(&self) -> String {
        csv(
            &[
                "dataset",
                "critic",
                "estimator",
                "true_mi",
                "mean_estimate",
                "bias",
                "variance",
            ],
            self.summary().into_iter().map(|r| {
                vec![
                    r.dataset,
                    r.critic,
                    r.estimator,
                    num(r.true_mi),
                    num(r.mean_estimate),
                    num(r.bias),
                    num(r.variance),
                ]
            }),
        )
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

    /// The paper's Figure 2 grid (rows: datasets; panels: NWJ, JS, InfoNCE, α = 0.01 where run).
    #[cfg(feature = "plots")]
    pub fn plot(&self) -> plotly::Plot {
        crate::plot::fig2_staircase(self, &["nwj", "js", "infonce", "alpha_0.01"])
    }

    /// Every estimator, one page per dataset and at most 8 panels a page.
    #[cfg(feature = "plots")]
    pub fn plot_all(&self) -> Vec<plotly::Plot> {
        crate::plot::fig2_pages(self)
    }

    /// Total wall time of the runs themselves (s), summed over workers.
    pub fn run_seconds(&self) -> f64 {
        self.runs.iter().map(|r| r.elapsed_s).sum()
    }
}

/// What a stored run must match to be reused.
#[derive(Serialize, Deserialize, PartialEq)]
struct RunKey {
    spec: RunSpec,
    model: ModelConfig,
    fit: FitConfig,
    dim: usize,
    /// The cubic runs' scale (absent for Gaussian runs, and in runs stored before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cubic_scale: Option<CubicScale>,
}

impl RunKey {
    fn new(config: &Config, spec: RunSpec) -> Self {
        RunKey {
            spec,
            model: config.model(&spec),
            fit: config.fit(&spec),
            dim: config.dim,
            cubic_scale: (spec.dataset == DatasetKind::Cubic).then_some(config.cubic_scale),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredRun {
    key: RunKey,
    result: RunResult,
}

fn stored_path(dir: &std::path::Path, spec: &RunSpec) -> PathBuf {
    dir.join(format!("{}.json", spec.name()))
}

fn load_stored(config: &Config, spec: &RunSpec, key: &RunKey) -> Option<RunResult> {
    let dir = config.runs_dir.as_ref()?;
    let text = std::fs::read_to_string(stored_path(dir, spec)).ok()?;
    let stored: StoredRun = serde_json::from_str(&text).ok()?;
    (stored.key == *key).then_some(stored.result)
}

fn store(config: &Config, key: RunKey, result: &RunResult) -> Result<()> {
    let Some(dir) = config.runs_dir.as_ref() else {
        return Ok(());
    };
    let io = |e: &dyn std::fmt::Display| Error::Io {
        path: dir.display().to_string(),
        detail: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| io(&e))?;
    let path = stored_path(dir, &result.spec);
    let json = serde_json::to_string(&StoredRun {
        key,
        result: result.clone(),
    })
    .map_err(|e| io(&e))?;
    crate::io::write_atomic(&path, |tmp| std::fs::write(tmp, json).map_err(|e| io(&e)))
}

/// The runs of `config` already stored in its `runs_dir` (with matching settings), without
/// training anything: a partial report of a sweep that is still being filled in.
pub fn stored(config: &Config) -> Result<Report> {
    config.validate()?;
    let runs = config
        .runs()
        .into_iter()
        .filter_map(|spec| load_stored(config, &spec, &RunKey::new(config, spec)))
        .collect();
    Ok(Report {
        config: config.clone(),
        runs,
        elapsed_s: 0.0,
    })
}

/// Runs the sweep, reporting steps over all runs ([`crate::progress`]).
pub fn run(config: &Config, device: &Device) -> Result<Report> {
    let total = (config.runs().len() * config.steps) as u64;
    let progress = crate::progress::Progress::new("fig2", total, "steps");
    let report = run_with(config, device, &|n| progress.inc(n), &mut |spec| {
        progress.set_message(format!("finished {}", spec.name()))
    });
    progress.finish();
    report
}

/// Runs the sweep; `on_steps(n)` is called from the workers as steps finish (and with a whole
/// run's steps when a stored run is reused), `on_run` on the caller's thread as runs finish.
pub fn run_with(
    config: &Config,
    device: &Device,
    on_steps: &(dyn Fn(u64) + Sync),
    on_run: &mut dyn FnMut(&RunSpec),
) -> Result<Report> {
    config.validate()?;
    let start = Instant::now();
    let specs = config.runs();
    let schedule = config.schedule()?;
    let streams = config
        .datasets
        .iter()
        .map(|&d| {
            Ok((
                d,
                StaircaseStream::new(d, config.dim, schedule, config.seed, config.cubic_scale)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    // The longest runs first (concat, then learned baselines), so the workers finish together.
    let cost = |s: &RunSpec| -> usize {
        let c = match s.critic {
            CriticKind::Concat => 100,
            CriticKind::Separable => 10,
            CriticKind::Conditional => 1,
        };
        c + usize::from(
            ModelConfig::baseline_for(&s.bound) != crate::critic::BaselineKind::Constant,
        )
    };
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&specs[i])));
    let work = |i: usize| -> Result<RunResult> {
        let spec = specs[i];
        let (model, fit) = (config.model(&spec), config.fit(&spec));
        let key = RunKey::new(config, spec);
        if let Some(done) = load_stored(config, &spec, &key) {
            on_steps(config.steps as u64);
            return Ok(done);
        }
        let stream = streams
            .iter()
            .find(|(d, _)| *d == spec.dataset)
            .map(|(_, s)| s)
            .ok_or_else(|| Error::InvalidParameter {
                op: "staircase",
                name: "dataset",
                value: spec.dataset.name().into(),
                reason: "no stream for this dataset",
            })?;
        let t0 = Instant::now();
        let mut trainer = Trainer::new(&model, spec.bound, &fit, device)?;
        let mut pending = 0u64;
        trainer.run(stream, fit.steps, &mut |_| {
            pending += 1;
            if pending == 100 {
                on_steps(pending);
                pending = 0;
            }
        })?;
        // A diverged run reports the steps it did not run as done.
        on_steps(pending + (fit.steps - trainer.step()) as u64);
        let result = RunResult {
            spec,
            history: trainer.history().clone(),
            elapsed_s: t0.elapsed().as_secs_f64(),
            parameters: trainer.model().num_parameters(),
        };
        store(config, key, &result)?;
        Ok(result)
    };
    let runs = parallel(specs.len(), &order, config.threads, &work, &mut |i| {
        on_run(&specs[i])
    })?;
    Ok(Report {
        config: config.clone(),
        runs,
        elapsed_s: start.elapsed().as_secs_f64(),
    })
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
