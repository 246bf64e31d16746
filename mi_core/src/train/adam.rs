//! Adam as in the reference (Keras): no weight decay, no clipping, ε = 1e−7 added to √v̂·(bias
//! correction folded into the step size):
//!
//! α_t = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); m ← m + (1 − β₁)(g − m); v ← v + (1 − β₂)(g² − v);
//! θ ← θ − α_t·m/(√v + ε).
//!
//! The moments are kept in f64 on the host (`Vec<f64>`), whatever the parameters' dtype and
//! device; the update is one fused loop per parameter (candle's op-by-op AdamW allocates ~13
//! tensors per parameter per step):
//!
//! * f32 parameters on the CPU (the training default): parameter and gradient are read in place;
//!   one new tensor per parameter holds the result.
//! * anything else (f64 parameters, or any device other than the CPU): parameter and gradient are
//!   copied to the host as f64, updated there, and the result is copied back in the parameter's
//!   dtype and device — a host round trip of every parameter per step. Correct (the same f64
//!   arithmetic, tested against the fast path), but on a GPU it is the step's bottleneck: moments
//!   on the device are future work.

use candle_core::{backprop::GradStore, DType, Device, Tensor, Var};
use serde::{Deserialize, Serialize};

/// Adam's hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate (5e−4 in the paper).
    pub lr: f64,
    /// β₁ (0.9).
    pub beta1: f64,
    /// β₂ (0.999).
    pub beta2: f64,
    /// ε (Keras: 1e−7).
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 5e-4,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
        }
    }
}

impl AdamConfig {
    /// lr > 0, β ∈ [0, 1), ε ≥ 0, all finite.
    pub fn validate(&self) -> crate::Result<()> {
        let ok = self.lr.is_finite()
            && self.lr > 0.0
            && (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps.is_finite()
            && self.eps >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(crate::Error::InvalidParameter {
                op: "Adam",
                name: "config",
                value: format!("{self:?}"),
                reason: "need lr > 0, β₁, β₂ ∈ [0, 1) and ε ≥ 0",
            })
        }
    }
}

/// Runs `f` on a contiguous CPU tensor's elements in place (None on other devices, dtypes or
/// layouts).
fn with_cpu_slice<T: candle_core::WithDType, R>(
    t: &Tensor,
    f: impl FnOnce(&[T]) -> R,
) -> Option<candle_core::Result<R>> {
    if t.dtype() != T::DTYPE {
        return None;
    }
    let (storage, layout) = t.storage_and_layout();
    let (lo, hi) = layout.contiguous_offsets()?;
    match &*storage {
        candle_core::Storage::Cpu(cpu) => Some(cpu.as_slice::<T>().map(|s| f(&s[lo..hi]))),
        _ => None,
    }
}

/// The Adam update of one parameter, in f64: returns the new values.
fn update<T: Copy + Into<f64>, U>(
    theta: &[T],
    g: &[T],
    m: &mut [f64],
    v: &mut [f64],
    c: AdamConfig,
    alpha: f64,
    cast: impl Fn(f64) -> U,
) -> Vec<U> {
    theta
        .iter()
        .zip(g)
        .zip(m.iter_mut().zip(v.iter_mut()))
        .map(|((&p, &gi), (m, v))| cast(update_one(p.into(), gi.into(), m, v, &c, alpha)))
        .collect()
}

/// The Adam update of one scalar, in f64 (shared by every path, so they agree bit for bit).
///
/// A moment that decays below f64's normal range is set to zero. A weight whose gradient stays
/// exactly 0 (behind a dead ReLU unit) has its m shrink by β1 each step, into subnormal numbers
/// after ~6 600 steps (β1 = 0.9), and there it stays: the next step's change rounds to nothing.
/// Arithmetic on subnormals takes ~100 cycles on x86 cores, and in Figure 2's separable runs
/// these updates were two thirds of the time (perf). Such a moment moves a parameter by less
/// than 1e-290, which no f32 parameter can hold, so the flush changes no trained weight.
#[inline]
fn update_one(p: f64, g: f64, m: &mut f64, v: &mut f64, c: &AdamConfig, alpha: f64) -> f64 {
    *m += (1.0 - c.beta1) * (g - *m);
    *v += (1.0 - c.beta2) * (g * g - *v);
    if m.abs() < f64::MIN_POSITIVE {
        *m = 0.0;
    }
    if *v < f64::MIN_POSITIVE {
        *v = 0.0;
    }
    p - alpha * *m / (v.sqrt() + c.eps)
}

/// The fused path's update of one f32 CPU parameter, written into its storage in place.
struct InPlace<'a> {
    grad: &'a [f32],
    moments: std::cell::RefCell<(&'a mut [f64], &'a mut [f64])>,
    config: AdamConfig,
    alpha: f64,
}

impl candle_core::InplaceOp1 for InPlace<'_> {
    fn name(&self) -> &'static str {
        "adam-in-place"
    }

    fn cpu_fwd(
        &self,
        storage: &mut candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        let candle_core::CpuStorage::F32(data) = storage else {
            candle_core::bail!("adam-in-place: an f32 parameter is expected")
        };
        let Some(theta) = layout
            .contiguous_offsets()
            .and_then(|(lo, hi)| data.get_mut(lo..hi))
        else {
            candle_core::bail!("adam-in-place: the parameter is not contiguous")
        };
        let mut moments = self.moments.borrow_mut();
        let (m, v) = &mut *moments;
        if theta.len() != self.grad.len() || m.len() != theta.len() || v.len() != theta.len() {
            candle_core::bail!("adam-in-place: parameter, gradient and moments differ in size")
        }
        for (((p, &g), m), v) in theta
            .iter_mut()
            .zip(self.grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            *p = update_one(f64::from(*p), f64::from(g), m, v, &self.config, self.alpha) as f32;
        }
        Ok(())
    }
}

/// One parameter and its moments.
struct Slot {
    name: String,
    var: Var,
    m: Vec<f64>,
    v: Vec<f64>,
}

/// The optimiser state: parameters in name order, their first and second moments, the step t.
pub struct Adam {
    config: AdamConfig,
    t: u64,
    slots: Vec<Slot>,
}

impl Adam {
    /// Adam over `vars` (name, variable), kept in name order.
    pub fn new(config: AdamConfig, mut vars: Vec<(String, Var)>) -> crate::Result<Self> {
        config.validate()?;
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = vars
            .into_iter()
            .map(|(name, var)| {
                let n = var.elem_count();
                Slot {
                    name,
                    var,
                    m: vec![0.0; n],
                    v: vec![0.0; n],
                }
            })
            .collect();
        Ok(Self {
            config,
            t: 0,
            slots,
        })
    }

    /// The number of updates so far.
    pub fn t(&self) -> u64 {
        self.t
    }

    /// The hyper-parameters.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// Applies one update from `grads` (parameters without a gradient are left alone).
    pub fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.t += 1;
        let c = self.config;
        let t = self.t as i32;
        let alpha = c.lr * (1.0 - c.beta2.powi(t)).sqrt() / (1.0 - c.beta1.powi(t));
        for slot in &mut self.slots {
            let Some(g) = grads.get(slot.var.as_tensor()) else {
                continue;
            };
            let shape = slot.var.shape().clone();
            let fast = with_cpu_slice::<f32, _>(slot.var.as_tensor(), |theta| {
                with_cpu_slice::<f32, _>(g, |g| {
                    update(theta, g, &mut slot.m, &mut slot.v, c, alpha, |x| x as f32)
                })
            });
            let value = match fast {
                // The fast path: parameter and gradient read in place, one fused loop.
                Some(Ok(Some(Ok(out)))) => Tensor::from_vec(out, shape, &Device::Cpu)?,
                Some(Err(e)) | Some(Ok(Some(Err(e)))) => return Err(e),
                _ => {
                    let dtype = slot.var.dtype();
                    let to64 = |t: &Tensor| -> candle_core::Result<Vec<f64>> {
                        t.flatten_all()?.to_dtype(DType::F64)?.to_vec1()
                    };
                    let out = update(
                        &to64(slot.var.as_tensor())?,
                        &to64(g)?,
                        &mut slot.m,
                        &mut slot.v,
                        c,
                        alpha,
                        |x| x,
                    );
                    Tensor::from_vec(out, shape, &Device::Cpu)?
                        .to_dtype(dtype)?
                        .to_device(slot.var.device())?
                }
            };
            slot.var.set(&value)?;
        }
        Ok(())
    }

    /// The parameters' names, in the order of [`Adam::step_fused`]'s gradients.
    pub(crate) fn slot_names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|s| s.name.as_str())
    }

    /// One update from gradients given as f32 slices, one per parameter in
    /// [`Adam::slot_names`] order (`None`: no gradient, the parameter is left alone), written
    /// into the f32 CPU parameters in place — the same arithmetic as [`Adam::step`].
    pub(crate) fn step_fused(&mut self, grads: &[Option<&[f32]>]) -> candle_core::Result<()> {
        if grads.len() != self.slots.len() {
            candle_core::bail!(
                "Adam::step_fused: {} gradients for {} parameters",
                grads.len(),
                self.slots.len()
            )
        }
        self.t += 1;
        let c = self.config;
        let t = self.t as i32;
        let alpha = c.lr * (1.0 - c.beta2.powi(t)).sqrt() / (1.0 - c.beta1.powi(t));
        for (slot, grad) in self.slots.iter_mut().zip(grads) {
            let Some(grad) = *grad else { continue };
            let op = InPlace {
                grad,
                moments: std::cell::RefCell::new((&mut slot.m, &mut slot.v)),
                config: c,
                alpha,
            };
            slot.var.as_tensor().inplace_op1(&op)?;
        }
        Ok(())
    }

    /// The state as named f64 tensors (`m.NAME`, `v.NAME`) for a checkpoint.
    pub fn state_tensors(&self) -> candle_core::Result<Vec<(String, Tensor)>> {
        let mut out = Vec::with_capacity(2 * self.slots.len());
        for s in &self.slots {
            let shape = s.var.shape().clone();
            out.push((
                format!("m.{}", s.name),
                Tensor::from_vec(s.m.clone(), shape.clone(), &Device::Cpu)?,
            ));
            out.push((
                format!("v.{}", s.name),
                Tensor::from_vec(s.v.clone(), shape, &Device::Cpu)?,
            ));
        }
        Ok(out)
    }

    /// Restores the moments and the step count from [`Adam::state_tensors`]' output.
    pub fn restore(
        &mut self,
        t: u64,
        tensors: &std::collections::HashMap<String, Tensor>,
    ) -> crate::Result<()> {
        for s in &mut self.slots {
            for (prefix, dst) in [("m", &mut s.m), ("v", &mut s.v)] {
                let key = format!("{prefix}.{}", s.name);
                let t = tensors.get(&key).ok_or_else(|| crate::Error::Shape {
                    op: "Adam::restore",
                    detail: format!("the optimizer state has no `{key}`"),
                })?;
                if t.dims() != s.var.dims() {
                    return Err(crate::Error::Shape {
                        op: "Adam::restore",
                        detail: format!(
                            "`{key}` has shape {:?}, the parameter {:?}",
                            t.dims(),
                            s.var.dims()
                        ),
                    });
                }
                *dst = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
            }
        }
        self.t = t;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step by hand: m = 0.1 g, v = 0.001 g², α₁ = lr·√0.001/0.1, so θ moves by
    /// lr·g/(|g| + ε/√0.001·…) ≈ lr·sign(g).
    #[test]
    fn first_step_moves_by_lr_times_sign() -> crate::Result<()> {
        let var = Var::from_tensor(&Tensor::new(&[1.0f32, -2.0, 0.5], &Device::Cpu)?)?;
        let mut adam = Adam::new(AdamConfig::default(), vec![("w".into(), var.clone())])?;
        let loss = var.as_tensor().sqr()?.sum_all()?; // g = 2θ
        adam.step(&loss.backward()?)?;
        let after = var.as_tensor().to_vec1::<f32>()?;
        for (a, b) in after.iter().zip([1.0f32 - 5e-4, -2.0 + 5e-4, 0.5 - 5e-4]) {
            assert!((a - b).abs() < 1e-6, "{after:?}");
        }
        assert_eq!(adam.t(), 1);
        Ok(())
    }

    /// A weight whose gradient goes to exactly 0 (a dead ReLU unit): its moments reach 0, never
    /// a subnormal (slow on x86), and the f32 parameter ends where the unflushed update puts it.
    #[test]
    fn moments_of_a_silent_weight_reach_zero_not_subnormals() -> crate::Result<()> {
        let var = Var::from_tensor(&Tensor::new(&[0.25f32, -1.5], &Device::Cpu)?)?;
        let c = AdamConfig::default();
        let mut adam = Adam::new(c, vec![("w".into(), var.clone())])?;
        // The reference keeps θ in f32 between steps, as the parameter does.
        let (mut theta, mut m, mut v) = ([0.25f32, -1.5], [0.0f64; 2], [0.0f64; 2]);
        let mut subnormal_seen = false;
        for t in 1..=8000 {
            let g: [f32; 2] = if t <= 3 { [1e-3, -2e-3] } else { [0.0, 0.0] };
            adam.step_fused(&[Some(&g[..])])?;
            let alpha = c.lr * (1.0 - c.beta2.powi(t)).sqrt() / (1.0 - c.beta1.powi(t));
            for k in 0..2 {
                let g = f64::from(g[k]);
                m[k] += (1.0 - c.beta1) * (g - m[k]);
                v[k] += (1.0 - c.beta2) * (g * g - v[k]);
                theta[k] = (f64::from(theta[k]) - alpha * m[k] / (v[k].sqrt() + c.eps)) as f32;
                subnormal_seen |= m[k].is_subnormal();
            }
        }
        assert!(
            subnormal_seen,
            "the unflushed reference should have gone subnormal"
        );
        let slot = &adam.slots[0];
        for k in 0..2 {
            assert!(
                slot.m[k] == 0.0 || slot.m[k].is_normal(),
                "m = {:e}",
                slot.m[k]
            );
            assert!(
                slot.v[k] == 0.0 || slot.v[k].is_normal(),
                "v = {:e}",
                slot.v[k]
            );
        }
        assert_eq!(slot.m, [0.0, 0.0]);
        let got = var.as_tensor().to_vec1::<f32>()?;
        assert_eq!(got, theta, "{got:?} vs {theta:?}");
        Ok(())
    }

    /// The general path (f64 parameters: copied to the host and back) against the in-place f32
    /// path and a hand-written Adam, over three steps with different gradients.
    #[test]
    fn host_round_trip_path_matches_the_fast_path() -> crate::Result<()> {
        let init = [1.0f64, -2.0, 0.5, 3.0];
        let v32 = Var::from_tensor(&Tensor::new(&init.map(|x| x as f32), &Device::Cpu)?)?;
        let v64 = Var::from_tensor(&Tensor::new(&init, &Device::Cpu)?)?;
        let c = AdamConfig::default();
        let mut a32 = Adam::new(c, vec![("w".into(), v32.clone())])?;
        let mut a64 = Adam::new(c, vec![("w".into(), v64.clone())])?;
        let (mut theta, mut m, mut v) = (init.to_vec(), vec![0.0; 4], vec![0.0; 4]);
        for t in 1..=3 {
            // loss = Σ θ³/3 + t·θ: g = θ² + t.
            let loss = |var: &Var| -> candle_core::Result<Tensor> {
                let th = var.as_tensor();
                th.powf(3.0)?
                    .affine(1.0 / 3.0, 0.0)?
                    .add(&th.affine(t as f64, 0.0)?)?
                    .sum_all()
            };
            a32.step(&loss(&v32)?.backward()?)?;
            a64.step(&loss(&v64)?.backward()?)?;
            let alpha = c.lr * (1.0 - c.beta2.powi(t)).sqrt() / (1.0 - c.beta1.powi(t));
            for k in 0..4 {
                let g = theta[k] * theta[k] + t as f64;
                m[k] += (1.0 - c.beta1) * (g - m[k]);
                v[k] += (1.0 - c.beta2) * (g * g - v[k]);
                theta[k] -= alpha * m[k] / (v[k].sqrt() + c.eps);
            }
        }
        let got64 = v64.as_tensor().to_vec1::<f64>()?;
        let got32 = v32.as_tensor().to_vec1::<f32>()?;
        for k in 0..4 {
            assert!(
                (got64[k] - theta[k]).abs() < 1e-12,
                "{got64:?} vs {theta:?}"
            );
            assert!(
                (f64::from(got32[k]) - theta[k]).abs() < 1e-6,
                "{got32:?} vs {theta:?}"
            );
        }
        assert_eq!(v64.dtype(), DType::F64);
        Ok(())
    }
}
