//! Feature selectivity (Figure 5, spec §7.4): how each latent's posterior mean depends on the
//! factors, as conditional means over the sample.
//!
//! For latent k:
//! * position: P_k[y][x] = mean of μ_k over the rows with pos_y = y and pos_x = x;
//! * scale: S_k[s][c] = mean of μ_k over the rows with shape s and scale c;
//! * orientation: O_k[s][o] = mean of μ_k over the rows with shape s and orientation o.
//!
//! All three tables of every latent come from one pass over the rows. A cell with no row (a
//! subset that misses it) is NaN, which plotly draws as a gap.

use super::{Codes, Factors};
use crate::error::{Error, Result};

/// Which factor columns feed Figure 5's panels, and the values drawn on their axes.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectivityAxes {
    /// The shape factor (one line per shape in the scale and orientation panels).
    pub shape: usize,
    /// The scale factor.
    pub scale: usize,
    /// The orientation factor.
    pub orientation: usize,
    /// The horizontal position factor (columns of the heatmap).
    pub pos_x: usize,
    /// The vertical position factor (rows of the heatmap).
    pub pos_y: usize,
    /// Legend names of the shapes; empty: "shape 0", "shape 1", …
    pub shape_names: Vec<String>,
    /// The scale of each scale class (x axis of the scale panel); empty: the class indices.
    pub scale_values: Vec<f64>,
    /// The angle of each orientation class in radians; empty: the class indices.
    pub orientation_values: Vec<f64>,
}

impl Default for SelectivityAxes {
    /// Columns in the order of `data::dsprites`' factors — (shape, scale, orientation, pos_x,
    /// pos_y) — with class indices on the axes.
    fn default() -> Self {
        Self {
            shape: 0,
            scale: 1,
            orientation: 2,
            pos_x: 3,
            pos_y: 4,
            shape_names: Vec::new(),
            scale_values: Vec::new(),
            orientation_values: Vec::new(),
        }
    }
}

/// One latent's conditional means (one row of Figure 5).
#[derive(Clone, Debug, PartialEq)]
pub struct LatentSelectivity {
    /// The latent's index in the codes.
    pub latent: usize,
    /// `position[y][x]`: mean μ at pos_y = y, pos_x = x.
    pub position: Vec<Vec<f64>>,
    /// `scale[s][c]`: mean μ for shape s at scale class c.
    pub scale: Vec<Vec<f64>>,
    /// `orientation[s][o]`: mean μ for shape s at orientation class o.
    pub orientation: Vec<Vec<f64>>,
}

/// Figure 5's data: the conditional means of the chosen latents, with the axes' labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Selectivity {
    /// One entry per latent, in the order asked for.
    pub rows: Vec<LatentSelectivity>,
    /// Names of the shapes (legend).
    pub shape_names: Vec<String>,
    /// x values of the scale panel, one per scale class.
    pub scale_values: Vec<f64>,
    /// x values of the orientation panel, one per orientation class.
    pub orientation_values: Vec<f64>,
    /// The factor names of (shape, scale, orientation, pos_x, pos_y), for axis titles.
    pub factor_names: [String; 5],
}

/// `values` if given (then one per class), else the class indices.
fn resolve_values(name: &'static str, values: &[f64], size: usize) -> Result<Vec<f64>> {
    if values.is_empty() {
        return Ok((0..size).map(|c| c as f64).collect());
    }
    if values.len() != size || values.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidParameter {
            op: "Selectivity::compute",
            name,
            value: format!("{} values for {size} classes", values.len()),
            reason: "need one finite value per class (or none, for the class indices)",
        });
    }
    Ok(values.to_vec())
}

/// Sums divided by counts, NaN where a count is 0, cut into rows of `width`.
fn means(sums: &[f64], counts: &[u64], width: usize) -> Vec<Vec<f64>> {
    sums.iter()
        .zip(counts)
        .map(|(&s, &c)| if c > 0 { s / c as f64 } else { f64::NAN })
        .collect::<Vec<f64>>()
        .chunks(width)
        .map(|r| r.to_vec())
        .collect()
}

impl Selectivity {
    /// The conditional means of latents `latents` (e.g. [`super::active_latents`]) of `codes`
    /// over `factors`, the factor columns chosen by `axes`. Errors when the row counts differ,
    /// a latent or factor column is out of range, the five factor columns are not distinct, or
    /// the axis values do not match the factor sizes.
    pub fn compute(
        codes: &Codes,
        factors: &Factors,
        latents: &[usize],
        axes: &SelectivityAxes,
    ) -> Result<Self> {
        const OP: &str = "Selectivity::compute";
        super::check_rows(OP, codes, factors)?;
        let cols = [
            axes.shape,
            axes.scale,
            axes.orientation,
            axes.pos_x,
            axes.pos_y,
        ];
        let f = factors.sizes().len();
        let distinct = (0..5).all(|a| (a + 1..5).all(|b| cols[a] != cols[b]));
        if cols.iter().any(|&c| c >= f) || !distinct {
            return Err(Error::InvalidParameter {
                op: OP,
                name: "axes",
                value: format!("factor columns {cols:?} of {f}"),
                reason:
                    "need five distinct factor columns (shape, scale, orientation, pos_x, pos_y)",
            });
        }
        if let Some(&k) = latents.iter().find(|&&k| k >= codes.k()) {
            return Err(Error::InvalidParameter {
                op: OP,
                name: "latents",
                value: format!("{k} of {}", codes.k()),
                reason: "a latent index must be below the number of latents",
            });
        }
        let size = |c: usize| factors.sizes()[c];
        let (n_shape, n_scale, n_orient) =
            (size(axes.shape), size(axes.scale), size(axes.orientation));
        let (nx, ny) = (size(axes.pos_x), size(axes.pos_y));
        let shape_names = if axes.shape_names.is_empty() {
            (0..n_shape).map(|s| format!("shape {s}")).collect()
        } else if axes.shape_names.len() == n_shape {
            axes.shape_names.clone()
        } else {
            return Err(Error::InvalidParameter {
                op: OP,
                name: "shape_names",
                value: format!("{} names for {n_shape} shapes", axes.shape_names.len()),
                reason: "need one name per shape (or none)",
            });
        };
        let scale_values = resolve_values("scale_values", &axes.scale_values, n_scale)?;
        let orientation_values =
            resolve_values("orientation_values", &axes.orientation_values, n_orient)?;

        let (mut c_pos, mut c_scale, mut c_orient) = (
            vec![0u64; ny * nx],
            vec![0u64; n_shape * n_scale],
            vec![0u64; n_shape * n_orient],
        );
        let mut s_pos = vec![vec![0.0; ny * nx]; latents.len()];
        let mut s_scale = vec![vec![0.0; n_shape * n_scale]; latents.len()];
        let mut s_orient = vec![vec![0.0; n_shape * n_orient]; latents.len()];
        for i in 0..codes.n() {
            let class = |c: usize| factors.class(i, c);
            let shape = class(axes.shape);
            let p = class(axes.pos_y) * nx + class(axes.pos_x);
            let sc = shape * n_scale + class(axes.scale);
            let o = shape * n_orient + class(axes.orientation);
            c_pos[p] += 1;
            c_scale[sc] += 1;
            c_orient[o] += 1;
            for (l, &k) in latents.iter().enumerate() {
                let mu = codes.get(i, k);
                s_pos[l][p] += mu;
                s_scale[l][sc] += mu;
                s_orient[l][o] += mu;
            }
        }
        let rows = latents
            .iter()
            .enumerate()
            .map(|(l, &latent)| LatentSelectivity {
                latent,
                position: means(&s_pos[l], &c_pos, nx),
                scale: means(&s_scale[l], &c_scale, n_scale),
                orientation: means(&s_orient[l], &c_orient, n_orient),
            })
            .collect();
        Ok(Self {
            rows,
            shape_names,
            scale_values,
            orientation_values,
            factor_names: cols.map(|c| factors.names()[c].clone()),
        })
    }
}
