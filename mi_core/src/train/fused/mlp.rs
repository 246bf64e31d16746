//! One MLP of the fused path (the crate's [`crate::nn::Mlp`]: `z_k = a_k W_kᵀ + b_k`, ReLU after
//! every layer but the last) over preallocated f32 buffers: the forward pass keeps every layer's
//! input `a_k`, the backward pass turns dL/d(output) into dL/dW_k and dL/db_k
//! (`dW_k = dz_kᵀ a_k`, `db_k = Σ_rows dz_k`, `dz_{k−1} = (dz_k W_k) ⊙ [a_k > 0]`).
//!
//! Parameters are not owned here: each call gets the current values as slices (`p[2k]` = W_k
//! `[out, in]` row-major, `p[2k + 1]` = b_k), read in place from the model's candle `Var`s.

use super::mat::{matmul, View};
use crate::error::{Error, Result};
use candle_core::Var;
use gemm::Parallelism;

/// Buffers and gradients of one MLP with layer widths `widths` (input first).
pub(crate) struct FusedMlp {
    widths: Vec<usize>,
    /// The parameters, `[W_0, b_0, W_1, b_1, …]`, and their names in the model's VarMap.
    pub vars: Vec<(String, Var)>,
    /// `acts[k]`: the input of layer k (post-ReLU for k ≥ 1), `[rows, widths[k]]`; the last one
    /// is the network's output.
    acts: Vec<Vec<f32>>,
    /// Gradients in the order of `vars`.
    pub grads: Vec<Vec<f32>>,
    d_cur: Vec<f32>,
    d_next: Vec<f32>,
}

impl FusedMlp {
    /// The MLP stored under `prefix` (`{prefix}.{k}.weight`, `.bias`) in `vars`.
    pub fn new(prefix: &str, lookup: &dyn Fn(&str) -> Option<Var>) -> Result<Self> {
        let mut widths = Vec::new();
        let mut vars = Vec::new();
        for k in 0.. {
            let (wn, bn) = (format!("{prefix}.{k}.weight"), format!("{prefix}.{k}.bias"));
            let (Some(w), Some(b)) = (lookup(&wn), lookup(&bn)) else {
                break;
            };
            let &[out, inp] = w.dims() else {
                return Err(shape(format!("{wn} is {:?}, not a matrix", w.dims())));
            };
            if b.dims() != [out] || widths.last().is_some_and(|&last| last != inp) {
                return Err(shape(format!("{prefix}: layer {k} does not chain")));
            }
            if widths.is_empty() {
                widths.push(inp);
            }
            widths.push(out);
            vars.push((wn, w));
            vars.push((bn, b));
        }
        if vars.is_empty() {
            return Err(shape(format!("no layers under `{prefix}`")));
        }
        let grads = vars
            .iter()
            .map(|(_, v)| vec![0.0; v.elem_count()])
            .collect();
        Ok(Self {
            acts: vec![Vec::new(); widths.len()],
            widths,
            vars,
            grads,
            d_cur: Vec::new(),
            d_next: Vec::new(),
        })
    }

    /// Number of layers.
    pub fn layers(&self) -> usize {
        self.widths.len() - 1
    }

    /// Width of layer k's input (k = layers(): the output width).
    pub fn width(&self, k: usize) -> usize {
        self.widths[k]
    }

    /// `acts[k]`, sized for `rows` rows (allocates only when it grows).
    pub fn act_mut(&mut self, k: usize, rows: usize) -> &mut [f32] {
        let n = rows * self.widths[k];
        grow(&mut self.acts[k], n);
        &mut self.acts[k][..n]
    }

    /// The output of the last forward pass over `rows` rows.
    pub fn output(&self, rows: usize) -> &[f32] {
        let n = self.layers();
        &self.acts[n][..rows * self.widths[n]]
    }

    /// The buffer the caller fills with dL/d(output), `[rows, out]`, before [`Self::backward`].
    pub fn d_output_mut(&mut self, rows: usize) -> &mut [f32] {
        let n = rows * self.widths[self.layers()];
        grow(&mut self.d_cur, n);
        &mut self.d_cur[..n]
    }

    /// dL/d(pre-activation of layer `stop − 1`) after `backward(.., stop)` with stop ≥ 1.
    pub fn d_input(&self, rows: usize, stop: usize) -> &[f32] {
        &self.d_cur[..rows * self.widths[stop]]
    }

    /// Runs layers `first..` on `acts[first]` (which the caller filled, see [`Self::act_mut`]).
    pub fn forward_from(
        &mut self,
        p: &[&[f32]],
        first: usize,
        rows: usize,
        par: Parallelism,
    ) -> Result<()> {
        let n = self.layers();
        for k in first..n {
            let (wi, wo) = (self.widths[k], self.widths[k + 1]);
            grow(&mut self.acts[k + 1], rows * wo);
            let (lo, hi) = self.acts.split_at_mut(k + 1);
            let (a, z) = (&lo[k][..rows * wi], &mut hi[0][..rows * wo]);
            for row in z.chunks_exact_mut(wo) {
                row.copy_from_slice(p[2 * k + 1]);
            }
            matmul(
                z,
                wo,
                View::rows(a, rows, wi),
                View::rows(p[2 * k], wo, wi).t(),
                true,
                par,
            )?;
            if k + 1 < n {
                z.iter_mut().for_each(|v| *v = relu(*v));
            }
        }
        Ok(())
    }

    /// The whole network on `input [rows, widths[0]]`.
    pub fn forward(
        &mut self,
        p: &[&[f32]],
        input: &[f32],
        rows: usize,
        par: Parallelism,
    ) -> Result<()> {
        self.act_mut(0, rows).copy_from_slice(input);
        self.forward_from(p, 0, rows, par)
    }

    /// Gradients of layers `stop..` from the dL/d(output) in [`Self::d_output_mut`]; with
    /// stop ≥ 1 it also leaves dL/d(pre-activation of layer stop − 1) in [`Self::d_input`].
    pub fn backward(
        &mut self,
        p: &[&[f32]],
        rows: usize,
        stop: usize,
        par: Parallelism,
    ) -> Result<()> {
        let n = self.layers();
        for k in (stop..n).rev() {
            let (wi, wo) = (self.widths[k], self.widths[k + 1]);
            let d = &self.d_cur[..rows * wo];
            let a = &self.acts[k][..rows * wi];
            matmul(
                &mut self.grads[2 * k],
                wi,
                View::rows(d, rows, wo).t(),
                View::rows(a, rows, wi),
                false,
                par,
            )?;
            let gb = &mut self.grads[2 * k + 1];
            gb.fill(0.0);
            for row in d.chunks_exact(wo) {
                gb.iter_mut().zip(row).for_each(|(g, v)| *g += v);
            }
            if k == 0 {
                continue;
            }
            grow(&mut self.d_next, rows * wi);
            let dn = &mut self.d_next[..rows * wi];
            matmul(
                dn,
                wi,
                View::rows(d, rows, wo),
                View::rows(p[2 * k], wo, wi),
                false,
                par,
            )?;
            // a_k = ReLU(z_{k−1}): the gradient passes where z_{k−1} ≥ 0 (see [`relu`]).
            dn.iter_mut()
                .zip(a)
                .for_each(|(g, &v)| *g = f32::from_bits(g.to_bits() & pass_mask(v)));
            std::mem::swap(&mut self.d_cur, &mut self.d_next);
        }
        Ok(())
    }
}

/// ReLU that remembers where its gradient passes: z ≥ 0 gives +z (a zero as +0.0), z < 0 gives
/// −0.0. Candle's ReLU backward (the reference) passes the gradient where z ≥ 0 — ties at
/// exactly 0 do occur, e.g. a unit whose inputs are all dead and whose bias is still 0 — and a
/// signed zero keeps that one bit without storing z. As a product's input −0.0 acts as 0.
/// NaN carries on (NaN < 0 is false), so a blown-up critic is still seen as diverged. Written
/// as one select so the loops vectorise.
#[inline]
pub(crate) fn relu(z: f32) -> f32 {
    if z < 0.0 {
        -0.0
    } else {
        z + 0.0
    }
}

/// All ones where the gradient passes through a ReLU output `a` made by [`relu`] (z ≥ 0: the
/// sign bit is clear), zero where it does not; a bit mask, so the masking loop has no branch.
#[inline]
pub(crate) fn pass_mask(a: f32) -> u32 {
    !(((a.to_bits() as i32) >> 31) as u32)
}

fn grow(buf: &mut Vec<f32>, n: usize) {
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
}

fn shape(detail: String) -> Error {
    Error::Shape {
        op: "fused MLP",
        detail,
    }
}
