//! The task-suite benchmark (`mi tasks bench`): every bound's held-out estimate ± one standard
//! error against each task's true MI, with the benchmark's tolerance band
//! max(0.1 nats, 5 % of the truth).

use super::PALETTE;
use crate::estimate::{tolerance, BenchReport};
use plotly::color::NamedColor;
use plotly::common::{ErrorData, ErrorType, Fill, Line, Marker, MarkerSymbol, Mode, Title};
use plotly::layout::{Axis, Legend};
use plotly::{Layout, Plot, Scatter};

/// Half the width a task's slot gives its bounds and band (slots are 1 apart).
const HALF_SLOT: f64 = 0.4;

/// The tasks of `report` in order of first appearance, with their true MI.
fn tasks(report: &BenchReport) -> Vec<(&str, f64)> {
    let mut seen: Vec<(&str, f64)> = Vec::new();
    for r in &report.rows {
        if !seen.iter().any(|(t, _)| *t == r.task) {
            seen.push((r.task.as_str(), r.true_mi));
        }
    }
    seen
}

/// The legend entry of a bound: I_α's rows (`alpha_A`, with α chosen per task) share one.
fn legend_name(bound: &str) -> &str {
    if bound.starts_with("alpha_") {
        "I_α"
    } else {
        bound
    }
}

/// The legend entries in order of first appearance.
fn legend_names(report: &BenchReport) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for r in &report.rows {
        let name = legend_name(&r.bound);
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen
}

/// One rectangle per task, truth ± tolerance, as a single filled trace (the rectangles are
/// separated by gaps).
fn band(tasks: &[(&str, f64)]) -> Box<Scatter<Option<f64>, Option<f64>>> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for (i, &(_, truth)) in tasks.iter().enumerate() {
        let (x0, x1) = (i as f64 - HALF_SLOT, i as f64 + HALF_SLOT);
        let (lo, hi) = (truth - tolerance(truth), truth + tolerance(truth));
        for (x, y) in [(x0, lo), (x1, lo), (x1, hi), (x0, hi), (x0, lo)] {
            xs.push(Some(x));
            ys.push(Some(y));
        }
        xs.push(None);
        ys.push(None);
    }
    Scatter::new(xs, ys)
        .name("tolerance max(0.1, 5 %)")
        .mode(Mode::Lines)
        .fill(Fill::ToSelf)
        .fill_color("rgba(120,120,120,0.18)")
        .line(Line::new().width(0.0).color("rgba(120,120,120,0.18)"))
        .hover_info(plotly::common::HoverInfo::Skip)
}

/// Estimate ± one standard error of every bound on every task, beside the task's true MI (a
/// black bar) and its tolerance band (grey): one trace per bound with one point per task it ran
/// on (I_α's `alpha_A` rows, whose α differs per task, form one trace "I_α"), tasks along x in
/// the report's order, each bound offset within its task's slot. The hover text names the bound
/// and says whether the estimate is within tolerance.
pub fn tasks_bench(report: &BenchReport) -> Plot {
    let tasks = tasks(report);
    let bounds = legend_names(report);
    let mut plot = Plot::new();
    plot.add_trace(band(&tasks));
    let slot = |task: &str| tasks.iter().position(|(t, _)| *t == task).unwrap_or(0) as f64;
    let nb = bounds.len().max(1) as f64;
    for (b, bound) in bounds.iter().enumerate() {
        let offset = (b as f64 - (nb - 1.0) / 2.0) * (2.0 * HALF_SLOT / nb);
        let rows: Vec<_> = report
            .rows
            .iter()
            .filter(|r| legend_name(&r.bound) == *bound)
            .collect();
        let xs = rows.iter().map(|r| slot(&r.task) + offset).collect();
        let ys = rows.iter().map(|r| r.estimate).collect();
        let se = rows.iter().map(|r| r.std_err).collect();
        let text = rows
            .iter()
            .map(|r| {
                format!(
                    "{}<br>{}: {:.3} ± {:.3}<br>true {:.3}, |error| {:.3} ({})",
                    r.task,
                    r.bound,
                    r.estimate,
                    r.std_err,
                    r.true_mi,
                    r.abs_error,
                    if r.within { "within" } else { "outside" }
                )
            })
            .collect();
        let color = PALETTE[b % PALETTE.len()];
        plot.add_trace(
            Scatter::new(xs, ys)
                .name(*bound)
                .mode(Mode::Markers)
                .marker(Marker::new().color(color).size(7))
                .error_y(ErrorData::new(ErrorType::Data).array(se).color(color))
                .hover_text_array(text)
                .hover_info(plotly::common::HoverInfo::Text),
        );
    }
    let n = tasks.len();
    plot.add_trace(
        Scatter::new(
            (0..n).map(|i| i as f64).collect(),
            tasks.iter().map(|t| t.1).collect(),
        )
        .name("true I")
        .mode(Mode::Markers)
        .marker(
            Marker::new()
                .symbol(MarkerSymbol::LineEWOpen)
                .size(28)
                .line(
                    plotly::common::Line::new()
                        .width(2.5)
                        .color(NamedColor::Black),
                )
                .color(NamedColor::Black),
        ),
    );
    let layout = Layout::new()
        .title(Title::with_text(format!(
            "Task suite: held-out estimate ± 1 SE vs the true MI — {} samples per task, {}/{} \
             within tolerance",
            report.n,
            report.within_count(),
            report.rows.len()
        )))
        .x_axis(
            Axis::new()
                .tick_values((0..n).map(|i| i as f64).collect())
                .tick_text(tasks.iter().map(|t| t.0.to_string()).collect())
                .tick_angle(-35.0)
                .range(vec![-0.6, n as f64 - 0.4]),
        )
        .y_axis(Axis::new().title(Title::with_text("I(X; Y) (nats)")))
        .legend(Legend::new())
        .height(560)
        .width((80 * n + 400).clamp(700, 1600));
    plot.set_layout(layout);
    plot
}
