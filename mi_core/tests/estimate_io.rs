//! `mi estimate`'s inputs and outputs end to end: compressed `.npz`, parquet (feature
//! `parquet`), `--checkpoint DIR` (files, reload, same scores as the library's critic) and
//! `--device`; every bad input is exit 1 with one clear line.
#![cfg(feature = "cli")]

mod common;

use candle_core::{Device, Tensor};
use common::cli::{fail, mi};
use mi_core::estimate::TrainedCritic;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mi_core_estimate_io_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// 600 paired rows: x `[n, 2]`, y `[n, 1]` (y depends on x), as f64 vectors.
fn rows(n: usize) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n)
        .flat_map(|i| [(i as f64 * 0.37).sin(), (i as f64 * 1.3).cos()])
        .collect();
    let y = (0..n)
        .map(|i| x[2 * i] + 0.3 * x[2 * i + 1] + 0.5 * (i as f64 * 2.1).sin())
        .collect();
    (x, y)
}

const QUICK: [&str; 8] = [
    "--steps",
    "40",
    "--batch-size",
    "32",
    "--bound",
    "infonce",
    "--hidden",
    "16",
];

fn estimate_json(args: &[&str]) -> Value {
    let mut all = vec!["estimate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&QUICK);
    let (code, out, err) = mi(&all);
    assert_eq!(code, 0, "{all:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"))
}

/// Writes the pair to files of its own: tests run in parallel, and one writing a file another
/// reads (truncated, then refilled) made the reader see an empty file.
fn write_npy_pair(n: usize) -> (PathBuf, PathBuf, Tensor, Tensor) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (x, y) = rows(n);
    let x = Tensor::from_vec(x, (n, 2), &Device::Cpu).expect("x");
    let y = Tensor::from_vec(y, (n, 1), &Device::Cpu).expect("y");
    let (xp, yp) = (tmp(&format!("x{n}_{k}.npy")), tmp(&format!("y{n}_{k}.npy")));
    mi_core::io::write_npy(&x, &xp).expect("x");
    mi_core::io::write_npy(&y, &yp).expect("y");
    (xp, yp, x, y)
}

#[test]
fn compressed_npz_estimates_like_the_npy_pair() {
    let (xp, yp, x, y) = write_npy_pair(600);
    let want = estimate_json(&["--x", p(&xp), "--y", p(&yp)]);
    // A deflated archive, as np.savez_compressed writes it (zip members x.npy, y.npy).
    let npz = tmp("xy_compressed.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&npz).expect("npz"));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, t) in [("x", &x), ("y", &y)] {
        let member = tmp(&format!("member_{name}.npy"));
        mi_core::io::write_npy(t, &member).expect("member");
        zip.start_file(format!("{name}.npy"), opts).expect("start");
        std::io::Write::write_all(&mut zip, &std::fs::read(&member).expect("read")).expect("write");
    }
    zip.finish().expect("finish");
    let got = estimate_json(&["--x", p(&npz)]);
    assert_eq!(got["estimate"], want["estimate"]);
    // Cut short: one clear line naming the file.
    let bytes = std::fs::read(&npz).expect("read");
    let cut = tmp("cut.npz");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).expect("w");
    fail(&["estimate", "--x", p(&cut)], "cut.npz");
}

#[test]
fn checkpoint_writes_the_kept_critic_which_reloads_to_the_same_scores() {
    let (xp, yp, x, y) = write_npy_pair(600);
    let dir = tmp("ckpt");
    let _ = std::fs::remove_dir_all(&dir);
    let v = estimate_json(&["--x", p(&xp), "--y", p(&yp), "--checkpoint", p(&dir)]);
    for f in ["model.safetensors", "transform.safetensors", "config.json"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).expect("cfg"))
            .expect("json");
    assert_eq!(cfg["format"], "mi_core.estimate.v1");
    assert_eq!(cfg["batch_size"], 32);
    // The critic `auto` kept, at the width it trained with.
    assert_eq!(cfg["model"]["critic"], v["critic"]);
    let hidden = match v["critic"].as_str() {
        Some("concat") => mi_core::estimate::AUTO_CONCAT_HIDDEN,
        _ => 16,
    };
    assert_eq!(cfg["model"]["net"]["hidden"], hidden);
    assert_eq!(cfg["estimate_config"]["hidden"], hidden);
    assert_eq!(cfg["transform"], "gaussianize");
    assert_eq!(cfg["estimate"]["estimate"], v["estimate"]);
    // The library, same settings: the same critic, so the reloaded one scores rows alike.
    let config = mi_core::EstimateConfig {
        bound: "infonce".parse().expect("bound"),
        max_steps: 40,
        batch_size: Some(32),
        hidden: 16,
        ..mi_core::EstimateConfig::default()
    };
    let est = mi_core::estimate(&x, &y, &config).expect("estimate");
    assert_eq!(Some(est.estimate), v["estimate"].as_f64());
    let (loaded, recorded) = TrainedCritic::load(&dir, &Device::Cpu).expect("load");
    assert_eq!(
        recorded["validation_estimate"].as_f64(),
        Some(est.validation_estimate)
    );
    let (xr, yr) = (
        x.narrow(0, 0, 64).expect("x"),
        y.narrow(0, 0, 64).expect("y"),
    );
    let scores = |c: &TrainedCritic| -> Vec<f64> {
        c.scores(&xr, &yr)
            .and_then(|s| Ok(s.flatten_all()?.to_vec1::<f64>()?))
            .expect("scores")
    };
    assert_eq!(
        scores(&loaded),
        scores(est.trained_critic().expect("critic"))
    );
    // `--bound all`: one sub-folder per bound.
    let all_dir = tmp("ckpt_all");
    let _ = std::fs::remove_dir_all(&all_dir);
    let (code, _, err) = mi(&[
        "estimate",
        "--x",
        p(&xp),
        "--y",
        p(&yp),
        "--bound",
        "all",
        "--steps",
        "10",
        "--batch-size",
        "32",
        "--hidden",
        "8",
        "--checkpoint",
        p(&all_dir),
    ]);
    assert_eq!(code, 0, "{err}");
    for bound in ["infonce", "nwj", "tuba", "dv", "js", "smile_5"] {
        assert!(all_dir.join(bound).join("config.json").is_file(), "{bound}");
    }
    // A folder with other files is refused; the gaussian-encoder mode trains nothing to save.
    let busy = tmp("busy");
    std::fs::create_dir_all(&busy).expect("dir");
    std::fs::write(busy.join("notes.txt"), "keep").expect("w");
    let mut args = vec![
        "estimate",
        "--x",
        p(&xp),
        "--y",
        p(&yp),
        "--checkpoint",
        p(&busy),
    ];
    args.extend_from_slice(&QUICK);
    fail(&args, "no estimate checkpoint");
    let (code, _, err) = mi(&[
        "estimate",
        "--x",
        p(&xp),
        "--y",
        p(&yp),
        "--gaussian-encoder",
        "--checkpoint",
        p(&busy),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("--checkpoint"), "{err}");
}

#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_is_one_clear_line() {
    let (xp, yp, _, _) = write_npy_pair(600);
    fail(
        &[
            "estimate",
            "--x",
            p(&xp),
            "--y",
            p(&yp),
            "--device",
            "cuda:0",
        ],
        "built without the `cuda` feature",
    );
    let config = mi_core::EstimateConfig {
        device: "cuda".parse().expect("device"),
        ..mi_core::EstimateConfig::default()
    };
    assert!(config.validate().is_err());
}

#[cfg(feature = "parquet")]
mod parquet {
    use super::*;
    use polars::prelude::{df, DataFrame, ParquetWriter};

    fn write(df: &mut DataFrame, name: &str) -> PathBuf {
        let path = tmp(name);
        ParquetWriter::new(std::fs::File::create(&path).expect("create"))
            .finish(df)
            .expect("parquet");
        path
    }

    #[test]
    fn parquet_columns_estimate_like_the_npy_pair() {
        let (xp, yp, x, y) = write_npy_pair(600);
        let want = estimate_json(&["--x", p(&xp), "--y", p(&yp)]);
        let xv = x.to_vec2::<f64>().expect("x");
        let col = |k: usize| xv.iter().map(|r| r[k]).collect::<Vec<f64>>();
        let yv = y.flatten_all().and_then(|t| t.to_vec1::<f64>()).expect("y");
        let id: Vec<String> = (0..600).map(|i| format!("row{i}")).collect();
        let mut with_null = yv.iter().map(|v| Some(*v)).collect::<Vec<_>>();
        with_null[7] = None;
        let mut df = df!(
            "id" => id, "x0" => col(0), "x1" => col(1), "y" => yv.clone(), "yn" => with_null,
        )
        .expect("df");
        let t = write(&mut df, "xy.parquet");
        // Y by name; X defaults to the other numeric columns — here named to leave out `yn`.
        let got = estimate_json(&["--x", p(&t), "--x-cols", "x0,x1", "--y-cols", "y"]);
        assert_eq!(got["estimate"], want["estimate"]);
        let by_range = estimate_json(&["--x", p(&t), "--x-cols", "0:2", "--y-cols", "2"]);
        assert_eq!(by_range["estimate"], want["estimate"]);
        // A null is a non-finite value: refused, or dropped and counted.
        let base = [
            "estimate",
            "--x",
            p(&t),
            "--x-cols",
            "x0,x1",
            "--y-cols",
            "yn",
        ];
        fail(&base, "--drop-nonfinite");
        let dropped = estimate_json(&[&base[1..], &["--drop-nonfinite"][..]].concat());
        assert_eq!(dropped["n_dropped"], 1);
        // Bad names, a text column, a corrupt file: exit 1, one line.
        fail(
            &["estimate", "--x", p(&t), "--y-cols", "zz"],
            "unknown column",
        );
        fail(
            &["estimate", "--x", p(&t), "--y-cols", "id"],
            "id (str): not a numeric column",
        );
        let bytes = std::fs::read(&t).expect("read");
        let corrupt = tmp("corrupt.parquet");
        std::fs::write(&corrupt, &bytes[..bytes.len() / 2]).expect("w");
        fail(
            &["estimate", "--x", p(&corrupt), "--y-cols", "y"],
            "corrupt.parquet",
        );
        // Two parquet files, one per side.
        let mut xdf = df!("a" => col(0), "b" => col(1)).expect("df");
        let mut ydf = df!("y" => yv).expect("df");
        let (xf, yf) = (write(&mut xdf, "x.parquet"), write(&mut ydf, "y.parquet"));
        let two = estimate_json(&["--x", p(&xf), "--y", p(&yf)]);
        assert_eq!(two["estimate"], want["estimate"]);
    }
}
