//! Figure 5 (§3.1, spec §7.4): scores and feature selectivity of an encoder trained on dSprites.

pub mod metrics;
