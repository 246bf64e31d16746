//! The concat ("joint") critic on the fused path: `S[i, j] = F([x_j; y_i])` over all B² pairs
//! with the factorised first layer `z⁰_ij = W_x x_j + W_y y_i + b` (two `[B, d]` products and a
//! broadcast add; the `[B², 2d]` concatenation is never formed), and its backward:
//! dL/d(ay_i) = Σ_j dz⁰_ij, dL/d(ax_j) = Σ_i dz⁰_ij, then `dW_x = dAxᵀ X`, `dW_y = dAyᵀ Y`,
//! `db = Σ_i dAy_i`. The B² pairs are laid out row by row (pair (i, j) is row i·B + j), so the
//! network's output is S itself.

use super::mat::{matmul, View};
use super::mlp::{relu, FusedMlp};
use crate::error::Result;
use gemm::Parallelism;

/// The concat critic's buffers.
pub(crate) struct FusedConcat {
    pub net: FusedMlp,
    dx: usize,
    dy: usize,
    x: Vec<f32>,
    y: Vec<f32>,
    ax: Vec<f32>,
    ay: Vec<f32>,
    d_ax: Vec<f32>,
    d_ay: Vec<f32>,
}

impl FusedConcat {
    /// Wraps the network F (`dx + dy → … → 1`).
    pub fn new(net: FusedMlp, dx: usize, dy: usize) -> Self {
        Self {
            net,
            dx,
            dy,
            x: Vec::new(),
            y: Vec::new(),
            ax: Vec::new(),
            ay: Vec::new(),
            d_ax: Vec::new(),
            d_ay: Vec::new(),
        }
    }

    /// The scores `[B, B]` of the last forward pass.
    pub fn scores(&self, b: usize) -> &[f32] {
        self.net.output(b * b)
    }

    /// Forward on `x [B, dx]`, `y [B, dy]`.
    pub fn forward(
        &mut self,
        p: &[&[f32]],
        x: &[f32],
        y: &[f32],
        b: usize,
        par: Parallelism,
    ) -> Result<()> {
        let (dx, dy) = (self.dx, self.dy);
        let w1 = self.net.width(1);
        let last = self.net.layers() == 1;
        copy_into(&mut self.x, x);
        copy_into(&mut self.y, y);
        resize(&mut self.ax, b * w1);
        resize(&mut self.ay, b * w1);
        let (w0, b0) = (p[0], p[1]);
        // ax = X W_xᵀ, ay = Y W_yᵀ + b: W_x is W_0's first dx columns, W_y the rest.
        let wx = View {
            data: w0,
            rows: dx,
            cols: w1,
            rs: 1,
            cs: dx + dy,
        };
        let wy = View {
            data: w0.get(dx..).unwrap_or(&[]),
            rows: dy,
            cols: w1,
            rs: 1,
            cs: dx + dy,
        };
        matmul(&mut self.ax, w1, View::rows(x, b, dx), wx, false, par)?;
        for row in self.ay.chunks_exact_mut(w1) {
            row.copy_from_slice(b0);
        }
        matmul(&mut self.ay, w1, View::rows(y, b, dy), wy, true, par)?;
        let pre = self.net.act_mut(1, b * b);
        for (i, block) in pre.chunks_exact_mut(b * w1).enumerate() {
            let ay = &self.ay[i * w1..(i + 1) * w1];
            for (row, ax) in block.chunks_exact_mut(w1).zip(self.ax.chunks_exact(w1)) {
                for ((z, u), v) in row.iter_mut().zip(ay).zip(ax) {
                    let s = u + v;
                    *z = if last { s } else { relu(s) };
                }
            }
        }
        self.net.forward_from(p, 1, b * b, par)
    }

    /// Gradients of every parameter from `d_scores [B, B]` (after [`Self::forward`]).
    pub fn backward(
        &mut self,
        p: &[&[f32]],
        d_scores: &[f32],
        b: usize,
        par: Parallelism,
    ) -> Result<()> {
        let (dx, dy) = (self.dx, self.dy);
        let w1 = self.net.width(1);
        self.net.d_output_mut(b * b).copy_from_slice(d_scores);
        let d_pre = if self.net.layers() > 1 {
            self.net.backward(p, b * b, 1, par)?;
            self.net.d_input(b * b, 1)
        } else {
            d_scores
        };
        resize(&mut self.d_ax, b * w1);
        resize(&mut self.d_ay, b * w1);
        self.d_ax.fill(0.0);
        self.d_ay.fill(0.0);
        for (i, block) in d_pre.chunks_exact(b * w1).enumerate() {
            let day = &mut self.d_ay[i * w1..(i + 1) * w1];
            for (row, dax) in block.chunks_exact(w1).zip(self.d_ax.chunks_exact_mut(w1)) {
                for ((g, u), v) in row.iter().zip(day.iter_mut()).zip(dax.iter_mut()) {
                    *u += g;
                    *v += g;
                }
            }
        }
        let (gw, rest) = self.net.grads.split_at_mut(1);
        let gw = &mut gw[0];
        let gb = &mut rest[0];
        gb.fill(0.0);
        for row in self.d_ay.chunks_exact(w1) {
            gb.iter_mut().zip(row).for_each(|(g, v)| *g += v);
        }
        let ld = dx + dy;
        let (d_ax, d_ay) = (
            View::rows(&self.d_ax, b, w1).t(),
            View::rows(&self.d_ay, b, w1).t(),
        );
        matmul(gw, ld, d_ax, View::rows(&self.x, b, dx), false, par)?;
        let tail = gw.get_mut(dx..).unwrap_or(&mut []);
        matmul(tail, ld, d_ay, View::rows(&self.y, b, dy), false, par)
    }
}

fn resize(buf: &mut Vec<f32>, n: usize) {
    if buf.len() != n {
        buf.resize(n, 0.0);
    }
}

fn copy_into(buf: &mut Vec<f32>, src: &[f32]) {
    resize(buf, src.len());
    buf.copy_from_slice(src);
}
