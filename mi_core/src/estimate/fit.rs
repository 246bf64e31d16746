//! Training one bound for `estimate`: the crate's [`Trainer`] stepped `eval_every` steps at a
//! time, the bound evaluated on the validation split in between ([`val_block`]), the best
//! weights kept ([`super::early_stop`]), then the held-out evaluation on the whole test split
//! ([`test_block`]) with its jackknife standard error.

use super::early_stop::EarlyStop;
use super::prepare::RowStream;
use super::report::{self, Estimate};
use super::TrainedCritic;
use super::{EstimateConfig, Prepared};
use crate::bounds::Bound;
use crate::critic::CriticConfig;
use crate::data::Batch;
use crate::error::Result;
use crate::train::CriticKind;
use crate::train::{AdamConfig, FitConfig, Model, ModelConfig, Precision, Trainer};
use candle_core::{DType, Tensor};
use std::sync::Arc;
use std::time::Instant;

/// Most rows of one evaluation block: the block's M × M f64 scores (128 MiB at 4096) and the
/// bound's temporaries of the same size.
pub(super) const EVAL_BLOCK_MAX: usize = 4096;
/// Groups of the delete-a-group jackknife that gives an evaluation's standard error.
pub(super) const JACKKNIFE_GROUPS: usize = 10;

/// Rows per block of the held-out evaluation of a split of `n` rows trained at batch size `b`:
/// the whole split, in equal blocks of at most [`EVAL_BLOCK_MAX`] (and no fewer than `b`), for
/// either critic. InfoNCE's cap is then log M and its bias at a fixed critic smaller than on
/// B-row blocks (concat critic, task suite at n = 10 000: 6-d sparse Gaussian 1.42 → 1.46
/// nats, truth 1.53; 25-d dense Gaussian 1.27 → 1.29, truth 1.29).
pub(super) fn test_block(n: usize, b: usize) -> usize {
    let blocks = n.div_ceil(EVAL_BLOCK_MAX).max(1);
    (n / blocks).max(b.min(n))
}

/// Rows per block of the validation evaluations, repeated every `eval_every` steps:
/// [`test_block`] for the separable critic, whose M × M scores cost 2M network passes; `b` for
/// the concat critic, whose scores cost M² passes.
pub(super) fn val_block(critic: CriticKind, n: usize, b: usize) -> usize {
    match critic {
        CriticKind::Concat => b.min(n),
        _ => test_block(n, b),
    }
}

/// M × M matrices alive while one block is evaluated: the f32 scores, their f64 copy, the
/// bound's temporaries and a jackknife sub-matrix.
const EVAL_MATRICES: usize = 4;

/// The most memory one evaluation block ([`test_block`], [`val_block`]) of any split of at most
/// `n` rows needs; `None` if the count overflows.
pub(super) fn evaluation_bytes(n: usize, b: usize) -> Option<u64> {
    let m = n.min(EVAL_BLOCK_MAX).max(b.min(n));
    crate::limits::bytes_of(&[m, m, 8, EVAL_MATRICES])
}

/// A bound evaluated on a split in disjoint blocks of `block` rows: the mean over the blocks
/// and its jackknife standard error.
#[derive(Clone, Copy, Debug)]
pub(super) struct SplitValue {
    pub mean: f64,
    pub std_err: f64,
    pub blocks: usize,
    pub block: usize,
    /// Standard deviation of the value over the blocks (NaN for one block).
    pub block_sd: f64,
}

/// The bound of `model` on the first `max_blocks` disjoint blocks of `m` rows of a
/// split. With `jackknife`, the standard error is the blocks' spread when there are at least
/// [`JACKKNIFE_GROUPS`] of them; otherwise each block's variance comes from a delete-a-group
/// jackknife ([`JACKKNIFE_GROUPS`] groups of rows, each left out of rows and columns of the
/// score matrix in turn), which accounts for the rows sharing their negatives; the blocks are
/// independent. Without it the standard error is NaN (one bound evaluation per block instead
/// of 1 + [`JACKKNIFE_GROUPS`]).
pub(super) fn evaluate_split(
    model: &Model,
    bound: &Bound,
    rows: &RowStream,
    m: usize,
    max_blocks: usize,
    jackknife: bool,
) -> Result<SplitValue> {
    let k = (rows.x.n / m).min(max_blocks).max(1);
    let m = m.min(rows.x.n);
    let (mut values, mut var) = (Vec::with_capacity(k), 0.0);
    for j in 0..k {
        let idx: Vec<usize> = (j * m..(j + 1) * m).collect();
        let batch = rows.batch_of(&idx, model.device(), DType::F32)?;
        let (scores, base) = scores_f64(model, &batch)?;
        let value = evaluate(bound, &scores, base.as_ref())?;
        if jackknife && k < JACKKNIFE_GROUPS {
            var += jackknife_var(bound, &scores, base.as_ref())?;
        }
        values.push(value);
    }
    let (mean, block_var, block_sem) = crate::experiments::mean_var_sem(&values);
    Ok(SplitValue {
        mean,
        std_err: match jackknife {
            false => f64::NAN,
            // Enough independent blocks (the concat critic's B-row validation blocks): their
            // spread.
            true if k >= JACKKNIFE_GROUPS => block_sem,
            true => var.sqrt() / k as f64,
        },
        blocks: k,
        block: m,
        block_sd: if k > 1 { block_var.sqrt() } else { f64::NAN },
    })
}

/// The delete-a-group jackknife variance of the bound on one block's scores `[M, M]`.
fn jackknife_var(bound: &Bound, scores: &Tensor, base: Option<&Tensor>) -> Result<f64> {
    let m = scores.dim(0)?;
    let g = JACKKNIFE_GROUPS.min(m / 2);
    if g < 2 {
        return Ok(f64::NAN);
    }
    let mut left_out = Vec::with_capacity(g);
    for k in 0..g {
        let (lo, hi) = (k * m / g, (k + 1) * m / g);
        let keep: Vec<u32> = (0..m as u32)
            .filter(|&i| (i as usize) < lo || (i as usize) >= hi)
            .collect();
        let keep = Tensor::new(keep.as_slice(), scores.device())?;
        let s = scores.index_select(&keep, 0)?.index_select(&keep, 1)?;
        let b = base.map(|b| b.index_select(&keep, 0)).transpose()?;
        left_out.push(evaluate(bound, &s, b.as_ref())?);
    }
    let mean = left_out.iter().sum::<f64>() / g as f64;
    let ss: f64 = left_out.iter().map(|v| (v - mean).powi(2)).sum();
    Ok((g - 1) as f64 / g as f64 * ss)
}

/// The model's scores `[M, M]` and log-baseline `[M]` on a batch, in f64 without gradient.
fn scores_f64(model: &Model, batch: &Batch) -> Result<(Tensor, Option<Tensor>)> {
    let scores = model.scores(batch, None)?.to_dtype(DType::F64)?.detach();
    let base = model
        .log_baseline(&batch.y)?
        .map(|t| t.to_dtype(DType::F64).map(|t| t.detach()))
        .transpose()?;
    Ok((scores, base))
}

fn evaluate(bound: &Bound, scores: &Tensor, base: Option<&Tensor>) -> Result<f64> {
    Ok(bound.evaluate(scores, base)?.to_scalar::<f64>()?)
}

/// The bound's value (f64, no gradient) of `model` on one batch of transformed rows.
pub(super) fn bound_value(model: &Model, bound: &Bound, batch: &Batch) -> Result<f64> {
    let (scores, base) = scores_f64(model, batch)?;
    evaluate(bound, &scores, base.as_ref())
}

/// The model [`train_one`] trains for `bound` on X and Y of these widths.
fn model_config(
    config: &EstimateConfig,
    critic: CriticKind,
    dim_x: usize,
    dim_y: usize,
    bound: &Bound,
) -> ModelConfig {
    ModelConfig {
        critic,
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
    critic: CriticKind,
    dim_x: usize,
    dim_y: usize,
    batch_size: usize,
) -> Option<u64> {
    use crate::limits::{bytes_of, sum_bytes};
    use crate::nn::MlpConfig;
    let m = model_config(config, critic, dim_x, dim_y, &Bound::Tuba);
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

/// Most validation blocks per evaluation (bounds its cost for the concat critic).
pub(super) const MAX_VAL_BLOCKS: usize = 32;

/// One bound trained with early stopping, its kept weights restored, not yet evaluated on the
/// test split ([`report_one`]): [`super::choose::train_best`] compares candidates on
/// [`Self::validation`] and evaluates only the one it keeps.
pub(super) struct Fitted {
    trainer: Trainer,
    stop: EarlyStop,
    bound: Bound,
    critic: CriticKind,
    config: EstimateConfig,
    validation: f64,
    start: Instant,
}

impl Fitted {
    /// The kept weights' validation value on blocks of [`test_block`]'s size.
    pub(super) fn validation(&self) -> f64 {
        self.validation
    }

    /// The critic it trained.
    pub(super) fn critic(&self) -> CriticKind {
        self.critic
    }
}

/// Trains one bound with early stopping and evaluates it on the test split.
pub(super) fn train_one(
    data: &Prepared,
    bound: Bound,
    config: &EstimateConfig,
) -> Result<Estimate> {
    report_one(data, fit_one(data, bound, config)?)
}

/// Trains `bound` with the critic `config` names (never `Auto`), keeping the weights with the
/// best validation value.
pub(super) fn fit_one(data: &Prepared, bound: Bound, config: &EstimateConfig) -> Result<Fitted> {
    let start = Instant::now();
    let b = data.batch_size;
    let critic = super::CriticChoice::resolved(config)?;
    let model = model_config(config, critic, data.train.x.dim, data.train.y.dim, &bound);
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
    let m_val = val_block(critic, data.val.x.n, b);
    // The bound on the validation split. Successive evaluations score the same rows, so their
    // difference is far less noisy than the value's standard error: any gain counts as a new
    // best (and the jackknife, 11 evaluations of the bound, is left to the test split).
    let validate = |t: &Trainer| -> Result<f64> {
        Ok(evaluate_split(
            t.model(),
            &t.bound(),
            &data.val,
            m_val,
            MAX_VAL_BLOCKS,
            false,
        )?
        .mean)
    };
    let v0 = validate(&trainer)?;
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
        if stop.observe(validate(&trainer)?, 0.0, trainer.step())? {
            break;
        }
    }
    progress.finish();
    stop.restore()?;
    // The kept weights' validation value on blocks of the test split's size, so that candidates
    // validated on blocks of different sizes (the concat critic on B rows) compare like for
    // like: InfoNCE on B-row blocks is biased low and capped at log B.
    let m_full = test_block(data.val.x.n, b);
    let validation = match m_full == m_val && data.val.x.n / m_val <= MAX_VAL_BLOCKS {
        true => stop.best(),
        false => {
            evaluate_split(
                trainer.model(),
                &trainer.bound(),
                &data.val,
                m_full,
                usize::MAX,
                false,
            )?
            .mean
        }
    };
    Ok(Fitted {
        trainer,
        stop,
        bound,
        critic,
        config: *config,
        validation,
        start,
    })
}

/// The held-out evaluation of a fitted bound: its value on the whole test split with the
/// jackknife standard error, the training value beside it, the warnings, the kept critic.
pub(super) fn report_one(data: &Prepared, fitted: Fitted) -> Result<Estimate> {
    let Fitted {
        trainer,
        stop,
        bound,
        critic,
        config,
        validation,
        start,
    } = fitted;
    let b = data.batch_size;
    let m_test = test_block(data.test.x.n, b);
    let (model, bound_) = (trainer.model(), trainer.bound());
    let test = evaluate_split(model, &bound_, &data.test, m_test, usize::MAX, true)?;
    let train = evaluate_split(model, &bound_, &data.train, m_test, test.blocks, false)?;
    let alpha = match bound {
        Bound::Interpolated { alpha } => Some(alpha.value()),
        _ => None,
    };
    let mut est = Estimate {
        estimate: test.mean,
        std_err: test.std_err,
        ci95: report::ci95(test.mean, test.std_err),
        bound: bound.name(),
        kind: bound.kind(),
        lower_bound: bound.kind() == crate::bounds::BoundKind::Lower,
        alpha,
        cap: bound.cap(test.block),
        batch_size: b,
        steps: trainer.step(),
        best_step: stop.best_step(),
        stopped_early: stop.stopped_early(),
        diverged_at: trainer.history().diverged_at,
        n_train: data.train.x.n,
        n_val: data.val.x.n,
        n_test: data.test.x.n,
        n_dropped: data.n_dropped,
        eval_block: test.block,
        test_batches: test.blocks,
        test_batch_sd: test.block_sd,
        validation_estimate: validation,
        train_estimate: train.mean,
        critic,
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
        config,
    )));
    est.seconds = start.elapsed().as_secs_f64();
    Ok(est)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_bytes_bound_every_split_size() {
        for b in [2, 64, 256] {
            for n in [2, 100, 4095, 4096, 4097, 9000, 50_000] {
                let most = evaluation_bytes(n, b).expect("small sizes");
                for k in (2..=n).step_by(97).chain([n]) {
                    for critic in [CriticKind::Separable, CriticKind::Concat] {
                        for m in [test_block(k, b), val_block(critic, k, b)] {
                            assert!(m <= k, "block {m} of a {k}-row split");
                            let need = crate::limits::bytes_of(&[m, m, 8, EVAL_MATRICES]);
                            assert!(need.expect("small") <= most, "n {n} k {k} b {b}");
                        }
                    }
                }
            }
        }
        // Test blocks cover the split in equal parts of at most EVAL_BLOCK_MAX rows.
        assert_eq!(test_block(4096, 64), 4096);
        assert_eq!(test_block(4097, 64), 2048);
        assert_eq!(val_block(CriticKind::Separable, 4097, 64), 2048);
        assert_eq!(val_block(CriticKind::Concat, 4097, 64), 64);
    }
}
