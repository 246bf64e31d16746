//! The bound survey (§2): every bound with its optimal critic against the true MI, and the
//! TNCE ≤ I ≤ leave-one-out sandwich closing as the batch grows.

use super::{axis_refs, grid_layout, series, spread, with_axes, PALETTE};
use crate::bounds::Bound;
use crate::experiments::bound_survey::{Report, Row};
use plotly::color::NamedColor;
use plotly::common::{DashType, ErrorData, ErrorType, Font, Line, Mode, Title};
use plotly::layout::{Axis, AxisType, Legend};
use plotly::{Plot, Scatter};

fn rows_of<'a>(report: &'a Report, bound: &str, keep: impl Fn(&Row) -> bool) -> Vec<&'a Row> {
    report
        .rows
        .iter()
        .filter(|r| r.bound == bound && keep(r))
        .collect()
}

/// A dashed reference line in subplot `k`.
fn dashed(
    xs: Vec<f64>,
    ys: Vec<f64>,
    name: &str,
    color: &'static str,
    k: usize,
    legend: bool,
) -> Box<Scatter<f64, f64>> {
    let (xr, yr) = axis_refs(k);
    Scatter::new(xs, ys)
        .name(name)
        .legend_group(name)
        .show_legend(legend)
        .mode(Mode::Lines)
        .line(Line::new().color(color).dash(DashType::Dash).width(1.2))
        .x_axis(&xr)
        .y_axis(&yr)
}

/// The true MI, dotted black, drawn last so that no estimate hides it.
fn truth(xs: Vec<f64>, ys: Vec<f64>, k: usize) -> Box<Scatter<f64, f64>> {
    let (xr, yr) = axis_refs(k);
    Scatter::new(xs, ys)
        .name("true I")
        .legend_group("true I")
        .show_legend(k == 0)
        .mode(Mode::Lines)
        .line(
            Line::new()
                .color(NamedColor::Black)
                .width(2.5)
                .dash(DashType::Dot),
        )
        .x_axis(&xr)
        .y_axis(&yr)
}

/// Mean estimate (± 2 standard errors) of every bound against the true MI, one panel per batch
/// size, with the true MI and each bound's deterministic cap (dashed: log B for InfoNCE/TNCE,
/// 1 + log((B − 1)/α) for I_α, in the bound's colour).
pub fn survey_vs_mi(report: &Report) -> Plot {
    let cfg = &report.config;
    let sizes = spread(&cfg.grid.batch_sizes);
    let mut plot = Plot::new();
    let mut layout = grid_layout(
        &format!(
            "Every bound with its optimal critic — d = {}, {} batches per point (mean ± 2 SE)",
            cfg.grid.dim, cfg.grid.replicates
        ),
        sizes.len(),
    );
    // Room for the legend: one entry per bound, per cap and the truth.
    let rows = sizes.len().div_ceil(4);
    let entries = cfg.bounds.len() + 6;
    layout = layout
        .height((320 * rows + 120).max(22 * entries + 140))
        .legend(Legend::new().font(Font::new().size(11)).trace_group_gap(2));
    let (lo, hi) = (cfg.grid.mis[0], cfg.grid.mis[cfg.grid.mis.len() - 1]);
    for (k, &b) in sizes.iter().enumerate() {
        let mut capped_infonce = false;
        for (e, bound) in cfg.bounds.iter().enumerate() {
            let name = bound.name();
            let rows = rows_of(report, &name, |r| r.batch_size == b);
            let xs = rows.iter().map(|r| r.mi).collect();
            let ys = rows.iter().map(|r| r.mean).collect();
            let err = rows.iter().map(|r| 2.0 * r.sem).collect();
            plot.add_trace(
                series(xs, ys, &name, e, k).error_y(ErrorData::new(ErrorType::Data).array(err)),
            );
            if let Some(c) = bound.cap(b) {
                let is_nce = matches!(bound, Bound::InfoNce | Bound::Tnce);
                if is_nce && capped_infonce {
                    continue;
                }
                capped_infonce |= is_nce;
                let (label, color) = if is_nce {
                    ("cap log B".to_string(), "#555555")
                } else {
                    (format!("cap of {name}"), PALETTE[e % PALETTE.len()])
                };
                plot.add_trace(dashed(vec![lo, hi], vec![c, c], &label, color, k, k == 0));
            }
        }
        plot.add_trace(truth(vec![lo, hi], vec![lo, hi], k));
        layout = with_axes(
            layout,
            k,
            Axis::new().title(Title::with_text(format!("true I (nats) — B = {b}"))),
            Axis::new().title(Title::with_text("estimate (nats)")),
        );
    }
    plot.set_layout(layout);
    plot
}

/// The sandwich TNCE ≤ I ≤ leave-one-out upper bound against the batch size (log axis), one panel
/// per MI (at most 8, evenly spread), with the true MI and log B.
pub fn survey_sandwich(report: &Report) -> Plot {
    let cfg = &report.config;
    let mis = spread(&cfg.grid.mis);
    let mut plot = Plot::new();
    let mut layout = grid_layout(
        &format!(
            "TNCE ≤ I ≤ leave-one-out upper bound — {} batches per point (mean ± 2 SE)",
            cfg.grid.replicates
        ),
        mis.len(),
    );
    let (b0, b1) = (
        cfg.grid.batch_sizes[0] as f64,
        cfg.grid.batch_sizes[cfg.grid.batch_sizes.len() - 1] as f64,
    );
    for (k, &mi) in mis.iter().enumerate() {
        for (e, name) in ["tnce", "loo_upper"].iter().enumerate() {
            let rows = rows_of(report, name, |r| r.mi == mi);
            if rows.is_empty() {
                continue;
            }
            let xs = rows.iter().map(|r| r.batch_size as f64).collect();
            let ys = rows.iter().map(|r| r.mean).collect();
            let err = rows.iter().map(|r| 2.0 * r.sem).collect();
            plot.add_trace(
                series(xs, ys, name, e, k).error_y(ErrorData::new(ErrorType::Data).array(err)),
            );
        }
        let bs: Vec<f64> = cfg.grid.batch_sizes.iter().map(|&b| b as f64).collect();
        let logs = bs.iter().map(|b| b.ln()).collect();
        plot.add_trace(dashed(bs.clone(), logs, "log B", "#555555", k, k == 0));
        plot.add_trace(truth(vec![b0, b1], vec![mi, mi], k));
        layout = with_axes(
            layout,
            k,
            Axis::new()
                .title(Title::with_text(format!("batch size — I = {mi} nats")))
                .type_(AxisType::Log)
                .tick_values(bs),
            Axis::new().title(Title::with_text("estimate (nats)")),
        );
    }
    plot.set_layout(layout);
    plot
}
