//! The paper's MI staircase (Fig. 2; the colab's `mi_schedule`, spec §6.3).

use crate::error::{Error, Result};

/// A staircase of MI levels over a training run.
///
/// The value at step t is `round_half_even(linspace(0.5, L + 0.5 − 1e−9, n)[t]) · h` for L levels
/// of height h nats — the colab's formula. [`Staircase::paper`] (L = 5, h = 2): step 0 is 0 nats,
/// then 2, 4, 6, 8, 10 nats; with n = 20 000, steps 1–3999 are at 2 nats and each later level
/// lasts 4000 steps.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Staircase {
    n_steps: usize,
    levels: usize,
    nats_per_level: f64,
}

impl Staircase {
    /// `levels ≥ 1` levels of `nats_per_level > 0` over `n_steps ≥ 2` steps.
    pub fn new(n_steps: usize, levels: usize, nats_per_level: f64) -> Result<Self> {
        if n_steps < 2 || levels == 0 || !(nats_per_level.is_finite() && nats_per_level > 0.0) {
            return Err(Error::InvalidParameter {
                op: "Staircase",
                name: "n_steps/levels/nats_per_level",
                value: format!("{n_steps}/{levels}/{nats_per_level}"),
                reason: "need n_steps ≥ 2, levels ≥ 1 and a finite nats_per_level > 0",
            });
        }
        Ok(Self {
            n_steps,
            levels,
            nats_per_level,
        })
    }

    /// The paper's schedule: 2 → 4 → 6 → 8 → 10 nats over `n_steps` (20 000 in the paper).
    ///
    /// ```
    /// let s = mi_core::data::Staircase::paper(20_000).unwrap();
    /// assert_eq!((s.mi_at(0), s.mi_at(1), s.mi_at(3999), s.mi_at(4000), s.mi_at(19_999)),
    ///            (0.0, 2.0, 2.0, 4.0, 10.0));
    /// ```
    pub fn paper(n_steps: usize) -> Result<Self> {
        Self::new(n_steps, 5, 2.0)
    }

    /// The number of steps.
    pub fn n_steps(&self) -> usize {
        self.n_steps
    }

    /// The MI (nats) at `step`; steps past the end stay at the last level.
    pub fn mi_at(&self, step: usize) -> f64 {
        let t = step.min(self.n_steps - 1);
        let start = 0.5;
        let stop = self.levels as f64 + 0.5 - 1e-9;
        // numpy's linspace: start + t·step, with the last point set to `stop` exactly.
        let v = if t == self.n_steps - 1 {
            stop
        } else {
            start + t as f64 * ((stop - start) / (self.n_steps - 1) as f64)
        };
        v.round_ties_even() * self.nats_per_level
    }

    /// The MI of every step.
    pub fn values(&self) -> Vec<f64> {
        (0..self.n_steps).map(|t| self.mi_at(t)).collect()
    }
}
