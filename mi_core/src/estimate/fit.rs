//! Training one bound for `estimate`: the crate's [`Trainer`] stepped `eval_every` steps at a
//! time, the bound evaluated on disjoint validation batches in between, the best weights kept
//! ([`super::early_stop`]), then the held-out evaluation on the test split.

use super::early_stop::EarlyStop;
use super::prepare::RowStream;
use super::report::{self, Estimate};
use super::TrainedCritic;
use super::{EstimateConfig, Prepared};
use crate::bounds::Bound;
use crate::critic::CriticConfig;
use crate::data::Batch;
use crate::error::Result;
use crate::train::{AdamConfig, FitConfig, Model, ModelConfig, Precision, Trainer};
use candle_core::DType;
use std::sync::Arc;
use std::time::Instant;

/// Bound values of one model on consecutive disjoint batches of a split (at most `max_batches`).
fn evaluate_split(
    trainer: &Trainer,
    rows: &RowStream,
    b: usize,
    max_batches: usize,
) -> Result<Vec<f64>> {
    let model = trainer.model();
    let bound = trainer.bound();
    let k = (rows.x.n / b).min(max_batches);
    let mut values = Vec::with_capacity(k);
    for j in 0..k {
        let idx: Vec<usize> = (j * b..(j + 1) * b).collect();
        let batch = rows.batch_of(&idx, model.device(), DType::F32)?;
        values.push(bound_value(model, &bound, &batch)?);
    }
    Ok(values)
}

/// The bound's value (f64, no gradient) of `model` on one batch of transformed rows.
pub(super) fn bound_value(model: &Model, bound: &Bound, batch: &Batch) -> Result<f64> {
    let scores = model.scores(batch, None)?.to_dtype(DType::F64)?.detach();
    let base = model
        .log_baseline(&batch.y)?
        .map(|t| t.to_dtype(DType::F64).map(|t| t.detach()))
        .transpose()?;
    Ok(bound.evaluate(&scores, base.as_ref())?.to_scalar::<f64>()?)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Most validation batches per evaluation (bounds its cost).
pub(super) const MAX_VAL_BATCHES: usize = 32;

/// The model [`train_one`] trains for `bound` on X and Y of these widths.
fn model_config(config: &EstimateConfig, dim_x: usize, dim_y: usize, bound: &Bound) -> ModelConfig {
    ModelConfig {
        critic: config.critic,
        baseline: ModelConfig::baseline_for(bound),
        net: CriticConfig {
            dim_x,
            dim_y,
            hidden: config.hidden,
            ..CriticConfig::paper(1)
        },
        baseline_hidden: config.hidden,
        baseline_layers: 2,
        precision: Precision::F32,
    }
}

/// Bytes per parameter in training: the f32 weight, its gradient and the kept best copy (4 each),
/// and Adam's two moments (f64 on the host, 8 each).
const BYTES_PER_PARAM: usize = 3 * 4 + 2 * 8;
/// Bytes per hidden activation of one row in one training step: the f32 pre- and
/// post-activation values and their two gradients.
const BYTES_PER_ACTIVATION: usize = 4 * 4;

/// The memory the largest model of one call needs to train on batches of `batch_size` rows
/// (with a learned baseline, which TUBA and I_α train): its parameters with their gradients,
/// moments and kept copy, and one step's activations (2B rows through the separable critic's
/// two networks, B² pairs through the concat critic). `None` if the count overflows.
pub(super) fn training_bytes(
    config: &EstimateConfig,
    dim_x: usize,
    dim_y: usize,
    batch_size: usize,
) -> Option<u64> {
    use crate::limits::{bytes_of, sum_bytes};
    use crate::nn::MlpConfig;
    let m = model_config(config, dim_x, dim_y, &Bound::Tuba);
    let (h, layers) = (m.net.hidden, m.net.layers);
    let mlp = |input, hidden, layers, output| MlpConfig {
        input,
        hidden,
        layers,
        output,
    };
    let baseline = mlp(dim_y, m.baseline_hidden, m.baseline_layers, 1);
    let (critic_params, rows) = match m.critic {
        crate::train::CriticKind::Concat => (
            mlp(dim_x.checked_add(dim_y)?, h, layers, 1).params(),
            batch_size.checked_mul(batch_size)?,
        ),
        _ => (
            sum_bytes(&[
                mlp(dim_x, h, layers, m.net.embed).params(),
                mlp(dim_y, h, layers, m.net.embed).params(),
            ]),
            batch_size.checked_mul(2)?,
        ),
    };
    let params = sum_bytes(&[critic_params, baseline.params()])?;
    sum_bytes(&[
        params.checked_mul(BYTES_PER_PARAM as u64),
        bytes_of(&[rows, h, layers, BYTES_PER_ACTIVATION]),
        bytes_of(&[
            batch_size,
            m.baseline_hidden,
            m.baseline_layers,
            BYTES_PER_ACTIVATION,
        ]),
    ])
}

/// Trains one bound with early stopping and evaluates it on the test split.
pub(super) fn train_one(
    data: &Prepared,
    bound: Bound,
    config: &EstimateConfig,
) -> Result<Estimate> {
    let start = Instant::now();
    let b = data.batch_size;
    let model = model_config(config, data.train.x.dim, data.train.y.dim, &bound);
    let fit = FitConfig {
        steps: config.max_steps,
        batch_size: b,
        adam: AdamConfig {
            lr: config.lr,
            ..AdamConfig::default()
        },
        seed: config.seed,
        bound_precision: Precision::F64,
    };
    let mut trainer = Trainer::new(&model, bound, &fit, &data.device)?;
    let progress = crate::progress::Progress::new(
        format!("estimate {}", bound.name()),
        config.max_steps as u64,
        "steps",
    );
    // (mean, standard error) of the bound over the validation batches.
    let validate = |t: &Trainer| -> Result<(f64, f64)> {
        let v = evaluate_split(t, &data.val, b, MAX_VAL_BATCHES)?;
        let (m, _, sem) = crate::experiments::mean_var_sem(&v);
        Ok((m, sem))
    };
    let (v0, _) = validate(&trainer)?;
    let mut stop = EarlyStop::new(trainer.model().varmap(), v0, config.patience)?;
    while trainer.step() < config.max_steps && !trainer.diverged() {
        let until = (trainer.step() + config.eval_every).min(config.max_steps);
        trainer.run(&data.train, until, &mut |log| {
            if log.step % 50 == 0 {
                progress.set_message(format!("estimate {:.3}", log.estimate));
            }
            progress.inc(1);
        })?;
        if trainer.diverged() {
            break;
        }
        let (v, se) = validate(&trainer)?;
        if stop.observe(v, se, trainer.step())? {
            break;
        }
    }
    progress.finish();
    let steps = trainer.step();
    stop.restore()?;
    let test = evaluate_split(&trainer, &data.test, b, usize::MAX)?;
    let train = evaluate_split(&trainer, &data.train, b, test.len())?;
    let alpha = match bound {
        Bound::Interpolated { alpha } => Some(alpha.value()),
        _ => None,
    };
    let (test_mean, test_var, test_sem) = crate::experiments::mean_var_sem(&test);
    let mut est = Estimate {
        estimate: test_mean,
        std_err: test_sem,
        ci95: report::ci95(test_mean, test_sem),
        bound: bound.name(),
        kind: bound.kind(),
        lower_bound: bound.kind() == crate::bounds::BoundKind::Lower,
        alpha,
        cap: bound.cap(b),
        batch_size: b,
        steps,
        best_step: stop.best_step(),
        stopped_early: stop.stopped_early(),
        diverged_at: trainer.history().diverged_at,
        n_train: data.train.x.n,
        n_val: data.val.x.n,
        n_test: data.test.x.n,
        n_dropped: data.n_dropped,
        test_batches: test.len(),
        test_batch_sd: test_var.sqrt(),
        validation_estimate: stop.best(),
        train_estimate: mean(&train),
        critic: config.critic,
        transform: config.transform,
        seed: config.seed,
        why: None,
        warnings: Vec::new(),
        seconds: 0.0,
        trained: None,
    };
    est.warnings = report::warnings(&est, config.max_steps);
    est.trained = Some(Arc::new(TrainedCritic::new(
        trainer.into_model(),
        bound,
        data.fx.clone(),
        data.fy.clone(),
        b,
        *config,
    )));
    est.seconds = start.elapsed().as_secs_f64();
    Ok(est)
}
