//! Figure 5 (§3.1, spec §7.4): an encoder trained on dSprites under the regularised InfoMax
//! objective ([`run`]), and the scores and feature selectivity of its latents ([`metrics`]).

pub mod metrics;
mod run;

pub use run::{
    eval_indices, posterior_means, run, run_with, selectivity_axes, Config, EvalConfig,
    PaperFinding, Report,
};
