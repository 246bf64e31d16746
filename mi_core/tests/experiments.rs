//! Figures 3 and 4 on small grids with fixed seeds: the statistical claims of the paper for
//! optimal critics, the gradient oracle, the best-α map, and the reports' tables.

use mi_core::data::{mi_to_rho, rho_to_mi};
use mi_core::experiments::Grid;
use mi_core::experiments::{bias_variance, gradient_accuracy};

fn fig3() -> bias_variance::Report {
    let cfg = bias_variance::Config {
        grid: Grid {
            mis: vec![0.0, 2.0, 4.0, 6.0, 10.0],
            batch_sizes: vec![16, 64],
            replicates: 1000,
            ..Default::default()
        },
        keep_samples: true,
        ..Default::default()
    };
    bias_variance::run(&cfg).expect("figure 3 grid")
}

#[test]
fn figure_3_claims_hold_with_optimal_critics() {
    let report = fig3();
    assert_eq!(report.rows.len(), 5 * 2 * 7);
    for &mi in &[0.0, 2.0, 4.0, 6.0] {
        for &b in &[16, 64] {
            // NWJ(1 + r) is unbiased (at I = 0 it is exactly 0, up to rounding).
            let r = report.row("nwj", mi, b).expect("nwj row");
            assert!(
                r.bias.abs() <= 3.0 * r.sem + 1e-12,
                "NWJ at I={mi}, B={b}: bias {} sem {}",
                r.bias,
                r.sem
            );
        }
    }
    for &mi in &[0.0, 2.0, 4.0, 6.0, 10.0] {
        for &b in &[16usize, 64] {
            // InfoNCE never exceeds log B, replicate by replicate.
            let t = report.row("tnce", mi, b).expect("tnce row");
            assert_eq!(t.samples.len(), 1000);
            assert!(
                t.samples.iter().all(|&v| v <= (b as f64).ln() + 1e-9),
                "I={mi}, B={b}"
            );
        }
        // The sandwich at B ≥ 64.
        let (t, u) = (
            report.row("tnce", mi, 64).expect("t"),
            report.row("loo_upper", mi, 64).expect("u"),
        );
        assert!(
            t.mean <= mi + 1e-9 && mi <= u.mean + 1e-9,
            "I={mi}: {} ≤ I ≤ {}",
            t.mean,
            u.mean
        );
    }
    // InfoNCE saturates: at I = 10, B = 16 its bias is about log 16 − 10.
    let t = report.row("tnce", 10.0, 16).expect("t");
    assert!(
        (t.bias - (16f64.ln() - 10.0)).abs() < 0.3,
        "bias {}",
        t.bias
    );
    // mse = bias² + variance; the table has the promised columns.
    let r = report.row("alpha_0.5", 4.0, 64).expect("row");
    assert!((r.mse - (r.bias * r.bias + r.variance)).abs() < 1e-12);
    let csv = report.to_csv().expect("csv");
    assert!(csv.starts_with("estimator,mi,batch_size,mean,bias,variance,mse,sem\n"));
    assert_eq!(csv.lines().count(), 1 + report.rows.len());
}

#[test]
fn cells_do_not_depend_on_the_grid_or_the_threads() {
    let small = bias_variance::Config {
        grid: Grid {
            mis: vec![2.0],
            batch_sizes: vec![8],
            replicates: 50,
            threads: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    let large = bias_variance::Config {
        grid: Grid {
            mis: vec![0.0, 2.0],
            batch_sizes: vec![8, 16],
            threads: 2,
            ..small.grid.clone()
        },
        ..small.clone()
    };
    let (a, b) = (
        bias_variance::run(&small).expect("a"),
        bias_variance::run(&large).expect("b"),
    );
    for row in &a.rows {
        assert_eq!(
            Some(row),
            b.row(&row.estimator, 2.0, 8),
            "{}",
            row.estimator
        );
    }
}

#[test]
fn bad_grids_are_errors() {
    let bad = |c: bias_variance::Config| bias_variance::run(&c).is_err();
    let d = bias_variance::Config {
        grid: Grid {
            replicates: 10,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(bad(bias_variance::Config {
        grid: Grid {
            batch_sizes: vec![1],
            ..d.grid.clone()
        },
        ..d.clone()
    }));
    assert!(bad(bias_variance::Config {
        grid: Grid {
            mis: vec![-1.0],
            ..d.grid.clone()
        },
        ..d.clone()
    }));
    assert!(bad(bias_variance::Config {
        alphas: vec![1.5],
        ..d.clone()
    }));
    assert!(bad(bias_variance::Config {
        grid: Grid {
            replicates: 1,
            ..d.grid.clone()
        },
        ..d.clone()
    }));
    let g = gradient_accuracy::Config {
        alphas: vec![],
        ..Default::default()
    };
    assert!(gradient_accuracy::run(&g).is_err());
}

#[test]
fn the_true_gradient_is_the_derivative_of_the_mi() {
    for rho in [0.1, 0.5, 0.9, 0.99] {
        let h = 1e-6;
        let fd = (rho_to_mi(1, rho + h) - rho_to_mi(1, rho - h)) / (2.0 * h);
        let g = gradient_accuracy::true_gradient(rho);
        assert!((g - fd).abs() < 1e-6 * (1.0 + g), "ρ={rho}: {g} vs {fd}");
    }
}

fn fig4() -> gradient_accuracy::Report {
    let cfg = gradient_accuracy::Config {
        grid: Grid {
            mis: vec![1.0, 8.0],
            batch_sizes: vec![8, 128],
            replicates: 200,
            ..gradient_accuracy::Config::default().grid
        },
        ..Default::default()
    };
    gradient_accuracy::run(&cfg).expect("figure 4 grid")
}

#[test]
fn figure_4_gradients_and_the_best_alpha_map() {
    let report = fig4();
    // NWJ's optimal-critic gradient is unbiased.
    for &(mi, b) in &[(1.0, 8), (1.0, 128), (8.0, 128)] {
        let r = report.row("alpha_0", mi, b).expect("nwj row");
        assert!((r.true_grad - gradient_accuracy::true_gradient(mi_to_rho(20, mi))).abs() < 1e-12);
        assert!(
            (r.grad_mean - r.true_grad).abs() <= 3.0 * r.grad_mean_sem,
            "I={mi}, B={b}: mean gradient {} ± {} vs {}",
            r.grad_mean,
            r.grad_mean_sem,
            r.true_grad
        );
    }
    let best = report.best_alpha();
    assert_eq!(best.len(), 4);
    let at = |mi: f64, b: usize| {
        best.iter()
            .find(|x| x.mi == mi && x.batch_size == b)
            .expect("cell")
            .best_alpha
    };
    // Small MI and small batch prefer InfoNCE-like α; large MI and large batch prefer NWJ-like α.
    assert!(at(1.0, 8) >= 0.5, "best α at I=1, B=8: {}", at(1.0, 8));
    assert!(
        at(8.0, 128) <= 0.01,
        "best α at I=8, B=128: {}",
        at(8.0, 128)
    );
    let csv = report.best_alpha_csv().expect("csv");
    assert!(csv.starts_with("mi,batch_size,best_alpha,best_grad_mse\n"));
    assert!(report
        .to_csv()
        .expect("csv")
        .starts_with("estimator,alpha,mi,batch_size,grad_mse\n"));
    assert_eq!(report.to_csv().expect("csv").lines().count(), 1 + 4 * 13);
}

#[test]
fn reports_read_back_from_their_csv() {
    let cfg3 = bias_variance::Config {
        grid: Grid {
            mis: vec![0.0, 2.0],
            batch_sizes: vec![4, 8],
            replicates: 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let r3 = bias_variance::run(&cfg3).expect("fig3");
    let back = bias_variance::Report::from_csv(&r3.to_csv().expect("csv"), 20).expect("read back");
    assert_eq!(back.to_csv().expect("csv"), r3.to_csv().expect("csv"));
    assert_eq!(back.config.alphas, cfg3.alphas);
    assert_eq!(back.config.grid.batch_sizes, cfg3.grid.batch_sizes);
    let cfg4 = gradient_accuracy::Config {
        grid: Grid {
            mis: vec![1.0, 3.0],
            batch_sizes: vec![8],
            replicates: 10,
            ..gradient_accuracy::Config::default().grid
        },
        ..Default::default()
    };
    let r4 = gradient_accuracy::run(&cfg4).expect("fig4");
    let back =
        gradient_accuracy::Report::from_csv(&r4.to_csv().expect("csv"), 10).expect("read back");
    assert_eq!(back.to_csv().expect("csv"), r4.to_csv().expect("csv"));
    assert_eq!(
        back.best_alpha_csv().expect("csv"),
        r4.best_alpha_csv().expect("csv")
    );
    // Broken tables are errors, not panics.
    assert!(bias_variance::Report::from_csv("", 20).is_err());
    assert!(bias_variance::Report::from_csv("estimator,mi\nnwj,1,2\n", 20).is_err());
    let bad = r3.to_csv().expect("csv").replacen(",0,4,", ",zero,4,", 1);
    let e = bias_variance::Report::from_csv(&bad, 20)
        .err()
        .map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("not a number"));
}

/// The recommender's table is the committed Figure 4 best-α map, cell for cell.
#[test]
fn best_alpha_map_matches_the_committed_figure_4_table() {
    use mi_core::experiments::{BEST_ALPHA_BATCH_SIZES, BEST_ALPHA_MAP, BEST_ALPHA_MIS};
    let text = include_str!("../../figures/fig4_best_alpha.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (mi_c, b_c, a_c) = (col("mi"), col("batch_size"), col("best_alpha"));
    let mut seen = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let mi: f64 = f[mi_c].parse().expect("mi");
        let b: usize = f[b_c].parse().expect("batch_size");
        let alpha: f64 = f[a_c].parse().expect("best_alpha");
        let r = BEST_ALPHA_MIS
            .iter()
            .position(|&m| m == mi)
            .expect("MI row");
        let c = BEST_ALPHA_BATCH_SIZES
            .iter()
            .position(|&x| x == b)
            .expect("B column");
        assert_eq!(BEST_ALPHA_MAP[r][c], alpha, "I = {mi}, B = {b}");
        seen += 1;
    }
    assert_eq!(seen, BEST_ALPHA_MIS.len() * BEST_ALPHA_BATCH_SIZES.len());
}

/// The committed Figure 3 and 4 tables read back and write out byte for byte: the CSV writer
/// (the `csv` crate) formats exactly what the sessions that made them wrote.
#[test]
fn committed_tables_round_trip_byte_for_byte() {
    let fig3 = include_str!("../../figures/fig3_bias_variance.csv");
    let r3 = bias_variance::Report::from_csv(fig3, 2000).expect("fig3");
    assert_eq!(r3.to_csv().expect("csv"), fig3);
    let fig4 = include_str!("../../figures/fig4_gradient_mse.csv");
    let r4 = gradient_accuracy::Report::from_csv(fig4, 200).expect("fig4");
    assert_eq!(r4.to_csv().expect("csv"), fig4);
    assert_eq!(
        r4.best_alpha_csv().expect("csv"),
        include_str!("../../figures/fig4_best_alpha.csv")
    );
}
