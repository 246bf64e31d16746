//! Notebook support: tables, profiles, output files and rich display.
#![cfg(feature = "notebook")]

use mi_core::experiments::bound_survey;
use mi_core::experiments::Grid;
use mi_core::notebook::{Figure, Output, Profile, Table};
use mi_core::plot::{survey_sandwich, survey_vs_mi};
use mi_core::table::{to_csv, to_html, TableBuilder};

#[test]
fn tables_build_write_and_show() {
    let df = TableBuilder::new()
        .str("bound", ["a,b", "say \"x\"", "<tag>"])
        .f64("value", [1.5, f64::NAN, 1e-7])
        .u64("b", [1, 2, 3])
        .build()
        .expect("table");
    assert_eq!(
        to_csv(&df),
        "bound,value,b\n\"a,b\",1.5,1\n\"say \"\"x\"\"\",,2\n<tag>,0.0000001,3\n"
    );
    let html = to_html(&df, 2);
    assert!(!html.contains("&lt;tag&gt;"), "row 3 is cut: {html}");
    assert!(html.contains("… 1 more rows (3 in all)"));
    assert!(html.contains("<th") && html.contains("f64"));
    // unequal columns are an error, not a panic
    let err = TableBuilder::new()
        .f64("a", [1.0, 2.0])
        .f64("b", [1.0])
        .build()
        .expect_err("unequal");
    assert!(err.to_string().contains("table"), "{err}");
    let shown = Table::new(df).max_rows(10).to_html();
    assert!(shown.contains("&lt;tag&gt;"));
}

#[test]
fn profiles_parse_and_pick() {
    assert_eq!(Profile::parse("quick").expect("q"), Profile::Quick);
    assert_eq!(Profile::parse(" PAPER ").expect("p"), Profile::Paper);
    assert_eq!(Profile::parse("").expect("e"), Profile::Quick);
    let err = Profile::parse("full").expect_err("bad").to_string();
    assert!(err.contains("MI_PROFILE") && err.contains("quick"), "{err}");
    assert_eq!(Profile::Paper.pick(1, 2), 2);
    assert_eq!(Profile::Quick.name(), "quick");
}

#[test]
fn output_writes_figures_and_tables() {
    let dir = std::env::temp_dir().join(format!("mi_core_nb_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Output::new(Profile::Quick, &dir).expect("output");
    let cfg = bound_survey::Config {
        grid: Grid {
            mis: vec![0.0, 2.0],
            batch_sizes: vec![8, 16],
            replicates: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    let report = bound_survey::run(&cfg).expect("survey");
    let fig = out
        .figure("survey", &survey_vs_mi(&report))
        .expect("figure");
    out.figure("sandwich", &survey_sandwich(&report))
        .expect("figure");
    let table = out
        .table("survey", &report.to_dataframe().expect("df"))
        .expect("table");
    for f in [
        "survey.html",
        "sandwich.html",
        "survey.csv",
        "plotly.min.js",
    ] {
        let len = std::fs::metadata(dir.join(f)).expect(f).len();
        assert!(len > 100, "{f}: {len} bytes");
    }
    let csv = std::fs::read_to_string(dir.join("survey.csv")).expect("csv");
    assert_eq!(csv, report.to_csv().expect("csv"));
    assert_eq!(table.frame().height(), report.rows.len());
    // the figure's HTML draws with window.Plotly and escapes "</" inside the JSON
    let html = fig.to_html();
    assert!(html.contains("Plotly.newPlot") && html.contains("window.Plotly"));
    let json: serde_json::Value = serde_json::from_str(fig.json()).expect("json");
    assert_eq!(
        json["data"].as_array().expect("data").len(),
        2 * (1 + cfg.bounds.len() + 4)
    );
    // two figures never share an element id
    let other = Figure::new(&survey_vs_mi(&report)).to_html();
    let id = |h: &str| h.split('"').nth(1).map(str::to_string);
    assert_ne!(id(&html), id(&other));
    // bad names are refused before touching the disk
    assert!(out.figure("../escape", &survey_vs_mi(&report)).is_err());
    assert!(out.table("", table.frame()).is_err());
    std::fs::remove_dir_all(&dir).expect("clean");
}

#[test]
fn figure_3_4_tables_match_their_csv() {
    use mi_core::experiments::{bias_variance, gradient_accuracy};
    let fig3 = bias_variance::run(&bias_variance::Config {
        grid: Grid {
            mis: vec![0.0, 2.0],
            batch_sizes: vec![8],
            replicates: 10,
            ..Default::default()
        },
        ..Default::default()
    })
    .expect("fig3");
    assert_eq!(
        to_csv(&fig3.to_dataframe().expect("df3")),
        fig3.to_csv().expect("csv")
    );
    let fig4 = gradient_accuracy::run(&gradient_accuracy::Config {
        grid: Grid {
            mis: vec![1.0],
            batch_sizes: vec![8],
            replicates: 4,
            ..gradient_accuracy::Config::default().grid
        },
        ..Default::default()
    })
    .expect("fig4");
    assert_eq!(
        to_csv(&fig4.best_alpha_dataframe().expect("best")),
        fig4.best_alpha_csv().expect("csv")
    );
    assert_eq!(
        to_csv(&fig4.to_dataframe().expect("df4")),
        fig4.to_csv().expect("csv")
    );
}
