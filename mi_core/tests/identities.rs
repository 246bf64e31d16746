//! The exact identities of spec §8 as property tests over random score matrices, the score
//! convention pinned with an asymmetric critic, stability under ±500 shifts, batched = sliced,
//! and the errors on bad input.

mod common;

use candle_core::{DType, Device, Tensor};
use common::{matrix, scalar, vec1};
use mi_core::bounds::*;
use proptest::prelude::*;

fn t1(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), v.len(), &Device::Cpu).expect("vec")
}

/// A random B×B matrix (B in 2..=12) at scale up to 20, plus a baseline.
fn matrix_and_baseline() -> impl Strategy<Value = (usize, Vec<f64>, Vec<f64>)> {
    (2usize..=12, 0.01f64..20.0).prop_flat_map(|(b, scale)| {
        (
            Just(b),
            prop::collection::vec(-scale..scale, b * b),
            prop::collection::vec(-scale..scale, b),
        )
    })
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn caps_hold_for_any_matrix((b, s, l) in matrix_and_baseline(), alpha in 0.001f64..=1.0) {
        let s = matrix(&s, b);
        let l = t1(&l);
        let log_b = (b as f64).ln();
        prop_assert!(scalar(&infonce(&s).unwrap()) <= log_b + 1e-12);
        prop_assert!(scalar(&tnce(&s).unwrap()) <= log_b + 1e-12);
        let ia = scalar(&interpolated(&s, &l, Alpha::new(alpha).unwrap()).unwrap());
        prop_assert!(ia <= 1.0 + ((b - 1) as f64 / alpha).ln() + 1e-9, "I_alpha {ia}");
        prop_assert!(scalar(&js_fgan(&s).unwrap()) < 0.0);
    }

    #[test]
    fn infonce_and_tuba_are_invariant_to_per_y_shifts((b, s, l) in matrix_and_baseline(),
                                                       c in prop::collection::vec(-30.0f64..30.0, 12)) {
        let sm = matrix(&s, b);
        let c = t1(&c[..b]);
        let shifted = sm.broadcast_add(&c.unsqueeze(1).unwrap()).unwrap();
        let (n0, n1) = (scalar(&infonce(&sm).unwrap()), scalar(&infonce(&shifted).unwrap()));
        prop_assert!(rel_close(n0, n1, 1e-10), "{n0} vs {n1}");
        let l = t1(&l);
        let lc = l.add(&c).unwrap();
        let (t0, t1v) = (scalar(&tuba(&sm, &l).unwrap()), scalar(&tuba(&shifted, &lc).unwrap()));
        prop_assert!(rel_close(t0, t1v, 1e-9), "{t0} vs {t1v}");
        for a in [0.0, 0.3, 1.0] {
            let alpha = Alpha::new(a).unwrap();
            let (i0, i1) = (scalar(&interpolated(&sm, &l, alpha).unwrap()),
                            scalar(&interpolated(&shifted, &lc, alpha).unwrap()));
            prop_assert!(rel_close(i0, i1, 1e-9), "alpha {a}: {i0} vs {i1}");
        }
    }

    #[test]
    fn alpha_zero_is_tuba_and_nwj((b, s, l) in matrix_and_baseline()) {
        let s = matrix(&s, b);
        let l = t1(&l);
        let zero = Alpha::new(0.0).unwrap();
        let tiny = Alpha::from_logit(-80.0).unwrap(); // α ≈ 1.8e-35
        let i0 = scalar(&interpolated(&s, &l, zero).unwrap());
        prop_assert!(rel_close(i0, scalar(&tuba(&s, &l).unwrap()), 1e-12));
        // the α → 0 limit of the general formula agrees with the exact α = 0 branch
        let it = scalar(&interpolated(&s, &l, tiny).unwrap());
        prop_assert!(rel_close(i0, it, 1e-8), "{i0} vs {it}");
        let ones = l.ones_like().unwrap();
        prop_assert!(rel_close(scalar(&interpolated(&s, &ones, zero).unwrap()), scalar(&nwj(&s).unwrap()), 1e-12));
    }

    #[test]
    fn alpha_one_is_the_mean_leave_one_out_infonce((b, s, l) in matrix_and_baseline()) {
        prop_assume!(b >= 3);
        let sm = matrix(&s, b);
        let i1 = scalar(&interpolated(&sm, &t1(&l), Alpha::new(1.0).unwrap()).unwrap());
        let mut mean = 0.0;
        for j in 0..b {
            let keep: Vec<usize> = (0..b).filter(|&k| k != j).collect();
            let sub: Vec<f64> = keep.iter().flat_map(|&r| keep.iter().map(move |&c| (r, c)))
                .map(|(r, c)| s[r * b + c]).collect();
            mean += scalar(&infonce(&matrix(&sub, b - 1)).unwrap()) / b as f64;
        }
        prop_assert!(rel_close(i1, mean, 1e-9), "{i1} vs {mean}");
        // and the α → 1 limit of the general formula
        let near = scalar(&interpolated(&sm, &t1(&l), Alpha::from_logit(80.0).unwrap()).unwrap());
        prop_assert!(rel_close(i1, near, 1e-8), "{i1} vs {near}");
    }

    #[test]
    fn loo_matrix_equals_brute_force((b, s, _l) in matrix_and_baseline(), spike in 0.0f64..300.0, at in 0usize..144) {
        let mut s = s;
        s[at % (b * b)] += spike; // one entry may dominate its row by hundreds of nats
        let got = loo_logmeanexp(&matrix(&s, b)).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        for i in 0..b {
            for j in 0..b {
                let vals: Vec<f64> = (0..b).filter(|&k| k != j).map(|k| s[i * b + k]).collect();
                let m = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let want = m + (vals.iter().map(|v| (v - m).exp()).sum::<f64>() / (b - 1) as f64).ln();
                prop_assert!((got[i * b + j] - want).abs() <= 1e-12 * (1.0 + want.abs()), "[{i},{j}] {} vs {want}", got[i * b + j]);
            }
        }
    }
}

#[test]
fn constant_matrices_give_the_textbook_values() {
    let z = Tensor::zeros((6, 6), DType::F64, &Device::Cpu).unwrap();
    assert!((scalar(&nwj(&z).unwrap()) + (-1.0f64).exp()).abs() < 1e-15);
    assert!((scalar(&js_fgan(&z).unwrap()) + 2.0 * 2f64.ln()).abs() < 1e-15);
    let c = Tensor::full(7.5f64, (6, 6), &Device::Cpu).unwrap();
    let lc = Tensor::full(7.5f64, 6, &Device::Cpu).unwrap();
    assert!(scalar(&infonce(&c).unwrap()).abs() < 1e-14);
    assert!(scalar(&tuba(&c, &lc).unwrap()).abs() < 1e-14);
    for a in [0.0, 0.01, 0.5, 0.99, 1.0] {
        let v = scalar(&interpolated(&c, &lc, Alpha::new(a).unwrap()).unwrap());
        assert!(v.abs() < 1e-13, "alpha {a}: {v}");
    }
}

#[test]
fn the_convention_rows_are_y_columns_are_x() {
    // An asymmetric critic f(x, y) = x·y + g(y) + h(x) on scalar samples. scores[i, j] = f(x_j, y_i):
    // g(y) shifts rows (InfoNCE ignores it), h(x) shifts columns (InfoNCE does not).
    let x = [0.3, -1.2, 0.8, 2.0, -0.4];
    let y = [0.5, -0.9, 1.1, 1.7, 0.1];
    let g = |y: f64| 3.0 * y * y - y;
    let h = |x: f64| 2.0 * x.sin() + x;
    let build = |f: &dyn Fn(f64, f64) -> f64| {
        let v: Vec<f64> = (0..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .map(|(i, j)| f(x[j], y[i]))
            .collect();
        matrix(&v, 5)
    };
    let base = build(&|x, y| x * y);
    let with_g = build(&|x, y| x * y + g(y));
    let with_h = build(&|x, y| x * y + h(x));
    let n = |s: &Tensor| scalar(&infonce(s).unwrap());
    assert!((n(&base) - n(&with_g)).abs() < 1e-12);
    assert!((n(&base) - n(&with_h)).abs() > 1e-3);
    // A per-y baseline ℓ_i = g(y_i) cancels g in TUBA (it shifts rows), so TUBA(with_g, ℓ) = TUBA(base, 0).
    let l = t1(&y.map(g));
    let zeros = t1(&[0.0; 5]);
    assert!(
        (scalar(&tuba(&with_g, &l).unwrap()) - scalar(&tuba(&base, &zeros).unwrap())).abs() < 1e-12
    );
    // The orientation matters for a non-symmetric matrix: InfoNCE(Sᵀ) differs.
    assert!((n(&with_g) - n(&with_g.t().unwrap())).abs() > 1e-3);
}

fn all_values(s: &Tensor, l: &Tensor) -> Vec<(String, f64)> {
    let mut out = vec![
        ("tuba".to_string(), scalar(&tuba(s, l).unwrap())),
        ("nwj".into(), scalar(&nwj(s).unwrap())),
        ("dv".into(), scalar(&dv(s).unwrap())),
        ("infonce".into(), scalar(&infonce(s).unwrap())),
        ("js_fgan".into(), scalar(&js_fgan(s).unwrap())),
        ("js".into(), scalar(&js(s, 1.0).unwrap())),
        ("smile".into(), scalar(&smile(s, 5.0).unwrap())),
        ("tnce".into(), scalar(&tnce(s).unwrap())),
        ("loo_upper".into(), scalar(&loo_upper(s).unwrap())),
        (
            "rate".into(),
            scalar(&rate(&reduce::diag(s).unwrap(), l).unwrap()),
        ),
    ];
    for a in [0.0, 0.01, 0.5, 0.99, 1.0] {
        out.push((
            format!("alpha_{a}"),
            scalar(&interpolated(s, l, Alpha::new(a).unwrap()).unwrap()),
        ));
    }
    out
}

#[test]
fn every_bound_is_finite_and_shift_stable_at_plus_minus_500() {
    let b = 16;
    let s: Vec<f64> = (0..b * b)
        .map(|k| ((k * 37 % 101) as f64 / 10.0) - 5.0)
        .collect();
    let l: Vec<f64> = (0..b).map(|k| (k as f64 * 0.7).sin()).collect();
    for dtype in [DType::F64, DType::F32] {
        let base_s = matrix(&s, b).to_dtype(dtype).unwrap();
        let base_l = t1(&l).to_dtype(dtype).unwrap();
        let base = all_values(&base_s, &base_l);
        for shift in [-500.0, 500.0] {
            let ss = base_s.affine(1.0, shift).unwrap();
            let ls = base_l.affine(1.0, shift).unwrap();
            let shifted = all_values(&ss, &ls);
            for ((name, v0), (_, v1)) in base.iter().zip(&shifted) {
                assert!(
                    v1.is_finite() || name == "nwj" || name == "js" || name == "js_fgan",
                    "{name} {dtype:?} shift {shift}: {v1}"
                );
                // Bounds that are invariant to a joint shift of scores and baseline stay put.
                if ["tuba", "infonce", "tnce", "loo_upper", "rate"].contains(&name.as_str())
                    || name.starts_with("alpha_")
                {
                    let tol = if dtype == DType::F64 { 1e-9 } else { 2e-3 };
                    assert!(
                        (v0 - v1).abs() <= tol * (1.0 + v0.abs()),
                        "{name} {dtype:?} shift {shift}: {v0} vs {v1}"
                    );
                }
            }
            // DV shifts by nothing (diag and LME shift alike); SMILE's clip makes it large but finite.
            assert!(scalar(&dv(&ss).unwrap()).is_finite());
        }
        // −500 everywhere: NWJ and JS are finite (≈ −500 − …), not NaN.
        let low = base_s.affine(1.0, -500.0).unwrap();
        assert!(scalar(&nwj(&low).unwrap()).is_finite());
        assert!(scalar(&js(&low, 1.0).unwrap()).is_finite());
        assert!(scalar(&js_fgan(&low).unwrap()).is_finite());
    }
}

#[test]
#[allow(clippy::needless_range_loop)] // k indexes both the slices and the batched results
fn batched_matrices_give_the_per_slice_values() {
    let (r, b) = (3, 7);
    let s: Vec<f64> = (0..r * b * b)
        .map(|k| ((k * 53 % 97) as f64 / 9.0) - 5.0)
        .collect();
    let l: Vec<f64> = (0..r * b).map(|k| (k as f64).cos()).collect();
    let sb = Tensor::from_vec(s.clone(), (r, b, b), &Device::Cpu).unwrap();
    let lb = Tensor::from_vec(l.clone(), (r, b), &Device::Cpu).unwrap();
    let alpha = Alpha::new(0.3).unwrap();
    let batched: Vec<Vec<f64>> = vec![
        vec1(&tuba(&sb, &lb).unwrap()),
        vec1(&nwj(&sb).unwrap()),
        vec1(&dv(&sb).unwrap()),
        vec1(&infonce(&sb).unwrap()),
        vec1(&js_fgan(&sb).unwrap()),
        vec1(&js(&sb, 1.0).unwrap()),
        vec1(&smile(&sb, 2.0).unwrap()),
        vec1(&loo_upper(&sb).unwrap()),
        vec1(&interpolated(&sb, &lb, alpha).unwrap()),
    ];
    for k in 0..r {
        let sk = sb.get(k).unwrap();
        let lk = lb.get(k).unwrap();
        let single = [
            scalar(&tuba(&sk, &lk).unwrap()),
            scalar(&nwj(&sk).unwrap()),
            scalar(&dv(&sk).unwrap()),
            scalar(&infonce(&sk).unwrap()),
            scalar(&js_fgan(&sk).unwrap()),
            scalar(&js(&sk, 1.0).unwrap()),
            scalar(&smile(&sk, 2.0).unwrap()),
            scalar(&loo_upper(&sk).unwrap()),
            scalar(&interpolated(&sk, &lk, alpha).unwrap()),
        ];
        for (n, v) in single.iter().enumerate() {
            assert!(
                (batched[n][k] - v).abs() < 1e-12,
                "bound #{n} slice {k}: {} vs {v}",
                batched[n][k]
            );
        }
    }
}

fn err_text(r: candle_core::Result<Tensor>) -> String {
    match r {
        Ok(t) => panic!("expected an error, got a tensor of shape {:?}", t.dims()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dev = Device::Cpu;
    let non_square = Tensor::zeros((3, 4), DType::F64, &dev).unwrap();
    let e = err_text(infonce(&non_square));
    assert!(e.contains("infonce") && e.contains("[3, 4]"), "{e}");
    let one = Tensor::zeros((1, 1), DType::F64, &dev).unwrap();
    let e = err_text(nwj(&one));
    assert!(
        e.contains("nwj") && e.contains("B ≥ 2") && e.contains("[1, 1]"),
        "{e}"
    );
    let vector = Tensor::zeros(4, DType::F64, &dev).unwrap();
    assert!(err_text(dv(&vector)).contains("dv"));
    let mut v = vec![0.0; 9];
    v[4] = f64::NAN;
    let e = err_text(tuba(&matrix(&v, 3), &t1(&[0.0; 3])));
    assert!(
        e.contains("tuba") && e.contains("NaN") && e.contains("[3, 3]"),
        "{e}"
    );
    v[4] = f64::INFINITY;
    assert!(err_text(loo_upper(&matrix(&v, 3))).contains("loo_upper"));
    let ok = matrix(&[0.0; 9], 3);
    let e = err_text(tuba(&ok, &t1(&[0.0; 4])));
    assert!(
        e.contains("log_baseline") && e.contains("[3]") && e.contains("[4]"),
        "{e}"
    );
    let e = err_text(interpolated(
        &ok,
        &t1(&[0.0, f64::NEG_INFINITY, 0.0]),
        Alpha::new(0.5).unwrap(),
    ));
    assert!(
        e.contains("interpolated") && e.contains("log_baseline"),
        "{e}"
    );
    let ints = Tensor::zeros((3, 3), DType::U32, &dev).unwrap();
    assert!(err_text(infonce(&ints)).contains("dtype"));
    let mixed = t1(&[0.0; 3]).to_dtype(DType::F32).unwrap();
    assert!(err_text(tuba(&ok, &mixed)).contains("dtype"));
    assert!(
        Alpha::new(-0.1).is_err() && Alpha::new(1.0001).is_err() && Alpha::new(f64::NAN).is_err()
    );
    assert!(Alpha::from_logit(f64::NAN).is_err());
    assert!(err_text(smile(&ok, 0.0)).contains("tau"));
    assert!(err_text(js(&ok, f64::NAN)).contains("eval_shift"));
    assert!(MineEma::new(1.0).is_err() && MineEma::new(-0.5).is_err());
    assert!(err_text(rate(&t1(&[0.0; 3]), &t1(&[0.0; 2]))).contains("rate"));
    let e = err_text(tc_upper(&ok));
    assert!(
        e.contains("tc_upper") && e.contains("[..., K, B, B]"),
        "{e}"
    );
}

#[test]
fn the_bound_enum_matches_the_free_functions() {
    let (_, cases) = common::cases();
    let s = cases[0].scores(DType::F64);
    let l = cases[0].log_baseline(DType::F64);
    let checks: Vec<(&str, f64)> = vec![
        ("tuba", scalar(&tuba(&s, &l).unwrap())),
        ("nwj", scalar(&nwj(&s).unwrap())),
        ("dv", scalar(&dv(&s).unwrap())),
        ("infonce", scalar(&infonce(&s).unwrap())),
        (
            "alpha_0.3",
            scalar(&interpolated(&s, &l, Alpha::new(0.3).unwrap()).unwrap()),
        ),
        ("js_fgan", scalar(&js_fgan(&s).unwrap())),
        ("js", scalar(&js(&s, 1.0).unwrap())),
        ("js_shift_0", scalar(&js(&s, 0.0).unwrap())),
        ("smile_1", scalar(&smile(&s, 1.0).unwrap())),
        ("tnce", scalar(&tnce(&s).unwrap())),
        ("loo_upper", scalar(&loo_upper(&s).unwrap())),
        (
            "rate",
            scalar(&rate(&reduce::diag(&s).unwrap(), &l).unwrap()),
        ),
    ];
    for (name, want) in checks {
        let bound: Bound = name.parse().unwrap();
        assert_eq!(bound.name(), name);
        let got = scalar(&bound.evaluate(&s, Some(&l)).unwrap());
        assert!((got - want).abs() < 1e-14, "{name}: {got} vs {want}");
        let json = serde_json::to_string(&bound).unwrap();
        assert_eq!(
            serde_json::from_str::<Bound>(&json).unwrap(),
            bound,
            "{json}"
        );
    }
    assert_eq!(Bound::Nwj.kind(), BoundKind::Lower);
    assert_eq!(Bound::LooUpper.kind(), BoundKind::Upper);
    assert_eq!(Bound::Dv.kind(), BoundKind::Neither);
    assert_eq!(Bound::Smile { tau: 5.0 }.kind(), BoundKind::Neither);
    assert!("alpha_2".parse::<Bound>().is_err());
    assert!("nope".parse::<Bound>().is_err());
    assert!(Bound::Rate.evaluate(&s, None).is_err());
    // a missing baseline reads as zeros for TUBA
    let zeros = l.zeros_like().unwrap();
    assert_eq!(
        scalar(&Bound::Tuba.evaluate(&s, None).unwrap()),
        scalar(&tuba(&s, &zeros).unwrap())
    );
}

#[test]
fn mine_ema_tracks_the_partition_function_and_reports_tuba() {
    let (_, cases) = common::cases();
    let mut est = Estimator::new(Bound::MineEma { decay: 0.9 }).unwrap();
    let mut ema = MineEma::new(0.9).unwrap();
    let mut log_a = 0.0f64;
    for case in cases.iter().filter(|c| c.b >= 3 && !c.extreme()).take(6) {
        let s = case.scores(DType::F64);
        // The value uses a_{t−1}, the baseline of the previous batches only ...
        let want = scalar(&tuba_scalar(&s, log_a).unwrap());
        let v_est = scalar(&est.evaluate(&s, None).unwrap());
        let v = scalar(&ema.step(&s).unwrap());
        assert!(
            (v - want).abs() < 1e-12 && (v_est - want).abs() < 1e-12,
            "{v} {v_est} {want}"
        );
        // ... and the step then folds this batch into a_t.
        let lme = scalar(&reduce::logmeanexp_off_diag(&s).unwrap());
        log_a = (0.9 * log_a.exp() + 0.1 * lme.exp()).ln();
        assert!((ema.log_baseline() - log_a).abs() < 1e-12);
    }
    // decay 0, first batch: a_0 = 1, so the value is TUBA(S, 0), not DV.
    let s = cases[0].scores(DType::F64);
    let v0 = scalar(&MineEma::new(0.0).unwrap().step(&s).unwrap());
    assert!((v0 - scalar(&tuba_scalar(&s, 0.0).unwrap())).abs() < 1e-12);
    assert!((v0 - scalar(&dv(&s).unwrap())).abs() > 1e-3);
}

/// Straight-through values (SMILE and I_JS report one number and follow another's gradient) must
/// return the reported value exactly, however large the training objective is.
#[test]
fn straight_through_values_survive_extreme_objectives() {
    let b = 4;
    let mut v: Vec<f64> = (0..b * b)
        .map(|k| ((k * 7) % 11) as f64 * 0.25 - 1.0)
        .collect();
    // One off-diagonal score of 1e16: SMILE clips it (τ = 5) but JSD_fgan ≈ −1e16/12.
    v[1] = 1e16;
    let s = common::matrix(&v, b);
    let mut clipped = v.clone();
    clipped[1] = 5.0;
    let diag: f64 = (0..b).map(|i| v[i * b + i]).sum::<f64>() / b as f64;
    let off: Vec<f64> = (0..b * b)
        .filter(|k| k / b != k % b)
        .map(|k| clipped[k].clamp(-5.0, 5.0))
        .collect();
    let m = off.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lme = m + (off.iter().map(|x| (x - m).exp()).sum::<f64>() / off.len() as f64).ln();
    let want = diag - lme;
    // I_JS: the value is NWJ(S + c) bit for bit, even with a diagonal score of ±1e16.
    let diagonal = [
        (0usize, -1e16),
        (5, -3e15),
        (10, -7e12),
        (0, 1e16 + 6.0),
        (5, 3.3e15 + 0.5),
        (15, 7.7e12 + 0.37),
    ];
    for (k, big) in diagonal {
        let mut w = v.clone();
        w[1] = 0.5;
        w[k] = big;
        let s = common::matrix(&w, b);
        for c in [0.0, 1.0] {
            let got = scalar(&js(&s, c).unwrap());
            let want = scalar(&nwj(&s.affine(1.0, c).unwrap()).unwrap());
            assert_eq!(got, want, "I_JS at S[{k}] = {big}, c = {c}");
        }
    }
    let got = scalar(&smile(&s, 5.0).unwrap());
    assert!((got - want).abs() < 1e-12, "SMILE {got} vs {want}");
}

/// I_α averages per-entry differences S[i, i] − A[i, j] rather than subtracting two large means:
/// in f32, with every score near a large common offset, it stays within 0.35 f32-ulps of the
/// offset of the f64 value on the same (f32-rounded) inputs. Subtracting the two means was off by
/// 0.6–0.8 ulps at each of these offsets (e.g. 0.045 at 1e6, B = 64); the per-entry form is off
/// by 0.05–0.2.
#[test]
fn interpolated_keeps_its_digits_at_a_large_common_offset() {
    for (b, offset) in [(128usize, 2e3f64), (128, 2e4), (256, 1e5), (64, 1e6)] {
        let v: Vec<f64> = (0..b * b)
            .map(|k| {
                let diag = if k / b == k % b { 2.0 } else { 0.0 };
                offset + diag + ((k * 37) % 101) as f64 / 101.0
            })
            .collect();
        let l: Vec<f64> = (0..b).map(|i| offset + (i % 5) as f64 * 0.1).collect();
        let s32 = common::matrix(&v, b).to_dtype(DType::F32).unwrap();
        let l32 = t1(&l).to_dtype(DType::F32).unwrap();
        let s64 = s32.to_dtype(DType::F64).unwrap();
        let l64 = l32.to_dtype(DType::F64).unwrap();
        let tol = 0.35 * f64::from(f32::EPSILON) * offset;
        for a in [0.01, 0.5, 0.99] {
            let alpha = Alpha::new(a).unwrap();
            let want = scalar(&interpolated(&s64, &l64, alpha).unwrap());
            let got = scalar(&interpolated(&s32, &l32, alpha).unwrap());
            assert!(
                (got - want).abs() < tol,
                "B = {b}, offset {offset}, α = {a}: f32 {got} vs f64 {want} (tolerance {tol})"
            );
        }
    }
}
