//! Input checks shared by every bound: shapes, dtypes, finiteness, parameters.
//!
//! Each check names the calling operation so the error tells the user which bound refused which
//! input, e.g. `infonce: shape mismatch: scores must be [..., B, B] with B ≥ 2, got [3, 4]`.

use crate::error::Error;
use candle_core::{DType, Result, Tensor};

/// Checks a score matrix `[..., B, B]` (f32 or f64, finite, B ≥ 2) and returns B.
pub(crate) fn square(op: &'static str, input: &'static str, scores: &Tensor) -> Result<usize> {
    let dims = scores.dims();
    let n = dims.len();
    if n < 2 || dims[n - 1] != dims[n - 2] || dims[n - 1] < 2 {
        return Err(Error::Shape {
            op,
            detail: format!("{input} must be [..., B, B] with B ≥ 2, got {dims:?}"),
        }
        .into_candle());
    }
    float_and_finite(op, input, scores)?;
    Ok(dims[n - 1])
}

/// Checks that a per-row vector (log-baseline, log q(y)) has the shape `[..., B]` matching `scores`.
pub(crate) fn per_row(
    op: &'static str,
    input: &'static str,
    v: &Tensor,
    scores: &Tensor,
) -> Result<()> {
    let want = &scores.dims()[..scores.rank() - 1];
    if v.dims() != want {
        return Err(Error::Shape {
            op,
            detail: format!(
                "{input} must have one entry per row of scores {:?}, i.e. shape {want:?}, got {:?}",
                scores.dims(),
                v.dims()
            ),
        }
        .into_candle());
    }
    if v.dtype() != scores.dtype() {
        return Err(Error::Shape {
            op,
            detail: format!(
                "{input} has dtype {:?} but scores have {:?}",
                v.dtype(),
                scores.dtype()
            ),
        }
        .into_candle());
    }
    float_and_finite(op, input, v)
}

/// Checks the dtype is f32/f64 and every entry is finite.
pub(crate) fn float_and_finite(op: &'static str, input: &'static str, t: &Tensor) -> Result<()> {
    if !matches!(t.dtype(), DType::F32 | DType::F64) {
        return Err(Error::DType {
            op,
            input,
            dtype: t.dtype(),
        }
        .into_candle());
    }
    // x − x is 0 for every finite x and NaN for ±∞ and NaN; the sum is NaN iff one entry is.
    #[allow(clippy::eq_op)] // x − x is the finiteness probe
    let probe = (t - t)?
        .sum_all()?
        .to_dtype(DType::F64)?
        .to_scalar::<f64>()?;
    if !probe.is_finite() {
        return Err(Error::NonFinite {
            op,
            input,
            shape: t.dims().to_vec(),
        }
        .into_candle());
    }
    Ok(())
}

/// Checks a scalar parameter lies in a closed range.
pub(crate) fn param_in(
    op: &'static str,
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> crate::error::Result<()> {
    if value.is_nan() || value < lo || value > hi {
        return Err(Error::InvalidParameter {
            op,
            name,
            value: value.to_string(),
            reason,
        });
    }
    Ok(())
}
