//! Early stopping on a validation value, shared by the critic ([`super::fit`]) and the
//! Barber–Agakov decoder ([`super::ba`]): the weights of the best evaluation are kept and put
//! back before the held-out evaluation.

use crate::error::Result;
use crate::train::named_vars;
use candle_core::{Tensor, Var};
use candle_nn::VarMap;

/// The best validation value so far, its step and a copy of the weights that gave it.
pub(super) struct EarlyStop {
    /// The model's variables (handles sharing their storage), in one fixed order.
    vars: Vec<Var>,
    /// Their values at the best evaluation, in the same order.
    weights: Vec<Tensor>,
    best: f64,
    best_step: usize,
    since_best: usize,
    patience: usize,
    stopped_early: bool,
}

impl EarlyStop {
    /// Starts from the untrained weights of `varmap` and their validation value (at step 0).
    pub(super) fn new(varmap: &VarMap, value: f64, patience: usize) -> Result<Self> {
        let vars: Vec<Var> = named_vars(varmap)?.into_iter().map(|(_, v)| v).collect();
        Ok(Self {
            weights: Self::copy(&vars)?,
            vars,
            best: value,
            best_step: 0,
            since_best: 0,
            patience,
            stopped_early: false,
        })
    }

    fn copy(vars: &[Var]) -> Result<Vec<Tensor>> {
        Ok(vars
            .iter()
            .map(|v| v.as_tensor().copy())
            .collect::<candle_core::Result<_>>()?)
    }

    /// Records the validation value `value ± se` at `step`; returns true when training should
    /// stop (`patience` evaluations in a row without a new best). A new best must be finite and
    /// beat the old one by half a validation standard error, so that noise alone does not keep
    /// training alive (any finite value beats a non-finite old best).
    pub(super) fn observe(&mut self, value: f64, se: f64, step: usize) -> Result<bool> {
        if value.is_finite() && (!self.best.is_finite() || value > self.best + 0.5 * se.max(0.0)) {
            self.best = value;
            self.best_step = step;
            self.weights = Self::copy(&self.vars)?;
            self.since_best = 0;
        } else {
            self.since_best += 1;
            self.stopped_early = self.since_best >= self.patience;
        }
        Ok(self.stopped_early)
    }

    /// Puts the best weights back into the model's variables.
    pub(super) fn restore(&self) -> Result<()> {
        for (v, t) in self.vars.iter().zip(&self.weights) {
            v.set(t)?;
        }
        Ok(())
    }

    /// The best validation value.
    pub(super) fn best(&self) -> f64 {
        self.best
    }

    /// The step of the best validation value (0: the untrained weights).
    pub(super) fn best_step(&self) -> usize {
        self.best_step
    }

    /// Whether training stopped on the patience rule.
    pub(super) fn stopped_early(&self) -> bool {
        self.stopped_early
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::Init;

    fn var_w(varmap: &VarMap) -> Result<Var> {
        let (_, w) = named_vars(varmap)?
            .into_iter()
            .find(|(k, _)| k == "w")
            .ok_or_else(|| candle_core::Error::msg("no variable w"))?;
        Ok(w)
    }

    fn weight(varmap: &VarMap) -> Result<f32> {
        Ok(var_w(varmap)?.as_tensor().flatten_all()?.to_vec1::<f32>()?[0])
    }

    fn set(varmap: &VarMap, value: f32) -> Result<()> {
        var_w(varmap)?.set(&Tensor::new(&[value], &Device::Cpu)?)?;
        Ok(())
    }

    /// Values 1.0, 2.0 (best), 1.9, 2.04 (not by half an SE), 1.0 with patience 3: stops at
    /// the third evaluation without a new best and restores the weights of the best one.
    #[test]
    fn keeps_the_best_weights_and_stops_after_patience() -> Result<()> {
        let varmap = VarMap::new();
        varmap.get(1, "w", Init::Const(0.0), DType::F32, &Device::Cpu)?;
        let mut stop = EarlyStop::new(&varmap, 1.0, 3)?;
        let mut stopped = Vec::new();
        for (step, (w, v)) in [(1.0, 2.0), (2.0, 1.9), (3.0, 2.04), (4.0, 1.0)]
            .into_iter()
            .enumerate()
        {
            set(&varmap, w)?;
            stopped.push(stop.observe(v, 0.1, 100 * (step + 1))?);
        }
        assert_eq!(stopped, [false, false, false, true]);
        assert!(stop.stopped_early());
        assert_eq!((stop.best(), stop.best_step()), (2.0, 100));
        assert_eq!(weight(&varmap)?, 4.0);
        stop.restore()?;
        assert_eq!(weight(&varmap)?, 1.0);
        Ok(())
    }

    /// A non-finite start (a decoder whose first log-density overflows) is beaten by any finite
    /// value, and a NaN evaluation never becomes the best.
    #[test]
    fn non_finite_values_never_win() -> Result<()> {
        let varmap = VarMap::new();
        varmap.get(1, "w", Init::Const(0.0), DType::F32, &Device::Cpu)?;
        let mut stop = EarlyStop::new(&varmap, f64::NEG_INFINITY, 2)?;
        set(&varmap, 1.0)?;
        assert!(!stop.observe(-5.0, 1.0, 10)?);
        assert_eq!(stop.best_step(), 10);
        set(&varmap, 2.0)?;
        assert!(!stop.observe(f64::NAN, 1.0, 20)?);
        assert_eq!(stop.best(), -5.0);
        stop.restore()?;
        assert_eq!(weight(&varmap)?, 1.0);
        Ok(())
    }
}
