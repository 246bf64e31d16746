//! The sandwich: when p(y|x) is known, TNCE ≤ I(X; Y) ≤ leave-one-out upper bound, both from the
//! same minibatches and with no training (paper Eqs. 12–13; [`crate::bounds::tnce`],
//! [`crate::bounds::loo_upper`]). `mi estimate --gaussian-encoder` gives p(y|x) as a diagonal
//! Gaussian N(μ(x), diag exp(log σ²(x))) per row; any [`KnownConditional`] works in the library.
//!
//! With a known entropy the sandwich also reports the Barber–Agakov lower bound (paper Eq. 2,
//! [`super::barber_agakov_estimate`]): h + E log q(μ | y) with a learned Gaussian decoder of the
//! encoder's mean μ(x) from y. Here h is the differential entropy of the **mean columns** μ(X) —
//! h(X) itself when the encoder's mean is x (a noisy channel y = x + noise). Since μ is a function
//! of X, I(μ(X); Y) ≤ I(X; Y), so the bound stays a lower bound on I(X; Y) (tight when the
//! log-variance carries nothing beyond μ, e.g. when it is constant).

use super::ba::ba_rows;
use super::prepare::{finite_rows, Rows};
use super::{BaConfig, BaEstimate};
use crate::bounds::{loo_upper, tnce};
use crate::critic::KnownConditional;
use crate::density::diag_gaussian_log_prob_pairs;
use crate::error::{Error, Result};
use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use serde::Serialize;
use std::time::Instant;

/// Largest batch the sandwich uses by default (the loo bound's bias falls with B, TNCE's cap is
/// log B; one batch costs B²·d).
pub const SANDWICH_MAX_BATCH: usize = 1024;

/// Lower and upper bounds on I(X; Y) with their standard errors over disjoint batches.
#[derive(Clone, Debug, Serialize)]
pub struct Sandwich {
    /// TNCE: a lower bound, ≤ log B.
    pub lower: f64,
    /// Its standard error.
    pub lower_std_err: f64,
    /// The leave-one-out bound: an upper bound in expectation.
    pub upper: f64,
    /// Its standard error.
    pub upper_std_err: f64,
    /// log B, TNCE's cap.
    pub cap: f64,
    /// Batch size B.
    pub batch_size: usize,
    /// Number of disjoint batches.
    pub batches: usize,
    /// Rows used.
    pub n: usize,
    /// Rows dropped for NaN/±∞.
    pub n_dropped: usize,
    /// The Barber–Agakov lower bound, when the entropy of the encoder's mean was given.
    pub barber_agakov: Option<BaEstimate>,
    /// What the user should know.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// The sandwich's settings; `Default`: B chosen from the data, seed 0, no Barber–Agakov.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SandwichConfig {
    /// Batch size B; `None`: the largest power of two ≤ min(n/4, [`SANDWICH_MAX_BATCH`]).
    pub batch_size: Option<usize>,
    /// Seeds the batches (and the decoder's split, weights and minibatches).
    pub seed: u64,
    /// Drop rows with NaN/±∞ instead of refusing the data.
    pub drop_nonfinite: bool,
    /// The differential entropy (nats) of the encoder's mean columns μ(X) (= h(X) when μ(x) = x):
    /// when given, the Barber–Agakov bound is added.
    pub entropy_x: Option<f64>,
    /// How the Barber–Agakov decoder trains (its seed is replaced by [`Self::seed`]).
    pub decoder: BaConfig,
}

impl Sandwich {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Io {
            path: "<stdout>".into(),
            detail: e.to_string(),
        })
    }

    /// The bounds in one or two lines, then the warnings (`--format table`).
    pub fn render_table(&self) -> String {
        let mut out = format!(
            "{:.4} ± {:.4} (tnce) ≤ I ≤ {:.4} ± {:.4} (loo_upper), B = {}\n",
            self.lower, self.lower_std_err, self.upper, self.upper_std_err, self.batch_size
        );
        if let Some(ba) = &self.barber_agakov {
            out.push_str(&format!(
                "{:.4} ± {:.4} (barber_agakov, h = {:.4}) ≤ I\n",
                ba.estimate, ba.std_err, ba.entropy_x
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        out
    }
}

/// A diagonal Gaussian encoder given per row: p(y | x_j) = N(mean_j, diag exp(log_var_j)).
struct RowEncoder;

impl RowEncoder {
    /// `x` holds [mean | log_var] per row; `y` the sample.
    fn log_cond(x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        let d = y.dim(1)?;
        let mean = x.narrow(1, 0, d)?;
        let var = x.narrow(1, d, d)?.exp()?;
        diag_gaussian_log_prob_pairs(y, &mean, &var)
    }
}

impl KnownConditional for RowEncoder {
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        Self::log_cond(x, y)
    }
    fn log_marginal(&self, _y: &Tensor) -> candle_core::Result<Tensor> {
        Err(candle_core::Error::msg("the row encoder has no marginal"))
    }
}

/// The sandwich for a diagonal Gaussian encoder: `encoder [n, 2d]` = (mean, log-variance) of
/// p(y | x_i) per row, `y [n, d]` the encoder's sample for that row; with
/// [`SandwichConfig::entropy_x`] also the Barber–Agakov lower bound.
pub fn sandwich_gaussian(
    encoder: &Tensor,
    y: &Tensor,
    config: &SandwichConfig,
) -> Result<Sandwich> {
    let (e, yy) = (
        Rows::from_tensor("encoder", encoder)?,
        Rows::from_tensor("y", y)?,
    );
    if e.dim != 2 * yy.dim {
        return Err(Error::Shape {
            op: "sandwich",
            detail: format!(
                "the encoder must hold the mean and log-variance of y: 2·{} = {} columns, got {}",
                yy.dim,
                2 * yy.dim,
                e.dim
            ),
        });
    }
    let (e, yy, dropped) = finite_rows(&e, &yy, config.drop_nonfinite)?;
    let mut s = sandwich(&RowEncoder, &e, &yy, config.batch_size, config.seed)?;
    s.n_dropped = dropped;
    if let Some(h) = config.entropy_x {
        let start = Instant::now();
        let d = yy.dim;
        let mean = Rows {
            n: e.n,
            dim: d,
            values: e
                .values
                .chunks(2 * d)
                .flat_map(|r| &r[..d])
                .copied()
                .collect(),
        };
        let decoder = BaConfig {
            seed: config.seed,
            ..config.decoder
        };
        let ba = ba_rows(&mean, &yy, h, &decoder)?;
        if ba.estimate > s.upper + 3.0 * (ba.std_err.powi(2) + s.upper_std_err.powi(2)).sqrt() {
            s.warnings.push(format!(
                "the Barber–Agakov lower bound {:.3} exceeds the leave-one-out upper bound {:.3}: \
                 the entropy given ({h:.3} nats) is likely too large for the encoder's mean",
                ba.estimate, s.upper
            ));
        }
        s.barber_agakov = Some(ba);
        s.seconds += start.elapsed().as_secs_f64();
    }
    Ok(s)
}

/// The sandwich for any known conditional: `x` as the conditional reads it, `y` its sample.
fn sandwich(
    known: &dyn KnownConditional,
    x: &Rows,
    y: &Rows,
    batch_size: Option<usize>,
    seed: u64,
) -> Result<Sandwich> {
    let start = Instant::now();
    let n = x.n;
    let b = match batch_size {
        Some(b) => b,
        None => SANDWICH_MAX_BATCH.min(1 << (n / 4).max(2).ilog2()),
    };
    if b < 2 || 2 * b > n {
        return Err(Error::InvalidParameter {
            op: "sandwich",
            name: "batch_size",
            value: format!("{b} for {n} rows"),
            reason: "need 2 ≤ B and at least two batches of B rows",
        });
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let perm = rand::seq::index::sample(&mut rng, n, n).into_vec();
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for chunk in perm.chunks_exact(b) {
        let t = |r: &Rows| -> Result<Tensor> {
            let sel = r.select(chunk);
            Ok(Tensor::from_vec(sel.values, (b, sel.dim), &Device::Cpu)?)
        };
        let lp = known.log_cond_pairs(&t(x)?, &t(y)?)?.to_dtype(DType::F64)?;
        lo.push(tnce(&lp)?.to_scalar::<f64>()?);
        hi.push(loo_upper(&lp)?.to_scalar::<f64>()?);
    }
    let (lower, _, lower_se) = crate::experiments::mean_var_sem(&lo);
    let (upper, _, upper_se) = crate::experiments::mean_var_sem(&hi);
    let cap = (b as f64).ln();
    let mut warnings = Vec::new();
    if lower > cap - super::report::CAP_MARGIN {
        warnings.push(format!(
            "TNCE is within {} nats of its cap log B = {cap:.3}: the lower bound is loose — \
             raise the batch size",
            super::report::CAP_MARGIN
        ));
    }
    Ok(Sandwich {
        lower,
        lower_std_err: lower_se,
        upper,
        upper_std_err: upper_se,
        cap,
        batch_size: b,
        batches: lo.len(),
        n,
        n_dropped: 0,
        barber_agakov: None,
        warnings,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CorrelatedGaussian, Sampler};

    /// The correlated Gaussian as an encoder: μ(x) = ρx, log σ² = log(1 − ρ²).
    #[test]
    fn brackets_the_true_mi_of_a_gaussian_encoder() -> Result<()> {
        let (d, n) = (3, 8192);
        let g = CorrelatedGaussian::from_mi(d, 2.0)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (x, y) = g.sample_f64(n, &mut rng);
        let lv = (1.0 - g.rho() * g.rho()).ln();
        let enc: Vec<f64> = x
            .chunks(d)
            .flat_map(|r| {
                r.iter()
                    .map(|v| g.rho() * v)
                    .chain(std::iter::repeat_n(lv, d))
                    .collect::<Vec<_>>()
            })
            .collect();
        let enc = Tensor::from_vec(enc, (n, 2 * d), &Device::Cpu)?;
        let y = Tensor::from_vec(y, (n, d), &Device::Cpu)?;
        let cfg = SandwichConfig {
            batch_size: Some(256),
            ..SandwichConfig::default()
        };
        let s = sandwich_gaussian(&enc, &y, &cfg)?;
        assert!(s.barber_agakov.is_none());
        assert_eq!((s.batches, s.batch_size), (32, 256));
        assert!(s.lower < 2.0 + 3.0 * s.lower_std_err, "{s:?}");
        assert!(s.upper > 2.0 - 3.0 * s.upper_std_err, "{s:?}");
        assert!(s.lower < s.upper && s.lower <= s.cap);
        // Within 0.1 nats on both sides at this B and MI.
        assert!(2.0 - s.lower < 0.1 && s.upper - 2.0 < 0.1, "{s:?}");
        assert!(sandwich_gaussian(&y, &y, &SandwichConfig::default()).is_err());
        let too_big = SandwichConfig {
            batch_size: Some(5000),
            ..cfg
        };
        assert!(sandwich_gaussian(&enc, &y, &too_big).is_err());
        Ok(())
    }

    /// A noisy channel y = x + σε (encoder mean x, log-variance log σ²) with h(X) known: the
    /// Barber–Agakov bound sits inside the sandwich, ≤ I + 3 SE and within 0.1 nats of I (the
    /// true posterior is Gaussian with a linear mean, inside the decoder's family).
    #[test]
    fn barber_agakov_joins_the_sandwich_when_h_x_is_known() -> Result<()> {
        let (d, sigma, n) = (2, 0.5f64, 6000);
        let truth = 0.5 * d as f64 * (1.0 + 1.0 / (sigma * sigma)).ln();
        let (x, y) = super::super::ba::tests::noisy_channel(n, d, sigma, 7);
        let lv = Tensor::full(2.0 * sigma.ln(), (n, d), &Device::Cpu)?;
        let enc = Tensor::cat(&[&x, &lv], 1)?;
        let h = super::super::ba::tests::gaussian_entropy(d);
        let cfg = SandwichConfig {
            batch_size: Some(256),
            entropy_x: Some(h),
            ..SandwichConfig::default()
        };
        let s = sandwich_gaussian(&enc, &y, &cfg)?;
        let ba = s.barber_agakov.as_ref().ok_or(Error::InvalidParameter {
            op: "test",
            name: "barber_agakov",
            value: "None".into(),
            reason: "missing",
        })?;
        println!(
            "tnce {:.4} ≤ ba {:.4} ± {:.4} ≤ I = {truth:.4} ≤ loo {:.4}",
            s.lower, ba.estimate, ba.std_err, s.upper
        );
        assert!(ba.estimate <= truth + 3.0 * ba.std_err, "{ba:?}");
        assert!(
            (ba.estimate - truth).abs() < 0.1,
            "{} vs {truth}",
            ba.estimate
        );
        assert!(s.lower < truth + 3.0 * s.lower_std_err && s.upper > truth - 3.0 * s.upper_std_err);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // An entropy 2 nats too large lifts BA above the upper bound: a warning says so.
        let wrong = SandwichConfig {
            entropy_x: Some(h + 2.0),
            ..cfg
        };
        let w = sandwich_gaussian(&enc, &y, &wrong)?;
        assert!(
            w.warnings.iter().any(|m| m.contains("too large")),
            "{:?}",
            w.warnings
        );
        Ok(())
    }
}
