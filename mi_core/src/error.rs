//! Error types.
//!
//! Two layers, as in candle: tensor math (bounds, densities) returns [`candle_core::Result`], and
//! when the caller's input is at fault the error wraps one of the variants below, so the message
//! names the operation and the shapes involved. Orchestration code (samplers, I/O, the CLI) returns
//! this crate's [`Result`].

use thiserror::Error;

/// Everything that can go wrong in `mi_core`.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor has the wrong rank or shape for an operation.
    #[error("{op}: shape mismatch: {detail}")]
    Shape {
        /// The operation (a bound's name, a density, …).
        op: &'static str,
        /// What was expected and what was given.
        detail: String,
    },
    /// An input holds NaN or ±∞.
    #[error("{op}: input `{input}` of shape {shape:?} contains NaN or infinite values")]
    NonFinite {
        /// The operation.
        op: &'static str,
        /// Which input.
        input: &'static str,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A parameter is outside its domain (α ∉ [0, 1], |ρ| ≥ 1, batch < 2, …).
    #[error("{op}: invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The operation or constructor.
        op: &'static str,
        /// The parameter's name.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// The admissible range.
        reason: &'static str,
    },
    /// A tensor has a dtype the operation does not support.
    #[error("{op}: unsupported dtype {dtype:?} for `{input}` (use f32 or f64)")]
    DType {
        /// The operation.
        op: &'static str,
        /// Which input.
        input: &'static str,
        /// The dtype given.
        dtype: candle_core::DType,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// A dataset or resource cannot be had (no file, offline, no answer); `detail` says how to
    /// get it.
    #[error("{what} is not available: {detail}")]
    Unavailable {
        /// What was asked for.
        what: &'static str,
        /// Why not, and how to get it.
        detail: String,
    },
    /// An error from candle that is not the caller's input.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Result type of orchestration code.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps this error into a [`candle_core::Error`], for tensor code returning candle's result.
    pub fn into_candle(self) -> candle_core::Error {
        match self {
            Error::Candle(e) => e,
            // `Wrapped` directly: `Error::wrap` would attach a backtrace when RUST_BACKTRACE is set,
            // and a user's bad input deserves a one-line message.
            other => candle_core::Error::Wrapped(Box::new(other)),
        }
    }
}

impl From<Error> for candle_core::Error {
    fn from(e: Error) -> Self {
        e.into_candle()
    }
}
