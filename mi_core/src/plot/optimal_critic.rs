//! Figures 3 and 4: the optimal-critic analyses.

use super::{axis_refs, grid_layout, series, spread, with_axes, PALETTE};
use crate::experiments::{bias_variance, gradient_accuracy};
use plotly::color::NamedColor;
use plotly::common::{
    ColorBar, ColorScale, ColorScalePalette, DashType, Line, Marker, Mode, Title,
};
use plotly::layout::{Axis, AxisType};
use plotly::{HeatMap, Layout, Plot, Scatter};

/// Which column of Figure 3 to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fig3Metric {
    /// mean − I (linear axis, with a zero line).
    Bias,
    /// Variance over replicates (log axis).
    Variance,
    /// bias² + variance (log axis).
    Mse,
}

/// How Figure 3 is cut into panels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panels {
    /// One panel per batch size, MI on the x axis (the paper's view).
    PerBatchSize,
    /// One panel per MI, batch size on a log x axis (the transposed view; at most 8 MIs,
    /// evenly spread over the grid).
    PerMi,
}

/// Figure 3: bias, variance or MSE of each estimator against MI (one panel per B) or against B
/// (one panel per MI).
pub fn fig3_bias_variance(
    report: &bias_variance::Report,
    metric: Fig3Metric,
    panels: Panels,
) -> Plot {
    let cfg = &report.config;
    let (label, log_y) = match metric {
        Fig3Metric::Bias => ("bias (nats)", false),
        Fig3Metric::Variance => ("variance", true),
        Fig3Metric::Mse => ("MSE", true),
    };
    let value = |r: &bias_variance::Row| match metric {
        Fig3Metric::Bias => r.bias,
        Fig3Metric::Variance => r.variance,
        Fig3Metric::Mse => r.mse,
    };
    let keys: Vec<f64> = match panels {
        Panels::PerBatchSize => spread(&cfg.grid.batch_sizes)
            .iter()
            .map(|&b| b as f64)
            .collect(),
        Panels::PerMi => spread(&cfg.grid.mis),
    };
    let mut plot = Plot::new();
    let mut layout = grid_layout(
        &format!(
            "Figure 3 — {label} of each estimator with its optimal critic ({} replicates)",
            cfg.grid.replicates
        ),
        keys.len(),
    );
    for (k, &key) in keys.iter().enumerate() {
        let (xr, yr) = axis_refs(k);
        for (e, name) in cfg.estimators().iter().enumerate() {
            let rows: Vec<&bias_variance::Row> = report
                .rows
                .iter()
                .filter(|r| &r.estimator == name)
                .filter(|r| match panels {
                    Panels::PerBatchSize => r.batch_size as f64 == key,
                    Panels::PerMi => r.mi == key,
                })
                // Exact zeros (every estimator is deterministic at I = 0) have no place on a log axis.
                .filter(|r| !log_y || value(r) > 1e-12)
                .collect();
            let xs: Vec<f64> = rows
                .iter()
                .map(|r| match panels {
                    Panels::PerBatchSize => r.mi,
                    Panels::PerMi => r.batch_size as f64,
                })
                .collect();
            let ys: Vec<f64> = rows.iter().map(|r| value(r)).collect();
            plot.add_trace(series(xs, ys, name, e, k));
        }
        if metric == Fig3Metric::Bias {
            let (lo, hi) = match panels {
                Panels::PerBatchSize => (cfg.grid.mis[0], cfg.grid.mis[cfg.grid.mis.len() - 1]),
                Panels::PerMi => (
                    cfg.grid.batch_sizes[0] as f64,
                    cfg.grid.batch_sizes[cfg.grid.batch_sizes.len() - 1] as f64,
                ),
            };
            plot.add_trace(
                Scatter::new(vec![lo, hi], vec![0.0, 0.0])
                    .mode(Mode::Lines)
                    .show_legend(false)
                    .line(
                        Line::new()
                            .color(NamedColor::Black)
                            .dash(DashType::Dash)
                            .width(1.0),
                    )
                    .x_axis(&xr)
                    .y_axis(&yr),
            );
        }
        let x = match panels {
            Panels::PerBatchSize => {
                Axis::new().title(Title::with_text(format!("I (nats) — B = {key}")))
            }
            Panels::PerMi => Axis::new()
                .title(Title::with_text(format!("batch size — I = {key} nats")))
                .type_(AxisType::Log),
        };
        let mut y = Axis::new().title(Title::with_text(label));
        if log_y {
            y = y.type_(AxisType::Log);
        }
        layout = with_axes(layout, k, x, y);
    }
    plot.set_layout(layout);
    plot
}

/// Figure 4, left: the gradient MSE against MI, one panel per batch size, for TNCE and the
/// I_α of Figure 3's α values present in the grid (α = 0 drawn as NWJ).
pub fn fig4_gradient_mse(report: &gradient_accuracy::Report) -> Plot {
    let cfg = &report.config;
    let shown: Vec<String> = [
        "alpha_0",
        "alpha_0.01",
        "alpha_0.1",
        "alpha_0.5",
        "alpha_0.9",
        "tnce",
    ]
    .iter()
    .map(|s| s.to_string())
    .filter(|n| report.rows.iter().any(|r| &r.estimator == n))
    .collect();
    let batch_sizes = spread(&cfg.grid.batch_sizes);
    let mut plot = Plot::new();
    let mut layout = grid_layout(
        &format!(
            "Figure 4 — gradient MSE, (1/d)‖ĝ − ∇I‖², optimal critics ({} replicates)",
            cfg.grid.replicates
        ),
        batch_sizes.len(),
    );
    for (k, &b) in batch_sizes.iter().enumerate() {
        let (xr, yr) = axis_refs(k);
        for (e, name) in shown.iter().enumerate() {
            let rows: Vec<&gradient_accuracy::Row> = report
                .rows
                .iter()
                .filter(|r| &r.estimator == name && r.batch_size == b && r.grad_mse > 0.0)
                .collect();
            let label = if name == "alpha_0" {
                "nwj (α = 0)".to_string()
            } else {
                name.clone()
            };
            let color = PALETTE[e % PALETTE.len()];
            plot.add_trace(
                Scatter::new(
                    rows.iter().map(|r| r.mi).collect(),
                    rows.iter().map(|r| r.grad_mse).collect(),
                )
                .name(&label)
                .legend_group(&label)
                .show_legend(k == 0)
                .mode(Mode::LinesMarkers)
                .line(Line::new().color(color))
                .marker(Marker::new().color(color).size(5))
                .x_axis(&xr)
                .y_axis(&yr),
            );
        }
        layout = with_axes(
            layout,
            k,
            Axis::new().title(Title::with_text(format!("I (nats) — B = {b}"))),
            Axis::new()
                .title(Title::with_text("gradient MSE"))
                .type_(AxisType::Log),
        );
    }
    plot.set_layout(layout);
    plot
}

/// Figure 4, right: the best α per (MI, B) as a heatmap on a log-α colour scale (α = 0 is drawn
/// at 10⁻⁵ and labelled 0).
pub fn fig4_best_alpha(report: &gradient_accuracy::Report) -> Plot {
    let cfg = &report.config;
    let best = report.best_alpha();
    let floor = 1e-5f64;
    let z: Vec<Vec<f64>> = cfg
        .grid
        .mis
        .iter()
        .map(|&mi| {
            cfg.grid
                .batch_sizes
                .iter()
                .map(|&b| {
                    best.iter()
                        .find(|c| c.mi == mi && c.batch_size == b)
                        .map_or(f64::NAN, |c| c.best_alpha.max(floor).log10())
                })
                .collect()
        })
        .collect();
    let mut ticks: Vec<f64> = cfg.alphas.iter().map(|&a| a.max(floor)).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let tick_text: Vec<String> = ticks
        .iter()
        .map(|&a| {
            if a <= floor {
                "0".into()
            } else {
                format!("{a}")
            }
        })
        .collect();
    let x: Vec<String> = cfg.grid.batch_sizes.iter().map(|b| b.to_string()).collect();
    let heat = HeatMap::new(x, cfg.grid.mis.clone(), z)
        .color_scale(ColorScale::Palette(ColorScalePalette::Viridis))
        .color_bar(
            ColorBar::new()
                .title(Title::with_text("best α"))
                .tick_vals(ticks.iter().map(|a| a.log10()).collect())
                .tick_text(tick_text),
        );
    let mut plot = Plot::new();
    plot.add_trace(heat);
    plot.set_layout(
        Layout::new()
            .title(Title::with_text(
                "Figure 4 — the α of I_α with the most accurate gradient",
            ))
            .x_axis(
                Axis::new()
                    .title(Title::with_text("batch size B"))
                    .type_(AxisType::Category),
            )
            .y_axis(Axis::new().title(Title::with_text("I (nats)")))
            .height(520)
            .width(720),
    );
    plot
}
