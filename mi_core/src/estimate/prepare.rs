//! From the user's two arrays to training, validation and test rows: checks, non-finite rows,
//! the seeded split, the per-column transform (fitted on the training rows only) and the
//! [`Stream`] that feeds the training loop random minibatches of the training rows.

use crate::critic::KnownConditional;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::special::normal_quantile;
use crate::train::Stream;
use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How each column is transformed before training (fitted on the training rows, applied to all).
///
/// MI is unchanged by any injective map of X and of Y, so the estimator may reshape each
/// marginal freely; what helps a neural critic is inputs of unit scale without extreme values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// (v − mean)/sd per column (sd = 1 for a constant column).
    Standardize,
    /// Φ⁻¹ of the column's empirical CDF (mid-ranks of the training rows, linear between them,
    /// clamped beyond their range): every marginal becomes close to N(0, 1), which tames heavy
    /// tails (Student-t, Cauchy). Monotone, so it keeps the MI up to the clamped tails and ties.
    #[default]
    Gaussianize,
}

impl Transform {
    /// `standardize` or `gaussianize`.
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Standardize => "standardize",
            Transform::Gaussianize => "gaussianize",
        }
    }
}

/// A row-major `[n, dim]` f64 table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rows {
    pub n: usize,
    pub dim: usize,
    pub values: Vec<f64>,
}

impl Rows {
    /// A 1-D (one column) or 2-D tensor of any float dtype, as f64 rows.
    pub fn from_tensor(name: &'static str, t: &Tensor) -> Result<Self> {
        let (n, dim) = match t.dims() {
            [n] => (*n, 1),
            [n, d] => (*n, *d),
            other => {
                return Err(Error::Shape {
                    op: "estimate",
                    detail: format!("{name} must be 1-D or 2-D (a row per sample), got {other:?}"),
                })
            }
        };
        if dim == 0 {
            return Err(Error::Shape {
                op: "estimate",
                detail: format!("{name} has no columns"),
            });
        }
        if !t.dtype().is_float() {
            return Err(Error::DType {
                op: "estimate",
                input: name,
                dtype: t.dtype(),
            });
        }
        let values = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        Ok(Self { n, dim, values })
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    pub fn select(&self, idx: &[usize]) -> Self {
        Self {
            n: idx.len(),
            dim: self.dim,
            values: idx
                .iter()
                .flat_map(|&i| self.row(i).iter().copied())
                .collect(),
        }
    }
}

/// Keeps the rows where both x and y are finite, or errors on the first bad row unless `drop`.
/// Returns the kept rows and how many were dropped.
pub(crate) fn finite_rows(x: &Rows, y: &Rows, drop: bool) -> Result<(Rows, Rows, usize)> {
    if x.n != y.n {
        return Err(Error::Shape {
            op: "estimate",
            detail: format!(
                "x has {} rows and y has {}: they must pair up row by row",
                x.n, y.n
            ),
        });
    }
    let finite = |r: &Rows, i: usize| r.row(i).iter().all(|v| v.is_finite());
    let keep: Vec<usize> = (0..x.n).filter(|&i| finite(x, i) && finite(y, i)).collect();
    let dropped = x.n - keep.len();
    if dropped > 0 && !drop {
        let first = (0..x.n)
            .find(|i| keep.binary_search(i).is_err())
            .unwrap_or(0);
        return Err(Error::InvalidParameter {
            op: "estimate",
            name: "rows",
            value: format!("{dropped} rows, the first data row {} (1-based)", first + 1),
            reason: "x or y holds NaN or ±∞ there (drop such rows with --drop-nonfinite)",
        });
    }
    Ok((x.select(&keep), y.select(&keep), dropped))
}

/// The seeded split: (train, validation, test) row indices of a random permutation.
pub(crate) fn split(n: usize, n_val: usize, n_test: usize, seed: u64) -> [Vec<usize>; 3] {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(0x5b17);
    let perm = rand::seq::index::sample(&mut rng, n, n).into_vec();
    let test = perm[..n_test].to_vec();
    let val = perm[n_test..n_test + n_val].to_vec();
    let train = perm[n_test + n_val..].to_vec();
    [train, val, test]
}

/// A per-column transform fitted on training rows.
#[derive(Clone, Debug)]
pub(crate) enum Fitted {
    Standardize {
        mean: Vec<f64>,
        sd: Vec<f64>,
    },
    /// Each column's sorted training values.
    Gaussianize {
        sorted: Vec<Vec<f64>>,
    },
}

impl Fitted {
    pub fn fit(kind: Transform, train: &Rows) -> Self {
        let column = |k: usize| -> Vec<f64> {
            (0..train.n)
                .map(|i| train.values[i * train.dim + k])
                .collect()
        };
        match kind {
            Transform::Standardize => {
                let (mut mean, mut sd) = (Vec::new(), Vec::new());
                for k in 0..train.dim {
                    let (m, s) = mean_sd(&column(k));
                    mean.push(m);
                    sd.push(s);
                }
                Fitted::Standardize { mean, sd }
            }
            Transform::Gaussianize => Fitted::Gaussianize {
                sorted: (0..train.dim)
                    .map(|k| {
                        let mut c = column(k);
                        c.sort_by(f64::total_cmp);
                        c
                    })
                    .collect(),
            },
        }
    }

    pub fn apply(&self, rows: &Rows) -> Rows {
        let dim = rows.dim;
        let values = rows
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let k = i % dim;
                match self {
                    Fitted::Standardize { mean, sd } => standardize(v, mean[k], sd[k]),
                    Fitted::Gaussianize { sorted } => gaussianize(&sorted[k], v),
                }
            })
            .collect();
        Rows {
            n: rows.n,
            dim,
            values,
        }
    }
}

/// Largest magnitude of a column for which the plain mean and variance are safe: squared
/// deviations of up to 2·1e100 and their sum over any row count stay far from f64's overflow
/// (1.8e308), and deviations of at least ulp(1e-100) ≈ 1e-116 square far above its underflow.
const PLAIN_SCALE_MAX: f64 = 1e100;
/// Smallest largest magnitude for which the plain formulas are safe (see [`PLAIN_SCALE_MAX`]).
const PLAIN_SCALE_MIN: f64 = 1e-100;

/// The mean and sample standard deviation of a column (sd = 1 for a constant column). Columns of
/// ordinary magnitude use the plain formulas; a column of tiny (1e-170) or huge (1e160) values,
/// whose squared deviations would underflow to 0 or overflow to ∞, is first divided by its
/// largest magnitude, so its sd is its own and not a silent 1.
fn mean_sd(c: &[f64]) -> (f64, f64) {
    let scale = c.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if scale == 0.0 || (PLAIN_SCALE_MIN..=PLAIN_SCALE_MAX).contains(&scale) {
        let (m, v) = plain_mean_var(c.iter().copied());
        return (
            m,
            if v > 0.0 && v.is_finite() {
                v.sqrt()
            } else {
                1.0
            },
        );
    }
    let (m, v) = plain_mean_var(c.iter().map(|x| x / scale));
    let sd = v.sqrt() * scale;
    if v > 0.0 && sd.is_finite() && sd > 0.0 {
        (m * scale, sd)
    } else {
        (m * scale, 1.0)
    }
}

/// The mean and the sample variance (n − 1; n = 1 divides by 1) of the values.
fn plain_mean_var(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count();
    let m = values.clone().sum::<f64>() / n.max(1) as f64;
    let v = values.map(|v| (v - m).powi(2)).sum::<f64>() / (n.max(2) - 1) as f64;
    (m, v)
}

/// (v − mean)/sd, without overflowing when v − mean alone would (values near ±f64::MAX).
fn standardize(v: f64, mean: f64, sd: f64) -> f64 {
    let d = v - mean;
    if d.is_finite() || !v.is_finite() {
        d / sd
    } else {
        v / sd - mean / sd
    }
}

/// Φ⁻¹(r/n) with r the mid-rank of `v` among the `sorted` training values (ties share their
/// mean rank), linear between neighbouring values, clamped to [½, n − ½].
fn gaussianize(sorted: &[f64], v: f64) -> f64 {
    let n = sorted.len();
    let lo = sorted.partition_point(|a| *a < v);
    let hi = sorted.partition_point(|a| *a <= v);
    let r = if hi > lo {
        0.5 * (lo + hi) as f64
    } else if lo == 0 {
        0.5
    } else if lo == n {
        n as f64 - 0.5
    } else {
        let (a, b) = (sorted[lo - 1], sorted[lo]);
        let t = if (b - a).is_finite() {
            (v - a) / (b - a)
        } else {
            // Neighbours ±1e308 apart: the same fraction at half scale.
            (v / 2.0 - a / 2.0) / (b / 2.0 - a / 2.0)
        };
        lo as f64 - 0.5 + t
    };
    normal_quantile(r.clamp(0.5, n as f64 - 0.5) / n as f64)
}

/// Random minibatches (without replacement within a batch) of the training rows.
pub(crate) struct RowStream {
    pub x: Rows,
    pub y: Rows,
}

impl RowStream {
    /// The rows `idx` as a batch of `dtype` tensors on `device`.
    pub fn batch_of(&self, idx: &[usize], device: &Device, dtype: DType) -> Result<Batch> {
        let to = |r: &Rows| -> Result<Tensor> {
            let sel = r.select(idx);
            Ok(
                Tensor::from_vec(sel.values, (sel.n, sel.dim), &Device::Cpu)?
                    .to_dtype(dtype)?
                    .to_device(device)?,
            )
        };
        Ok(Batch {
            x: to(&self.x)?,
            y: to(&self.y)?,
        })
    }
}

impl Stream for RowStream {
    fn dim_x(&self) -> usize {
        self.x.dim
    }
    fn dim_y(&self) -> usize {
        self.y.dim
    }
    fn true_mi(&self, _step: usize) -> f64 {
        f64::NAN
    }
    fn batch(
        &self,
        _step: usize,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
        dtype: DType,
    ) -> Result<Batch> {
        let b = batch_size.min(self.x.n);
        let idx = rand::seq::index::sample(rng, self.x.n, b).into_vec();
        self.batch_of(&idx, device, dtype)
    }
    fn known(&self, _step: usize) -> Option<&dyn KnownConditional> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: Vec<f64>, dim: usize) -> Rows {
        Rows {
            n: values.len() / dim,
            dim,
            values,
        }
    }

    #[test]
    fn nonfinite_rows_error_or_drop() -> Result<()> {
        let x = rows(vec![1.0, f64::NAN, 3.0, 4.0], 1);
        let y = rows(vec![1.0, 2.0, 3.0, f64::INFINITY], 1);
        assert!(finite_rows(&x, &y, false).is_err());
        let (a, b, dropped) = finite_rows(&x, &y, true)?;
        assert_eq!(
            (a.values, b.values, dropped),
            (vec![1.0, 3.0], vec![1.0, 3.0], 2)
        );
        assert!(finite_rows(&x, &rows(vec![1.0; 3], 1), true).is_err());
        Ok(())
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let [a, b, c] = split(100, 20, 30, 7);
        assert_eq!((a.len(), b.len(), c.len()), (50, 20, 30));
        let mut all: Vec<usize> = a.iter().chain(&b).chain(&c).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(split(100, 20, 30, 7)[2], c);
        assert_ne!(split(100, 20, 30, 8)[2], c);
    }

    #[test]
    fn transforms_are_monotone_and_unit_scale() {
        let train = rows(
            (0..1000)
                .map(|i| ((i * 7919) % 1000) as f64 / 10.0)
                .collect(),
            1,
        );
        for kind in [Transform::Standardize, Transform::Gaussianize] {
            let f = Fitted::fit(kind, &train);
            let t = f.apply(&train);
            let m = t.values.iter().sum::<f64>() / 1000.0;
            let v = t.values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 999.0;
            assert!(
                m.abs() < 1e-9 && (v - 1.0).abs() < 0.02,
                "{kind:?}: {m} {v}"
            );
            let probe = rows((0..300).map(|i| i as f64 * 0.3 - 0.5).collect(), 1);
            let out = f.apply(&probe).values;
            // Strictly increasing inside the training range (0..99.9), flat only beyond it.
            for (w, p) in out.windows(2).zip(probe.values.windows(2)) {
                if p[0] >= 0.0 && p[1] <= 99.9 {
                    assert!(w[1] > w[0], "{kind:?} at {}", p[0]);
                }
            }
        }
        // Ties share one value.
        let f = Fitted::fit(Transform::Gaussianize, &rows(vec![1.0, 2.0, 2.0, 3.0], 1));
        let t = f.apply(&rows(vec![2.0], 1)).values[0];
        assert!(t.abs() < 1e-12);
    }
}
