//! Training curves of an InfoMax run (Figure 5's objective): per step, I_JS and TC_ub; the
//! leave-one-out upper bound on I(X; Y_k) for every latent; the smoothness KL against its
//! threshold γ; and the multipliers λ_TC, λ_S. Long runs are averaged over windows so that
//! at most [`MAX_POINTS`] points are drawn per line.

use super::{axis_refs, grid_layout, with_axes, PALETTE};
use crate::train::{InfoMaxHistory, InfoMaxLog};
use plotly::common::{DashType, Line, Mode, Title};
use plotly::layout::Axis;
use plotly::{Plot, Scatter};

/// Points per line at most (window means beyond that).
pub const MAX_POINTS: usize = 400;

/// Window means of `f` over the history: (mean step, mean value) per window.
fn smoothed(logs: &[InfoMaxLog], f: impl Fn(&InfoMaxLog) -> f64) -> (Vec<f64>, Vec<f64>) {
    let w = logs.len().div_ceil(MAX_POINTS).max(1);
    logs.chunks(w)
        .map(|c| {
            let n = c.len() as f64;
            (
                c.iter().map(|l| l.step as f64).sum::<f64>() / n,
                c.iter().map(&f).sum::<f64>() / n,
            )
        })
        .unzip()
}

fn line(
    (xs, ys): (Vec<f64>, Vec<f64>),
    name: &str,
    colour: usize,
    panel: usize,
    dash: Option<DashType>,
) -> Box<Scatter<f64, f64>> {
    let (xr, yr) = axis_refs(panel);
    let mut l = Line::new()
        .color(PALETTE[colour % PALETTE.len()])
        .width(1.5);
    if let Some(d) = dash {
        l = l.dash(d);
    }
    Scatter::new(xs, ys)
        .name(name)
        .mode(Mode::Lines)
        .line(l)
        .x_axis(&xr)
        .y_axis(&yr)
}

/// The four panels of an InfoMax run's history; `delta` and `gamma` (the thresholds) are drawn
/// as dashed lines.
pub fn infomax_training(history: &InfoMaxHistory, delta: f64, gamma: f64) -> Plot {
    let logs = &history.logs;
    let mut plot = Plot::new();
    let steps = |v: f64| -> (Vec<f64>, Vec<f64>) {
        let last = logs.last().map_or(0.0, |l| l.step as f64);
        (vec![0.0, last], vec![v, v])
    };
    plot.add_trace(line(smoothed(logs, |l| l.i_js), "I_JS", 0, 0, None));
    plot.add_trace(line(smoothed(logs, |l| l.tc_ub), "TC_ub", 1, 0, None));
    plot.add_trace(line(steps(delta), "δ", 1, 0, Some(DashType::Dash)));
    let k = logs.first().map_or(0, |l| l.mbu.len());
    for j in 0..k {
        let name = format!("MBU latent {j}");
        let series = smoothed(logs, |l| l.mbu.get(j).copied().unwrap_or(f64::NAN));
        plot.add_trace(line(series, &name, 2 + j, 1, None));
    }
    plot.add_trace(line(
        smoothed(logs, |l| l.kl),
        "KL (smoothness)",
        3,
        2,
        None,
    ));
    plot.add_trace(line(steps(gamma), "γ", 3, 2, Some(DashType::Dash)));
    plot.add_trace(line(smoothed(logs, |l| l.lambda_tc), "λ_TC", 4, 3, None));
    plot.add_trace(line(smoothed(logs, |l| l.lambda_smooth), "λ_S", 5, 3, None));
    let titles = [
        "I_JS and TC_ub (nats)",
        "leave-one-out upper bound on I(X; Y_k)",
        "E KL(p(y|x) ‖ p(y|x+ε))",
        "multipliers",
    ];
    let mut layout =
        grid_layout("InfoMax on dSprites: the objective's terms per step", 4).height(520);
    for (p, t) in titles.iter().enumerate() {
        layout = with_axes(
            layout,
            p,
            Axis::new().title(Title::with_text("step")),
            Axis::new().title(Title::with_text(*t)),
        );
    }
    plot.set_layout(layout);
    plot
}
