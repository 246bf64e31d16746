//! The figures of Figures 3 and 4: traces, axes, and offline HTML files.
#![cfg(feature = "plots")]

use mi_core::experiments::Grid;
use mi_core::experiments::{bias_variance, gradient_accuracy};
use mi_core::io::figure::{write_html, PLOTLY_JS};
use mi_core::plot::{fig3_bias_variance, fig4_best_alpha, fig4_gradient_mse, Fig3Metric, Panels};
use serde_json::Value;

fn json(plot: &plotly::Plot) -> Value {
    serde_json::from_str(&plot.to_json()).expect("figure json")
}

#[test]
fn figure_3_has_one_trace_per_estimator_and_panel() {
    let cfg = bias_variance::Config {
        grid: Grid {
            mis: vec![0.0, 2.0, 4.0],
            batch_sizes: vec![8, 16, 32],
            replicates: 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let report = bias_variance::run(&cfg).expect("run");
    let n_est = cfg.estimators().len();
    let mse = json(&fig3_bias_variance(
        &report,
        Fig3Metric::Mse,
        Panels::PerBatchSize,
    ));
    assert_eq!(mse["data"].as_array().expect("data").len(), 3 * n_est);
    assert_eq!(mse["layout"]["yaxis3"]["type"], "log");
    assert_eq!(
        mse["layout"]["xaxis2"]["title"]["text"],
        "I (nats) — B = 16"
    );
    // the bias figure adds a zero line per panel
    let bias = json(&fig3_bias_variance(
        &report,
        Fig3Metric::Bias,
        Panels::PerBatchSize,
    ));
    assert_eq!(
        bias["data"].as_array().expect("data").len(),
        3 * (n_est + 1)
    );
    let by_mi = json(&fig3_bias_variance(
        &report,
        Fig3Metric::Variance,
        Panels::PerMi,
    ));
    assert_eq!(by_mi["layout"]["xaxis"]["type"], "log");
    // legend entries once, on the first panel
    let shown = mse["data"]
        .as_array()
        .expect("d")
        .iter()
        .filter(|t| t["showlegend"] == true)
        .count();
    assert_eq!(shown, n_est);
}

#[test]
fn figure_4_and_its_html_work_offline() {
    let cfg = gradient_accuracy::Config {
        grid: Grid {
            mis: vec![1.0, 6.0],
            batch_sizes: vec![8, 32],
            replicates: 8,
            ..gradient_accuracy::Config::default().grid
        },
        ..Default::default()
    };
    let report = gradient_accuracy::run(&cfg).expect("run");
    let heat = json(&fig4_best_alpha(&report));
    let z = heat["data"][0]["z"].as_array().expect("z");
    assert_eq!((z.len(), z[0].as_array().expect("row").len()), (2, 2));
    assert_eq!(heat["data"][0]["colorbar"]["ticktext"][0], "0");
    let mse = json(&fig4_gradient_mse(&report));
    assert_eq!(mse["data"].as_array().expect("d").len(), 2 * 6);

    let dir = std::env::temp_dir().join(format!("mi_core_plots_{}", std::process::id()));
    let path = dir.join("fig4_best_alpha.html");
    write_html(&fig4_best_alpha(&report), &path).expect("write");
    let html = std::fs::read_to_string(&path).expect("html");
    assert!(html.contains(&format!("<script src=\"{PLOTLY_JS}\"></script>")));
    assert!(!html.contains("cdn."), "no CDN references");
    assert!(html.contains("Plotly.newPlot"));
    let js = std::fs::metadata(dir.join(PLOTLY_JS)).expect("plotly.min.js beside the figure");
    assert!(js.len() > 1_000_000, "plotly.js is {} bytes", js.len());
}
