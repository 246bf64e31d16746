//! Statistical claims with the optimal critic on the 20-d correlated Gaussian at I = 2 nats,
//! B = 64, 1000 batches, fixed seed (spec §8): NWJ(1 + r) unbiased, InfoNCE ≤ log 64,
//! E[TNCE] ≤ I ≤ E[leave-one-out upper bound]; and the TC upper bound on a correlated encoder.

mod common;

use candle_core::{DType, Device, Tensor};
use common::vec1;
use mi_core::bounds::{
    dv, infonce, interpolated, loo_upper, nwj, tc_upper, tnce, tuba, tuba_scalar, Alpha, MineEma,
};
use mi_core::data::{CorrelatedGaussian, Sampler};
use mi_core::density::diag_gaussian_log_prob_pairs_per_dim;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// `reps` batches of B pairs from the d-dimensional Gaussian with MI `mi` (seed 20190609):
/// the distribution and x, y as `[reps, B, d]`.
fn gaussian_batches(
    reps: usize,
    b: usize,
    d: usize,
    mi: f64,
) -> (CorrelatedGaussian, Tensor, Tensor) {
    let gauss = CorrelatedGaussian::from_mi(d, mi).expect("gaussian");
    assert!((gauss.mutual_information() - mi).abs() < 1e-12);
    let mut rng = ChaCha8Rng::seed_from_u64(20190609);
    let batch = gauss
        .sample(reps * b, &mut rng, &Device::Cpu, DType::F64)
        .expect("sample");
    let x = batch.x.reshape((reps, b, d)).expect("x");
    let y = batch.y.reshape((reps, b, d)).expect("y");
    (gauss, x, y)
}

#[test]
fn optimal_critic_statistics_on_the_gaussian() {
    let (reps, b, d, mi) = (1000, 64, 20, 2.0);
    let (gauss, x, y) = gaussian_batches(reps, b, d, mi);
    let lp = gauss.log_cond_pairs(&x, &y).expect("Lp"); // [reps, B, B]
    let log_py = gauss.log_marginal(&y).expect("log p(y)"); // [reps, B]
    let r = gauss.log_ratio_pairs(&x, &y).expect("r");

    let nwj_v = vec1(&nwj(&r.affine(1.0, 1.0).expect("1 + r")).expect("nwj"));
    let tuba_v = vec1(&tuba(&lp, &log_py).expect("tuba"));
    let nce_v = vec1(&infonce(&r).expect("nce"));
    let tnce_v = vec1(&tnce(&lp).expect("tnce"));
    let mbu_v = vec1(&loo_upper(&lp).expect("mbu"));
    let ia_v = vec1(&interpolated(&lp, &log_py, Alpha::new(0.5).expect("a")).expect("I_a"));

    let (m_nwj, se_nwj) = mean_se(&nwj_v);
    let (m_tnce, se_tnce) = mean_se(&tnce_v);
    let (m_mbu, se_mbu) = mean_se(&mbu_v);
    let (m_ia, se_ia) = mean_se(&ia_v);
    println!("I = {mi}, B = {b}, {reps} batches (mean ± standard error):");
    println!("  NWJ(1 + r)         {m_nwj:.4} ± {se_nwj:.4}");
    println!("  TNCE               {m_tnce:.4} ± {se_tnce:.4}");
    println!("  leave-one-out MBU  {m_mbu:.4} ± {se_mbu:.4}");
    println!("  I_0.5(Lp, log p)   {m_ia:.4} ± {se_ia:.4}");

    // NWJ with its optimal critic is unbiased: within 3 standard errors of the truth.
    assert!((m_nwj - mi).abs() <= 3.0 * se_nwj, "NWJ {m_nwj} ± {se_nwj}");
    // The optimal critics coincide: NWJ(1 + r) = TUBA(Lp, log p(y)) batch by batch.
    for (a, t) in nwj_v.iter().zip(&tuba_v) {
        assert!((a - t).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {t}");
    }
    // InfoNCE is capped by log B in every batch; TNCE is the same number (row-shift invariance).
    let cap = (b as f64).ln();
    for (n, t) in nce_v.iter().zip(&tnce_v) {
        assert!(*n <= cap + 1e-12 && (n - t).abs() < 1e-9);
    }
    // The sandwich, well separated from I in both directions.
    assert!(m_tnce + 3.0 * se_tnce < mi, "TNCE {m_tnce} ± {se_tnce}");
    assert!(m_mbu - 3.0 * se_mbu > mi, "MBU {m_mbu} ± {se_mbu}");
    // I_α with its (conjectured) optimal critic is a lower bound on average.
    assert!(m_ia <= mi + 3.0 * se_ia, "I_0.5 {m_ia} ± {se_ia}");
}

/// MINE's EMA baseline must not contain the batch it scores (issue 10): with the optimal critic
/// r = log p(y|x)/p(y) at I = 10 nats, B = 64, β = 0.99, the mean over 5000 batches must not
/// exceed the truth by more than 3 standard errors. Scoring with a baseline that already holds
/// the current batch gave 10.258 ± 0.043 on this seed; the fix gives 10.125 ± 0.065 here and
/// 9.80–10.04 on seeds 1–6 (the marginal term is heavy-tailed at 10 nats, so a single mean over
/// 5000 batches still scatters by more than its naive standard error suggests).
#[test]
fn mine_ema_is_a_lower_bound_at_high_mi() {
    let (reps, b, d, mi) = (5000, 64, 20, 10.0);
    let (gauss, x, y) = gaussian_batches(reps, b, d, mi);
    let r = gauss.log_ratio_pairs(&x, &y).expect("r"); // [reps, B, B]
    let mut ema = MineEma::new(0.99).expect("ema");
    let values: Vec<f64> = (0..reps)
        .map(|t| {
            let s = r.get(t).expect("batch");
            ema.step(&s)
                .and_then(|v| v.to_scalar::<f64>())
                .expect("step")
        })
        .collect();
    let (m, se) = mean_se(&values);
    println!("MINE-EMA (β = 0.99), I = {mi}, B = {b}, {reps} batches: {m:.4} ± {se:.4}");
    assert!(m <= mi + 3.0 * se, "MINE-EMA {m} ± {se} above I = {mi}");
}

/// β = 0: the baseline is the previous batch's mean e^f, so the value is TUBA with that baseline
/// and differs from DV (which a baseline built from the current batch would reproduce exactly).
#[test]
fn mine_ema_with_zero_decay_is_not_dv() {
    let gauss = CorrelatedGaussian::from_mi(5, 2.0).expect("gaussian");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut ema = MineEma::new(0.0).expect("ema");
    let mut previous: Option<f64> = None;
    for _ in 0..4 {
        let bt = gauss
            .sample(16, &mut rng, &Device::Cpu, DType::F64)
            .expect("sample");
        let s = gauss.log_ratio_pairs(&bt.x, &bt.y).expect("r");
        let v = ema
            .step(&s)
            .and_then(|v| v.to_scalar::<f64>())
            .expect("step");
        let d = dv(&s).and_then(|v| v.to_scalar::<f64>()).expect("dv");
        let want = tuba_scalar(&s, previous.unwrap_or(0.0))
            .and_then(|v| v.to_scalar::<f64>())
            .expect("tuba");
        assert!((v - want).abs() < 1e-12, "{v} vs TUBA {want}");
        assert!((v - d).abs() > 1e-6, "β = 0 reproduced DV: {v} vs {d}");
        previous = Some(
            mi_core::bounds::reduce::logmeanexp_off_diag(&s)
                .and_then(|v| v.to_scalar::<f64>())
                .expect("lme"),
        );
    }
}

/// log det of a small SPD matrix by Cholesky.
fn log_det(a: &[f64], n: usize) -> f64 {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                l[i * n + i] = (a[i * n + i] - s).sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    (0..n).map(|i| 2.0 * l[i * n + i].ln()).sum()
}

#[test]
fn tc_upper_bound_covers_the_true_total_correlation() {
    // Encoder y = A x + σ ε with x ~ N(0, I_2): y₁ and y₂ share x₁, so TC(Y) > 0.
    let a = [0.9, 0.0, 0.7, 0.0, 0.0, 0.8]; // 3×2, row-major
    let sigma2 = 1.0;
    let (reps, b) = (400, 128);
    // Cov(Y) = A Aᵀ + σ² I; TC = ½(Σ_k log Σ_kk − log det Σ).
    let mut cov = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            cov[i * 3 + j] = (0..2).map(|k| a[i * 2 + k] * a[j * 2 + k]).sum::<f64>()
                + if i == j { sigma2 } else { 0.0 };
        }
    }
    let tc_true = 0.5 * ((0..3).map(|k| cov[k * 3 + k].ln()).sum::<f64>() - log_det(&cov, 3));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    use rand_distr::{Distribution, StandardNormal};
    let n = reps * b;
    let x: Vec<f64> = (0..n * 2)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let mut mean = Vec::with_capacity(n * 3);
    let mut y = Vec::with_capacity(n * 3);
    for row in x.chunks(2) {
        for k in 0..3 {
            let m = a[k * 2] * row[0] + a[k * 2 + 1] * row[1];
            let e: f64 = StandardNormal.sample(&mut rng);
            mean.push(m);
            y.push(m + sigma2.sqrt() * e);
        }
    }
    let t = |v: Vec<f64>| Tensor::from_vec(v, (reps, b, 3), &Device::Cpu).expect("t");
    let var = Tensor::full(sigma2, (reps, b, 3), &Device::Cpu).expect("var");
    let per_dim = diag_gaussian_log_prob_pairs_per_dim(&t(y), &t(mean), &var).expect("per dim");
    let tc = vec1(&tc_upper(&per_dim).expect("tc"));
    let (m, se) = mean_se(&tc);
    println!("TC(Y) = {tc_true:.4}; TC upper bound, B = {b}: {m:.4} ± {se:.4}");
    assert!(
        m + 3.0 * se >= tc_true,
        "upper bound {m} ± {se} below TC {tc_true}"
    );
    assert!(
        m < tc_true + 0.1,
        "upper bound {m} is loose by more than 0.1 nats (TC {tc_true})"
    );
}
