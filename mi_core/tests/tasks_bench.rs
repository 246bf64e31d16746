//! `mi tasks bench`'s table and figure: exact CSV columns, the tolerance, one trace per bound.
#![cfg(all(feature = "plots", feature = "tables"))]

use mi_core::estimate::{within_tolerance, BenchReport, BenchRow, EstimateConfig};
use serde_json::Value;

fn row(task: &str, truth: f64, bound: &str, estimate: f64) -> BenchRow {
    BenchRow {
        task: task.into(),
        true_mi: truth,
        bound: bound.into(),
        estimate,
        std_err: 0.02,
        abs_error: (estimate - truth).abs(),
        within: within_tolerance(truth, estimate),
        warnings: 0,
        seconds: 1.5,
    }
}

/// Three tasks × two bounds (I_α with a different α on one task), and a third bound on one task
/// only.
fn report() -> BenchReport {
    BenchReport {
        rows: vec![
            row("a", 1.0, "infonce", 0.95),   // within (0.1 nats)
            row("a", 1.0, "alpha_0.2", 0.85), // outside (α differs per task)
            row("b", 10.0, "infonce", 4.8),   // outside (capped)
            row("b", 10.0, "alpha_0.1", 9.6), // within (5 % = 0.5)
            row("c", 0.2, "infonce", 0.25),   // within
            row("c", 0.2, "alpha_0.1", 0.35), // outside
            row("c", 0.2, "barber_agakov", 0.19),
        ],
        n: 1000,
        data_seed: 0,
        config: EstimateConfig::default(),
    }
}

#[test]
fn the_table_has_exact_columns_and_the_tolerance_decides_within() -> mi_core::Result<()> {
    let r = report();
    let df = r.to_dataframe()?;
    let csv = mi_core::table::to_csv(&df);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("task,true_mi,bound,estimate,std_err,abs_error,tolerance,within,warnings,seconds")
    );
    let first: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(first[0], "a");
    assert_eq!(first[6], "0.1");
    assert_eq!(first[7], "true");
    let within: Vec<bool> = r.rows.iter().map(|r| r.within).collect();
    assert_eq!(within, [true, false, false, true, true, false, true]);
    assert!(csv.lines().nth(2).unwrap_or_default().contains(",false,"));
    // b's tolerance is 5 % of 10 nats.
    assert!(csv
        .lines()
        .nth(4)
        .unwrap_or_default()
        .contains(",0.5,true,"));
    assert_eq!(r.within_count(), 4);
    assert!(r
        .render_table()
        .ends_with("4/7 within max(0.1 nats, 5 %) of the truth\n"));
    Ok(())
}

#[test]
fn the_figure_has_one_trace_per_bound_with_a_point_per_task() -> mi_core::Result<()> {
    let r = report();
    let plot = mi_core::plot::tasks_bench(&r);
    let v: Value = serde_json::from_str(&plot.to_json()).map_err(|e| mi_core::Error::Io {
        path: "json".into(),
        detail: e.to_string(),
    })?;
    let data = v["data"].as_array().cloned().unwrap_or_default();
    let points = |name: &str| -> Vec<usize> {
        data.iter()
            .filter(|t| t["name"] == name)
            .map(|t| t["x"].as_array().map_or(0, |x| x.len()))
            .collect()
    };
    assert_eq!(points("infonce"), [3]);
    assert_eq!(points("I_α"), [3]);
    assert_eq!(points("barber_agakov"), [1]);
    assert_eq!(points("true I"), [3]);
    // The band: one closed rectangle (5 corners and a gap) per task.
    assert_eq!(points("tolerance max(0.1, 5 %)"), [18]);
    assert_eq!(data.len(), 1 + 3 + 1);
    // Each bound's error bars are its standard errors.
    let nce = data
        .iter()
        .find(|t| t["name"] == "infonce")
        .cloned()
        .unwrap_or_default();
    assert_eq!(nce["error_y"]["array"][0], 0.02);
    assert_eq!(v["layout"]["xaxis"]["ticktext"][1], "b");

    let dir = std::env::temp_dir().join(format!("mi_core_tasks_bench_{}", std::process::id()));
    mi_core::io::figure::write_html(&plot, dir.join("tasks_bench.html"))?;
    let html =
        std::fs::read_to_string(dir.join("tasks_bench.html")).map_err(|e| mi_core::Error::Io {
            path: "html".into(),
            detail: e.to_string(),
        })?;
    assert!(html.contains("Plotly.newPlot") && !html.contains("cdn."));
    Ok(())
}
