//! The interpolation weight α ∈ [0, 1] of I_α, validated once at construction.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The weight α of the interpolated bound I_α (paper Eq. 11), α = 0 → TUBA, α = 1 → InfoNCE.
///
/// Stores log α and log(1 − α) accurately, also when built from a logit (the colab's
/// parameterisation α = σ(z)), so α = σ(40) still has an exact log(1 − α) = −40.
/// Serialised as the plain number α.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Alpha {
    value: f64,
    ln_alpha: f64,
    ln_one_minus: f64,
}

impl Alpha {
    /// α = 1: I_α is the leave-one-out mean of InfoNCE.
    pub const ONE: Alpha = Alpha {
        value: 1.0,
        ln_alpha: 0.0,
        ln_one_minus: f64::NEG_INFINITY,
    };

    /// α from its value; errors unless 0 ≤ α ≤ 1.
    ///
    /// ```
    /// use mi_core::bounds::Alpha;
    /// assert_eq!(Alpha::new(0.3).unwrap().value(), 0.3);
    /// assert!(Alpha::new(1.5).is_err());
    /// ```
    pub fn new(value: f64) -> Result<Self> {
        super::validate::param_in(
            "interpolated",
            "alpha",
            value,
            0.0,
            1.0,
            "α must lie in [0, 1]",
        )?;
        Ok(Self {
            value,
            ln_alpha: value.ln(),
            ln_one_minus: (-value).ln_1p(),
        })
    }

    /// α = σ(z) from a logit z (±∞ give exactly 1 and 0); errors on NaN.
    ///
    /// ```
    /// use mi_core::bounds::Alpha;
    /// let a = Alpha::from_logit(-5.0).unwrap();
    /// assert!((a.value() - 0.0066929).abs() < 1e-6);
    /// assert_eq!(Alpha::from_logit(f64::INFINITY).unwrap().value(), 1.0);
    /// ```
    pub fn from_logit(z: f64) -> Result<Self> {
        if z.is_nan() {
            return Err(Error::InvalidParameter {
                op: "interpolated",
                name: "alpha_logit",
                value: z.to_string(),
                reason: "the logit of α must not be NaN",
            });
        }
        if z == f64::INFINITY {
            return Self::new(1.0);
        }
        if z == f64::NEG_INFINITY {
            return Self::new(0.0);
        }
        // log σ(z) = −softplus(−z), log(1 − σ(z)) = −softplus(z).
        let ln_alpha = -softplus(-z);
        let ln_one_minus = -softplus(z);
        Ok(Self {
            value: ln_alpha.exp(),
            ln_alpha,
            ln_one_minus,
        })
    }

    /// α itself.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// log α (−∞ at α = 0).
    pub fn ln_alpha(&self) -> f64 {
        self.ln_alpha
    }

    /// log(1 − α) (−∞ at α = 1).
    pub fn ln_one_minus_alpha(&self) -> f64 {
        self.ln_one_minus
    }

    /// The logit log(α / (1 − α)).
    pub fn logit(&self) -> f64 {
        self.ln_alpha - self.ln_one_minus
    }
}

fn softplus(t: f64) -> f64 {
    t.max(0.0) + (-t.abs()).exp().ln_1p()
}

impl TryFrom<f64> for Alpha {
    type Error = Error;
    fn try_from(value: f64) -> Result<Self> {
        Self::new(value)
    }
}

impl From<Alpha> for f64 {
    fn from(a: Alpha) -> f64 {
        a.value
    }
}

impl std::fmt::Display for Alpha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.value)
    }
}
