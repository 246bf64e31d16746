//! The critic `estimate` trains: a fixed kind, or both candidates with the better one on the
//! validation split ([`CriticChoice::Auto`]).

use super::{fit, EstimateConfig, Prepared};
use crate::bounds::Bound;
use crate::error::{Error, Result};
use crate::train::CriticKind;
use serde::{Deserialize, Serialize};

/// Hidden width of the concat candidate of [`CriticChoice::Auto`]. The concat critic sees B²
/// pairs per step: at width 32 it overfits less than the separable critic at 256 where the
/// dependence is spread over many dimensions (task suite, n = 10 000: 25-d dense Gaussian
/// 1.27 vs 1.05 nats, truth 1.29; additive uniform noise 1.62 vs 1.54, truth 1.71).
pub const AUTO_CONCAT_HIDDEN: usize = 32;
/// Adam's learning rate for the concat candidate of [`CriticChoice::Auto`] (a narrow network
/// trains faster at a larger rate; 5e-4 left it short of its optimum within 4000 steps).
pub const AUTO_CONCAT_LR: f64 = 2e-3;

/// Which critic [`super::estimate`] trains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticChoice {
    /// Both: the separable critic at [`EstimateConfig::hidden`] and [`EstimateConfig::lr`], and
    /// the concat critic at [`AUTO_CONCAT_HIDDEN`] and [`AUTO_CONCAT_LR`]; the one with the
    /// larger validation value is reported (the test split takes no part in the choice).
    #[default]
    Auto,
    /// [`crate::train::SeparableCritic`] (2B network passes per batch).
    Separable,
    /// [`crate::train::ConcatCritic`] (B² passes per batch).
    Concat,
}

impl CriticChoice {
    /// The kind of a fixed choice; `None` for `Auto`.
    pub fn kind(self) -> Option<CriticKind> {
        match self {
            CriticChoice::Auto => None,
            CriticChoice::Separable => Some(CriticKind::Separable),
            CriticChoice::Concat => Some(CriticKind::Concat),
        }
    }

    /// The kind `config` (a candidate: never `Auto`) trains.
    pub(super) fn resolved(config: &EstimateConfig) -> Result<CriticKind> {
        config.critic.kind().ok_or_else(|| Error::InvalidParameter {
            op: "estimate",
            name: "critic",
            value: "auto".into(),
            reason: "auto is resolved into its candidates before training",
        })
    }
}

/// The configurations `config.critic` trains: itself when fixed; for `Auto` the separable
/// critic with the given width and rate and the concat critic at [`AUTO_CONCAT_HIDDEN`] and
/// [`AUTO_CONCAT_LR`].
pub(super) fn candidates(config: &EstimateConfig) -> Vec<EstimateConfig> {
    match config.critic {
        CriticChoice::Auto => vec![
            EstimateConfig {
                critic: CriticChoice::Separable,
                ..*config
            },
            EstimateConfig {
                critic: CriticChoice::Concat,
                hidden: AUTO_CONCAT_HIDDEN,
                lr: AUTO_CONCAT_LR,
                ..*config
            },
        ],
        _ => vec![*config],
    }
}

/// `bound` trained with every candidate critic of `config`; the one with the larger validation
/// value (of its kept weights, on blocks of the test value's size), evaluated on the test split,
/// with the candidate configuration it was trained with (and, for `Auto`, why it was chosen in
/// its `why`). Only the kept candidate is evaluated on the test split.
pub(super) fn train_best(
    data: &Prepared,
    bound: Bound,
    config: &EstimateConfig,
) -> Result<(super::Estimate, EstimateConfig)> {
    let mut best: Option<(fit::Fitted, EstimateConfig)> = None;
    let mut seen = Vec::new();
    for c in candidates(config) {
        let f = fit::fit_one(data, bound, &c)?;
        let v = f.validation();
        seen.push(format!(
            "{} (hidden {}) {v:.3}",
            f.critic().name(),
            c.hidden
        ));
        // A NaN validation value never wins; the first candidate is kept on ties.
        let kept = best.as_ref().map(|(k, _)| k.validation());
        if kept.is_none_or(|k| v > k || k.is_nan()) {
            best = Some((f, c));
        }
    }
    let (f, c) = best.ok_or_else(|| Error::InvalidParameter {
        op: "estimate",
        name: "critic",
        value: format!("{:?}", config.critic),
        reason: "no candidate critic",
    })?;
    let mut e = fit::report_one(data, f)?;
    if seen.len() > 1 {
        e.why = Some(format!(
            "critic: {} on validation (nats), kept {}",
            seen.join(" vs "),
            e.critic.name()
        ));
    }
    Ok((e, c))
}

/// Prepends `why` to the reason an estimate already carries (the critic's choice).
pub(super) fn explain(e: &mut super::Estimate, why: String) {
    e.why = Some(match e.why.take() {
        Some(critic) => format!("{why}; {critic}"),
        None => why,
    });
}
