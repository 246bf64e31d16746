//! The bound survey (notebook 1): every bound with its optimal critic on the Gaussian.

use mi_core::bounds::Bound;
use mi_core::experiments::bound_survey::{self, Config};
use mi_core::experiments::Grid;

fn survey() -> bound_survey::Report {
    let cfg = Config {
        grid: Grid {
            mis: vec![0.0, 2.0, 8.0],
            batch_sizes: vec![16, 64],
            replicates: 300,
            seed: 7,
            ..Default::default()
        },
        ..Default::default()
    };
    bound_survey::run(&cfg).expect("survey")
}

#[test]
fn the_survey_agrees_with_the_theory() {
    let report = survey();
    let cfg = &report.config;
    assert_eq!(
        report.rows.len(),
        cfg.bounds.len() * cfg.grid.mis.len() * cfg.grid.batch_sizes.len()
    );
    for r in &report.rows {
        assert!(r.mean.is_finite() && r.sem.is_finite(), "{r:?}");
        // deterministic caps hold on every batch
        if let Some(c) = r.cap {
            assert!(r.max <= c + 1e-9, "{} above its cap {c}: {r:?}", r.bound);
        }
    }
    // Unbiased with the optimal critic: TUBA(Lp, log p(y)) = NWJ(1 + log r), I_JS, the rate.
    for name in ["tuba", "nwj", "js", "rate"] {
        for &mi in &[0.0, 2.0] {
            for &b in &cfg.grid.batch_sizes {
                let r = report.row(name, mi, b).expect("row");
                assert!(
                    r.bias.abs() <= 3.0 * r.sem + 1e-9,
                    "{name} at I={mi}, B={b}: bias {} vs SE {}",
                    r.bias,
                    r.sem
                );
            }
        }
    }
    // TUBA with the optimal baseline and NWJ with 1 + log r are the same number batch by batch.
    for &mi in &cfg.grid.mis {
        let (t, n) = (
            report.row("tuba", mi, 64).expect("t"),
            report.row("nwj", mi, 64).expect("n"),
        );
        assert!((t.mean - n.mean).abs() < 1e-9 * (1.0 + t.mean.abs()));
    }
    // InfoNCE with critic log r equals TNCE with critic Lp (a per-row shift).
    let (a, b) = (
        report.row("infonce", 8.0, 16).expect("a"),
        report.row("tnce", 8.0, 16).expect("b"),
    );
    assert!((a.mean - b.mean).abs() < 1e-9);
    assert!(a.mean < 16f64.ln() && a.mean > 16f64.ln() - 0.5);
    // The sandwich at B = 64.
    for &mi in &cfg.grid.mis {
        let lo = report.row("tnce", mi, 64).expect("lo");
        let hi = report.row("loo_upper", mi, 64).expect("hi");
        assert!(lo.mean <= mi + 3.0 * lo.sem && mi <= hi.mean + 3.0 * hi.sem);
    }
    // α = 0.01 follows the truth further than α = 0.99 at I = 8.
    let near = |n: &str| report.row(n, 8.0, 64).expect(n).bias.abs();
    assert!(near("alpha_0.01") < near("alpha_0.99"));
    // CSV: header plus one line per row.
    let csv = report.to_csv().expect("csv");
    assert!(csv.starts_with("bound,kind,mi,batch_size,mean,bias,sem,max,cap\n"));
    assert_eq!(csv.lines().count(), report.rows.len() + 1);
}

#[test]
fn caps_and_refused_bounds() {
    let alpha: Bound = "alpha_0.5".parse().expect("alpha");
    assert_eq!(Bound::InfoNce.cap(64), Some(64f64.ln()));
    assert_eq!(alpha.cap(64), Some(1.0 + (63.0f64 / 0.5).ln()));
    assert_eq!(Bound::Nwj.cap(64), None);
    for bad in [Bound::JsFgan, Bound::MineEma { decay: 0.9 }] {
        let cfg = Config {
            bounds: vec![bad],
            ..Default::default()
        };
        let err = bound_survey::run(&cfg).expect_err("refused").to_string();
        assert!(err.contains("bound_survey"), "{err}");
    }
    let cfg = Config {
        bounds: vec![],
        ..Default::default()
    };
    assert!(bound_survey::run(&cfg).is_err());
    let cfg = Config {
        grid: Grid {
            batch_sizes: vec![1],
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(bound_survey::run(&cfg).is_err());
}

#[cfg(feature = "tables")]
#[test]
fn survey_tables() {
    let cfg = Config {
        grid: Grid {
            mis: vec![0.0, 4.0],
            batch_sizes: vec![8],
            replicates: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    let report = bound_survey::run(&cfg).expect("survey");
    let df = report.to_dataframe().expect("df");
    assert_eq!(df.height(), report.rows.len());
    assert_eq!(df.width(), 9);
    let wide = report.means_at(8).expect("wide");
    assert_eq!(wide.height(), cfg.bounds.len());
    let names: Vec<String> = wide
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names, ["bound", "kind", "I=0", "I=4"]);
    assert!(report.means_at(16).is_err());
}

/// `from_csv` reads back what `to_csv` wrote — a fresh report and the committed table of the
/// paper profile (byte for byte) — and refuses a row whose cap is not its bound's.
#[test]
fn survey_tables_read_back() {
    let report = survey();
    let text = report.to_csv().expect("csv");
    let back = bound_survey::Report::from_csv(&text, 300).expect("read back");
    assert_eq!(back.to_csv().expect("csv"), text);
    assert_eq!(back.config.bounds, report.config.bounds);
    assert_eq!(back.config.grid.mis, report.config.grid.mis);
    assert_eq!(back.config.grid.batch_sizes, report.config.grid.batch_sizes);
    let committed = include_str!("../../figures/01_bounds_gaussian.csv");
    let paper = bound_survey::Report::from_csv(committed, 1000).expect("committed table");
    assert_eq!(paper.to_csv().expect("csv"), committed);
    let tampered = committed.replacen("infonce,lower,", "nwj,lower,", 1);
    assert!(bound_survey::Report::from_csv(&tampered, 1000).is_err());
}
