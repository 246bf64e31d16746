//! Scores of a representation against ground-truth factors (Figure 5's numbers, spec §7.4).
//!
//! Inputs are plain arrays: [`Codes`], the N × K posterior means μ(x_i) (row-major), and
//! [`Factors`], the N × F class indices of the generative factors with their names and sizes.
//! Nothing here knows dSprites' factor count: every loop runs over the sizes it is given.
//!
//! * [`spearman`] — Spearman's ρ = the Pearson correlation of the *average* ranks (tied values
//!   share the mean of the ranks they span; dSprites' factors are heavily tied), as
//!   `scipy.stats.spearmanr` computes it. [`factor_scores`]: per factor, the best |ρ| over latents
//!   and which latent.
//! * [`mi_matrix`] — the factor × latent plug-in mutual information
//!   I(v_f; z_k) = Σ_ab p_ab ln(p_ab / (p_a p_b)), **in nats** (as sklearn's `mutual_info_score`),
//!   after each latent is cut into equal-width bins by [`histogram_discretize`].
//! * [`mig`] — the mutual information gap of Chen et al. (2018) as disentanglement_lib computes it
//!   (`evaluation/metrics/mig.py`): per factor, (largest − second largest MI over latents) /
//!   H(v_f), with H the plug-in entropy of the factor in the sample; [`mean_mig`] is the score
//!   disentanglement_lib reports. The ratio is unit-free (nats cancel).
//! * [`active_latents`] — the latents whose variance over the data, Var_x[μ_k], exceeds a fraction
//!   ([`ActiveRule::min_relative_variance`], 1 % by default, spec §7.4) of the largest.
//! * [`Selectivity`] — Figure 5's panels: per latent, the mean μ_k at each (pos_x, pos_y), and
//!   per shape at each scale and each orientation.

mod selectivity;
#[cfg(test)]
mod tests;

pub use selectivity::{LatentSelectivity, Selectivity, SelectivityAxes};

use crate::error::{Error, Result};

/// The number of bins per latent for [`mi_matrix`] and [`mig`] (disentanglement_lib's MIG
/// setting, `discretizer.num_bins = 20`).
pub const MIG_BINS: usize = 20;

/// N × K posterior means, row-major: `get(i, k)` = μ_k(x_i). Every value is finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Codes {
    n: usize,
    k: usize,
    data: Vec<f64>,
}

impl Codes {
    /// `n` rows of `k` latents from `data` (length n·k, row-major, finite), n ≥ 1 and k ≥ 1.
    pub fn new(n: usize, k: usize, data: Vec<f64>) -> Result<Self> {
        if n == 0 || k == 0 || data.len() != n * k {
            return Err(Error::Shape {
                op: "Codes::new",
                detail: format!(
                    "{} values for {n} rows × {k} latents (need n, k ≥ 1 and n·k values)",
                    data.len()
                ),
            });
        }
        if data.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                op: "Codes::new",
                input: "means",
                shape: vec![n, k],
            });
        }
        Ok(Self { n, k, data })
    }

    /// The same from single-precision means (an encoder's output), widened to f64.
    pub fn from_f32(n: usize, k: usize, means: &[f32]) -> Result<Self> {
        Self::new(n, k, means.iter().map(|&v| f64::from(v)).collect())
    }

    /// Rows (samples).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns (latents).
    pub fn k(&self) -> usize {
        self.k
    }

    /// The row-major values.
    pub fn data(&self) -> &[f64] {
        &self.data
    }

    /// μ_k(x_i).
    pub fn get(&self, i: usize, k: usize) -> f64 {
        self.data[i * self.k + k]
    }

    /// Latent `k` over all rows.
    pub fn column(&self, k: usize) -> Vec<f64> {
        self.data.iter().skip(k).step_by(self.k).copied().collect()
    }
}

/// N × F class indices of the ground-truth factors, with their names and sizes
/// (`class(i, f) < sizes[f]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    names: Vec<String>,
    sizes: Vec<usize>,
    n: usize,
    classes: Vec<usize>,
}

impl Factors {
    /// Factors named `names` with `sizes[f]` classes each, from `rows` (one slice of F class
    /// indices per sample, e.g. `&[[usize; 5]]`). Errors on empty input, mismatched lengths, a
    /// zero size or a class index out of range.
    pub fn new<R: AsRef<[usize]>>(names: &[&str], sizes: &[usize], rows: &[R]) -> Result<Self> {
        let f = sizes.len();
        if f == 0 || names.len() != f || rows.is_empty() {
            return Err(Error::Shape {
                op: "Factors::new",
                detail: format!(
                    "{} names, {f} sizes and {} rows (need as many names as sizes, ≥ 1 each)",
                    names.len(),
                    rows.len()
                ),
            });
        }
        if let Some(p) = sizes.iter().position(|&s| s == 0) {
            return Err(Error::InvalidParameter {
                op: "Factors::new",
                name: "sizes",
                value: format!("{} = 0", names[p]),
                reason: "every factor needs at least one class",
            });
        }
        let mut classes = Vec::with_capacity(rows.len() * f);
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != f {
                return Err(Error::Shape {
                    op: "Factors::new",
                    detail: format!("row {i} has {} classes, expected {f}", row.len()),
                });
            }
            for (j, &c) in row.iter().enumerate() {
                if c >= sizes[j] {
                    return Err(Error::InvalidParameter {
                        op: "Factors::new",
                        name: "classes",
                        value: format!("row {i}: {} = {c}, size {}", names[j], sizes[j]),
                        reason: "a class index must be below its factor's size",
                    });
                }
            }
            classes.extend_from_slice(row);
        }
        Ok(Self {
            names: names.iter().map(|s| s.to_string()).collect(),
            sizes: sizes.to_vec(),
            n: rows.len(),
            classes,
        })
    }

    /// Rows (samples).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The factors' names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The factors' numbers of classes.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The class of factor `f` in row `i`.
    pub fn class(&self, i: usize, f: usize) -> usize {
        self.classes[i * self.sizes.len() + f]
    }

    /// Factor `f` over all rows.
    pub fn column(&self, f: usize) -> Vec<usize> {
        let width = self.sizes.len();
        self.classes
            .iter()
            .skip(f)
            .step_by(width)
            .copied()
            .collect()
    }
}

fn check_rows(op: &'static str, codes: &Codes, factors: &Factors) -> Result<()> {
    if codes.n() != factors.n() {
        return Err(Error::Shape {
            op,
            detail: format!(
                "{} rows of codes but {} rows of factors",
                codes.n(),
                factors.n()
            ),
        });
    }
    Ok(())
}

/// Average ranks (1-based): tied values all get the mean of the ranks they span.
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        // positions start..end (0-based) hold ranks start+1..=end; their mean:
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// The Pearson correlation of two rank vectors of equal length (mean (n + 1)/2 each), or None
/// when either is constant.
fn rank_pearson(ra: &[f64], rb: &[f64]) -> Option<f64> {
    let mean = (ra.len() + 1) as f64 / 2.0;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (a, b) in ra.iter().zip(rb) {
        let (da, db) = (a - mean, b - mean);
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    (saa > 0.0 && sbb > 0.0).then(|| (sab / (saa * sbb).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman's rank correlation of `a` and `b` with average ranks for ties (scipy's
/// `spearmanr`). Errors when the lengths differ, n < 2, a value is NaN or infinite, or either
/// input is constant (its ranks have no variance and ρ is undefined; [`factor_scores`] skips such
/// latents instead).
pub fn spearman(a: &[f64], b: &[f64]) -> Result<f64> {
    const OP: &str = "spearman";
    if a.len() != b.len() || a.len() < 2 {
        return Err(Error::Shape {
            op: OP,
            detail: format!("lengths {} and {} (need equal, ≥ 2)", a.len(), b.len()),
        });
    }
    for (name, v) in [("a", a), ("b", b)] {
        if v.iter().any(|x| !x.is_finite()) {
            return Err(Error::NonFinite {
                op: OP,
                input: name,
                shape: vec![v.len()],
            });
        }
    }
    rank_pearson(&average_ranks(a), &average_ranks(b)).ok_or_else(|| Error::InvalidParameter {
        op: OP,
        name: "input",
        value: "a constant column".into(),
        reason: "Spearman's ρ is undefined when an input is constant (its ranks have no variance)",
    })
}

/// One factor's best-matching latent by |Spearman ρ|.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorScore {
    /// The factor's name.
    pub factor: String,
    /// The latent with the largest |ρ| (the lowest index on a tie).
    pub best_latent: usize,
    /// That |ρ|.
    pub best_abs_spearman: f64,
}

/// For every factor, the largest |Spearman ρ| between it and a latent, and which latent.
///
/// A constant latent (a dead unit) has no rank correlation with anything: it is skipped, as if
/// its |ρ| were 0. Errors when the row counts differ, n < 2, every latent is constant, or a factor
/// is constant in the sample (its ρ is undefined).
pub fn factor_scores(codes: &Codes, factors: &Factors) -> Result<Vec<FactorScore>> {
    const OP: &str = "factor_scores";
    check_rows(OP, codes, factors)?;
    if codes.n() < 2 {
        return Err(Error::Shape {
            op: OP,
            detail: format!("{} rows (need ≥ 2)", codes.n()),
        });
    }
    let latent_ranks: Vec<Vec<f64>> = (0..codes.k())
        .map(|k| average_ranks(&codes.column(k)))
        .collect();
    let mut out = Vec::with_capacity(factors.sizes().len());
    for (f, name) in factors.names().iter().enumerate() {
        let column = factors.column(f);
        if column.iter().all(|&c| c == column[0]) {
            return Err(Error::InvalidParameter {
                op: OP,
                name: "factors",
                value: name.clone(),
                reason: "this factor is constant in the sample, so its rank correlation is \
                         undefined",
            });
        }
        let ranks = average_ranks(&column.iter().map(|&c| c as f64).collect::<Vec<_>>());
        let mut best: Option<(usize, f64)> = None;
        for (k, lr) in latent_ranks.iter().enumerate() {
            // None: this latent is constant (the factor is not), so it is skipped.
            if let Some(rho) = rank_pearson(&ranks, lr) {
                if best.is_none_or(|(_, b)| rho.abs() > b) {
                    best = Some((k, rho.abs()));
                }
            }
        }
        let (best_latent, best_abs_spearman) = best.ok_or_else(|| Error::InvalidParameter {
            op: OP,
            name: "codes",
            value: format!("{} latents", codes.k()),
            reason: "every latent is constant: there is nothing to correlate",
        })?;
        out.push(FactorScore {
            factor: name.clone(),
            best_latent,
            best_abs_spearman,
        });
    }
    Ok(out)
}

/// The bin (0-based, `0..bins`) of every value of `x` among `bins` equal-width bins spanning its
/// range — disentanglement_lib's `_histogram_discretize`, `np.digitize(x, np.histogram(x,
/// bins)[1][:-1])`, shifted from numpy's 1-based result to 0-based.
///
/// The edges are numpy's: e_i = lo + i·((hi − lo)/bins) for i < bins (np.linspace), where lo, hi
/// are the minimum and maximum of `x` (numpy widens a constant x to [x − ½, x + ½]). A value lies in
/// bin j when e_j ≤ x < e_{j+1}, and the last bin is closed, [e_{bins−1}, hi] — so a value equal
/// to an inner edge goes to the bin that edge opens, and the maximum lands in the last bin.
/// Errors on an empty or non-finite `x` or `bins = 0`.
pub fn histogram_discretize(x: &[f64], bins: usize) -> Result<Vec<usize>> {
    const OP: &str = "histogram_discretize";
    if bins == 0 {
        return Err(Error::InvalidParameter {
            op: OP,
            name: "bins",
            value: "0".into(),
            reason: "need at least one bin",
        });
    }
    if x.is_empty() || x.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite {
            op: OP,
            input: "x (empty, NaN or infinite)",
            shape: vec![x.len()],
        });
    }
    let (mut lo, mut hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if lo == hi {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let step = (hi - lo) / bins as f64;
    let lower_edges: Vec<f64> = (0..bins).map(|i| lo + i as f64 * step).collect();
    // Every x ≥ lo = e_0, so at least one edge is ≤ x.
    Ok(x.iter()
        .map(|&v| lower_edges.partition_point(|&e| e <= v).saturating_sub(1))
        .collect())
}

/// Plug-in mutual information (nats) of two discrete sequences of equal length with `na` and `nb`
/// classes: Σ_ab (n_ab/N) ln(N n_ab / (n_a n_b)), clipped at 0 as sklearn's
/// `mutual_info_score` does against rounding.
fn discrete_mi(a: &[usize], na: usize, b: &[usize], nb: usize) -> f64 {
    let mut joint = vec![0u64; na * nb];
    let (mut ca, mut cb) = (vec![0u64; na], vec![0u64; nb]);
    for (&x, &y) in a.iter().zip(b) {
        joint[x * nb + y] += 1;
        ca[x] += 1;
        cb[y] += 1;
    }
    let n = a.len() as f64;
    let mut mi = 0.0;
    for (x, row) in joint.chunks(nb).enumerate() {
        for (y, &c) in row.iter().enumerate() {
            if c > 0 {
                let c = c as f64;
                mi += c / n * (c.ln() + n.ln() - (ca[x] as f64).ln() - (cb[y] as f64).ln());
            }
        }
    }
    mi.max(0.0)
}

/// Plug-in entropy (nats) of a discrete sequence with `na` classes (= its MI with itself).
fn discrete_entropy(a: &[usize], na: usize) -> f64 {
    let mut counts = vec![0u64; na];
    for &x in a {
        counts[x] += 1;
    }
    let n = a.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// The factor × latent mutual information matrix, `mi[f][k]` = I(v_f; z_k) in nats, with each
/// latent discretised into `bins` bins by [`histogram_discretize`] (disentanglement_lib's
/// `discrete_mutual_info`, transposed to factor rows). Plug-in estimates: with N samples,
/// independent variables still show about (C_f − 1)(bins − 1)/(2N) nats of upward bias.
pub fn mi_matrix(codes: &Codes, factors: &Factors, bins: usize) -> Result<Vec<Vec<f64>>> {
    check_rows("mi_matrix", codes, factors)?;
    let binned: Vec<Vec<usize>> = (0..codes.k())
        .map(|k| histogram_discretize(&codes.column(k), bins))
        .collect::<Result<_>>()?;
    Ok(factors
        .sizes()
        .iter()
        .enumerate()
        .map(|(f, &size)| {
            let column = factors.column(f);
            binned
                .iter()
                .map(|z| discrete_mi(&column, size, z, bins))
                .collect()
        })
        .collect())
}

/// The plug-in entropy H(v_f) (nats) of every factor in the sample.
pub fn factor_entropies(factors: &Factors) -> Vec<f64> {
    factors
        .sizes()
        .iter()
        .enumerate()
        .map(|(f, &size)| discrete_entropy(&factors.column(f), size))
        .collect()
}

/// Per factor, the mutual information gap (MI_(1) − MI_(2)) / H(v_f): the largest minus the
/// second-largest MI between the factor and one latent, over the factor's entropy, from a
/// [`mi_matrix`] (`bins` = [`MIG_BINS`] for disentanglement_lib's numbers). Errors with fewer
/// than 2 latents or a factor that is constant in the sample (H = 0, the gap is undefined).
pub fn mig(codes: &Codes, factors: &Factors, bins: usize) -> Result<Vec<(String, f64)>> {
    mig_from_mi(&mi_matrix(codes, factors, bins)?, factors)
}

/// [`mig`] from a factor × latent MI matrix already computed for `factors`.
pub fn mig_from_mi(mi: &[Vec<f64>], factors: &Factors) -> Result<Vec<(String, f64)>> {
    const OP: &str = "mig";
    if mi.len() != factors.sizes().len() || mi.iter().any(|row| row.len() < 2) {
        return Err(Error::Shape {
            op: OP,
            detail: format!(
                "an MI matrix of {} rows for {} factors (need one row per factor, ≥ 2 latents)",
                mi.len(),
                factors.sizes().len()
            ),
        });
    }
    let entropies = factor_entropies(factors);
    mi.iter()
        .zip(entropies)
        .zip(factors.names())
        .map(|((row, h), name)| {
            if h <= 0.0 {
                return Err(Error::InvalidParameter {
                    op: OP,
                    name: "factors",
                    value: name.clone(),
                    reason: "this factor is constant in the sample: its entropy is 0 and the gap \
                             is undefined",
                });
            }
            let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for &v in row {
                if v > first {
                    (first, second) = (v, first);
                } else if v > second {
                    second = v;
                }
            }
            Ok((name.clone(), (first - second) / h))
        })
        .collect()
}

/// The mean MIG over factors (disentanglement_lib's `discrete_mig`); NaN when `per_factor` is
/// empty.
pub fn mean_mig(per_factor: &[(String, f64)]) -> f64 {
    per_factor.iter().map(|(_, v)| v).sum::<f64>() / per_factor.len() as f64
}

/// Which latents count as active (spec §7.4).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActiveRule {
    /// A latent is active when Var_x[μ_k] > this fraction of the largest latent variance.
    pub min_relative_variance: f64,
}

impl Default for ActiveRule {
    fn default() -> Self {
        Self {
            min_relative_variance: 0.01,
        }
    }
}

impl ActiveRule {
    /// The fraction must lie in [0, 1).
    pub fn validate(&self) -> Result<()> {
        let t = self.min_relative_variance;
        if (0.0..1.0).contains(&t) {
            return Ok(());
        }
        Err(Error::InvalidParameter {
            op: "ActiveRule",
            name: "min_relative_variance",
            value: t.to_string(),
            reason: "must lie in [0, 1)",
        })
    }
}

/// The variance of every latent over the rows, Var_x[μ_k] (population variance, 1/N).
pub fn latent_variances(codes: &Codes) -> Vec<f64> {
    let n = codes.n() as f64;
    let mut mean = vec![0.0; codes.k()];
    for row in codes.data().chunks(codes.k()) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / n;
        }
    }
    let mut var = vec![0.0; codes.k()];
    for row in codes.data().chunks(codes.k()) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    var
}

/// The active latents in increasing order: Var_x[μ_k] > `rule.min_relative_variance` × the
/// largest latent variance. None are active when every latent is constant.
pub fn active_latents(codes: &Codes, rule: &ActiveRule) -> Result<Vec<usize>> {
    rule.validate()?;
    let var = latent_variances(codes);
    let max = var.iter().copied().fold(0.0, f64::max);
    Ok((0..var.len())
        .filter(|&k| max > 0.0 && var[k] > rule.min_relative_variance * max)
        .collect())
}
