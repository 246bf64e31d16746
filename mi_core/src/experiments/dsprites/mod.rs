//! Figure 5 (§3.1, spec §7.4): an encoder trained on dSprites under the regularised InfoMax
//! objective ([`run`]), and the scores and feature selectivity of its latents ([`metrics`]).

pub mod metrics;
mod profiles;
mod run;
mod trials;

pub use profiles::{OVERRIDE_ALIASES, PROFILES};
pub use trials::{read_trials, record_trial, TrialRow, LEARNED_RHO, TAIL_STEPS};

pub use run::{
    eval_indices, evaluate_saved, posterior_means, run, run_with, selectivity_axes, Config,
    EvalConfig, PaperFinding, Report,
};
