//! Samplers and densities: seeded value stability, analytic MI, the staircase, the cubic
//! variant's optimal critic, and the pairwise densities against naive loops.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{max_abs_diff, scalar, vec1};
use mi_core::bounds::{infonce, loo_upper, nwj, rate, reduce::diag, tnce};
use mi_core::data::{mi_to_rho, rho_to_mi, CorrelatedGaussian, Cubic, Sampler, Staircase};
use mi_core::density::{
    diag_gaussian_log_prob_pairs, diag_gaussian_log_prob_pairs_per_dim, std_normal_log_prob,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn rho_and_mi_match_the_paper() {
    let want = [
        (2.0, 0.42576),
        (4.0, 0.57418),
        (6.0, 0.67171),
        (8.0, 0.74207),
        (10.0, 0.79506),
    ];
    for (mi, rho) in want {
        assert!((mi_to_rho(20, mi) - rho).abs() < 1e-5, "{mi}");
        assert!((rho_to_mi(20, mi_to_rho(20, mi)) - mi).abs() < 1e-12);
    }
    // the colab's 1-D scatter titles
    assert!((rho_to_mi(1, 0.5) - 0.14384).abs() < 1e-5);
    assert!((rho_to_mi(1, 0.99) - 1.95852).abs() < 1e-5);
    assert_eq!(mi_to_rho(20, 0.0), 0.0);
}

#[test]
fn samples_are_seeded_and_stable() {
    let g = CorrelatedGaussian::new(2, 0.5).expect("g");
    let draw = |seed| g.sample_f64(2, &mut ChaCha8Rng::seed_from_u64(seed));
    let (x, y) = draw(42);
    assert_eq!((x.clone(), y.clone()), draw(42));
    assert_ne!(x, draw(43).0);
    // Pinned values: a change of RNG, distribution or draw order must be deliberate.
    let pinned_x = [
        0.47798123835102174,
        1.3340706102318078,
        -0.5120906220561634,
        -0.9339784493906981,
    ];
    let pinned_y = [
        0.056374714651031554,
        1.0795638421489135,
        -1.1241299882419242,
        0.32686470463580614,
    ];
    for (a, b) in x.iter().zip(pinned_x).chain(y.iter().zip(pinned_y)) {
        assert!((a - b).abs() < 1e-15, "{x:?} {y:?}");
    }
    let t = g
        .sample(
            3,
            &mut ChaCha8Rng::seed_from_u64(42),
            &Device::Cpu,
            DType::F32,
        )
        .expect("t");
    assert_eq!((t.x.dims(), t.x.dtype()), (&[3usize, 2][..], DType::F32));
    assert!(g
        .sample(
            0,
            &mut ChaCha8Rng::seed_from_u64(0),
            &Device::Cpu,
            DType::F32
        )
        .is_err());
}

#[test]
fn empirical_correlations_match_rho() {
    let g = CorrelatedGaussian::from_mi(4, 1.0).expect("g");
    let n = 40_000;
    let (x, y) = g.sample_f64(n, &mut ChaCha8Rng::seed_from_u64(1));
    let corr = |a: &dyn Fn(usize) -> f64, b: &dyn Fn(usize) -> f64| {
        let (ma, mb) = (
            (0..n).map(a).sum::<f64>() / n as f64,
            (0..n).map(b).sum::<f64>() / n as f64,
        );
        let cov = (0..n).map(|i| (a(i) - ma) * (b(i) - mb)).sum::<f64>();
        let va = (0..n).map(|i| (a(i) - ma).powi(2)).sum::<f64>();
        let vb = (0..n).map(|i| (b(i) - mb).powi(2)).sum::<f64>();
        cov / (va * vb).sqrt()
    };
    for k in 0..4 {
        let c = corr(&|i| x[i * 4 + k], &|i| y[i * 4 + k]);
        assert!((c - g.rho()).abs() < 0.02, "dim {k}: {c} vs {}", g.rho());
    }
    let cross = corr(&|i| x[i * 4], &|i| y[i * 4 + 1]);
    assert!(cross.abs() < 0.02, "{cross}");
}

#[test]
fn the_staircase_has_the_papers_levels() {
    let s = Staircase::paper(20_000).expect("s");
    let v = s.values();
    assert_eq!(v[0], 0.0);
    for (t, mi) in v.iter().enumerate().skip(1) {
        let want = 2.0 * (1 + t / 4000) as f64;
        assert_eq!(*mi, want, "step {t}");
    }
    assert_eq!(s.mi_at(50_000), 10.0);
    assert!(Staircase::new(1, 5, 2.0).is_err() && Staircase::new(10, 0, 2.0).is_err());
}

#[test]
fn bad_sampler_parameters_are_errors() {
    assert!(CorrelatedGaussian::new(0, 0.5).is_err());
    assert!(CorrelatedGaussian::new(3, 1.0).is_err());
    assert!(CorrelatedGaussian::new(3, f64::NAN).is_err());
    assert!(CorrelatedGaussian::from_mi(3, -1.0).is_err());
    assert!(CorrelatedGaussian::from_mi(3, f64::INFINITY).is_err());
    let g = CorrelatedGaussian::new(2, 0.5).expect("g");
    assert!(Cubic::with_matrix(g, vec![1.0, 2.0, 2.0, 4.0]).is_err());
    assert!(Cubic::with_matrix(g, vec![1.0; 3]).is_err());
}

#[test]
fn cubic_data_keep_the_gaussians_optimal_critic() {
    let (b, d) = (32, 20);
    let g = CorrelatedGaussian::from_mi(d, 4.0).expect("g");
    let cubic = Cubic::new(g, &mut ChaCha8Rng::seed_from_u64(3)).expect("cubic");
    assert_eq!(cubic.mutual_information(), g.mutual_information());
    let gb = g
        .sample(
            b,
            &mut ChaCha8Rng::seed_from_u64(9),
            &Device::Cpu,
            DType::F64,
        )
        .expect("g");
    let cb = cubic
        .sample(
            b,
            &mut ChaCha8Rng::seed_from_u64(9),
            &Device::Cpu,
            DType::F64,
        )
        .expect("c");
    // Same RNG stream: same x; z = (W y)³ and W⁻¹∛z recovers y.
    assert_eq!(
        vec1(&gb.x.flatten_all().expect("f")),
        vec1(&cb.x.flatten_all().expect("f"))
    );
    let y_back = cubic.invert(&cb.y).expect("invert");
    let err = max_abs_diff(&y_back, &gb.y);
    assert!(err < 1e-9, "{err}");
    // Values reach the hundreds, as the spec warns.
    assert!(scalar(&cb.y.abs().expect("a").max_all().expect("m")) > 50.0);
    // Every bound with the optimal critic is identical on (x, y) and (x, z).
    let (lp_g, lp_c) = (
        g.log_cond_pairs(&gb.x, &gb.y).expect("g"),
        cubic.log_cond_pairs(&cb.x, &cb.y).expect("c"),
    );
    let (r_g, r_c) = (
        g.log_ratio_pairs(&gb.x, &gb.y).expect("g"),
        cubic.log_ratio_pairs(&cb.x, &cb.y).expect("c"),
    );
    let same = |a: f64, b: f64, what: &str| {
        assert!((a - b).abs() < 1e-7 * (1.0 + a.abs()), "{what}: {a} vs {b}")
    };
    same(
        scalar(&tnce(&lp_g).expect("t")),
        scalar(&tnce(&lp_c).expect("t")),
        "tnce",
    );
    same(
        scalar(&loo_upper(&lp_g).expect("t")),
        scalar(&loo_upper(&lp_c).expect("t")),
        "mbu",
    );
    same(
        scalar(&nwj(&r_g.affine(1.0, 1.0).expect("a")).expect("n")),
        scalar(&nwj(&r_c.affine(1.0, 1.0).expect("a")).expect("n")),
        "nwj",
    );
    same(
        scalar(&infonce(&r_g).expect("n")),
        scalar(&infonce(&r_c).expect("n")),
        "infonce",
    );
    let rate_g = rate(&diag(&lp_g).expect("d"), &g.log_marginal(&gb.y).expect("m")).expect("r");
    let rate_c = rate(
        &diag(&lp_c).expect("d"),
        &cubic.log_marginal(&cb.y).expect("m"),
    )
    .expect("r");
    same(scalar(&rate_g), scalar(&rate_c), "rate");
    // The Jacobian makes log p(z|x) differ from log p(y|x) by a row constant.
    let diff = lp_c.sub(&lp_g).expect("d");
    let spread = diff
        .max_keepdim(1)
        .expect("m")
        .sub(&diff.min_keepdim(1).expect("m"))
        .expect("s");
    assert!(scalar(&spread.max_all().expect("m")) < 1e-7);
    // Another level, same W.
    assert_eq!(cubic.with_mi(8.0).expect("w").w(), cubic.w());
}

#[test]
fn standardized_cubic_data_have_unit_variance_and_the_same_critic() {
    let (b, d) = (20_000, 20);
    let g = CorrelatedGaussian::from_mi(d, 6.0).expect("g");
    let raw = Cubic::new(g, &mut ChaCha8Rng::seed_from_u64(3)).expect("cubic");
    let unit = raw.standardized();
    assert_eq!(unit.w(), raw.w());
    assert!(raw.scale().iter().all(|&c| c == 1.0));
    let draw = |c: &Cubic| {
        c.sample(
            b,
            &mut ChaCha8Rng::seed_from_u64(11),
            &Device::Cpu,
            DType::F64,
        )
        .expect("sample")
    };
    let (rb, ub) = (draw(&raw), draw(&unit));
    // Same stream: z_unit = scale ⊙ z_raw, and both invert to the same y.
    let scale = Tensor::new(unit.scale(), &Device::Cpu).expect("s");
    let err = max_abs_diff(&rb.y.broadcast_mul(&scale).expect("m"), &ub.y);
    assert!(err < 1e-9, "{err}");
    // E[z_k²] = 1 per coordinate. z = σ-scaled cube of a Gaussian has E z⁴ = 10395/225 ≈ 46, so
    // the standard error of a coordinate's mean square over 20 000 draws is √(45/20 000) ≈ 0.05:
    // 0.25 is 5 SE.
    let ms = vec1(&ub.y.sqr().expect("sq").mean(0).expect("mean"));
    for (k, m) in ms.iter().enumerate() {
        assert!((m - 1.0).abs() < 0.25, "coordinate {k}: E z² = {m}");
    }
    // The raw data are nowhere near unit scale.
    let raw_ms = vec1(&rb.y.sqr().expect("sq").mean(0).expect("mean"));
    assert!(raw_ms.iter().all(|&m| m > 100.0), "{raw_ms:?}");
    // Density ratios are unchanged; log p(z|x) moves by −Σ log scale_k (the Jacobian).
    let n = 16;
    let (xs, zr, zu) = (
        rb.x.narrow(0, 0, n).expect("n"),
        rb.y.narrow(0, 0, n).expect("n"),
        ub.y.narrow(0, 0, n).expect("n"),
    );
    let r_raw = raw.log_ratio_pairs(&xs, &zr).expect("r");
    let r_unit = unit.log_ratio_pairs(&xs, &zu).expect("r");
    let dr = max_abs_diff(&r_raw, &r_unit);
    assert!(dr < 1e-7, "{dr}");
    let shift: f64 = unit.scale().iter().map(|c| c.ln()).sum();
    let lp_raw = raw.log_cond_pairs(&xs, &zr).expect("lp");
    let lp_unit = unit.log_cond_pairs(&xs, &zu).expect("lp");
    let dl = max_abs_diff(&lp_unit.affine(1.0, shift).expect("a"), &lp_raw);
    assert!(dl < 1e-6 * shift.abs().max(1.0), "{dl}");
    let lm_raw = vec1(&raw.log_marginal(&zr).expect("m"));
    let lm_unit = vec1(&unit.log_marginal(&zu).expect("m"));
    for (a, b) in lm_raw.iter().zip(&lm_unit) {
        assert!((b - (a - shift)).abs() < 1e-6 * (1.0 + a.abs()), "{a} {b}");
    }
    // The level change keeps the scale.
    assert_eq!(unit.with_mi(2.0).expect("w").scale(), unit.scale());
}

fn naive_pairs(y: &[f64], m: &[f64], v: &[f64], b: usize, d: usize) -> Vec<f64> {
    let mut out = vec![0.0; b * b];
    for i in 0..b {
        for j in 0..b {
            out[i * b + j] = (0..d)
                .map(|k| {
                    let (yy, mm, vv) = (y[i * d + k], m[j * d + k], v[j * d + k]);
                    -0.5 * (2.0 * std::f64::consts::PI * vv).ln() - (yy - mm).powi(2) / (2.0 * vv)
                })
                .sum();
        }
    }
    out
}

#[test]
fn pairwise_densities_equal_naive_loops() {
    let (b, d) = (6, 4);
    let gen = |n: usize, s: usize| -> Vec<f64> {
        (0..n)
            .map(|k| (((k + s) * 104729 % 997) as f64 / 997.0 - 0.5) * 4.0)
            .collect()
    };
    let y = gen(b * d, 1);
    let m = gen(b * d, 2);
    let v: Vec<f64> = gen(b * d, 3).iter().map(|x| 0.1 + x.abs()).collect();
    let t = |v: &[f64]| Tensor::from_vec(v.to_vec(), (b, d), &Device::Cpu).expect("t");
    let got = diag_gaussian_log_prob_pairs(&t(&y), &t(&m), &t(&v)).expect("pairs");
    let want = naive_pairs(&y, &m, &v, b, d);
    for (g, w) in vec1(&got.flatten_all().expect("f")).iter().zip(&want) {
        assert!((g - w).abs() < 1e-10 * (1.0 + w.abs()), "{g} vs {w}");
    }
    let per_dim = diag_gaussian_log_prob_pairs_per_dim(&t(&y), &t(&m), &t(&v)).expect("per dim");
    assert_eq!(per_dim.dims(), &[d, b, b]);
    let summed = vec1(&per_dim.sum(0).expect("s").flatten_all().expect("f"));
    for (g, w) in summed.iter().zip(&want) {
        assert!((g - w).abs() < 1e-10 * (1.0 + w.abs()));
    }
    let lp0 = vec1(&std_normal_log_prob(&t(&y)).expect("n"));
    let zeros = vec![0.0; b * d];
    let ones = vec![1.0; b * d];
    let diag_naive = naive_pairs(&y, &zeros, &ones, b, d);
    for i in 0..b {
        assert!((lp0[i] - diag_naive[i * b + i]).abs() < 1e-12);
    }
    // bad variances and shapes are errors
    let neg: Vec<f64> = v.iter().map(|x| -x).collect();
    assert!(diag_gaussian_log_prob_pairs(&t(&y), &t(&m), &t(&neg)).is_err());
    let short = Tensor::zeros((b, d - 1), DType::F64, &Device::Cpu).expect("z");
    let e = diag_gaussian_log_prob_pairs(&t(&y), &short, &t(&v)).expect_err("shape");
    assert!(
        e.to_string().contains("[6, 4]") && e.to_string().contains("[6, 3]"),
        "{e}"
    );
}
