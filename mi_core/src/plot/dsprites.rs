//! Figure 5 (§3.1): feature selectivity of the latents of a dSprites encoder, and the
//! factor × latent mutual-information table as a heatmap.
//!
//! [`selectivity`] draws one row per latent of a [`Selectivity`]: (a) the mean μ_k over
//! (pos_x, pos_y) as a heatmap, red high and blue low; (b) mean μ_k against scale and (c) against
//! orientation, one line per shape. Plotly's layout names only 8 subplot axes, so the panels sit
//! on a `layout.grid` (which places any number of axes), and every axis title, row title and
//! colour bar is placed in paper coordinates from the grid's cell domains, computed with
//! plotly.js's own rule (see [`grid_cells`]).

use super::PALETTE;
use crate::experiments::dsprites::metrics::Selectivity;
use plotly::common::{
    Anchor, ColorBar, ColorScale, ColorScaleElement, Font, Line, Marker, Mode, ThicknessMode, Title,
};
use plotly::layout::{Annotation, GridPattern, Layout, LayoutGrid, Legend, Margin, RowOrder};
use plotly::{HeatMap, Plot, Scatter};

/// Blue (low) → white → red (high): ColorBrewer's 7-class RdBu, reversed.
const BLUE_WHITE_RED: [&str; 7] = [
    "#2166ac", "#67a9cf", "#d1e5f0", "#f7f7f7", "#fddbc7", "#ef8a62", "#b2182b",
];

fn diverging() -> ColorScale {
    let last = (BLUE_WHITE_RED.len() - 1) as f64;
    ColorScale::Vector(
        BLUE_WHITE_RED
            .iter()
            .enumerate()
            .map(|(i, c)| ColorScaleElement(i as f64 / last, c.to_string()))
            .collect(),
    )
}

/// Gaps between grid cells, as fractions of the space given to one cell (plotly's `xgap`,
/// `ygap`).
const X_GAP: f64 = 0.35;
const Y_GAP: f64 = 0.45;
/// Figure size and margins (pixels).
const WIDTH: usize = 1250;
const ROW_HEIGHT: usize = 300;
const MARGIN_TOP: usize = 120;
const MARGIN_BOTTOM: usize = 60;

/// The domains [start, end] (paper fraction) of `n` grid cells along one direction, first cell at
/// 0: plotly.js's grid rule, step = 1/(n − gap), cell = step·(1 − gap), cell i starts at i·step.
/// For rows, plotly counts from the top (`roworder: top to bottom`), so row r is cell n − 1 − r.
pub(crate) fn grid_cells(n: usize, gap: f64) -> Vec<(f64, f64)> {
    let step = 1.0 / (n as f64 - gap);
    (0..n)
        .map(|i| (i as f64 * step, i as f64 * step + step * (1.0 - gap)))
        .collect()
}

/// A text in paper coordinates, shifted by (dx, dy) pixels.
fn label(text: &str, x: f64, y: f64, anchors: (Anchor, Anchor), shift: (f64, f64)) -> Annotation {
    Annotation::new()
        .text(text)
        .x_ref("paper")
        .y_ref("paper")
        .x(x)
        .y(y)
        .x_anchor(anchors.0)
        .y_anchor(anchors.1)
        .x_shift(shift.0)
        .y_shift(shift.1)
        .show_arrow(false)
}

/// Axis titles of the panel spanning `xd` × `yd` (paper fractions): x below the tick labels,
/// y left of them, turned.
fn axis_titles(x: &str, y: &str, xd: (f64, f64), yd: (f64, f64)) -> [Annotation; 2] {
    [
        label(
            x,
            (xd.0 + xd.1) / 2.0,
            yd.0,
            (Anchor::Center, Anchor::Top),
            (0.0, -24.0),
        ),
        label(
            y,
            xd.0,
            (yd.0 + yd.1) / 2.0,
            (Anchor::Right, Anchor::Middle),
            (-38.0, 0.0),
        )
        .text_angle(-90.0),
    ]
}

/// Figure 5: one row per latent of `sel` — the position heatmap of mean μ_k (with its own colour
/// bar), mean μ_k against scale and against orientation, one line per shape (a shared legend).
/// Traces: 1 + 2 × shapes per row.
pub fn selectivity(sel: &Selectivity) -> Plot {
    let rows = sel.rows.len().max(1);
    let [shape_name, scale_name, orient_name, x_name, y_name] = &sel.factor_names;
    let height = ROW_HEIGHT * rows + MARGIN_TOP + MARGIN_BOTTOM;
    let cols = grid_cells(3, X_GAP);
    let mut row_cells = grid_cells(rows, Y_GAP);
    row_cells.reverse(); // row 0 at the top
    let row_px = (ROW_HEIGHT * rows) as f64 * (row_cells[0].1 - row_cells[0].0);
    let mut plot = Plot::new();
    let mut notes = Vec::new();
    for (r, row) in sel.rows.iter().enumerate() {
        let yd = row_cells[r];
        let refs = |c: usize| {
            let k = 3 * r + c;
            super::axis_refs(k)
        };
        let (xr, yr) = refs(0);
        let nx = row.position.first().map_or(0, Vec::len);
        let ny = row.position.len();
        plot.add_trace(
            HeatMap::new(
                (0..nx).collect::<Vec<usize>>(),
                (0..ny).collect::<Vec<usize>>(),
                row.position.clone(),
            )
            .name(format!("latent {}", row.latent))
            .color_scale(diverging())
            .color_bar(
                ColorBar::new()
                    .x(cols[0].1 + 0.005)
                    .x_anchor(Anchor::Left)
                    .y((yd.0 + yd.1) / 2.0)
                    .y_anchor(Anchor::Middle)
                    .len_mode(ThicknessMode::Pixels)
                    .len(row_px as usize)
                    .thickness(12),
            )
            .show_legend(false)
            .x_axis(&xr)
            .y_axis(&yr),
        );
        for (c, (values, table)) in [
            (&sel.scale_values, &row.scale),
            (&sel.orientation_values, &row.orientation),
        ]
        .into_iter()
        .enumerate()
        {
            let (xr, yr) = refs(c + 1);
            for (s, means) in table.iter().enumerate() {
                let name = sel.shape_names.get(s).cloned().unwrap_or_default();
                let color = PALETTE[s % PALETTE.len()];
                plot.add_trace(
                    Scatter::new(values.clone(), means.clone())
                        .name(&name)
                        .legend_group(&name)
                        .show_legend(r == 0 && c == 0)
                        .mode(Mode::LinesMarkers)
                        .line(Line::new().color(color))
                        .marker(Marker::new().color(color).size(4))
                        .x_axis(&xr)
                        .y_axis(&yr),
                );
            }
        }
        notes.push(label(
            &format!("<b>latent {}</b>", row.latent),
            0.0,
            yd.1,
            (Anchor::Left, Anchor::Bottom),
            (0.0, 6.0),
        ));
        let mean = format!("mean μ{}", row.latent);
        notes.extend(axis_titles(x_name, y_name, cols[0], yd));
        notes.extend(axis_titles(scale_name, &mean, cols[1], yd));
        notes.extend(axis_titles(orient_name, &mean, cols[2], yd));
    }
    let layout = Layout::new()
        .title(Title::with_text(format!(
            "Figure 5 — feature selectivity: mean posterior μ per latent over position, scale \
             and orientation (lines: {shape_name})"
        )))
        .grid(
            LayoutGrid::new()
                .rows(rows)
                .columns(3)
                .pattern(GridPattern::Independent)
                .row_order(RowOrder::TopToBottom)
                .x_gap(X_GAP)
                .y_gap(Y_GAP),
        )
        .legend(
            Legend::new()
                .orientation(plotly::common::Orientation::Horizontal)
                .x(1.0)
                .x_anchor(Anchor::Right)
                .y(1.0)
                .y_anchor(Anchor::Bottom)
                .font(Font::new().size(12)),
        )
        .annotations(notes)
        .margin(
            Margin::new()
                .top(MARGIN_TOP)
                .bottom(MARGIN_BOTTOM)
                .left(80)
                .right(30),
        )
        .width(WIDTH)
        .height(height);
    plot.set_layout(layout);
    plot
}

/// The factor × latent mutual information (nats) as a heatmap, one row per factor (`factors`
/// names the rows of `mi`, computed with `bins` bins per latent), each cell labelled with its
/// value.
pub fn mi_matrix_heatmap(mi: &[Vec<f64>], factors: &[String], bins: usize) -> Plot {
    let k = mi.first().map_or(0, Vec::len);
    let latents: Vec<String> = (0..k).map(|j| format!("z{j}")).collect();
    let mut plot = Plot::new();
    plot.add_trace(
        HeatMap::new(latents.clone(), factors.to_vec(), mi.to_vec())
            .color_scale(ColorScale::Palette(
                plotly::common::ColorScalePalette::Blues,
            ))
            .reverse_scale(true)
            .zmin(0.0)
            .color_bar(ColorBar::new().title(Title::with_text("nats"))),
    );
    let top = mi.iter().flatten().copied().fold(0.0, f64::max);
    let notes = mi
        .iter()
        .zip(factors)
        .flat_map(|(row, f)| {
            row.iter().zip(&latents).map(move |(&v, z)| {
                Annotation::new()
                    .text(format!("{v:.2}"))
                    .x(z.as_str())
                    .y(f.as_str())
                    .show_arrow(false)
                    .font(Font::new().color(if v > 0.6 * top { "white" } else { "black" }))
            })
        })
        .collect();
    plot.set_layout(
        Layout::new()
            .title(Title::with_text(format!(
                "Mutual information between factors and latents (nats, {bins}-bin discretisation)"
            )))
            .annotations(notes)
            .width(120 + 70 * k.max(1))
            .height(120 + 60 * factors.len().max(1)),
    );
    plot
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::dsprites::metrics::{Codes, Factors, SelectivityAxes};
    use serde_json::Value;

    fn json(plot: &Plot) -> Value {
        serde_json::from_str(&plot.to_json()).unwrap()
    }

    /// Every (shape, scale, orientation, pos_x, pos_y) of a reduced grid, μ = (pos_x, scale,
    /// shape + orientation).
    fn selectivity_of(latents: &[usize]) -> Selectivity {
        let sizes = [3, 6, 4, 8, 8];
        let total: usize = sizes.iter().product();
        let mut rows = Vec::with_capacity(total);
        let mut data = Vec::new();
        for i in 0..total {
            let mut rest = i;
            let mut row = [0usize; 5];
            for (f, &s) in sizes.iter().enumerate().rev() {
                row[f] = rest % s;
                rest /= s;
            }
            data.extend([row[3] as f64, row[1] as f64, (row[0] + row[2]) as f64]);
            rows.push(row);
        }
        let names = ["shape", "scale", "orientation", "pos_x", "pos_y"];
        let factors = Factors::new(&names, &sizes, &rows).unwrap();
        let codes = Codes::new(total, 3, data).unwrap();
        let axes = SelectivityAxes {
            shape_names: vec!["square".into(), "ellipse".into(), "heart".into()],
            orientation_values: (0..4)
                .map(|o| o as f64 * std::f64::consts::TAU / 4.0)
                .collect(),
            ..Default::default()
        };
        Selectivity::compute(&codes, &factors, latents, &axes).unwrap()
    }

    #[test]
    fn grid_cells_follow_plotly_and_fill_the_figure() {
        for (n, gap) in [(1, 0.3), (2, 0.2), (3, X_GAP), (10, Y_GAP)] {
            let c = grid_cells(n, gap);
            assert_eq!(c[0].0, 0.0);
            assert!((c[n - 1].1 - 1.0).abs() < 1e-12, "{c:?}");
            for w in c.windows(2) {
                // the gap is `gap` of the space one cell is given (cell + gap)
                let step = w[1].0 - w[0].0;
                assert!(((w[1].0 - w[0].1) - gap * step).abs() < 1e-12);
            }
        }
        // plotly's default independent xgap 0.2 over 2 columns: [0, 0.444…], [0.555…, 1]
        let c = grid_cells(2, 0.2);
        assert!((c[0].1 - 0.8 / 1.8).abs() < 1e-12 && (c[1].0 - 1.0 / 1.8).abs() < 1e-12);
    }

    #[test]
    fn figure_5_has_a_heatmap_and_a_line_per_shape_in_each_row() {
        let sel = selectivity_of(&[0, 2, 1]);
        let fig = json(&selectivity(&sel));
        let data = fig["data"].as_array().unwrap();
        assert_eq!(data.len(), 3 * (1 + 2 * 3));
        // row 0: the heatmap on x/y, 8 × 8 with μ = pos_x constant down each column
        assert_eq!(data[0]["type"], "heatmap");
        let z = data[0]["z"].as_array().unwrap();
        assert_eq!((z.len(), z[0].as_array().unwrap().len()), (8, 8));
        assert_eq!(z[5][3], 3.0);
        assert_eq!(data[0]["colorscale"][0][1], "#2166ac");
        assert_eq!(data[0]["colorscale"][6][1], "#b2182b");
        // row 1 (latent 2): heatmap on x4/y4, lines on x5 and x6
        assert_eq!(data[7]["type"], "heatmap");
        assert_eq!(data[7]["xaxis"], "x4");
        assert_eq!(data[8]["xaxis"], "x5");
        assert_eq!(data[11]["xaxis"], "x6");
        // the last row's orientation panel goes past plotly's 8 named axes
        assert_eq!(data[20]["xaxis"], "x9");
        assert_eq!(data[20]["yaxis"], "y9");
        // orientation lines of latent 2 (μ = shape + orientation) for the heart: 2, 3, 4, 5
        assert_eq!(data[13]["name"], "heart");
        assert_eq!(data[13]["y"], serde_json::json!([2.0, 3.0, 4.0, 5.0]));
        // one legend entry per shape
        let shown: Vec<&Value> = data
            .iter()
            .filter(|t| t["showlegend"] == true)
            .map(|t| &t["name"])
            .collect();
        assert_eq!(shown, ["square", "ellipse", "heart"]);
        let layout = &fig["layout"];
        assert_eq!(layout["grid"]["rows"], 3);
        assert_eq!(layout["grid"]["columns"], 3);
        let notes = layout["annotations"].as_array().unwrap();
        assert_eq!(notes.len(), 3 * 7);
        assert_eq!(notes[7]["text"], "<b>latent 2</b>");
        assert!(notes.iter().any(|a| a["text"] == "pos_x"));
        assert!(notes.iter().any(|a| a["text"] == "mean μ1"));
        // the HTML page embeds the figure
        assert!(selectivity(&sel)
            .to_inline_html(Some("fig5"))
            .contains("heatmap"));
    }

    #[test]
    fn figure_5_of_no_latent_is_an_empty_figure() {
        let fig = json(&selectivity(&selectivity_of(&[])));
        assert_eq!(fig["data"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn mi_heatmap_labels_every_cell() {
        let mi = vec![vec![0.1, 2.0, 0.0], vec![1.5, 0.2, 0.3]];
        let names = vec!["scale".to_string(), "pos_x".to_string()];
        let fig = json(&mi_matrix_heatmap(&mi, &names, 20));
        assert_eq!(fig["data"][0]["y"], serde_json::json!(["scale", "pos_x"]));
        assert_eq!(fig["data"][0]["x"][2], "z2");
        let notes = fig["layout"]["annotations"].as_array().unwrap();
        assert_eq!(notes.len(), 6);
        assert_eq!(notes[1]["text"], "2.00");
        assert_eq!(notes[1]["font"]["color"], "white");
    }
}
