//! The fused CPU training step: the paper's MLP critics (separable; concat with the factorised
//! first layer), with or without the learned baseline, trained without Candle's autograd graph
//! through the networks. The dSprites encoder's step is built the same way ([`encoder`]).
//!
//! One step, as [`super::Trainer::step_once`] runs it when this path applies:
//!
//! 1. **Forward** ([`FusedStep::forward`]): the critic and the learned log-baseline over
//!    preallocated f32 buffers, matrix products straight through the `gemm` crate with explicit
//!    strides ([`mat`]), reading the parameters in place from the model's candle `Var`s. The
//!    score matrix S `[B, B]` and log a(y) `[B]` come back as fresh *leaf* variables.
//! 2. **The bound, unchanged**: the trainer evaluates the [`crate::bounds::Estimator`] on those
//!    leaves exactly as on the autograd path (the same f64 evaluation, divergence check, logged
//!    value and MINE-EMA state), and Candle's autograd runs on that `B × B` part only, giving
//!    dL/dS and dL/d log a. Every bound is covered the same way.
//! 3. **Backward** ([`FusedStep::backward_and_update`]): dL/dS through the critic (and dL/d log a
//!    through the baseline) into preallocated gradient buffers: ReLU masks and bias sums in
//!    place; the concat critic's B² pairs in one `[B², H]` buffer (pair (i, j) is row i·B + j),
//!    its large products split over candle's thread count by gemm itself (its elementwise passes
//!    run on one thread); the separable critic's two towers on two threads when candle's kernels
//!    may use ≥ 2 threads (`RAYON_NUM_THREADS`, see [`super::set_kernel_threads`]).
//! 4. **Adam** ([`crate::train::Adam`]'s fused update): the new values are written into the
//!    existing `Var`s in place and the moments stay in the optimiser's state, so checkpoints,
//!    `state_tensors`/`restore` and exact resume are those of the autograd path.
//!
//! It is selected automatically for a CPU, f32 model with a separable or concat critic (any
//! baseline: the Gaussian one has no parameters and is computed by candle). Candle autograd
//! stays the general path and the reference. To force the autograd path set the environment
//! variable **`MI_CORE_FUSED=0`** (read when a [`super::Trainer`] is built) or call
//! [`super::Trainer::set_fused`]`(false)`.

mod concat;
pub(crate) mod encoder;
#[cfg(test)]
mod encoder_tests;
mod im2col;
mod mat;
mod mlp;
#[cfg(test)]
mod tests;

use super::{Adam, BaselineKind, CriticKind, Model, Precision};
use crate::data::Batch;
use crate::error::{Error, Result};
use candle_core::{backprop::GradStore, Device, Tensor, Var};
use concat::FusedConcat;
use gemm::Parallelism;
use mlp::FusedMlp;

/// The environment variable that turns the fused training step off (`MI_CORE_FUSED=0`, `false`,
/// `off` or `no`), read when a `Trainer` is built; Candle autograd then trains every model.
pub const FUSED_ENV: &str = "MI_CORE_FUSED";

/// Whether the environment allows the fused path.
pub(crate) fn enabled_by_env() -> bool {
    !matches!(
        std::env::var(FUSED_ENV).ok().as_deref().map(str::trim),
        Some("0" | "false" | "off" | "no")
    )
}

enum Net {
    Separable { g: FusedMlp, h: FusedMlp },
    Concat(FusedConcat),
}

/// The fused step's networks, buffers and the leaves of the current step.
pub(crate) struct FusedStep {
    net: Net,
    baseline: Option<FusedMlp>,
    dims: (usize, usize),
    batch: usize,
    scores: Vec<f32>,
    d_scores: Vec<f32>,
    d_log_base: Vec<f32>,
    leaf_scores: Option<Var>,
    leaf_base: Option<Var>,
    /// For each Adam slot (name order): (network, parameter index) — network 0 is g or F,
    /// 1 is h, 2 is the baseline.
    slots: Vec<(usize, usize)>,
    threads: usize,
}

impl FusedStep {
    /// The fused step for `model`, or `None` where it does not apply (another device or dtype,
    /// the conditional critic, or nothing to train).
    pub fn new(model: &Model, adam: Option<&Adam>) -> Result<Option<Self>> {
        let cfg = model.config();
        let Some(adam) = adam else { return Ok(None) };
        if !matches!(model.device(), Device::Cpu) || cfg.precision != Precision::F32 {
            return Ok(None);
        }
        let data = model
            .varmap()
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("fused: the VarMap lock is poisoned"))?;
        let lookup = |name: &str| data.get(name).cloned();
        let net = match cfg.critic {
            CriticKind::Separable => Net::Separable {
                g: FusedMlp::new("critic.g", &lookup)?,
                h: FusedMlp::new("critic.h", &lookup)?,
            },
            CriticKind::Concat => Net::Concat(FusedConcat::new(
                FusedMlp::new("critic.f", &lookup)?,
                cfg.net.dim_x,
                cfg.net.dim_y,
            )),
            CriticKind::Conditional => return Ok(None),
        };
        let baseline = match cfg.baseline {
            BaselineKind::Learned => Some(FusedMlp::new("baseline", &lookup)?),
            BaselineKind::Constant | BaselineKind::Gaussian => None,
        };
        drop(data);
        let mut step = Self {
            net,
            baseline,
            dims: (cfg.net.dim_x, cfg.net.dim_y),
            batch: 0,
            scores: Vec::new(),
            d_scores: Vec::new(),
            d_log_base: Vec::new(),
            leaf_scores: None,
            leaf_base: None,
            slots: Vec::new(),
            threads: 1,
        };
        for name in adam.slot_names() {
            let found = step.nets().iter().enumerate().find_map(|(n, net)| {
                let net = net.as_ref()?;
                let k = net.vars.iter().position(|(v, _)| v == name)?;
                Some((n, k))
            });
            let Some(slot) = found else {
                return Err(Error::Shape {
                    op: "fused step",
                    detail: format!("the optimiser's parameter `{name}` is not in the networks"),
                });
            };
            step.slots.push(slot);
        }
        Ok(Some(step))
    }

    fn nets(&self) -> [Option<&FusedMlp>; 3] {
        let (a, b) = match &self.net {
            Net::Separable { g, h } => (g, Some(h)),
            Net::Concat(c) => (&c.net, None),
        };
        [Some(a), b, self.baseline.as_ref()]
    }

    /// Every parameter tensor, network by network, in the networks' own order.
    fn params(&self) -> Vec<Tensor> {
        self.nets()
            .into_iter()
            .flatten()
            .flat_map(|n| n.vars.iter().map(|(_, v)| v.as_tensor().clone()))
            .collect()
    }

    /// Scores `[B, B]` and the log-baseline `[B]` (`None` for the constant baseline) of the
    /// batch, as leaf variables for the bound's autograd.
    pub fn forward(&mut self, model: &Model, batch: &Batch) -> Result<(Tensor, Option<Tensor>)> {
        let (dx, dy) = self.dims;
        let b = batch.x.dim(0)?;
        if batch.x.dims() != [b, dx] || batch.y.dims() != [b, dy] {
            return Err(Error::Shape {
                op: "fused step",
                detail: format!(
                    "expected x [B, {dx}] and y [B, {dy}], got {:?} and {:?}",
                    batch.x.dims(),
                    batch.y.dims()
                ),
            });
        }
        self.batch = b;
        self.threads = candle_core::utils::get_num_threads().max(1);
        let (x, y) = (batch.x.contiguous()?, batch.y.contiguous()?);
        let mut tensors = self.params();
        tensors.push(x);
        tensors.push(y);
        with_slices(&tensors, |all| {
            let (p, xy) = all.split_at(all.len() - 2);
            self.forward_slices(p, xy[0], xy[1], b)
        })?;
        let s = Var::from_slice(&self.scores[..b * b], (b, b), &Device::Cpu)?;
        let lb = match &self.baseline {
            Some(net) => Some(Var::from_slice(net.output(b), b, &Device::Cpu)?),
            None => None,
        };
        let out = (
            s.as_tensor().clone(),
            match &lb {
                Some(v) => Some(v.as_tensor().clone()),
                None => model.log_baseline(&batch.y)?,
            },
        );
        self.leaf_scores = Some(s);
        self.leaf_base = lb;
        Ok(out)
    }

    fn forward_slices(&mut self, p: &[&[f32]], x: &[f32], y: &[f32], b: usize) -> Result<()> {
        let threads = self.threads;
        let (p_net, p_base) =
            p.split_at(p.len() - self.baseline.as_ref().map_or(0, |n| n.vars.len()));
        resize(&mut self.scores, b * b);
        match &mut self.net {
            Net::Separable { g, h } => {
                let (pg, ph) = p_net.split_at(g.vars.len());
                let none = Parallelism::None;
                on_two_threads(
                    threads > 1,
                    || g.forward(pg, x, b, none),
                    || h.forward(ph, y, b, none),
                )?;
                let e = g.width(g.layers());
                // S = h(Y) g(X)ᵀ.
                mat::matmul(
                    &mut self.scores,
                    b,
                    mat::View::rows(h.output(b), b, e),
                    mat::View::rows(g.output(b), b, e).t(),
                    false,
                    none,
                )?;
            }
            Net::Concat(c) => {
                c.forward(p_net, x, y, b, mat::parallelism(threads))?;
                self.scores.copy_from_slice(c.scores(b));
            }
        }
        if let Some(net) = self.baseline.as_mut() {
            net.forward(p_base, y, b, mat::parallelism(threads))?;
        }
        Ok(())
    }

    /// Backpropagates the bound's gradients (`grads` of loss = −value, from the leaves of the last
    /// [`Self::forward`]) through the networks and applies one Adam update. Parameters the loss
    /// does not reach (no gradient on their leaf) are left alone, as on the autograd path.
    pub fn backward_and_update(&mut self, grads: &GradStore, adam: &mut Adam) -> Result<()> {
        let reached = self.backward(grads)?;
        let nets = self.nets();
        let g: Vec<Option<&[f32]>> = self
            .slots
            .iter()
            .map(|&(n, k)| match nets[n] {
                Some(net) if reached[n] => Some(net.grads[k].as_slice()),
                _ => None,
            })
            .collect();
        adam.step_fused(&g)?;
        Ok(())
    }

    /// The backward pass alone: fills the networks' gradient buffers and returns which networks
    /// (g or F, h, baseline) the loss reached.
    fn backward(&mut self, grads: &GradStore) -> Result<[bool; 3]> {
        let b = self.batch;
        let s = self.leaf_scores.take();
        let lb = self.leaf_base.take();
        let has_s = read_grad(grads, s.as_ref(), &mut self.d_scores, b * b)?;
        let has_lb = read_grad(grads, lb.as_ref(), &mut self.d_log_base, b)?;
        let tensors = self.params();
        with_slices(&tensors, |p| self.backward_slices(p, has_s, has_lb))?;
        Ok([has_s, has_s, has_lb])
    }

    fn backward_slices(&mut self, p: &[&[f32]], has_s: bool, has_lb: bool) -> Result<()> {
        let (b, threads) = (self.batch, self.threads);
        let (p_net, p_base) =
            p.split_at(p.len() - self.baseline.as_ref().map_or(0, |n| n.vars.len()));
        if has_s {
            let ds = &self.d_scores[..b * b];
            match &mut self.net {
                Net::Separable { g, h } => {
                    let (pg, ph) = p_net.split_at(g.vars.len());
                    let e = g.width(g.layers());
                    let none = Parallelism::None;
                    // dL/dh(Y) = dS g(X); dL/dg(X) = dSᵀ h(Y).
                    let gx = mat::View::rows(g.output(b), b, e);
                    mat::matmul(
                        h.d_output_mut(b),
                        e,
                        mat::View::rows(ds, b, b),
                        gx,
                        false,
                        none,
                    )?;
                    let hy = mat::View::rows(h.output(b), b, e);
                    mat::matmul(
                        g.d_output_mut(b),
                        e,
                        mat::View::rows(ds, b, b).t(),
                        hy,
                        false,
                        none,
                    )?;
                    on_two_threads(
                        threads > 1,
                        || g.backward(pg, b, 0, none),
                        || h.backward(ph, b, 0, none),
                    )?;
                }
                Net::Concat(c) => c.backward(p_net, ds, b, mat::parallelism(threads))?,
            }
        }
        if let (Some(net), true) = (self.baseline.as_mut(), has_lb) {
            net.d_output_mut(b).copy_from_slice(&self.d_log_base[..b]);
            net.backward(p_base, b, 0, mat::parallelism(threads))?;
        }
        Ok(())
    }
}

/// Runs `a` and `b`, on two threads of rayon's persistent pool when `parallel` (no thread is
/// spawned per call: a spawn cost more than the B = 64 towers' work).
fn on_two_threads(
    parallel: bool,
    a: impl FnOnce() -> Result<()> + Send,
    b: impl FnOnce() -> Result<()> + Send,
) -> Result<()> {
    if !parallel {
        a()?;
        return b();
    }
    let (ra, rb) = rayon::join(a, b);
    ra.and(rb)
}

/// Copies the gradient of `leaf` (f32, `n` elements) into `dst`; false when it has none.
fn read_grad(grads: &GradStore, leaf: Option<&Var>, dst: &mut Vec<f32>, n: usize) -> Result<bool> {
    let Some(g) = leaf.and_then(|v| grads.get(v.as_tensor())) else {
        return Ok(false);
    };
    let g = g.to_dtype(candle_core::DType::F32)?.flatten_all()?;
    resize(dst, n);
    with_slices(std::slice::from_ref(&g), |s| {
        if s[0].len() != n {
            return Err(Error::Shape {
                op: "fused step",
                detail: format!("a gradient of {} elements, expected {n}", s[0].len()),
            });
        }
        dst.copy_from_slice(s[0]);
        Ok(())
    })?;
    Ok(true)
}

/// Runs `f` on the contiguous f32 CPU data of every tensor, read in place.
fn with_slices<R>(ts: &[Tensor], f: impl FnOnce(&[&[f32]]) -> Result<R>) -> Result<R> {
    let guards: Vec<_> = ts.iter().map(|t| t.storage_and_layout()).collect();
    let mut slices = Vec::with_capacity(ts.len());
    for (storage, layout) in &guards {
        let not_plain = || Error::Shape {
            op: "fused step",
            detail: "expected contiguous f32 tensors on the CPU".into(),
        };
        let (lo, hi) = layout.contiguous_offsets().ok_or_else(not_plain)?;
        let candle_core::Storage::Cpu(cpu) = &**storage else {
            return Err(not_plain());
        };
        let data = cpu.as_slice::<f32>()?;
        slices.push(data.get(lo..hi).ok_or_else(not_plain)?);
    }
    f(&slices)
}

fn resize(buf: &mut Vec<f32>, n: usize) {
    if buf.len() != n {
        buf.resize(n, 0.0);
    }
}
