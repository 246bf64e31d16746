//! One `use mi_core::prelude::*;` for notebooks and examples.

pub use crate::bounds::{
    dv, infonce, interpolated, js, js_fgan, loo_logmeanexp, loo_upper, nwj, rate,
    reparameterized_scores, smile, tc_upper, tc_upper_with_lower, tnce, tuba, tuba_scalar, Alpha,
    Bound, BoundKind, Estimator, MineEma,
};
pub use crate::data::{mi_to_rho, rho_to_mi, Batch, CorrelatedGaussian, Cubic, Sampler, Staircase};
pub use crate::density::{
    diag_gaussian_log_prob_pairs, diag_gaussian_log_prob_pairs_per_dim, std_normal_log_prob,
};
pub use crate::error::{Error, Result};
