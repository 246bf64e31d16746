//! A 2-d convolution as one gather and one matrix product (im2col), so that its forward *and*
//! backward run at matmul speed on Candle's CPU backend.
//!
//! y[b, o, oh, ow] = bias[o] + Σ_{c, kh, kw} w[o, c, kh, kw] · xpad[b, c, oh·s + kh, ow·s + kw].
//!
//! The input is gathered into the columns `[B·Ho·Wo, C·k·k]` (order (c, kh, kw), the weight's
//! own layout), multiplied by wᵀ `[C·k·k, O]` and permuted back to NCHW. Its gradient is the
//! transposed products and one scatter-add of the columns into the input. On the CPU the gather
//! and its scatter-add are one custom op each (`Im2Col`, `Col2Im`: direct loops from the
//! unpadded input); elsewhere, and as the tested reference ([`GemmConv::forward_indexed`]),
//! candle's `index_select` over the zero-padded input with a precomputed index. Candle's own
//! `conv2d` gives the same values (tested against a naive loop at the encoder's shapes, forward
//! and both gradients), but its CPU backward — a transposed convolution for the input gradient
//! and a convolution over the batch for the weight gradient — measured ~18× slower than
//! PyTorch for the encoder's step; this path turns both into gemm calls.

use crate::error::Error;
use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// One convolution layer with its weight `[O, C, k, k]`, bias `[O]` and gather index.
#[derive(Clone, Debug)]
pub struct GemmConv {
    weight: Tensor,
    bias: Tensor,
    index: Tensor,
    in_channels: usize,
    in_side: usize,
    out_side: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
}

impl GemmConv {
    /// A convolution of `weight [O, C, k, k]` with `stride` and symmetric zero `pad` on square
    /// inputs of side `in_side`.
    pub fn new(
        weight: Tensor,
        bias: Tensor,
        in_side: usize,
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        let (_, c, k, k2) = weight.dims4()?;
        let padded = in_side + 2 * pad;
        if k != k2 || stride == 0 || padded < k {
            return Err(Error::Shape {
                op: "GemmConv",
                detail: format!(
                    "a square kernel that fits the padded input is needed: weight {:?}, side \
                     {in_side}, stride {stride}, padding {pad}",
                    weight.dims()
                ),
            }
            .into_candle());
        }
        let out_side = (padded - k) / stride + 1;
        let mut idx = Vec::with_capacity(out_side * out_side * c * k * k);
        for oh in 0..out_side {
            for ow in 0..out_side {
                for ci in 0..c {
                    for kh in 0..k {
                        for kw in 0..k {
                            let (h, w) = (oh * stride + kh, ow * stride + kw);
                            idx.push(((ci * padded + h) * padded + w) as u32);
                        }
                    }
                }
            }
        }
        let n = idx.len();
        let index = Tensor::from_vec(idx, n, weight.device())?;
        Ok(Self {
            weight,
            bias,
            index,
            in_channels: c,
            in_side,
            out_side,
            kernel: k,
            stride,
            pad,
        })
    }

    /// `x [B, C, S, S]` → `[B, O, Ho, Wo]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        if c != self.in_channels || h != self.in_side || w != self.in_side {
            return Err(Error::Shape {
                op: "GemmConv::forward",
                detail: format!(
                    "expected [B, {}, {s}, {s}], got {:?}",
                    self.in_channels,
                    x.dims(),
                    s = self.in_side
                ),
            }
            .into_candle());
        }
        let (o, _, k, _) = self.weight.dims4()?;
        let n = self.out_side;
        let cols = if x.device().is_cpu() {
            x.contiguous()?.apply_op1(self.im2col(b))?
        } else {
            self.gather(x)?
        };
        let w = self.weight.reshape((o, c * k * k))?;
        cols.matmul(&w.t()?)?
            .broadcast_add(&self.bias)?
            .reshape((b, n, n, o))?
            .permute((0, 3, 1, 2))?
            .contiguous()
    }

    /// The same convolution with the columns gathered by candle's `index_select` from the
    /// zero-padded input (any device; the reference the CPU path is tested against).
    pub fn forward_indexed(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, _, _) = x.dims4()?;
        let (o, _, k, _) = self.weight.dims4()?;
        let n = self.out_side;
        let cols = self.gather(x)?;
        let w = self.weight.reshape((o, c * k * k))?;
        cols.matmul(&w.t()?)?
            .broadcast_add(&self.bias)?
            .reshape((b, n, n, o))?
            .permute((0, 3, 1, 2))?
            .contiguous()
    }

    /// im2col through the padded input and the precomputed index: `[B·Ho·Wo, C·k·k]`.
    fn gather(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, _, _) = x.dims4()?;
        let k = self.weight.dim(2)?;
        let p = self.pad;
        let xp = if p > 0 {
            x.pad_with_zeros(2, p, p)?.pad_with_zeros(3, p, p)?
        } else {
            x.clone()
        };
        let n = self.out_side;
        xp.reshape((b, ()))?
            .index_select(&self.index, 1)?
            .reshape((b * n * n, c * k * k))
    }

    fn im2col(&self, batch: usize) -> Im2Col {
        Im2Col {
            geom: Geometry {
                batch,
                channels: self.in_channels,
                side: self.in_side,
                kernel: self.kernel,
                stride: self.stride,
                pad: self.pad,
                out_side: self.out_side,
            },
        }
    }
}

/// The shape of one im2col: `[batch, channels, side, side]` ↔ `[batch·out²,
/// channels·kernel²]`, rows (b, oh, ow), columns (c, kh, kw).
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    channels: usize,
    side: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    out_side: usize,
}

impl Geometry {
    fn image_shape(&self) -> Shape {
        Shape::from((self.batch, self.channels, self.side, self.side))
    }

    fn cols_shape(&self) -> Shape {
        Shape::from((
            self.batch * self.out_side * self.out_side,
            self.channels * self.kernel * self.kernel,
        ))
    }

    /// Calls `f(col, pixel)` for every entry of the columns that reads an input pixel (the
    /// zero padding reads none), in the columns' memory order.
    fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        let (s, k, n) = (self.side, self.kernel, self.out_side);
        let mut col = 0;
        for b in 0..self.batch {
            for oh in 0..n {
                for ow in 0..n {
                    for ci in 0..self.channels {
                        let plane = (b * self.channels + ci) * s * s;
                        for kh in 0..k {
                            // h = oh·stride + kh − pad, outside [0, s) in the padding
                            let h = (oh * self.stride + kh).checked_sub(self.pad);
                            for kw in 0..k {
                                let w = (ow * self.stride + kw).checked_sub(self.pad);
                                if let (Some(h), Some(w)) = (h, w) {
                                    if h < s && w < s {
                                        f(col, plane + h * s + w);
                                    }
                                }
                                col += 1;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// im2col as one custom op on the CPU: the columns straight from the unpadded input (no padded
/// copy, no index tensor); its gradient is [`Col2Im`], a direct scatter-add (candle's
/// `index_add` over the same positions took ~30 % of the encoder's step).
#[derive(Clone, Copy, Debug)]
struct Im2Col {
    geom: Geometry,
}

impl Im2Col {
    fn run<T: Copy + Default>(&self, x: &[T]) -> Vec<T> {
        let mut out = vec![T::default(); self.geom.cols_shape().elem_count()];
        self.geom.for_each(|col, px| out[col] = x[px]);
        out
    }
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = &self.geom;
        let (from, to) = (g.image_shape(), g.cols_shape());
        map_storage(
            "im2col",
            storage,
            layout,
            from,
            to,
            |v| self.run(v),
            |v| self.run(v),
        )
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let grad = grad_res
            .contiguous()?
            .apply_op1_no_bwd(&Col2Im { geom: self.geom })?;
        Ok(Some(grad))
    }
}

/// The adjoint of [`Im2Col`]: every column entry added back onto the pixel it was read from.
#[derive(Clone, Copy, Debug)]
struct Col2Im {
    geom: Geometry,
}

impl Col2Im {
    fn run<T: Copy + Default + std::ops::AddAssign>(&self, cols: &[T]) -> Vec<T> {
        let mut out = vec![T::default(); self.geom.image_shape().elem_count()];
        self.geom.for_each(|col, px| out[px] += cols[col]);
        out
    }
}

impl CustomOp1 for Col2Im {
    fn name(&self) -> &'static str {
        "col2im"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let g = &self.geom;
        let (from, to) = (g.cols_shape(), g.image_shape());
        map_storage(
            "col2im",
            storage,
            layout,
            from,
            to,
            |v| self.run(v),
            |v| self.run(v),
        )
    }
}

/// One of the two ops on a contiguous f32 or f64 storage of shape `from`, giving shape `to`.
fn map_storage(
    op: &'static str,
    storage: &CpuStorage,
    layout: &Layout,
    from: Shape,
    to: Shape,
    f32s: impl Fn(&[f32]) -> Vec<f32>,
    f64s: impl Fn(&[f64]) -> Vec<f64>,
) -> Result<(CpuStorage, Shape)> {
    if layout.shape() != &from {
        return Err(Error::Shape {
            op,
            detail: format!("expected {from:?}, got {:?}", layout.shape()),
        }
        .into_candle());
    }
    let contiguous = |n: usize| match layout.contiguous_offsets() {
        Some((start, end)) if end - start == n => Ok((start, end)),
        _ => Err(candle_core::Error::Msg(format!(
            "{op}: the input must be contiguous"
        ))),
    };
    let out = match storage {
        CpuStorage::F32(v) => {
            let (a, b) = contiguous(from.elem_count())?;
            CpuStorage::F32(f32s(&v[a..b]))
        }
        CpuStorage::F64(v) => {
            let (a, b) = contiguous(from.elem_count())?;
            CpuStorage::F64(f64s(&v[a..b]))
        }
        other => return Err(candle_core::Error::UnsupportedDTypeForOp(other.dtype(), op)),
    };
    Ok((out, to))
}
