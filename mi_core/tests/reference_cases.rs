//! Every bound against the shared float64 oracle (tests/data/bounds_cases.json, 29 cases),
//! in f64 (≤ 1e-9 relative) and f32 (≤ 1e-4 relative; 1e-3 absolute for the ±500 cases).

mod common;

use candle_core::DType;
use common::{cases, close, scalar};
use mi_core::bounds::{
    dv, infonce, interpolated, js, js_fgan, loo_logmeanexp, loo_upper, nwj, tnce, tuba, Alpha,
};

fn check_all(dtype: DType) -> usize {
    let (alphas, cases) = cases();
    assert_eq!(cases.len(), 29, "the reference file holds 29 cases");
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in &cases {
        let s = case.scores(dtype);
        let l = case.log_baseline(dtype);
        let ours: Vec<(&str, f64)> = vec![
            ("tuba", scalar(&tuba(&s, &l).expect("tuba"))),
            ("nwj", scalar(&nwj(&s).expect("nwj"))),
            ("dv", scalar(&dv(&s).expect("dv"))),
            ("infonce", scalar(&infonce(&s).expect("infonce"))),
            ("infonce", scalar(&tnce(&s).expect("tnce"))),
            ("js_fgan", scalar(&js_fgan(&s).expect("js_fgan"))),
            ("js_value_shift0", scalar(&js(&s, 0.0).expect("js"))),
            ("js_value_shift1", scalar(&js(&s, 1.0).expect("js"))),
            ("loo_upper", scalar(&loo_upper(&s).expect("loo_upper"))),
        ];
        for (key, got) in ours {
            assert!(!got.is_nan(), "case {} {key} {dtype:?}: NaN", case.index);
            match case.value(key) {
                Some(want) => {
                    if !close(got, want, dtype, case.extreme()) {
                        failures.push(format!(
                            "case {} {key} {dtype:?}: got {got}, want {want}",
                            case.index
                        ));
                    }
                    checked += 1;
                }
                // null: astronomically negative in the oracle; ours must not be NaN or large positive.
                None => assert!(
                    got < -100.0,
                    "case {} {key} {dtype:?}: null in oracle, got {got}",
                    case.index
                ),
            }
        }
        for &a in &alphas {
            let key = format!("{a:?}");
            let want = case.raw["interpolated"][&key]
                .as_f64()
                .expect("interpolated value");
            let got =
                scalar(&interpolated(&s, &l, Alpha::new(a).expect("alpha")).expect("I_alpha"));
            if !close(got, want, dtype, case.extreme()) {
                failures.push(format!(
                    "case {} I_alpha({a}) {dtype:?}: got {got}, want {want}",
                    case.index
                ));
            }
            checked += 1;
        }
        let loo = loo_logmeanexp(&s)
            .and_then(|t| t.to_dtype(DType::F64))
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f64>())
            .expect("loo");
        let want: Vec<f64> = case.raw["loo_logmeanexp"]
            .as_array()
            .expect("loo rows")
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .expect("row")
                    .iter()
                    .map(|v| v.as_f64().expect("num"))
            })
            .collect();
        for (k, (g, w)) in loo.iter().zip(&want).enumerate() {
            if !close(*g, *w, dtype, case.extreme()) {
                failures.push(format!(
                    "case {} loo[{k}] {dtype:?}: got {g}, want {w}",
                    case.index
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    checked
}

#[test]
fn every_reference_case_in_f64() {
    let n = check_all(DType::F64);
    assert!(n > 29 * 15, "checked {n} values");
}

#[test]
fn every_reference_case_in_f32() {
    let n = check_all(DType::F32);
    assert!(n > 29 * 15, "checked {n} values");
}

#[test]
fn the_golden_three_by_three_case() {
    // spec §8: hand-checkable values, including Eq. 10's transposed InfoNCE orientation.
    let (_, cases) = cases();
    let s = cases[0].scores(DType::F64);
    assert!((scalar(&infonce(&s.t().expect("t")).expect("nce")) - 0.7121134667).abs() < 1e-9);
    assert!((scalar(&dv(&s).expect("dv")) - 1.4083605937).abs() < 1e-9);
}
