//! Figure 2: estimates of critics trained while the true MI climbs a staircase.

use super::{axis_refs, grid_layout, with_axes, MAX_PANELS};
use crate::experiments::staircase::{Report, RunResult, PAPER_PANELS};
use crate::train::{CriticKind, DatasetKind};
use plotly::color::NamedColor;
use plotly::common::{DashType, Line, LineShape, Mode, Title};
use plotly::layout::Axis;
use plotly::{Plot, Scatter};

/// Colours per critic (the paper's caption: joint = orange, separable = blue).
fn critic_colors(c: CriticKind) -> (&'static str, &'static str) {
    // (raw, smoothed)
    match c {
        CriticKind::Separable => ("rgba(78,121,167,0.25)", "#2f5c8a"),
        CriticKind::Concat => ("rgba(242,142,43,0.25)", "#c4650a"),
        CriticKind::Conditional => ("rgba(89,161,79,0.25)", "#3b7a33"),
    }
}

/// Every `stride`-th point (and the last), so a trace holds about `max` points.
fn thin(xs: &[f64], max: usize) -> (Vec<f64>, Vec<f64>) {
    let stride = xs.len().div_ceil(max.max(1)).max(1);
    let mut t: Vec<usize> = (0..xs.len()).step_by(stride).collect();
    if let Some(&last) = t.last() {
        if last + 1 != xs.len() {
            t.push(xs.len() - 1);
        }
    }
    (
        t.iter().map(|&i| i as f64).collect(),
        t.iter().map(|&i| xs[i]).collect(),
    )
}

/// One figure of (dataset, estimator) panels (at most 8): per panel the true MI (black
/// staircase), the estimator's cap (dashed), and for each critic run its raw estimates (light)
/// and their EMA (dark). Estimators without a run for a dataset get no panel.
pub fn fig2_panels(report: &Report, panels: &[(DatasetKind, String)], title: &str) -> Plot {
    let cfg = &report.config;
    let panels: Vec<&(DatasetKind, String)> = panels
        .iter()
        .filter(|(d, e)| {
            report
                .runs
                .iter()
                .any(|r| r.spec.dataset == *d && &r.estimator() == e)
        })
        .take(MAX_PANELS)
        .collect();
    let mut plot = Plot::new();
    let mut layout = grid_layout(title, panels.len().max(1));
    let mut in_legend: Vec<CriticKind> = Vec::new();
    let top = cfg
        .schedule()
        .map(|s| s.values().into_iter().fold(0.0, f64::max))
        .unwrap_or(10.0);
    for (k, (dataset, estimator)) in panels.iter().enumerate() {
        let (xr, yr) = axis_refs(k);
        let runs: Vec<&RunResult> = report
            .runs
            .iter()
            .filter(|r| r.spec.dataset == *dataset && &r.estimator() == estimator)
            .collect();
        // The truth from the schedule (a run that diverged early has no history to draw it from).
        if let Ok(schedule) = cfg.schedule() {
            let (xs, ys) = thin(&schedule.values(), 2000);
            plot.add_trace(
                Scatter::new(xs, ys)
                    .name("true MI")
                    .legend_group("true MI")
                    .show_legend(k == 0)
                    .mode(Mode::Lines)
                    .line(Line::new().color(NamedColor::Black).shape(LineShape::Hv))
                    .x_axis(&xr)
                    .y_axis(&yr),
            );
        }
        if let Some(c) = runs.iter().find_map(|r| r.spec.bound.cap(cfg.batch_size)) {
            plot.add_trace(
                Scatter::new(vec![0.0, cfg.steps as f64], vec![c, c])
                    .name("cap")
                    .legend_group("cap")
                    .show_legend(k == 0)
                    .mode(Mode::Lines)
                    .line(Line::new().color(NamedColor::Gray).dash(DashType::Dash))
                    .x_axis(&xr)
                    .y_axis(&yr),
            );
        }
        for run in runs {
            let critic = run.spec.critic;
            let (light, dark) = critic_colors(critic);
            let first_time = !in_legend.contains(&critic);
            if first_time {
                in_legend.push(critic);
            }
            let (xs, raw) = thin(&run.history.estimates, 2000);
            let (xs2, smooth) = thin(&report.smoothed(run), 2000);
            plot.add_trace(
                Scatter::new(xs, raw)
                    .name(format!("{} (raw)", critic.name()))
                    .legend_group(critic.name())
                    .show_legend(false)
                    .mode(Mode::Lines)
                    .line(Line::new().color(light).width(1.0))
                    .x_axis(&xr)
                    .y_axis(&yr),
            );
            plot.add_trace(
                Scatter::new(xs2, smooth)
                    .name(critic.name())
                    .legend_group(critic.name())
                    .show_legend(first_time)
                    .mode(Mode::Lines)
                    .line(Line::new().color(dark).width(2.0))
                    .x_axis(&xr)
                    .y_axis(&yr),
            );
        }
        layout = with_axes(
            layout,
            k,
            Axis::new()
                .title(Title::with_text(format!("step — {}", dataset.name())))
                .range(vec![0.0, cfg.steps as f64]),
            Axis::new()
                .title(Title::with_text(format!("{estimator} (nats)")))
                .range(vec![-1.0, top + 1.0]),
        );
    }
    plot.set_layout(layout);
    plot
}

/// The paper's Figure 2: one row per dataset, panels NWJ, JS, InfoNCE and α = 0.01
/// ([`PAPER_PANELS`]) where they were run.
pub fn fig2_paper(report: &Report) -> Plot {
    fig2_staircase(report, &PAPER_PANELS)
}

/// Figure 2's layout for any estimators: one row per dataset, one panel per estimator.
pub fn fig2_staircase(report: &Report, estimators: &[&str]) -> Plot {
    let panels: Vec<(DatasetKind, String)> = report
        .config
        .datasets
        .iter()
        .flat_map(|&d| estimators.iter().map(move |e| (d, e.to_string())))
        .collect();
    fig2_panels(report, &panels, &title(report, "Figure 2"))
}

/// Every estimator of the sweep: for each dataset, pages of at most 8 panels.
pub fn fig2_pages(report: &Report) -> Vec<Plot> {
    let mut names: Vec<String> = Vec::new();
    for r in &report.runs {
        let n = r.estimator();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut pages = Vec::new();
    for &d in &report.config.datasets {
        let panels: Vec<(DatasetKind, String)> = names.iter().map(|n| (d, n.clone())).collect();
        let n_pages = panels.len().div_ceil(MAX_PANELS);
        for (p, chunk) in panels.chunks(MAX_PANELS).enumerate() {
            let head = format!("Figure 2 ({}, page {}/{})", d.name(), p + 1, n_pages);
            pages.push(fig2_panels(report, chunk, &title(report, &head)));
        }
    }
    pages
}

fn title(report: &Report, head: &str) -> String {
    let c = &report.config;
    format!(
        "{head} — critics trained on a rising MI: B = {}, {} steps, EMA span {} (light: raw, dark: smoothed)",
        c.batch_size, c.steps, c.span
    )
}
