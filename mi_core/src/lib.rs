//! # mi_core — variational bounds of mutual information on Candle
//!
//! A Rust implementation of the bounds of Poole, Ozair, van den Oord, Alemi & Tucker,
//! *On Variational Bounds of Mutual Information* (ICML 2019): every bound as a pure function
//! of a critic's score matrix (see [`bounds`] for the convention `scores[i, j] = f(x_j, y_i)`),
//! ground-truth samplers that carry their true MI ([`data`]), and the analytic log-densities
//! that give each bound its optimal critic ([`density`]).
//!
//! ```
//! use candle_core::{DType, Device};
//! use mi_core::prelude::*;
//! use rand::SeedableRng;
//!
//! let gauss = CorrelatedGaussian::from_mi(20, 2.0)?;           // I(X; Y) = 2 nats
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let batch = gauss.sample(64, &mut rng, &Device::Cpu, DType::F64)?;
//! let lp = gauss.log_cond_pairs(&batch.x, &batch.y)?;           // [64, 64] = log p(y_i | x_j)
//! let lower = tnce(&lp)?.to_scalar::<f64>()?;
//! let upper = loo_upper(&lp)?.to_scalar::<f64>()?;
//! assert!(lower <= 64f64.ln());
//! assert!(lower < upper);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bounds;
#[cfg(feature = "cli")]
pub mod cli;
pub mod critic;
pub mod data;
pub mod density;
pub mod encoder;
pub mod error;
pub mod estimate;
pub mod experiments;
pub mod infomax;
pub mod io;
pub mod limits;
pub mod nn;
#[cfg(feature = "notebook")]
pub mod notebook;
#[cfg(feature = "plots")]
pub mod plot;
pub mod prelude;
pub mod progress;
mod seed;
pub mod special;
#[cfg(feature = "tables")]
pub mod table;
pub mod tasks;
pub mod train;

pub use error::{Error, Result};
pub use estimate::{estimate, CriticChoice, EstimateConfig};

// Re-exported so that notebooks (which `:dep` only this crate) and users name the same versions.
pub use candle_core;
pub use candle_nn;
#[cfg(feature = "plots")]
pub use plotly;
#[cfg(feature = "tables")]
pub use polars;
pub use rand;
pub use rand_chacha;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
