//! Variational bounds on mutual information as pure functions of a score matrix.
//!
//! # The score-matrix convention
//!
//! Every function in this module takes a matrix of critic scores with
//!
//! **`scores[i, j] = f(x_j, y_i)`** — row i is the y sample, column j the x sample.
//!
//! * The diagonal `scores[i, i]` holds the B joint (positive) pairs (x_i, y_i) ~ p(x, y).
//! * The B(B − 1) off-diagonal entries stand for samples of p(x)p(y).
//! * A per-y quantity (a baseline log a(y_i), a marginal log q(y_i)) has shape `[B]` and shifts
//!   **row** i.
//! * Structured bounds read `log_cond[i, j] = log p(y_i | x_j)` in the same orientation.
//!
//! InfoNCE therefore normalises over the x's of each y (paper Eq. 12); pass `scores.t()` for the
//! orientation of Eq. 10. A leading batch shape is allowed everywhere: `[..., B, B]` gives one
//! value per matrix, `[...]` (a `[B, B]` matrix gives a scalar).
//!
//! All bounds accept f32 and f64, need B ≥ 2, refuse NaN/±∞ input and non-square shapes with an
//! error naming the bound and the shapes, and are max-shifted, so shifting every score by ±500
//! changes nothing but rounding.
//!
//! | bound | fn | kind | character |
//! |---|---|---|---|
//! | TUBA (Eq. 6) | [`tuba`] | lower | unbiased, high variance at high MI |
//! | NWJ (Eq. 7) | [`nwj`] | lower | TUBA with log a ≡ 1 |
//! | DV / MINE (Eq. 5) | [`dv`] | neither | biased (Jensen), lower variance |
//! | MINE-EMA (§2.2) | [`MineEma::step`] | lower | TUBA with the EMA of the previous batches as baseline |
//! | InfoNCE (Eq. 10/12) | [`infonce`] | lower | low variance, ≤ log B |
//! | I_α (Eq. 11) | [`interpolated`] | lower | ≤ 1 + log((B−1)/α), trades bias for variance |
//! | JS f-GAN (§2.6) | [`js_fgan`] | neither (bounds 2·JSD − log 4) | training objective |
//! | I_JS (§2.6) | [`js`] | lower | NWJ value, JS gradient |
//! | SMILE (Song & Ermon) | [`smile`] | neither | clipped DV value, JS gradient |
//! | TNCE (Eq. 12) | [`tnce`] | lower | InfoNCE with log p(y\|x) |
//! | leave-one-out (Eq. 13) | [`loo_upper`] | upper | biased at small B |
//! | rate (Eq. 1) | [`rate`] | upper | needs a normalised q(y) |
//! | TC (§2.5) | [`tc_upper`] | upper | Σ_k MBU_k − TNCE |
//! | Barber–Agakov (Eq. 2) | [`barber_agakov`] | lower | needs h(X) and a normalised decoder q(x\|y); not a score-matrix bound |

mod alpha;
mod ba;
mod dv;
mod estimator;
mod infonce;
mod interpolated;
mod js;
pub mod reduce;
mod structured;
mod tuba;
pub(crate) mod validate;

pub use alpha::Alpha;
pub use ba::barber_agakov;
pub use dv::{dv, smile};
pub use estimator::{Bound, BoundKind, Estimator};
pub use infonce::infonce;
pub use interpolated::{interpolated, interpolated_many};
pub use js::{js, js_fgan, JS_EVAL_SHIFT, JS_MAX_EVAL_SHIFT};
pub use reduce::{log_interpolate, loo_logmeanexp};
pub use structured::{
    loo_upper, rate, reparameterized_scores, tc_upper, tc_upper_with_lower, tnce,
};
pub use tuba::{nwj, tuba, tuba_scalar, MineEma};
