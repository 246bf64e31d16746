//! The `mi bounds` command end to end: the JSON contract, the table, and clear failures.
#![cfg(feature = "cli")]

mod common;

use candle_core::{DType, Device, Tensor};
use common::cli::{fail, mi};
use mi_core::bounds::{dv, infonce, interpolated, js, js_fgan, loo_upper, nwj, smile, tuba, Alpha};
use mi_core::io::write_npy;
use serde_json::Value;

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mi_core_cli_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

/// The golden matrix of the reference cases written as `NAME.npy`; its path.
fn golden_file(name: &str) -> String {
    let (s, _) = golden();
    let p = tmp(name);
    write_npy(&s, &p).expect("w");
    p.to_str().expect("p").to_string()
}

fn golden() -> (Tensor, Tensor) {
    let (_, cases) = common::cases();
    (
        cases[0].scores(DType::F64),
        cases[0].log_baseline(DType::F64),
    )
}

#[test]
fn json_has_every_bound_and_matches_the_library() {
    let (s, l) = golden();
    for dtype in [DType::F64, DType::F32] {
        let sp = tmp(&format!("s_{dtype:?}.npy"));
        let lp = tmp(&format!("l_{dtype:?}.npy"));
        write_npy(&s.to_dtype(dtype).expect("d"), &sp).expect("w");
        write_npy(&l.to_dtype(dtype).expect("d"), &lp).expect("w");
        let (code, out, err) = mi(&[
            "bounds",
            "--scores",
            sp.to_str().expect("p"),
            "--log-baseline",
            lp.to_str().expect("p"),
            "--alpha",
            "0.3",
            "--alpha",
            "1",
            "--alpha",
            "0.0",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).expect("json");
        let keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut want = vec![
            "dv",
            "infonce",
            "interpolated",
            "js",
            "js_fgan",
            "loo_upper",
            "notes",
            "nwj",
            "smile",
            "tuba",
        ];
        let mut got = keys.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        // computed in f64 from the (possibly f32) file
        let (s64, l64) = (
            s.to_dtype(dtype)
                .and_then(|t| t.to_dtype(DType::F64))
                .expect("s"),
            l.to_dtype(dtype)
                .and_then(|t| t.to_dtype(DType::F64))
                .expect("l"),
        );
        let lib =
            |t: candle_core::Result<Tensor>| t.and_then(|t| t.to_scalar::<f64>()).expect("lib");
        let checks = [
            ("tuba", lib(tuba(&s64, &l64))),
            ("nwj", lib(nwj(&s64))),
            ("dv", lib(dv(&s64))),
            ("infonce", lib(infonce(&s64))),
            ("js_fgan", lib(js_fgan(&s64))),
            ("js", lib(js(&s64, 1.0))),
            ("smile", lib(smile(&s64, 5.0))),
            ("loo_upper", lib(loo_upper(&s64))),
        ];
        for (k, want) in checks {
            let got = v[k].as_f64().expect(k);
            assert!(
                (got - want).abs() < 1e-12 * (1.0 + want.abs()),
                "{k}: {got} vs {want}"
            );
        }
        let interp = v["interpolated"].as_object().expect("interpolated");
        assert_eq!(interp.len(), 3);
        for (typed, a) in [("0.3", 0.3), ("1", 1.0), ("0.0", 0.0)] {
            let want = lib(interpolated(&s64, &l64, Alpha::new(a).expect("a")));
            assert!(
                (interp[typed].as_f64().expect("v") - want).abs() < 1e-12,
                "{typed}"
            );
        }
        if dtype == DType::F64 {
            assert!((v["tuba"].as_f64().expect("t") - 1.3697448400).abs() < 1e-9);
            assert!((interp["0.3"].as_f64().expect("t") - 0.9786551012).abs() < 1e-9);
        }
    }
}

#[test]
fn baseline_defaults_to_zeros_and_table_prints() {
    let (s, _) = golden();
    let sp = tmp("s_table.npy");
    write_npy(&s, &sp).expect("w");
    let (code, out, err) = mi(&[
        "bounds",
        "--scores",
        sp.to_str().expect("p"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let zeros = Tensor::zeros(3, DType::F64, &Device::Cpu).expect("z");
    let want = tuba(&s, &zeros)
        .and_then(|t| t.to_scalar::<f64>())
        .expect("t");
    assert!((v["tuba"].as_f64().expect("t") - want).abs() < 1e-12);
    assert!(v["interpolated"].as_object().expect("o").is_empty());
    let (code, out, _) = mi(&[
        "bounds",
        "--scores",
        sp.to_str().expect("p"),
        "--alpha",
        "0.5",
        "--format",
        "table",
    ]);
    assert_eq!(code, 0);
    for needle in [
        "bound",
        "tuba",
        "nwj",
        "infonce",
        "loo_upper",
        "interpolated α=0.5",
        "lower",
        "upper",
        "1.0968153340",
    ] {
        assert!(out.contains(needle), "table lacks {needle}:\n{out}");
    }
}

#[test]
fn bad_input_fails_cleanly() {
    let sp = golden_file("s_ok.npy");
    fail(
        &["bounds", "--scores", &sp, "--alpha", "1.5"],
        "α must lie in [0, 1]",
    );
    fail(&["bounds", "--scores", &sp, "--alpha", "abc"], "alpha");
    let empty = tmp("empty.npy");
    std::fs::write(&empty, b"").expect("w");
    fail(&["bounds", "--scores", empty.to_str().expect("p")], "empty");
    let corrupt = tmp("corrupt.npy");
    std::fs::write(&corrupt, b"\x93NUMPY\x01\x00garbage").expect("w");
    fail(
        &["bounds", "--scores", corrupt.to_str().expect("p")],
        "corrupt.npy",
    );
    fail(&["bounds", "--scores", "/nonexistent/s.npy"], "cannot read");
    let rect = tmp("rect.npy");
    write_npy(
        &Tensor::zeros((2, 3), DType::F64, &Device::Cpu).expect("z"),
        &rect,
    )
    .expect("w");
    fail(&["bounds", "--scores", rect.to_str().expect("p")], "[2, 3]");
    let nan = tmp("nan.npy");
    write_npy(
        &Tensor::new(&[[0.0f64, f64::NAN], [1.0, 2.0]], &Device::Cpu).expect("t"),
        &nan,
    )
    .expect("w");
    fail(&["bounds", "--scores", nan.to_str().expect("p")], "NaN");
    let bl = tmp("bl.npy");
    write_npy(&Tensor::zeros(5, DType::F64, &Device::Cpu).expect("z"), &bl).expect("w");
    fail(
        &[
            "bounds",
            "--scores",
            &sp,
            "--log-baseline",
            bl.to_str().expect("p"),
        ],
        "log_baseline",
    );
    let (code, _, _) = mi(&["bounds"]);
    assert_eq!(code, 2, "clap usage error");
}

#[test]
fn one_bound_with_a_given_or_recommended_alpha() {
    let (s, l) = golden();
    let sp = tmp("s_one.npy");
    let lp = tmp("l_one.npy");
    write_npy(&s, &sp).expect("w");
    write_npy(&l, &lp).expect("w");
    let (sp, lp) = (sp.to_str().expect("p"), lp.to_str().expect("p"));
    let (code, out, err) = mi(&[
        "bounds",
        "--scores",
        sp,
        "--log-baseline",
        lp,
        "--bound",
        "nwj",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["bound"], "nwj");
    assert_eq!(v["kind"], "lower");
    assert!((v["value"].as_f64().expect("v") - 1.0968153340).abs() < 1e-9);
    let (code, out, _) = mi(&[
        "bounds",
        "--scores",
        sp,
        "--log-baseline",
        lp,
        "--bound",
        "interpolated",
        "--alpha",
        "0.3",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (v["alpha"].as_f64(), v["alpha_source"].as_str()),
        (Some(0.3), Some("given"))
    );
    assert!((v["value"].as_f64().expect("v") - 0.9786551012).abs() < 1e-9);
    // Without --alpha, α comes from the best-α map at B = 3 and max(InfoNCE, TUBA, 0).
    let (code, out, err) = mi(&[
        "bounds",
        "--scores",
        sp,
        "--log-baseline",
        lp,
        "--bound",
        "interpolated",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["alpha_source"], "recommended");
    let mi_est = v["mi_estimate"].as_f64().expect("mi");
    assert!(
        (mi_est - 1.3697448400).abs() < 1e-9,
        "max(InfoNCE, TUBA) = TUBA here: {mi_est}"
    );
    let want = mi_core::experiments::recommend_alpha(3, mi_est).expect("alpha");
    assert_eq!(v["alpha"].as_f64(), Some(want));
    let alpha = Alpha::new(want).expect("alpha");
    let direct = interpolated(&s, &l, alpha)
        .and_then(|t| t.to_scalar::<f64>())
        .expect("value");
    assert!((v["value"].as_f64().expect("v") - direct).abs() < 1e-12);
    let (code, out, _) = mi(&[
        "bounds",
        "--scores",
        sp,
        "--bound",
        "loo_upper",
        "--format",
        "table",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("loo_upper") && out.contains("upper") && out.contains("1.4145089352"),
        "{out}"
    );
    let (code, _, err) = mi(&["bounds", "--scores", sp, "--bound", "nonsense"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown bound"), "{err}");
}

/// Issue 10, items 4 and 5: the rate needs a baseline, a wrong-length baseline is refused by every
/// bound, negative numbers reach the real α message, loo_upper says when it is an upper bound, and
/// one α typed twice is refused.
#[test]
fn cli_papercuts_get_clear_messages() {
    let (s, _) = golden();
    let sp = golden_file("s_papercuts.npy");
    fail(
        &["bounds", "--scores", &sp, "--bound", "rate"],
        "log q(y_i)",
    );
    fail(
        &["bounds", "--scores", &sp, "--alpha", "-0.1"],
        "α must lie in [0, 1]",
    );
    let bl = tmp("bl_papercuts.npy");
    write_npy(&Tensor::zeros(5, DType::F64, &Device::Cpu).expect("z"), &bl).expect("w");
    let bl = bl.to_str().expect("p");
    for bound in ["nwj", "infonce", "loo_upper", "dv"] {
        fail(
            &[
                "bounds",
                "--scores",
                &sp,
                "--log-baseline",
                bl,
                "--bound",
                bound,
            ],
            "log_baseline",
        );
    }
    fail(
        &[
            "bounds", "--scores", &sp, "--alpha", "0.5", "--alpha", "0.50",
        ],
        "twice",
    );
    // A negative I_JS shift is a value, not a flag.
    let (code, out, err) = mi(&[
        "bounds",
        "--scores",
        &sp,
        "--bound",
        "js",
        "--js-eval-shift",
        "-1",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let want = js(&s, -1.0).and_then(|t| t.to_scalar::<f64>()).expect("js");
    assert!((v["value"].as_f64().expect("v") - want).abs() < 1e-12);
    // loo_upper is an upper bound only when the matrix is log p(y_i | x_j): both outputs say so.
    let (code, out, _) = mi(&["bounds", "--scores", &sp]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    let notes = v["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n
            .as_str()
            .is_some_and(|n| n.contains("loo_upper") && n.contains("log p(y_i | x_j)"))),
        "{out}"
    );
    let (code, out, _) = mi(&["bounds", "--scores", &sp, "--format", "table"]);
    assert_eq!(code, 0);
    assert!(out.contains("upper if S = log p(y|x)"), "{out}");
    let (code, out, _) = mi(&["bounds", "--scores", &sp, "--bound", "loo_upper"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert!(
        v["note"]
            .as_str()
            .is_some_and(|n| n.contains("log p(y_i | x_j)")),
        "{out}"
    );
}

// ---- `mi estimate` and `mi tasks` -------------------------------------------------------------

/// `mi tasks sample NAME` into a fresh folder; returns the folder.
fn sample_task(name: &str, n: usize, seed: u64) -> std::path::PathBuf {
    let dir = tmp(&format!("task_{name}_{n}_{seed}"));
    let (code, out, err) = mi(&[
        "tasks",
        "sample",
        name,
        "--n",
        &n.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        dir.to_str().expect("p"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["n"].as_u64(), Some(n as u64));
    dir
}

fn p(path: &std::path::Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// `mi estimate` with quick settings; the parsed JSON.
fn estimate_json(inputs: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["estimate"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(&["--steps", "40", "--batch-size", "32", "--bound", "infonce"]);
    args.extend_from_slice(extra);
    let (code, out, err) = mi(&args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {out}"))
}

#[test]
fn estimate_prints_the_json_contract_and_repeats_with_a_seed() {
    let dir = sample_task("normal-1x1-0.75", 1000, 1);
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    let inputs = ["--x", p(&x), "--y", p(&y)];
    let sep = ["--critic", "separable"];
    let v = estimate_json(&inputs, &sep);
    for key in [
        "estimate",
        "std_err",
        "bound",
        "lower_bound",
        "batch_size",
        "steps",
        "n_train",
        "n_test",
        "cap",
        "eval_block",
        "warnings",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    assert_eq!(v["bound"], "infonce");
    assert_eq!(v["lower_bound"], true);
    assert_eq!(v["batch_size"], 32);
    // The bound is evaluated on all 200 test rows at once: its cap is log 200, not log B.
    assert_eq!(v["eval_block"], 200);
    assert!((v["cap"].as_f64().expect("cap") - 200f64.ln()).abs() < 1e-12);
    assert_eq!(
        (v["n_train"].as_u64(), v["n_test"].as_u64()),
        (Some(600), Some(200))
    );
    assert!(v["warnings"].is_array());
    let (est, se) = (
        v["estimate"].as_f64().expect("estimate"),
        v["std_err"].as_f64().expect("std_err"),
    );
    let ci: Vec<f64> = v["ci95"]
        .as_array()
        .expect("ci95 is [lo, hi]")
        .iter()
        .map(|b| b.as_f64().expect("finite bound"))
        .collect();
    assert_eq!(ci.len(), 2, "{v}");
    assert!(se > 0.0, "{v}");
    assert!((ci[0] - (est - 1.959_964 * se)).abs() < 1e-6, "{v}");
    assert!((ci[1] - (est + 1.959_964 * se)).abs() < 1e-6, "{v}");
    let again = estimate_json(&inputs, &sep);
    assert_eq!(v["estimate"], again["estimate"]);
    assert_eq!(v["std_err"], again["std_err"]);
    let other = estimate_json(&inputs, &["--seed", "1", "--critic", "separable"]);
    assert_ne!(v["estimate"], other["estimate"]);
    // The default critic is chosen on validation between both kinds, and says so.
    let auto = estimate_json(&inputs, &[]);
    let why = auto["why"].as_str().expect("why");
    assert!(
        why.contains("separable") && why.contains("concat"),
        "{auto}"
    );
    assert!(["separable", "concat"].contains(&auto["critic"].as_str().expect("critic")));
    // The table format prints the same estimate.
    let (code, out, _) = mi(&[
        "estimate",
        "--x",
        p(&x),
        "--y",
        p(&y),
        "--steps",
        "40",
        "--batch-size",
        "32",
        "--bound",
        "infonce",
        "--format",
        "table",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("infonce") && out.contains("estimate"), "{out}");
}

/// Progress lines asked for outside a notebook go to stderr: stdout stays one JSON object.
#[test]
fn progress_lines_leave_stdout_to_the_json() {
    let dir = sample_task("normal-1x1-0.75", 400, 3);
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mi"))
        .args([
            "estimate",
            "--x",
            p(&x),
            "--y",
            p(&y),
            "--steps",
            "20",
            "--batch-size",
            "16",
        ])
        .env("MI_PROGRESS", "lines")
        .output()
        .expect("run mi");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout}"));
    assert!(v["estimate"].as_f64().is_some(), "{v}");
    assert!(
        stderr.contains(" steps (") && stderr.contains("— done"),
        "{stderr}"
    );
}

#[test]
fn estimate_reads_npz_csv_and_column_selections_alike() {
    let dir = sample_task("normal-dense-2x2-0.5", 1000, 2);
    let (xp, yp) = (dir.join("x.npy"), dir.join("y.npy"));
    let want = estimate_json(&["--x", p(&xp), "--y", p(&yp)], &[]);
    let x = mi_core::io::read_npy(&xp).expect("x");
    let y = mi_core::io::read_npy(&yp).expect("y");
    // One .npz holding both.
    let npz = dir.join("xy.npz");
    Tensor::write_npz(&[("x", &x), ("y", &y)], &npz).expect("npz");
    let got = estimate_json(&["--x", p(&npz)], &[]);
    assert_eq!(got["estimate"], want["estimate"]);
    // One CSV, columns by name (X defaults to the other columns) and by index range.
    let (xv, yv) = (
        x.to_vec2::<f64>().expect("x"),
        y.to_vec2::<f64>().expect("y"),
    );
    let mut csv = String::from("x0,x1,y0,y1\n");
    for (a, b) in xv.iter().zip(&yv) {
        csv.push_str(&format!("{},{},{},{}\n", a[0], a[1], b[0], b[1]));
    }
    let csv_path = dir.join("xy.csv");
    std::fs::write(&csv_path, csv).expect("csv");
    let by_name = estimate_json(&["--x", p(&csv_path), "--y-cols", "y0,y1"], &[]);
    assert_eq!(by_name["estimate"], want["estimate"]);
    let by_range = estimate_json(
        &["--x", p(&csv_path), "--x-cols", "0:2", "--y-cols", "2:4"],
        &[],
    );
    assert_eq!(by_range["estimate"], want["estimate"]);
    // A 1-D .npy is one column.
    let one = dir.join("x1d.npy");
    write_npy(
        &x.narrow(1, 0, 1).and_then(|t| t.squeeze(1)).expect("1-d"),
        &one,
    )
    .expect("w");
    let v = estimate_json(&["--x", p(&one), "--y", p(&yp)], &[]);
    assert!(v["estimate"].as_f64().is_some());
}

#[test]
fn estimate_all_reports_every_bound_and_the_best_lower_one() {
    let dir = sample_task("normal-1x1-0.75", 1000, 3);
    let (code, out, err) = mi(&[
        "estimate",
        "--x",
        p(&dir.join("x.npy")),
        "--y",
        p(&dir.join("y.npy")),
        "--bound",
        "all",
        "--steps",
        "10",
        "--batch-size",
        "32",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    for key in [
        "infonce",
        "nwj",
        "tuba",
        "dv",
        "js",
        "smile_5",
        "best_lower",
        "seconds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {out}");
    }
    assert_eq!(v["dv"]["lower_bound"], false);
    let best = v["best_lower"]["bound"].as_str().expect("name");
    assert_eq!(v[best]["lower_bound"], true);
}

#[test]
fn estimate_bad_input_fails_with_one_clear_line() {
    let dir = sample_task("normal-1x1-0.75", 600, 4);
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    let (xs, ys) = (p(&x).to_string(), p(&y).to_string());
    fail(
        &["estimate", "--x", "/no/such/x.npy", "--y", &ys],
        "cannot read",
    );
    let cube = tmp("cube.npy");
    write_npy(
        &Tensor::zeros((600, 1, 1), DType::F64, &Device::Cpu).expect("z"),
        &cube,
    )
    .expect("w");
    fail(&["estimate", "--x", p(&cube), "--y", &ys], "1-D or 2-D");
    let short = tmp("short.npy");
    write_npy(
        &Tensor::zeros((500, 1), DType::F64, &Device::Cpu).expect("z"),
        &short,
    )
    .expect("w");
    fail(&["estimate", "--x", &xs, "--y", p(&short)], "rows");
    let corrupt = tmp("corrupt_x.npy");
    std::fs::write(&corrupt, b"\x93NUMPY garbage").expect("w");
    fail(&["estimate", "--x", p(&corrupt), "--y", &ys], "not a valid");
    let few = sample_task("normal-1x1-0.75", 150, 4);
    fail(
        &[
            "estimate",
            "--x",
            p(&few.join("x.npy")),
            "--y",
            p(&few.join("y.npy")),
        ],
        "too few rows",
    );
    let csv = tmp("bad.csv");
    std::fs::write(&csv, "a,b\n1,2\n3,oops\n").expect("w");
    fail(
        &["estimate", "--x", p(&csv), "--y-cols", "b"],
        "not a number",
    );
    let good = tmp("good.csv");
    std::fs::write(&good, "a,b\n1,2\n3,4\n").expect("w");
    fail(
        &["estimate", "--x", p(&good), "--y-cols", "zz"],
        "unknown column",
    );
    fail(
        &["estimate", "--x", p(&good), "--y-cols", "5"],
        "out of range",
    );
    fail(
        &[
            "estimate",
            "--x",
            p(&good),
            "--x-cols",
            "a",
            "--y-cols",
            "a",
        ],
        "both X and Y",
    );
    fail(&["estimate", "--x", p(&good)], "--y-cols");
    fail(
        &["estimate", "--x", p(&good), "--y-cols", "b"],
        "too few rows",
    );
    let parquet = tmp("t.parquet");
    std::fs::write(&parquet, b"PAR1").expect("w");
    fail(&["estimate", "--x", p(&parquet), "--y", &ys], "parquet");
    fail(
        &["estimate", "--x", "data.txt", "--y", &ys],
        "unknown file type",
    );
    let npz = tmp("only_x.npz");
    Tensor::write_npz(&[("x", &mi_core::io::read_npy(&x).expect("x"))], &npz).expect("npz");
    fail(&["estimate", "--x", p(&npz)], "no array `y`");
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--bound", "tnce"],
        "not a critic bound",
    );
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--bound", "nope"],
        "unknown bound",
    );
    #[cfg(not(feature = "cuda"))]
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--device", "cuda"],
        "without the `cuda` feature",
    );
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--device", "tpu"],
        "cpu, cuda or cuda:N",
    );
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--alpha", "2"],
        "α must lie in [0, 1]",
    );
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--batch-size", "1"],
        "batch_size",
    );
    fail(
        &["estimate", "--x", &xs, "--y", &ys, "--batch-size", "512"],
        "batch_size",
    );
    // Non-finite rows: refused, or dropped and counted.
    let mut xv = mi_core::io::read_npy(&x)
        .expect("x")
        .flatten_all()
        .expect("f")
        .to_vec1::<f64>()
        .expect("v");
    xv[3] = f64::NAN;
    let nan = tmp("nan_x.npy");
    write_npy(
        &Tensor::from_vec(xv, (600, 1), &Device::Cpu).expect("t"),
        &nan,
    )
    .expect("w");
    fail(
        &["estimate", "--x", p(&nan), "--y", &ys],
        "--drop-nonfinite",
    );
    let v = estimate_json(&["--x", p(&nan), "--y", &ys], &["--drop-nonfinite"]);
    assert_eq!(v["n_dropped"], 1);
}

#[test]
fn tasks_list_and_sample_carry_the_registry_truth() {
    let (code, out, err) = mi(&["tasks", "list"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let rows = v.as_array().expect("array");
    assert_eq!(rows.len(), mi_core::tasks::names().len());
    for r in rows {
        let task = mi_core::tasks::by_name(r["name"].as_str().expect("name")).expect("task");
        use mi_core::data::Sampler;
        assert_eq!(r["mi"].as_f64(), Some(task.mutual_information()));
    }
    let dir = sample_task("spiral-3x3", 50, 9);
    let x = mi_core::io::read_npy(dir.join("x.npy")).expect("x");
    assert_eq!(x.dims(), &[50, 3]);
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).expect("r"))
            .expect("j");
    assert_eq!(truth["name"], "spiral-3x3");
    assert!((truth["mi"].as_f64().expect("mi") - mi_core::data::rho_to_mi(3, 0.8)).abs() < 1e-12);
    fail(
        &[
            "tasks",
            "sample",
            "no-such-task",
            "--n",
            "5",
            "--out",
            p(&tmp("nt")),
        ],
        "unknown task",
    );
    fail(
        &[
            "tasks",
            "sample",
            "spiral-3x3",
            "--n",
            "0",
            "--out",
            p(&tmp("nt")),
        ],
        "at least one",
    );
}

#[test]
fn gaussian_encoder_reports_the_sandwich() {
    use mi_core::data::Sampler;
    use rand::SeedableRng;
    let (d, n) = (2, 4096);
    let g = mi_core::data::CorrelatedGaussian::from_mi(d, 1.0).expect("g");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (x, y) = g.sample_f64(n, &mut rng);
    let lv = (1.0 - g.rho() * g.rho()).ln();
    let enc: Vec<f64> = x
        .chunks(d)
        .flat_map(|r| [g.rho() * r[0], g.rho() * r[1], lv, lv])
        .collect();
    let (ep, yp) = (tmp("enc.npy"), tmp("enc_y.npy"));
    write_npy(
        &Tensor::from_vec(enc, (n, 2 * d), &Device::Cpu).expect("e"),
        &ep,
    )
    .expect("w");
    write_npy(&Tensor::from_vec(y, (n, d), &Device::Cpu).expect("y"), &yp).expect("w");
    let (code, out, err) = mi(&[
        "estimate",
        "--gaussian-encoder",
        "--x",
        p(&ep),
        "--y",
        p(&yp),
        "--batch-size",
        "256",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    let (lo, hi) = (
        v["lower"].as_f64().expect("lo"),
        v["upper"].as_f64().expect("hi"),
    );
    assert!(
        lo < 1.0 + 3.0 * v["lower_std_err"].as_f64().expect("se"),
        "{out}"
    );
    assert!(
        hi > 1.0 - 3.0 * v["upper_std_err"].as_f64().expect("se"),
        "{out}"
    );
    assert_eq!(v["batches"], 16);
    assert!(v["barber_agakov"].is_null(), "{out}");
    // With the entropy of the encoder's mean ρx, h = (d/2)·log(2πe ρ²): Barber–Agakov too.
    let h = 0.5
        * d as f64
        * (2.0 * std::f64::consts::PI * std::f64::consts::E * g.rho() * g.rho()).ln();
    let hs = h.to_string();
    let (code, out, err) = mi(&[
        "estimate",
        "--gaussian-encoder",
        "--x",
        p(&ep),
        "--y",
        p(&yp),
        "--entropy-x",
        &hs,
        "--format",
        "table",
    ]);
    assert_eq!(code, 0, "{err}");
    let ba_line = out
        .lines()
        .find(|l| l.contains("(barber_agakov"))
        .unwrap_or_default();
    let ba: f64 = ba_line
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    assert!((ba - 1.0).abs() < 0.15, "{out}");
    let (code, _, err) = mi(&["estimate", "--x", p(&ep), "--y", p(&yp), "--entropy-x", "1"]);
    assert!(code != 0 && err.contains("--gaussian-encoder"), "{err}");
    // X as wide as Y (a copy: one file as both X and Y is refused before any width check).
    let narrow = tmp("enc_narrow.npy");
    std::fs::copy(&yp, &narrow).expect("copy");
    fail(
        &[
            "estimate",
            "--gaussian-encoder",
            "--x",
            p(&narrow),
            "--y",
            p(&yp),
        ],
        "mean and log-variance",
    );
}

#[test]
#[cfg(all(feature = "plots", feature = "tables"))]
fn tasks_bench_writes_its_table_and_figure() {
    let dir = tmp("bench_out");
    let (code, out, err) = mi(&[
        "tasks",
        "bench",
        "--tasks",
        "normal-1x1-0.75,uniform-noise-0.1",
        "--n",
        "400",
        "--steps",
        "20",
        "--hidden",
        "8",
        "--bound",
        "infonce",
        "--format",
        "table",
        "--out",
        p(&dir),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .last()
            .unwrap_or_default()
            .ends_with("within max(0.1 nats, 5 %) of the truth"),
        "{out}"
    );
    assert!(err.contains("tasks_bench.csv"), "{err}");
    let csv = std::fs::read_to_string(dir.join("tasks_bench.csv")).expect("csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("task,true_mi,bound,estimate,std_err,abs_error,tolerance,within,warnings,seconds")
    );
    assert_eq!(lines.count(), 2);
    let html = std::fs::read_to_string(dir.join("tasks_bench.html")).expect("html");
    assert!(html.contains("Plotly.newPlot"));
    assert!(dir.join(mi_core::io::figure::PLOTLY_JS).exists());
}
