//! Training the sweep's runs in parallel, reusing the finished runs kept in `runs_dir`.

use super::{Config, Report, RunResult, RunSpec};
use crate::error::{Error, Result};
use crate::experiments::parallel;
use crate::io::RunStore;
use crate::train::{
    CriticKind, CubicScale, DatasetKind, FitConfig, ModelConfig, StaircaseStream, Trainer,
};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::time::Instant;

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

/// The stored run of `spec`, if `runs_dir` holds one trained with the same settings.
fn load_stored(config: &Config, spec: &RunSpec, key: &RunKey) -> Option<RunResult> {
    RunStore::new(config.runs_dir.as_ref()?).load(&spec.name(), key)
}

fn store(config: &Config, key: &RunKey, result: &RunResult) -> Result<()> {
    match &config.runs_dir {
        Some(dir) => RunStore::new(dir).save(&result.spec.name(), key, result),
        None => Ok(()),
    }
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
        store(config, &key, &result)?;
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
