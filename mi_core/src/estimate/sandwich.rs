//! The sandwich: when p(y|x) is known, TNCE ≤ I(X; Y) ≤ leave-one-out upper bound, both from the
//! same minibatches and with no training (paper Eqs. 12–13; [`crate::bounds::tnce`],
//! [`crate::bounds::loo_upper`]). `mi estimate --gaussian-encoder` gives p(y|x) as a diagonal
//! Gaussian N(μ(x), diag exp(log σ²(x))) per row; any [`KnownConditional`] works in the library.

use super::prepare::{finite_rows, Rows};
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
    /// What the user should know.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

impl Sandwich {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Io {
            path: "<stdout>".into(),
            detail: e.to_string(),
        })
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
/// p(y | x_i) per row, `y [n, d]` the encoder's sample for that row.
pub fn sandwich_gaussian(
    encoder: &Tensor,
    y: &Tensor,
    batch_size: Option<usize>,
    seed: u64,
    drop_nonfinite: bool,
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
    let (e, yy, dropped) = finite_rows(&e, &yy, drop_nonfinite)?;
    let mut s = sandwich(&RowEncoder, &e, &yy, batch_size, seed)?;
    s.n_dropped = dropped;
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
        let s = sandwich_gaussian(&enc, &y, Some(256), 0, false)?;
        assert_eq!((s.batches, s.batch_size), (32, 256));
        assert!(s.lower < 2.0 + 3.0 * s.lower_std_err, "{s:?}");
        assert!(s.upper > 2.0 - 3.0 * s.upper_std_err, "{s:?}");
        assert!(s.lower < s.upper && s.lower <= s.cap);
        // Within 0.1 nats on both sides at this B and MI.
        assert!(2.0 - s.lower < 0.1 && s.upper - 2.0 < 0.1, "{s:?}");
        assert!(sandwich_gaussian(&y, &y, None, 0, false).is_err());
        assert!(sandwich_gaussian(&enc, &y, Some(5000), 0, false).is_err());
        Ok(())
    }
}
