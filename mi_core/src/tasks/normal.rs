//! Jointly Gaussian (X, Y) with an arbitrary covariance ("Beyond Normal"'s dense and sparse
//! multivariate normals), and the closed form of their mutual information:
//!
//! I(X; Y) = ½ (log det Σ_XX + log det Σ_YY − log det Σ),
//!
//! with Σ the (m + n) × (m + n) covariance of (X, Y), Σ_XX its top-left m × m block and Σ_YY its
//! bottom-right n × n block (each log-determinant from a Cholesky factor).

use crate::data::Sampler;
use crate::error::{Error, Result};
use rand_distr::{Distribution, StandardNormal};

/// (X, Y) ~ N(0, Σ) with X the first `dim_x` coordinates and Y the last `dim_y`.
#[derive(Clone, Debug, PartialEq)]
pub struct JointNormal {
    dim_x: usize,
    dim_y: usize,
    /// Σ, row-major (m + n)².
    cov: Vec<f64>,
    /// Its lower Cholesky factor L (Σ = L Lᵀ), row-major.
    chol: Vec<f64>,
    mi: f64,
    /// h(X) = ½ log det(2πe Σ_XX).
    entropy_x: f64,
}

impl JointNormal {
    /// (X, Y) with covariance `cov` (row-major, (m + n)², symmetric positive definite).
    pub fn new(dim_x: usize, dim_y: usize, cov: Vec<f64>) -> Result<Self> {
        let d = dim_x + dim_y;
        if dim_x == 0 || dim_y == 0 || cov.len() != d * d {
            return Err(Error::Shape {
                op: "JointNormal",
                detail: format!(
                    "need dim_x, dim_y ≥ 1 and a ({d} × {d}) covariance, got dims ({dim_x}, \
                     {dim_y}) and {} entries",
                    cov.len()
                ),
            });
        }
        let symmetric = (0..d).all(|i| (0..i).all(|j| cov[i * d + j] == cov[j * d + i]));
        let spd = |what: &'static str| Error::InvalidParameter {
            op: "JointNormal",
            name: "cov",
            value: format!("{d}×{d} matrix"),
            reason: what,
        };
        if !symmetric {
            return Err(spd("the covariance must be symmetric"));
        }
        let not_spd = || spd("the covariance must be positive definite");
        let (chol, ln_det) = cholesky(&cov, d).ok_or_else(not_spd)?;
        let block = |start: usize, k: usize| -> Vec<f64> {
            (start..start + k)
                .flat_map(|i| (start..start + k).map(move |j| (i, j)))
                .map(|(i, j)| cov[i * d + j])
                .collect()
        };
        let (_, ln_det_x) = cholesky(&block(0, dim_x), dim_x).ok_or_else(not_spd)?;
        let (_, ln_det_y) = cholesky(&block(dim_x, dim_y), dim_y).ok_or_else(not_spd)?;
        let mi = 0.5 * (ln_det_x + ln_det_y - ln_det);
        let entropy_x = 0.5
            * (dim_x as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + ln_det_x);
        Ok(Self {
            dim_x,
            dim_y,
            cov,
            chol,
            mi,
            entropy_x,
        })
    }

    /// "Dense": unit variances and correlation `c` between every two of the m + n coordinates
    /// (within X, within Y and across); positive definite for −1/(m + n − 1) < c < 1.
    pub fn dense(dim_x: usize, dim_y: usize, c: f64) -> Result<Self> {
        let d = dim_x + dim_y;
        let cov = (0..d * d)
            .map(|k| if k / d == k % d { 1.0 } else { c })
            .collect();
        Self::new(dim_x, dim_y, cov)
    }

    /// "Sparse": unit variances, X_k and Y_k correlated by ρ for k < `pairs`, every other pair of
    /// coordinates independent, so I = −(pairs/2)·log(1 − ρ²); the other coordinates are noise.
    pub fn sparse(dim_x: usize, dim_y: usize, pairs: usize, rho: f64) -> Result<Self> {
        let d = dim_x + dim_y;
        if pairs > dim_x.min(dim_y) {
            return Err(Error::InvalidParameter {
                op: "JointNormal::sparse",
                name: "pairs",
                value: pairs.to_string(),
                reason: "at most min(dim_x, dim_y) correlated pairs",
            });
        }
        let mut cov = vec![0.0; d * d];
        for i in 0..d {
            cov[i * d + i] = 1.0;
        }
        for k in 0..pairs {
            cov[k * d + dim_x + k] = rho;
            cov[(dim_x + k) * d + k] = rho;
        }
        Self::new(dim_x, dim_y, cov)
    }

    /// The differential entropy of X, ½ log det(2πe Σ_XX) (nats).
    pub fn entropy_x(&self) -> f64 {
        self.entropy_x
    }

    /// Σ, row-major.
    pub fn covariance(&self) -> &[f64] {
        &self.cov
    }

    /// One draw of (x, y) per row, row-major `[n, m + n]`: z = L ε with ε ~ N(0, I).
    pub(crate) fn sample_joint<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> Vec<f64> {
        let d = self.dim_x + self.dim_y;
        let mut out = Vec::with_capacity(n * d);
        let mut eps = vec![0.0; d];
        for _ in 0..n {
            for e in eps.iter_mut() {
                *e = StandardNormal.sample(rng);
            }
            for i in 0..d {
                let row = &self.chol[i * d..i * d + i + 1];
                out.push(row.iter().zip(&eps).map(|(l, e)| l * e).sum());
            }
        }
        out
    }
}

/// Splits row-major `[n, m + n]` rows into `([n, m], [n, n])`.
pub(crate) fn split_rows(joint: &[f64], dim_x: usize, dim_y: usize) -> (Vec<f64>, Vec<f64>) {
    let d = dim_x + dim_y;
    let n = joint.len() / d;
    let mut x = Vec::with_capacity(n * dim_x);
    let mut y = Vec::with_capacity(n * dim_y);
    for row in joint.chunks(d) {
        x.extend_from_slice(&row[..dim_x]);
        y.extend_from_slice(&row[dim_x..]);
    }
    (x, y)
}

impl Sampler for JointNormal {
    fn dim_x(&self) -> usize {
        self.dim_x
    }

    fn dim_y(&self) -> usize {
        self.dim_y
    }

    fn mutual_information(&self) -> f64 {
        self.mi
    }

    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        split_rows(&self.sample_joint(n, rng), self.dim_x, self.dim_y)
    }
}

/// Lower Cholesky factor of a row-major d × d matrix and its log-determinant; `None` unless it
/// is (numerically) positive definite and finite.
fn cholesky(a: &[f64], d: usize) -> Option<(Vec<f64>, f64)> {
    let mut l = vec![0.0; d * d];
    let mut ln_det = 0.0;
    for i in 0..d {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * d + k] * l[j * d + k]).sum();
            let v = a[i * d + j] - dot;
            if i == j {
                if !(v.is_finite() && v > 0.0) {
                    return None;
                }
                l[i * d + i] = v.sqrt();
                ln_det += v.ln();
            } else {
                l[i * d + j] = v / l[j * d + j];
            }
        }
    }
    Some((l, ln_det))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// log det of the k × k equicorrelation matrix: (1 − c)^{k−1} (1 + (k − 1) c).
    fn ln_det_equicorrelated(k: usize, c: f64) -> f64 {
        (k as f64 - 1.0) * (1.0 - c).ln() + (1.0 + (k as f64 - 1.0) * c).ln()
    }

    #[test]
    fn dense_mi_matches_the_equicorrelation_determinant() -> Result<()> {
        for &(m, n, c) in &[
            (1, 1, 0.75),
            (2, 2, 0.5),
            (5, 5, 0.5),
            (25, 25, 0.5),
            (3, 7, 0.3),
        ] {
            let want = 0.5
                * (ln_det_equicorrelated(m, c) + ln_det_equicorrelated(n, c)
                    - ln_det_equicorrelated(m + n, c));
            let got = JointNormal::dense(m, n, c)?.mutual_information();
            assert!((got - want).abs() < 1e-10, "{m}x{n}: {got} vs {want}");
        }
        // 1 × 1 is the bivariate normal: −½ log(1 − ρ²).
        let one = JointNormal::dense(1, 1, 0.75)?.mutual_information();
        assert!((one - crate::data::rho_to_mi(1, 0.75)).abs() < 1e-12);
        Ok(())
    }

    #[test]
    fn sparse_mi_counts_the_correlated_pairs() -> Result<()> {
        let s = JointNormal::sparse(5, 4, 2, 0.8)?;
        assert!((s.mutual_information() - crate::data::rho_to_mi(2, 0.8)).abs() < 1e-12);
        assert!(JointNormal::sparse(2, 2, 3, 0.5).is_err());
        Ok(())
    }

    #[test]
    fn refuses_bad_covariances() {
        assert!(JointNormal::dense(2, 2, 1.0).is_err());
        assert!(JointNormal::dense(2, 2, -0.5).is_err()); // below −1/3: not positive definite
        assert!(JointNormal::new(1, 1, vec![1.0, 0.5, 0.4, 1.0]).is_err());
        assert!(JointNormal::new(1, 1, vec![1.0; 3]).is_err());
        assert!(JointNormal::new(0, 1, vec![1.0]).is_err());
    }

    #[test]
    fn samples_have_the_covariance() -> Result<()> {
        let g = JointNormal::dense(2, 1, 0.5)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 40_000;
        let z = g.sample_joint(n, &mut rng);
        for i in 0..3 {
            for j in 0..3 {
                let c: f64 = z.chunks(3).map(|r| r[i] * r[j]).sum::<f64>() / n as f64;
                // sd of a sample covariance ≤ √(2/n) ≈ 0.007: 4 sd.
                assert!(
                    (c - g.covariance()[i * 3 + j]).abs() < 0.03,
                    "({i},{j}): {c}"
                );
            }
        }
        Ok(())
    }
}
