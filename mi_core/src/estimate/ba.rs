//! The Barber–Agakov lower bound of a user's data when h(X) is known (paper Eq. 2,
//! [`crate::bounds::barber_agakov`]): I(X; Y) ≥ h(X) + E log q(x | y), with q a learned
//! diagonal Gaussian decoder — a small MLP of y giving the mean and the log-variance of x.
//!
//! # Method
//!
//! 1. The rows are split like [`super::estimate`]'s (seeded; 60 % training, 20 % validation,
//!    20 % test).
//! 2. X is standardised with the training rows' mean and sd — an affine map, so the known entropy
//!    moves with it: h((X − m)/s) = h(X) − Σ_k log s_k. Y goes through [`BaConfig::transform_y`]
//!    (any map of Y keeps the bound a lower bound: I(X; g(Y)) ≤ I(X; Y)).
//! 3. The decoder is trained on random minibatches of the training rows by the crate's one
//!    training loop ([`crate::train::TrainLoop`] over a decoder [`Objective`]), maximising the
//!    bound; every `eval_every` steps the bound is evaluated on the validation rows and training
//!    stops after `patience` evaluations without improvement, at `max_steps`, or on divergence.
//!    The weights of the best validation value are kept ([`super::early_stop`]) and evaluated.
//! 4. The estimate is the bound on the test rows, which took no part in training; its standard
//!    error is the sd of log q(x_i | y_i) over the test rows / √n_test. Since q is a normalised
//!    density fixed before the test rows are seen, the estimate is a lower bound on I(X; Y) in
//!    expectation, whatever the decoder learned; it is tight when the Gaussian family holds
//!    p(x | y) (e.g. jointly Gaussian data).

use super::early_stop::EarlyStop;
use super::prepare::{finite_rows, split, Fitted, RowStream, Rows};
use super::{Transform, MIN_ROWS};
use crate::bounds::barber_agakov;
use crate::density::diag_gaussian_log_prob;
use crate::error::{Error, Result};
use crate::nn::{init_reference, Mlp, MlpConfig};
use crate::train::{AdamConfig, Forward, Objective, Stream, TrainLoop};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How the decoder is trained; `Default` gives the documented defaults.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaConfig {
    /// Width of the decoder's hidden layers.
    pub hidden: usize,
    /// Number of hidden layers.
    pub layers: usize,
    /// Minibatch size (lowered to the number of training rows).
    pub batch_size: usize,
    /// Most training steps.
    pub max_steps: usize,
    /// Steps between two validation evaluations.
    pub eval_every: usize,
    /// Evaluations without improvement before training stops.
    pub patience: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seeds the split, the weights and the minibatches.
    pub seed: u64,
    /// The per-column transform of Y (fitted on the training rows).
    pub transform_y: Transform,
    /// Drop rows with NaN/±∞ instead of refusing the data.
    pub drop_nonfinite: bool,
}

impl Default for BaConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            batch_size: 256,
            max_steps: 3000,
            eval_every: 100,
            patience: 5,
            lr: 1e-3,
            seed: 0,
            transform_y: Transform::Gaussianize,
            drop_nonfinite: false,
        }
    }
}

impl BaConfig {
    /// Checks every setting once.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, reason: &'static str| {
            Err(Error::InvalidParameter {
                op: "barber_agakov_estimate",
                name,
                value,
                reason,
            })
        };
        if self.hidden == 0 && self.layers > 0 {
            return bad("hidden", "0".into(), "need a hidden width ≥ 1");
        }
        if self.batch_size < 1 {
            return bad("batch_size", "0".into(), "need a batch size ≥ 1");
        }
        if self.max_steps == 0 || self.eval_every == 0 || self.patience == 0 {
            return bad(
                "steps",
                format!("{}/{}/{}", self.max_steps, self.eval_every, self.patience),
                "max_steps, eval_every and patience must be ≥ 1",
            );
        }
        AdamConfig {
            lr: self.lr,
            ..AdamConfig::default()
        }
        .validate()
    }
}

/// The Barber–Agakov estimate (nats). Non-finite numbers serialise as `null`.
#[derive(Clone, Debug, Serialize)]
pub struct BaEstimate {
    /// h(X) + mean log q(x_i | y_i) over the test rows: a lower bound in expectation.
    pub estimate: f64,
    /// Its standard error (sd of log q over the test rows / √n_test).
    pub std_err: f64,
    /// The h(X) given (nats).
    pub entropy_x: f64,
    /// The bound on the validation rows at its best evaluation.
    pub validation_estimate: f64,
    /// The bound on the training rows with the kept (best validation) weights.
    pub train_estimate: f64,
    /// Training steps run.
    pub steps: usize,
    /// The step of the best validation value.
    pub best_step: usize,
    /// Whether training stopped on the patience rule before `max_steps`.
    pub stopped_early: bool,
    /// The step with a non-finite value, if training diverged.
    pub diverged_at: Option<usize>,
    /// Training rows.
    pub n_train: usize,
    /// Validation rows.
    pub n_val: usize,
    /// Test rows.
    pub n_test: usize,
    /// Rows dropped for NaN/±∞.
    pub n_dropped: usize,
    /// What the user should know.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// The decoder's checkpointed state.
#[derive(Serialize, Deserialize)]
pub struct DecoderState {
    dim_x: usize,
    dim_y: usize,
    /// h of the standardised X (what the bound adds).
    entropy: f64,
    config: BaConfig,
    history: Vec<f64>,
    diverged_at: Option<usize>,
}

/// q(x | y) = N(μ(y), diag exp(log σ²(y))) with [μ | log σ²] = MLP(y), and its run's history.
struct DecoderRun {
    varmap: VarMap,
    net: Mlp,
    state: DecoderState,
}

impl DecoderRun {
    fn new(state: DecoderState, device: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let mlp = MlpConfig {
            input: state.dim_y,
            hidden: state.config.hidden,
            layers: state.config.layers,
            output: 2 * state.dim_x,
        };
        let net = Mlp::new(&mlp, vb.pp("decoder"))?;
        init_reference(&varmap, state.config.seed)?;
        Ok(Self { varmap, net, state })
    }

    /// log q(x_i | y_i) per row, `[B]` in f64.
    fn log_q(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let d = self.state.dim_x;
        let out = self.net.forward(y)?;
        let (mean, log_var) = (out.narrow(1, 0, d)?, out.narrow(1, d, d)?);
        Ok(diag_gaussian_log_prob(x, &mean, &log_var)?.to_dtype(DType::F64)?)
    }

    /// log q over every row of a split, in chunks, as f64 values.
    fn log_q_rows(&self, rows: &RowStream) -> Result<Vec<f64>> {
        const CHUNK: usize = 8192;
        let mut out = Vec::with_capacity(rows.x.n);
        for start in (0..rows.x.n).step_by(CHUNK) {
            let idx: Vec<usize> = (start..(start + CHUNK).min(rows.x.n)).collect();
            let batch = rows.batch_of(&idx, &Device::Cpu, DType::F32)?;
            out.extend(self.log_q(&batch.x, &batch.y)?.detach().to_vec1::<f64>()?);
        }
        Ok(out)
    }
}

fn all_finite(t: &Tensor) -> Result<bool> {
    Ok(t.to_vec1::<f64>()?.iter().all(|v| v.is_finite()))
}

impl Objective for DecoderRun {
    const KIND: &'static str = "ba_decoder";
    type Data<'d> = RowStream;
    type Log = f64;
    type State = DecoderState;

    fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn forward(
        &mut self,
        data: &RowStream,
        t: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Forward<f64>> {
        let b = self.state.config.batch_size;
        let batch = data.batch(t, b, rng, &Device::Cpu, DType::F32)?;
        let lq = self.log_q(&batch.x, &batch.y)?;
        if !all_finite(&lq)? {
            return Ok(Forward {
                log: f64::NAN,
                loss: None,
                finite: false,
            });
        }
        let value = barber_agakov(&lq, self.state.entropy)?;
        let v = value.to_scalar::<f64>()?;
        Ok(Forward {
            log: v,
            loss: Some(value.neg()?),
            finite: v.is_finite(),
        })
    }

    fn record(&mut self, _step: usize, log: &f64) {
        self.state.history.push(*log);
    }

    fn record_divergence(&mut self, step: usize) {
        self.state.diverged_at = Some(step);
    }

    fn diverged_at(&self) -> Option<usize> {
        self.state.diverged_at
    }

    fn state(&self) -> DecoderState {
        DecoderState {
            history: self.state.history.clone(),
            ..self.state
        }
    }

    fn from_state(state: DecoderState, steps: usize, device: &Device) -> Result<Self> {
        if state.history.len() != steps {
            return Err(Error::InvalidParameter {
                op: "ba_decoder",
                name: "history",
                value: format!("{} entries for {steps} steps", state.history.len()),
                reason: "the checkpoint's history does not match its step count",
            });
        }
        Self::new(state, device)
    }
}

/// Σ_k log sd_k of a standardising fit (0 for any other fit).
fn log_scale(fitted: &Fitted) -> f64 {
    match fitted {
        Fitted::Standardize { sd, .. } => sd.iter().map(|s| s.ln()).sum(),
        Fitted::Gaussianize { .. } => 0.0,
    }
}

/// The Barber–Agakov lower bound h(X) + E log q(x | y) of paired rows `x [n, dx]` (or `[n]`)
/// and `y [n, dy]`, with the known differential entropy `entropy_x` of X (nats) and a learned
/// Gaussian decoder q (see the module docs).
///
/// ```no_run
/// use candle_core::{Device, Tensor};
/// let x = Tensor::randn(0f64, 1.0, (5000, 2), &Device::Cpu)?;
/// let y = (&x + Tensor::randn(0f64, 1.0, (5000, 2), &Device::Cpu)?)?;
/// let h = 2.0 * 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln(); // N(0, I₂)
/// let ba = mi_core::estimate::barber_agakov_estimate(&x, &y, h, &Default::default())?;
/// println!("I ≥ {} ± {} nats (truth log 2 = 0.693)", ba.estimate, ba.std_err);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn barber_agakov_estimate(
    x: &Tensor,
    y: &Tensor,
    entropy_x: f64,
    config: &BaConfig,
) -> Result<BaEstimate> {
    let (x, y) = (Rows::from_tensor("x", x)?, Rows::from_tensor("y", y)?);
    let (x, y, dropped) = finite_rows(&x, &y, config.drop_nonfinite)?;
    let mut e = ba_rows(&x, &y, entropy_x, config)?;
    e.n_dropped = dropped;
    Ok(e)
}

/// [`barber_agakov_estimate`] on finite rows.
pub(super) fn ba_rows(x: &Rows, y: &Rows, entropy_x: f64, config: &BaConfig) -> Result<BaEstimate> {
    let start = Instant::now();
    config.validate()?;
    if !entropy_x.is_finite() {
        return Err(Error::InvalidParameter {
            op: "barber_agakov_estimate",
            name: "entropy_x",
            value: entropy_x.to_string(),
            reason: "the entropy h(X) must be a finite number of nats",
        });
    }
    let n = x.n;
    if n < MIN_ROWS {
        return Err(Error::InvalidParameter {
            op: "barber_agakov_estimate",
            name: "rows",
            value: format!("{n} usable rows"),
            reason: "too few rows: need at least 200 for a train/validation/test split",
        });
    }
    let [tr, va, te] = split(n, n / 5, n / 5, config.seed);
    let (xt, yt) = (x.select(&tr), y.select(&tr));
    let (fx, fy) = (
        Fitted::fit(Transform::Standardize, &xt),
        Fitted::fit(config.transform_y, &yt),
    );
    let part = |idx: &[usize]| RowStream {
        x: fx.apply(&x.select(idx)),
        y: fy.apply(&y.select(idx)),
    };
    let (train, val, test) = (part(&tr), part(&va), part(&te));
    let entropy = entropy_x - log_scale(&fx);
    let state = DecoderState {
        dim_x: x.dim,
        dim_y: y.dim,
        entropy,
        config: BaConfig {
            batch_size: config.batch_size.min(train.x.n),
            ..*config
        },
        history: Vec::new(),
        diverged_at: None,
    };
    let adam = AdamConfig {
        lr: config.lr,
        ..AdamConfig::default()
    };
    let mut run =
        TrainLoop::with_objective(DecoderRun::new(state, &Device::Cpu)?, adam, config.seed)?;
    let progress =
        crate::progress::Progress::new("barber_agakov decoder", config.max_steps as u64, "steps");
    let bound_on = |r: &TrainLoop<DecoderRun>, rows: &RowStream| -> Result<(f64, f64)> {
        let lq = r.objective().log_q_rows(rows)?;
        let (m, _, se) = crate::experiments::mean_var_sem(&lq);
        Ok((entropy + m, se))
    };
    let mut stop = EarlyStop::new(
        run.objective().varmap(),
        bound_on(&run, &val)?.0,
        config.patience,
    )?;
    while run.step() < config.max_steps && !run.diverged() {
        let until = (run.step() + config.eval_every).min(config.max_steps);
        run.run_until(&train, until, &mut |v| {
            progress.set_message(format!("bound {v:.3}"));
            progress.inc(1);
        })?;
        if run.diverged() {
            break;
        }
        let (v, se) = bound_on(&run, &val)?;
        if stop.observe(v, se, run.step())? {
            break;
        }
    }
    progress.finish();
    let steps = run.step();
    stop.restore()?;
    let lq_test = run.objective().log_q_rows(&test)?;
    let (_, _, std_err) = crate::experiments::mean_var_sem(&lq_test);
    let estimate = if lq_test.iter().all(|v| v.is_finite()) {
        barber_agakov(&Tensor::new(lq_test.as_slice(), &Device::Cpu)?, entropy)?
            .to_scalar::<f64>()?
    } else {
        f64::NAN
    };
    let mut e = BaEstimate {
        estimate,
        std_err,
        entropy_x,
        validation_estimate: stop.best(),
        train_estimate: bound_on(&run, &train)?.0,
        steps,
        best_step: stop.best_step(),
        stopped_early: stop.stopped_early(),
        diverged_at: run.objective().diverged_at(),
        n_train: train.x.n,
        n_val: val.x.n,
        n_test: test.x.n,
        n_dropped: 0,
        warnings: Vec::new(),
        seconds: 0.0,
    };
    e.warnings = warnings(&e, config.max_steps);
    e.seconds = start.elapsed().as_secs_f64();
    Ok(e)
}

/// What a user should know about a Barber–Agakov estimate.
fn warnings(e: &BaEstimate, max_steps: usize) -> Vec<String> {
    let mut w = Vec::new();
    let n = e.n_train + e.n_val + e.n_test;
    if n < super::report::FEW_ROWS {
        w.push(format!(
            "only {n} rows: with fewer than ~{} samples the decoder is rough and the bound loose",
            super::report::FEW_ROWS
        ));
    }
    if let Some(t) = e.diverged_at {
        w.push(format!(
            "decoder training stopped on divergence (a non-finite value) at step {t}"
        ));
    }
    let gap = e.train_estimate - e.estimate;
    if gap.is_finite() && gap > (3.0 * e.std_err).max(0.2) {
        w.push(format!(
            "the training value {:.3} exceeds the test value {:.3} by {gap:.2} nats: the decoder \
             overfits the training rows",
            e.train_estimate, e.estimate
        ));
    }
    if !e.stopped_early && e.diverged_at.is_none() && e.best_step >= max_steps {
        w.push(format!(
            "the validation value was still rising at the last step ({max_steps}): more steps \
             may tighten the bound"
        ));
    }
    w
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    /// x ~ N(0, I_d), y = x + σ ε: I = (d/2) log(1 + 1/σ²), h(X) = (d/2) log(2πe), and the
    /// posterior p(x | y) = N(y/(1 + σ²), σ²/(1 + σ²)) is a Gaussian with a linear mean — inside
    /// the decoder's family, so the bound should be nearly tight.
    pub(crate) fn noisy_channel(n: usize, d: usize, sigma: f64, seed: u64) -> (Tensor, Tensor) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut draw = || -> f64 { StandardNormal.sample(&mut rng) };
        let x: Vec<f64> = (0..n * d).map(|_| draw()).collect();
        let y: Vec<f64> = x.iter().map(|v| v + sigma * draw()).collect();
        let t = |v| Tensor::from_vec(v, (n, d), &Device::Cpu);
        (t(x).expect("x"), t(y).expect("y"))
    }

    pub(crate) fn gaussian_entropy(d: usize) -> f64 {
        0.5 * d as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln()
    }

    #[test]
    fn tight_on_a_linear_gaussian_channel() -> Result<()> {
        let (d, sigma) = (2, 0.5f64);
        let truth = 0.5 * d as f64 * (1.0 + 1.0 / (sigma * sigma)).ln(); // 1.609
        let (x, y) = noisy_channel(6000, d, sigma, 3);
        // Scale X by 3: the known entropy moves by d·log 3, the bound must not.
        let x3 = x.affine(3.0, 1.0)?;
        let h3 = gaussian_entropy(d) + d as f64 * 3f64.ln();
        let e = barber_agakov_estimate(&x3, &y, h3, &BaConfig::default())?;
        println!(
            "BA {:.4} ± {:.4} vs I = {truth:.4} ({} steps, {:.1} s)",
            e.estimate, e.std_err, e.steps, e.seconds
        );
        // A lower bound: not above the truth beyond noise; within 0.1 nats of it (the decoder's
        // family holds the true posterior).
        assert!(e.estimate <= truth + 3.0 * e.std_err, "{e:?}");
        assert!(
            (e.estimate - truth).abs() < 0.1,
            "{} vs {truth}: {e:?}",
            e.estimate
        );
        assert!(e.std_err > 0.0 && e.std_err < 0.05, "{e:?}");
        assert_eq!((e.n_train, e.n_val, e.n_test), (3600, 1200, 1200));
        // A wrong (too small) entropy lowers the bound one for one.
        let low = barber_agakov_estimate(&x3, &y, h3 - 1.0, &BaConfig::default())?;
        assert!((low.estimate - (e.estimate - 1.0)).abs() < 1e-9);
        Ok(())
    }

    #[test]
    fn bad_settings_and_input_are_errors() {
        let (x, y) = noisy_channel(300, 1, 1.0, 0);
        let h = gaussian_entropy(1);
        let quick = BaConfig {
            max_steps: 5,
            ..BaConfig::default()
        };
        assert!(barber_agakov_estimate(&x, &y, f64::NAN, &quick).is_err());
        assert!(barber_agakov_estimate(
            &x.narrow(0, 0, 150).expect("n"),
            &y.narrow(0, 0, 150).expect("n"),
            h,
            &quick
        )
        .is_err());
        assert!(barber_agakov_estimate(&x, &y.narrow(0, 0, 250).expect("n"), h, &quick).is_err());
        let zero = BaConfig {
            max_steps: 0,
            ..quick
        };
        assert!(barber_agakov_estimate(&x, &y, h, &zero).is_err());
        assert!(barber_agakov_estimate(&x, &y, h, &quick).is_ok());
    }
}
