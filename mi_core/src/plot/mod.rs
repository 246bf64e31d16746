//! Figures as `plotly::Plot` values (feature `plots`). Nothing here writes files:
//! [`crate::io::figure`] does.

mod optimal_critic;

pub use optimal_critic::{
    fig3_bias_variance, fig4_best_alpha, fig4_gradient_mse, Fig3Metric, Panels,
};

use plotly::layout::Axis;
use plotly::Layout;

/// One colour per estimator, stable across figures (colour-blind-safe Tableau 10).
pub(crate) const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
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
