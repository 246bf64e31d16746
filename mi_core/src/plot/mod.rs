//! Figures as `plotly::Plot` values (feature `plots`). Nothing here writes files:
//! [`crate::io::figure`] does.

mod dsprites;
mod infomax;
mod optimal_critic;
mod staircase;
mod survey;
mod tasks_bench;

pub use dsprites::{mi_matrix_heatmap, selectivity};
pub use infomax::infomax_training;
pub use optimal_critic::{
    fig3_bias_variance, fig4_best_alpha, fig4_gradient_mse, Fig3Metric, Panels,
};
pub use staircase::{fig2_pages, fig2_panels, fig2_paper, fig2_staircase};
pub use survey::{survey_sandwich, survey_vs_mi};
pub use tasks_bench::tasks_bench;

use plotly::common::{Line, Marker, Mode, Title};
use plotly::layout::{Axis, GridPattern, LayoutGrid};
use plotly::{Layout, Scatter};

/// One colour per estimator, stable across figures (Tableau 10, then four darker hues for
/// figures with more lines).
pub(crate) const PALETTE: [&str; 14] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#17becf", "#2f4b7c", "#8c6d31", "#6b3fa0",
];

/// Sets the x and y axes of subplot `k` (0-based; plotly's layout has 8 subplot axes).
pub(crate) fn with_axes(layout: Layout, k: usize, x: Axis, y: Axis) -> Layout {
    match k {
        0 => layout.x_axis(x).y_axis(y),
        1 => layout.x_axis2(x).y_axis2(y),
        2 => layout.x_axis3(x).y_axis3(y),
        3 => layout.x_axis4(x).y_axis4(y),
        4 => layout.x_axis5(x).y_axis5(y),
        5 => layout.x_axis6(x).y_axis6(y),
        6 => layout.x_axis7(x).y_axis7(y),
        _ => layout.x_axis8(x).y_axis8(y),
    }
}

/// The trace-side names of subplot `k`'s axes: ("x", "y"), ("x2", "y2"), …
pub(crate) fn axis_refs(k: usize) -> (String, String) {
    if k == 0 {
        ("x".into(), "y".into())
    } else {
        (format!("x{}", k + 1), format!("y{}", k + 1))
    }
}

/// The most subplots one figure holds.
pub(crate) const MAX_PANELS: usize = 8;

/// A grid of `panels` subplots, at most 4 to a row.
pub(crate) fn grid_layout(title: &str, panels: usize) -> Layout {
    let columns = panels.min(4);
    let rows = panels.div_ceil(columns);
    Layout::new()
        .title(Title::with_text(title))
        .grid(
            LayoutGrid::new()
                .rows(rows)
                .columns(columns)
                .pattern(GridPattern::Independent),
        )
        .height(320 * rows + 120)
        .width(1300)
}

/// One estimator's line in subplot `k`: colour by estimator index, legend entry on panel 0 only.
pub(crate) fn series(
    xs: Vec<f64>,
    ys: Vec<f64>,
    name: &str,
    estimator: usize,
    k: usize,
) -> Box<Scatter<f64, f64>> {
    let (xr, yr) = axis_refs(k);
    let color = PALETTE[estimator % PALETTE.len()];
    Scatter::new(xs, ys)
        .name(name)
        .legend_group(name)
        .show_legend(k == 0)
        .mode(Mode::LinesMarkers)
        .line(Line::new().color(color))
        .marker(Marker::new().color(color).size(5))
        .x_axis(&xr)
        .y_axis(&yr)
}

/// At most [`MAX_PANELS`] values, evenly spread and always keeping the first and last.
pub(crate) fn spread<T: Copy>(v: &[T]) -> Vec<T> {
    if v.len() <= MAX_PANELS {
        return v.to_vec();
    }
    (0..MAX_PANELS)
        .map(|k| v[k * (v.len() - 1) / (MAX_PANELS - 1)])
        .collect()
}
