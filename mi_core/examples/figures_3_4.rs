//! Figures 3 and 4 of the paper as tables: bias/variance/MSE of the optimal-critic estimators,
//! and the gradient MSE with the best α of I_α per (MI, B).
//!
//! `cargo run --release --example figures_3_4 -- [3|4|both|plot] [replicates|default] [out_dir]`
//! (`plot` re-draws the figures from the CSV tables already in `out_dir`, without recomputing)
//! writes `fig3_bias_variance.csv`, `fig4_gradient_mse.csv` and `fig4_best_alpha.csv` into
//! `out_dir` (default `figures/quick`) on the default grids (MI 0…10, B 4…512), each with an
//! offline HTML figure (`fig3_bias_variance.html`, `fig4_gradient_mse.html`,
//! `fig4_best_alpha.html`, loading `plotly.min.js` from the same folder).

use mi_core::experiments::{bias_variance, gradient_accuracy};
use mi_core::io::figure::{write_html, write_html_page};
use mi_core::plot::{fig3_bias_variance, fig4_best_alpha, fig4_gradient_mse, Fig3Metric, Panels};
use std::path::PathBuf;

fn main() -> mi_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("both", String::as_str).to_string();
    let replicates: Option<usize> = args.get(1).and_then(|s| s.parse().ok());
    let out = PathBuf::from(args.get(2).map_or("figures/quick", String::as_str));
    std::fs::create_dir_all(&out).map_err(|e| mi_core::Error::Io {
        path: out.display().to_string(),
        detail: e.to_string(),
    })?;
    let write = |name: &str, text: String| mi_core::io::write_text(out.join(name), &text);
    if which == "plot" {
        // Re-plot the tables already in `out_dir` (no recomputation): the notebook's pages.
        let read = |name: &str| -> mi_core::Result<String> {
            let path = out.join(name);
            std::fs::read_to_string(&path).map_err(|e| mi_core::Error::Io {
                path: path.display().to_string(),
                detail: e.to_string(),
            })
        };
        let fig3 = bias_variance::Report::from_csv(
            &read("fig3_bias_variance.csv")?,
            replicates.unwrap_or(2000),
        )?;
        let figs = [Fig3Metric::Bias, Fig3Metric::Variance, Fig3Metric::Mse]
            .map(|m| fig3_bias_variance(&fig3, m, Panels::PerBatchSize));
        write_html_page(
            &figs.iter().collect::<Vec<_>>(),
            out.join("fig3_bias_variance.html"),
        )?;
        let fig4 = gradient_accuracy::Report::from_csv(&read("fig4_gradient_mse.csv")?, 200)?;
        write_html(
            &fig4_gradient_mse(&fig4),
            out.join("fig4_gradient_mse.html"),
        )?;
        write_html(&fig4_best_alpha(&fig4), out.join("fig4_best_alpha.html"))?;
        eprintln!(
            "re-plotted fig3_bias_variance, fig4_gradient_mse, fig4_best_alpha in {}",
            out.display()
        );
        return Ok(());
    }
    if which == "3" || which == "both" {
        let mut cfg = bias_variance::Config::default();
        cfg.grid.replicates = replicates.unwrap_or(cfg.grid.replicates);
        let report = bias_variance::run(&cfg)?;
        eprintln!(
            "figure 3: {} cells × {} replicates in {:.0} s",
            report.rows.len(),
            cfg.grid.replicates,
            report.elapsed_s
        );
        write("fig3_bias_variance.csv", report.to_csv()?)?;
        let figs = [
            fig3_bias_variance(&report, Fig3Metric::Bias, Panels::PerBatchSize),
            fig3_bias_variance(&report, Fig3Metric::Variance, Panels::PerBatchSize),
            fig3_bias_variance(&report, Fig3Metric::Mse, Panels::PerBatchSize),
            fig3_bias_variance(&report, Fig3Metric::Mse, Panels::PerMi),
        ];
        write_html_page(
            &figs.iter().collect::<Vec<_>>(),
            out.join("fig3_bias_variance.html"),
        )?;
    }
    if which == "4" || which == "both" {
        let mut cfg = gradient_accuracy::Config::default();
        cfg.grid.replicates = replicates.unwrap_or(cfg.grid.replicates);
        let report = gradient_accuracy::run(&cfg)?;
        eprintln!(
            "figure 4: {} rows × {} replicates in {:.0} s",
            report.rows.len(),
            cfg.grid.replicates,
            report.elapsed_s
        );
        write("fig4_gradient_mse.csv", report.to_csv()?)?;
        write("fig4_best_alpha.csv", report.best_alpha_csv()?)?;
        write_html(
            &fig4_gradient_mse(&report),
            out.join("fig4_gradient_mse.html"),
        )?;
        write_html(&fig4_best_alpha(&report), out.join("fig4_best_alpha.html"))?;
    }
    Ok(())
}
