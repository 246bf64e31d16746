//! The fused CPU training step of the dSprites conv encoder ([`crate::encoder::ConvEncoder`])
//! under the InfoMax objective: the conv stack, the dense layer and the two heads, forward and
//! backward, without Candle's graph, over preallocated buffers that are reused every step.
//!
//! * **Layout.** Activations are NHWC per image, so a convolution's output `[n·Ho·Wo, O]` is
//!   its gemm's row-major result and the next layer's im2col copies runs of k·C contiguous
//!   floats (its columns in (kh, kw, c) order; the weight `[O, C, k, k]` is permuted to
//!   `[O, k, k, C]` once per step and its gradient permuted back). The last map is reordered to
//!   the reference's (c, h, w) flatten before the dense layer.
//! * **One convolution** = im2col + one gemm with the bias pre-filled and the ReLU in place,
//!   chunk by chunk of [`CHUNK_ROWS`] output rows so the columns stay in cache; backward, per
//!   chunk with its columns recomputed: dW += dZᵀ·cols, dcols = dZ·W, the scatter-add of dcols
//!   into the input's gradient (col2im); then db = Σ_rows dZ and the input's ReLU mask (the first
//!   layer's input is the image: no input gradient).
//! * **Both cores.** The 2B images ([x; x + ε]) are split into [`SHARDS`] fixed shards, each with
//!   its own buffers; the shards run on rayon's pool in `threads` groups (one fork–join for the
//!   forward, one for the backward) and their partial gradients are summed in shard order. The
//!   split does not depend on the thread count, so 1 and 2 threads give bit-identical steps.
//! * **The rest stays on Candle**: μ and logvar `[2B, K]` come back as leaf variables, the
//!   objective (the B × B part, q(y), the KL) runs on Candle autograd from them, and its
//!   gradients on the leaves are back-propagated here. q's parameters take their gradients from
//!   Candle's store; every parameter then takes one in-place Adam step ([`Adam::step_fused`]), so
//!   the moments, checkpoints and resume are those of the autograd path.

use super::im2col::Conv;
use super::mat::{matmul, View};
use super::mlp::{pass_mask, relu};
use super::{read_grad, with_slices};
use crate::encoder::{ConvLayer, EncoderConfig, Posterior};
use crate::error::{Error, Result};
use crate::train::Adam;
use candle_core::{backprop::GradStore, DType, Device, Tensor, Var};
use candle_nn::VarMap;
use gemm::Parallelism;
use rayon::prelude::*;

/// The number of shards the 2B images are split into (fewer when there are fewer images): fixed,
/// so the summation order — and the step — is the same for every thread count.
pub(crate) const SHARDS: usize = 4;

const NONE: Parallelism = Parallelism::None;

/// The network's shape, shared (read-only) by every shard.
struct Shape {
    convs: Vec<Conv>,
    /// Flattened width (C·H·W of the last map).
    flat: usize,
    dense: usize,
    latents: usize,
    noise_std: f32,
    /// B: images `0..B` are x, `B..2B` are x + noise_std·noise.
    batch: usize,
}

impl Shape {
    fn new(cfg: &EncoderConfig, noise_std: f64) -> Result<Self> {
        let shapes = cfg.conv_shapes()?;
        let convs = cfg
            .conv
            .iter()
            .zip(&shapes)
            .map(|(l, ((c_in, side_in), (c_out, side_out)))| {
                let ConvLayer {
                    kernel,
                    stride,
                    padding,
                    ..
                } = *l;
                Conv {
                    c_in: *c_in,
                    side_in: *side_in,
                    c_out: *c_out,
                    side_out: *side_out,
                    kernel,
                    stride,
                    pad: padding,
                }
            })
            .collect();
        Ok(Self {
            convs,
            flat: cfg.flat_dim()?,
            dense: cfg.dense,
            latents: cfg.latents,
            noise_std: noise_std as f32,
            batch: 0,
        })
    }

    /// Parameter indices: conv l → (2l, 2l + 1); then dense, mean, logvar.
    fn dense_idx(&self) -> usize {
        2 * self.convs.len()
    }

    /// Side and channels of the map that is flattened (the input when there is no conv).
    fn last_map(&self, input: (usize, usize)) -> (usize, usize) {
        self.convs
            .last()
            .map_or(input, |c| (c.c_out, c.out_pixels()))
    }
}

/// One shard's images and buffers.
struct Shard {
    first: usize,
    n: usize,
    /// `acts[0]`: the input images NHWC; `acts[l + 1]`: conv l's output after the ReLU.
    acts: Vec<Vec<f32>>,
    /// One chunk's im2col columns (reused by every layer, forward and backward).
    cols: Vec<f32>,
    flat: Vec<f32>,
    hidden: Vec<f32>,
    /// `[n, 2K]`: μ then logvar per row.
    heads: Vec<f32>,
    /// dL/d(heads), filled before the backward pass.
    d_heads: Vec<f32>,
    d_cur: Vec<f32>,
    d_next: Vec<f32>,
    d_cols: Vec<f32>,
    d_flat: Vec<f32>,
    d_hidden: Vec<f32>,
    /// Partial gradients in parameter order (conv weights in the permuted layout).
    grads: Vec<Vec<f32>>,
}

/// The first `n` floats of `buf`, which only ever grows (no zeroing once it has its size).
fn sized(buf: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if buf.len() < n {
        buf.resize(n, 0.0);
    }
    &mut buf[..n]
}

fn fill_rows(dst: &mut [f32], bias: &[f32]) {
    for row in dst.chunks_exact_mut(bias.len()) {
        row.copy_from_slice(bias);
    }
}

fn col_sums(dst: &mut [f32], src: View) {
    dst.fill(0.0);
    for r in 0..src.rows {
        let row = &src.data[r * src.rs..];
        for (c, d) in dst.iter_mut().enumerate().take(src.cols) {
            *d += row[c * src.cs];
        }
    }
}

/// `b [rows, cols]`-strided view of `data` with row stride `rs`.
fn strided(data: &[f32], rows: usize, cols: usize, rs: usize) -> View<'_> {
    View {
        data,
        rows,
        cols,
        rs,
        cs: 1,
    }
}

impl Shard {
    fn new(first: usize, n: usize, shape: &Shape, params: &[usize]) -> Self {
        let nc = shape.convs.len();
        Self {
            first,
            n,
            acts: vec![Vec::new(); nc + 1],
            cols: Vec::new(),
            flat: Vec::new(),
            hidden: Vec::new(),
            heads: Vec::new(),
            d_heads: Vec::new(),
            d_cur: Vec::new(),
            d_next: Vec::new(),
            d_cols: Vec::new(),
            d_flat: Vec::new(),
            d_hidden: Vec::new(),
            grads: params.iter().map(|&len| vec![0.0; len]).collect(),
        }
    }

    /// Fills `acts[0]` with this shard's images: x for global image g < B, x + σ·noise after,
    /// NCHW → NHWC (`in_ch` channels of side `side`).
    fn load(&mut self, shape: &Shape, x: &[f32], noise: &[f32], in_ch: usize, side: usize) {
        let px = side * side;
        let img = px * in_ch;
        let (b, std) = (shape.batch, shape.noise_std);
        let input = sized(&mut self.acts[0], self.n * img);
        for i in 0..self.n {
            let g = self.first + i;
            let (src, noisy) = if g < b { (g, false) } else { (g - b, true) };
            let xs = &x[src * img..(src + 1) * img];
            let ns = &noise[src * img..(src + 1) * img];
            let dst = &mut input[i * img..(i + 1) * img];
            for c in 0..in_ch {
                for p in 0..px {
                    let v = xs[c * px + p];
                    // The same f32 arithmetic as the reference: x + (noise·σ + 0).
                    dst[p * in_ch + c] = if noisy {
                        v + (ns[c * px + p] * std + 0.0)
                    } else {
                        v
                    };
                }
            }
        }
    }

    fn forward(&mut self, shape: &Shape, w_perm: &[Vec<f32>], p: &[&[f32]]) -> Result<()> {
        let n = self.n;
        for (l, conv) in shape.convs.iter().enumerate() {
            let (o, patch, px) = (conv.c_out, conv.patch(), conv.out_pixels());
            let z = sized(&mut self.acts[l + 1], n * px * o);
            fill_rows(z, p[2 * l + 1]);
            let per = chunk_images(conv);
            for (first, m) in chunks(n, per) {
                let rows = m * px;
                let cols = sized(&mut self.cols, rows * patch);
                conv.im2col(&self.acts[l][first * conv.in_len()..], m, cols);
                let z = &mut self.acts[l + 1][first * px * o..(first + m) * px * o];
                matmul(
                    z,
                    o,
                    View::rows(cols, rows, patch),
                    View::rows(&w_perm[l], o, patch).t(),
                    true,
                    NONE,
                )?;
                z.iter_mut().for_each(|v| *v = relu(*v));
            }
        }
        // The reference flattens (c, h, w): flat[i, c·P + q] = last[i, q·C + c].
        let (ch, pixels) = shape.last_map((0, 0));
        let (f, d, k) = (shape.flat, shape.dense, shape.latents);
        let last = &self.acts[shape.convs.len()];
        let flat = sized(&mut self.flat, n * f);
        if shape.convs.is_empty() {
            flat.copy_from_slice(&last[..n * f]);
        } else {
            for i in 0..n {
                for q in 0..pixels {
                    for c in 0..ch {
                        flat[i * f + c * pixels + q] = last[i * f + q * ch + c];
                    }
                }
            }
        }
        let di = shape.dense_idx();
        let hidden = sized(&mut self.hidden, n * d);
        fill_rows(hidden, p[di + 1]);
        matmul(
            hidden,
            d,
            View::rows(&self.flat, n, f),
            View::rows(p[di], d, f).t(),
            true,
            NONE,
        )?;
        hidden.iter_mut().for_each(|v| *v = relu(*v));
        let heads = sized(&mut self.heads, n * 2 * k);
        for row in heads.chunks_exact_mut(2 * k) {
            row[..k].copy_from_slice(p[di + 3]);
            row[k..].copy_from_slice(p[di + 5]);
        }
        for (h, off) in [(di + 2, 0), (di + 4, k)] {
            matmul(
                &mut self.heads[off..],
                2 * k,
                View::rows(&self.hidden, n, d),
                View::rows(p[h], k, d).t(),
                true,
                NONE,
            )?;
        }
        Ok(())
    }

    /// From dL/d(heads) in `d_heads` to this shard's partial gradients.
    fn backward(&mut self, shape: &Shape, w_perm: &[Vec<f32>], p: &[&[f32]]) -> Result<()> {
        let n = self.n;
        let (f, d, k) = (shape.flat, shape.dense, shape.latents);
        let di = shape.dense_idx();
        let (g_lo, g_hi) = self.grads.split_at_mut(di);
        for (j, off) in [(2, 0), (4, k)] {
            let dh = strided(&self.d_heads[off..], n, k, 2 * k);
            matmul(
                &mut g_hi[j],
                d,
                dh.t(),
                View::rows(&self.hidden, n, d),
                false,
                NONE,
            )?;
            col_sums(&mut g_hi[j + 1], dh);
        }
        let d_hidden = sized(&mut self.d_hidden, n * d);
        for (j, (h, off)) in [(di + 2, 0), (di + 4, k)].into_iter().enumerate() {
            matmul(
                d_hidden,
                d,
                strided(&self.d_heads[off..], n, k, 2 * k),
                View::rows(p[h], k, d),
                j > 0,
                NONE,
            )?;
        }
        mask(d_hidden, &self.hidden);
        matmul(
            &mut g_hi[0],
            f,
            View::rows(d_hidden, n, d).t(),
            View::rows(&self.flat, n, f),
            false,
            NONE,
        )?;
        col_sums(&mut g_hi[1], View::rows(d_hidden, n, d));
        let nc = shape.convs.len();
        if nc == 0 {
            return Ok(());
        }
        let d_flat = sized(&mut self.d_flat, n * f);
        matmul(
            d_flat,
            f,
            View::rows(&self.d_hidden, n, d),
            View::rows(p[di], d, f),
            false,
            NONE,
        )?;
        let (ch, pixels) = shape.last_map((0, 0));
        let d_cur = sized(&mut self.d_cur, n * f);
        for i in 0..n {
            for q in 0..pixels {
                for c in 0..ch {
                    d_cur[i * f + q * ch + c] = d_flat[i * f + c * pixels + q];
                }
            }
        }
        mask(d_cur, &self.acts[nc]);
        for (l, conv) in shape.convs.iter().enumerate().rev() {
            let (o, patch, px) = (conv.c_out, conv.patch(), conv.out_pixels());
            col_sums(
                &mut g_lo[2 * l + 1],
                View::rows(&self.d_cur[..n * px * o], n * px, o),
            );
            let d_in = sized(&mut self.d_next, n * conv.in_len());
            // Chunk by chunk, the columns recomputed (they stay in cache): dW += dZᵀ·cols and,
            // above the first layer, the chunk's input gradient col2im(dZ·W).
            for (ci, (first, m)) in chunks(n, chunk_images(conv)).enumerate() {
                let rows = m * px;
                let cols = sized(&mut self.cols, rows * patch);
                conv.im2col(&self.acts[l][first * conv.in_len()..], m, cols);
                let dz = View::rows(&self.d_cur[first * px * o..(first + m) * px * o], rows, o);
                matmul(
                    &mut g_lo[2 * l],
                    patch,
                    dz.t(),
                    View::rows(cols, rows, patch),
                    ci > 0,
                    NONE,
                )?;
                if l == 0 {
                    continue;
                }
                let d_cols = sized(&mut self.d_cols, rows * patch);
                matmul(
                    d_cols,
                    patch,
                    dz,
                    View::rows(&w_perm[l], o, patch),
                    false,
                    NONE,
                )?;
                let len = conv.in_len();
                conv.col2im(d_cols, m, &mut d_in[first * len..(first + m) * len]);
            }
            if l == 0 {
                break;
            }
            mask(d_in, &self.acts[l]);
            std::mem::swap(&mut self.d_cur, &mut self.d_next);
        }
        Ok(())
    }
}

/// Rows of im2col columns per chunk: a chunk's columns (and their gradient) stay in cache between
/// the im2col and the gemms that read them, instead of a whole shard's going through memory
/// (conv2's are 512 KiB an image). Measured at B = 256, 1 thread, Intel Xeon: 256, 512, 1024 and
/// 2048 rows gave 385, 397–409, 398–440 and 405 ms a step; unchunked 530–559 ms.
const CHUNK_ROWS: usize = 256;

/// Images per chunk for `conv` (at least one).
fn chunk_images(conv: &Conv) -> usize {
    (CHUNK_ROWS / conv.out_pixels().max(1)).max(1)
}

/// `(first image, images)` of each chunk of `per` images out of `n`.
pub(super) fn chunks(n: usize, per: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).step_by(per.max(1)).map(move |f| (f, per.min(n - f)))
}

/// Zeroes the gradient where the ReLU output `a` did not pass it (see [`relu`]).
fn mask(g: &mut [f32], a: &[f32]) {
    g.iter_mut()
        .zip(a)
        .for_each(|(g, &v)| *g = f32::from_bits(g.to_bits() & pass_mask(v)));
}

/// The fused encoder: its parameters (read in place from the model's `Var`s), the shards and
/// the leaves of the current step.
pub(crate) struct FusedEncoder {
    shape: Shape,
    in_channels: usize,
    side: usize,
    /// The encoder's parameters in network order, with their VarMap names.
    vars: Vec<(String, Var)>,
    /// Every other trained parameter (q's), which takes its gradient from Candle's store.
    others: Vec<(String, Var)>,
    shards: Vec<Shard>,
    w_perm: Vec<Vec<f32>>,
    /// The summed gradients in parameter order (conv weights back in `[O, C, k, k]`).
    grads: Vec<Vec<f32>>,
    leaves: Option<(Var, Var)>,
    threads: usize,
    /// A thread count that overrides candle's (`RAYON_NUM_THREADS`), for the tests.
    #[cfg(test)]
    pub fixed_threads: Option<usize>,
}

fn shape_err(detail: String) -> Error {
    Error::Shape {
        op: "fused encoder",
        detail,
    }
}

impl FusedEncoder {
    /// The fused step for the encoder stored under `prefix` in `varmap` (built by
    /// [`crate::encoder::ConvEncoder::new`] with `cfg`), pixel noise scaled by `noise_std`.
    pub fn new(varmap: &VarMap, prefix: &str, cfg: &EncoderConfig, noise_std: f64) -> Result<Self> {
        let shape = Shape::new(cfg, noise_std)?;
        let data = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("fused encoder: the VarMap lock is poisoned"))?;
        let mut names: Vec<String> = (1..=cfg.conv.len())
            .flat_map(|l| ["weight", "bias"].map(|p| format!("conv{l}.{p}")))
            .collect();
        for layer in ["dense", "mean", "logvar"] {
            names.extend(["weight", "bias"].map(|p| format!("{layer}.{p}")));
        }
        let mut vars = Vec::with_capacity(names.len());
        for name in names {
            let full = format!("{prefix}.{name}");
            let var = data
                .get(&full)
                .cloned()
                .ok_or_else(|| shape_err(format!("no parameter `{full}` in the model")))?;
            if var.dtype() != DType::F32 || !var.device().is_cpu() {
                return Err(shape_err(format!("`{full}` is not an f32 CPU parameter")));
            }
            vars.push((full, var));
        }
        let mut others: Vec<(String, Var)> = data
            .iter()
            .filter(|(k, _)| !vars.iter().any(|(n, _)| n == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        others.sort_by(|a, b| a.0.cmp(&b.0));
        drop(data);
        let w_perm = shape
            .convs
            .iter()
            .map(|c| vec![0.0; c.c_out * c.patch()])
            .collect();
        let grads = vars
            .iter()
            .map(|(_, v)| vec![0.0; v.elem_count()])
            .collect();
        Ok(Self {
            shape,
            in_channels: cfg.in_channels,
            side: cfg.image_size,
            vars,
            others,
            shards: Vec::new(),
            w_perm,
            grads,
            leaves: None,
            threads: 1,
            #[cfg(test)]
            fixed_threads: None,
        })
    }

    fn params(&self) -> Vec<Tensor> {
        self.vars
            .iter()
            .map(|(_, v)| v.as_tensor().clone())
            .collect()
    }

    /// Splits `images` into the shards (reusing their buffers when the batch is unchanged).
    fn plan(&mut self, images: usize) {
        let count = SHARDS.min(images).max(1);
        let fits =
            self.shards.len() == count && self.shards.iter().map(|s| s.n).sum::<usize>() == images;
        if fits {
            return;
        }
        let lens: Vec<usize> = self.vars.iter().map(|(_, v)| v.elem_count()).collect();
        self.shards = (0..count)
            .map(|s| {
                let (lo, hi) = (s * images / count, (s + 1) * images / count);
                Shard::new(lo, hi - lo, &self.shape, &lens)
            })
            .collect();
    }

    /// Runs `f` on every shard: in order on one thread, or on rayon's pool in `threads` groups.
    fn each_shard(
        shards: &mut [Shard],
        threads: usize,
        f: impl Fn(&mut Shard) -> Result<()> + Sync,
    ) -> Result<()> {
        if threads <= 1 || shards.len() <= 1 {
            return shards.iter_mut().try_for_each(f);
        }
        let per = shards.len().div_ceil(threads);
        shards
            .par_chunks_mut(per)
            .try_for_each(|group| group.iter_mut().try_for_each(&f))
    }

    /// μ and logvar `[2B, K]` of [x; x + noise_std·noise] (`x`, `noise` `[B, C, S, S]`), as leaf
    /// variables for the objective's autograd (clean rows first, like
    /// [`crate::infomax::InfoMax::encode_pair`]).
    pub fn forward(&mut self, x: &Tensor, noise: &Tensor) -> Result<Posterior> {
        let (c, s) = (self.in_channels, self.side);
        let b = x.dims().first().copied().unwrap_or(0);
        if x.dims() != [b, c, s, s] || noise.dims() != x.dims() || b == 0 {
            return Err(shape_err(format!(
                "x and noise must both be [B ≥ 1, {c}, {s}, {s}], got {:?} and {:?}",
                x.dims(),
                noise.dims()
            )));
        }
        self.threads = candle_core::utils::get_num_threads().max(1);
        #[cfg(test)]
        if let Some(t) = self.fixed_threads {
            self.threads = t;
        }
        self.shape.batch = b;
        self.plan(2 * b);
        let k = self.shape.latents;
        let mut tensors = self.params();
        tensors.push(x.to_dtype(DType::F32)?.contiguous()?);
        tensors.push(noise.to_dtype(DType::F32)?.contiguous()?);
        let (mean, logvar) = with_slices(&tensors, |all| {
            let (p, xn) = all.split_at(all.len() - 2);
            for (l, conv) in self.shape.convs.iter().enumerate() {
                conv.permute_weight(p[2 * l], &mut self.w_perm[l]);
            }
            let (shape, w_perm) = (&self.shape, &self.w_perm);
            Self::each_shard(&mut self.shards, self.threads, |sh| {
                sh.load(shape, xn[0], xn[1], c, s);
                sh.forward(shape, w_perm, p)
            })?;
            let mut mean = vec![0.0f32; 2 * b * k];
            let mut logvar = vec![0.0f32; 2 * b * k];
            for sh in &self.shards {
                for (i, row) in sh.heads[..sh.n * 2 * k].chunks_exact(2 * k).enumerate() {
                    let g = sh.first + i;
                    mean[g * k..(g + 1) * k].copy_from_slice(&row[..k]);
                    logvar[g * k..(g + 1) * k].copy_from_slice(&row[k..]);
                }
            }
            Ok((mean, logvar))
        })?;
        let mean = Var::from_vec(mean, (2 * b, k), &Device::Cpu)?;
        let logvar = Var::from_vec(logvar, (2 * b, k), &Device::Cpu)?;
        let out = Posterior {
            mean: mean.as_tensor().clone(),
            logvar: logvar.as_tensor().clone(),
        };
        self.leaves = Some((mean, logvar));
        Ok(out)
    }

    /// The backward pass alone, from the objective's gradients on the leaves of the last
    /// [`Self::forward`]: fills [`Self::grads`]; false when the loss does not reach the encoder.
    fn backward(&mut self, grads: &GradStore) -> Result<bool> {
        let Some((mean, logvar)) = self.leaves.take() else {
            return Err(shape_err("backward without a forward pass".into()));
        };
        let rows = mean.dims()[0];
        let k = self.shape.latents;
        let (mut dm, mut dl) = (Vec::new(), Vec::new());
        let has_m = read_grad(grads, Some(&mean), &mut dm, rows * k)?;
        let has_l = read_grad(grads, Some(&logvar), &mut dl, rows * k)?;
        if !has_m && !has_l {
            return Ok(false);
        }
        for (buf, has) in [(&mut dm, has_m), (&mut dl, has_l)] {
            if !has {
                buf.clear();
                buf.resize(rows * k, 0.0);
            }
        }
        for sh in &mut self.shards {
            let dh = sized(&mut sh.d_heads, sh.n * 2 * k);
            for (i, row) in dh.chunks_exact_mut(2 * k).enumerate() {
                let g = sh.first + i;
                row[..k].copy_from_slice(&dm[g * k..(g + 1) * k]);
                row[k..].copy_from_slice(&dl[g * k..(g + 1) * k]);
            }
        }
        let tensors = self.params();
        with_slices(&tensors, |p| {
            let (shape, w_perm) = (&self.shape, &self.w_perm);
            Self::each_shard(&mut self.shards, self.threads, |sh| {
                sh.backward(shape, w_perm, p)
            })
        })?;
        let nc = self.shape.convs.len();
        let mut tmp = Vec::new();
        for (j, total) in self.grads.iter_mut().enumerate() {
            total.fill(0.0);
            for sh in &self.shards {
                total
                    .iter_mut()
                    .zip(&sh.grads[j])
                    .for_each(|(t, g)| *t += g);
            }
            if j < 2 * nc && j % 2 == 0 {
                tmp.clear();
                tmp.extend_from_slice(total);
                self.shape.convs[j / 2].unpermute_weight(&tmp, total);
            }
        }
        Ok(true)
    }

    /// Backpropagates the objective's gradients (`grads` of the loss, from the last forward's
    /// leaves) through the encoder and applies one Adam update to every parameter: the
    /// encoder's from this pass, the others' (q's) from `grads`. A parameter the loss does not
    /// reach is left alone, as on the autograd path.
    pub fn backward_and_update(&mut self, grads: &GradStore, adam: &mut Adam) -> Result<()> {
        let reached = self.backward(grads)?;
        let mut other_grads: Vec<(usize, Vec<f32>)> = Vec::new();
        for (i, (_, var)) in self.others.iter().enumerate() {
            let mut buf = Vec::new();
            if read_grad(grads, Some(var), &mut buf, var.elem_count())? {
                other_grads.push((i, buf));
            }
        }
        let mut slots: Vec<Option<&[f32]>> = Vec::new();
        for name in adam.slot_names() {
            if let Some(j) = self.vars.iter().position(|(n, _)| n == name) {
                slots.push(reached.then(|| self.grads[j].as_slice()));
            } else if let Some(i) = self.others.iter().position(|(n, _)| n == name) {
                slots.push(
                    other_grads
                        .iter()
                        .find(|(o, _)| *o == i)
                        .map(|(_, g)| g.as_slice()),
                );
            } else {
                return Err(shape_err(format!(
                    "the optimiser's parameter `{name}` is not in the model"
                )));
            }
        }
        adam.step_fused(&slots)?;
        Ok(())
    }

    /// The summed gradients of the last backward pass, by parameter name (for the tests).
    #[cfg(test)]
    pub fn gradients(&mut self, grads: &GradStore) -> Result<Vec<(String, Vec<f32>)>> {
        self.backward(grads)?;
        Ok(self
            .vars
            .iter()
            .zip(&self.grads)
            .map(|((n, _), g)| (n.clone(), g.clone()))
            .collect())
    }
}
