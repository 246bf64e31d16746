//! Numerically stable reductions over score matrices (spec §2).
//!
//! Every function here takes a score matrix `[..., B, B]` (any number of leading batch
//! dimensions, last two square) in f32 or f64 and is max-shifted, so scores shifted by ±500 give
//! the same (finite) answers as unshifted ones. Shifts are detached from the autograd graph: the
//! functions are shift-invariant, so the gradients are exact.
//!
//! These are building blocks; they assume validated input (the bounds check it first).

use candle_core::{DType, Device, Result, Tensor, D};

/// `[B, B]` 0/1 mask (`u8`) with ones on the diagonal.
fn eye_u8(b: usize, device: &Device) -> Result<Tensor> {
    Tensor::eye(b, DType::U8, device)
}

/// A tensor of the shape, dtype and device of `like`, filled with `value`.
pub(crate) fn full_like(like: &Tensor, value: f64) -> Result<Tensor> {
    Tensor::full(value, like.shape(), like.device())?.to_dtype(like.dtype())
}

/// `[B, B]` additive mask: −∞ on the diagonal, 0 elsewhere (built directly, never `eye · ∞`).
fn diag_neg_inf(b: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let zeros = Tensor::zeros((b, b), dtype, device)?;
    let neg_inf = full_like(&zeros, f64::NEG_INFINITY)?;
    eye_u8(b, device)?.where_cond(&neg_inf, &zeros)
}

/// `[B, B]` multiplicative mask: 0 on the diagonal, 1 elsewhere.
fn off_diag_ones(b: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    let ones = Tensor::ones((b, b), dtype, device)?;
    ones.sub(&Tensor::eye(b, dtype, device)?)
}

fn batch_size(s: &Tensor) -> Result<usize> {
    s.dim(D::Minus1)
}

/// log Σ exp along `dim` (removed), shifted by the detached maximum.
///
/// Shape: `[..., n, ...] → [..., ...]`. Every slice along `dim` must hold a finite entry.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::reduce::logsumexp;
/// let x = Tensor::new(&[[1000f32, 1000.0], [-1000.0, -1000.0]], &Device::Cpu)?;
/// let v = logsumexp(&x, 1)?.to_vec1::<f32>()?;
/// assert_eq!(v, [1000.0 + 2f32.ln(), -1000.0 + 2f32.ln()]);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn logsumexp<Dm: candle_core::shape::Dim + Copy>(x: &Tensor, dim: Dm) -> Result<Tensor> {
    let m = x.max_keepdim(dim)?.detach();
    x.broadcast_sub(&m)?
        .exp()?
        .sum_keepdim(dim)?
        .log()?
        .add(&m)?
        .squeeze(dim)
}

/// Elementwise log(e^a + e^b), with broadcasting; exact gradients (½ each at ties).
pub fn logaddexp(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let m = a.broadcast_maximum(b)?.detach();
    let ea = a.broadcast_sub(&m)?.exp()?;
    let eb = b.broadcast_sub(&m)?.exp()?;
    ea.add(&eb)?.log()?.add(&m)
}

/// Elementwise softplus(t) = log(1 + e^t), stable for any t.
pub fn softplus(t: &Tensor) -> Result<Tensor> {
    logaddexp(t, &t.zeros_like()?)
}

/// The diagonal of `[..., B, B]` as `[..., B]` (the joint pairs).
pub fn diag(s: &Tensor) -> Result<Tensor> {
    let b = batch_size(s)?;
    let idx = Tensor::arange_step(0u32, (b * b) as u32, (b + 1) as u32, s.device())?;
    s.flatten_from(D::Minus2)?.index_select(&idx, D::Minus1)
}

/// mean_diag: `[..., B, B] → [...]`, (1/B) Σ_i S[i, i].
pub fn mean_diag(s: &Tensor) -> Result<Tensor> {
    diag(s)?.mean(D::Minus1)
}

/// mean_off: `[..., B, B] → [...]`, the mean over the B(B−1) entries i ≠ j.
pub fn mean_off_diag(s: &Tensor) -> Result<Tensor> {
    let b = batch_size(s)?;
    let mask = off_diag_ones(b, s.dtype(), s.device())?;
    let total = s.broadcast_mul(&mask)?.sum(D::Minus1)?.sum(D::Minus1)?;
    total.affine(1.0 / (b * (b - 1)) as f64, 0.0)
}

/// LME_off: `[..., B, B] → [...]`, log of the mean of e^S over the B(B−1) entries i ≠ j.
pub fn logmeanexp_off_diag(s: &Tensor) -> Result<Tensor> {
    let b = batch_size(s)?;
    let masked = s.broadcast_add(&diag_neg_inf(b, s.dtype(), s.device())?)?;
    logsumexp(&masked.flatten_from(D::Minus2)?, D::Minus1)?
        .affine(1.0, -((b * (b - 1)) as f64).ln())
}

/// LME_row_off: `[..., B, B] → [..., B]`, entry i = log((1/(B−1)) Σ_{j≠i} e^{S[i, j]}).
pub fn logmeanexp_row_off_diag(s: &Tensor) -> Result<Tensor> {
    let b = batch_size(s)?;
    let masked = s.broadcast_add(&diag_neg_inf(b, s.dtype(), s.device())?)?;
    logsumexp(&masked, D::Minus1)?.affine(1.0, -((b - 1) as f64).ln())
}

/// Leave-one-out log-mean-exp along rows: `[..., B, B] → [..., B, B]`,
/// L[i, j] = log((1/(B−1)) Σ_{k≠j} e^{S[i, k]}).
///
/// Exact without subtracting nearly equal numbers, even when one score dominates its row by
/// hundreds of nats (where the colab's softplus-inverse form loses every digit): with m₁ the
/// row maximum at column k*, every column j ≠ k* keeps the e⁰ = 1 term of k*, so
/// Σ_k e^{S−m₁} − e^{S_j−m₁} ≥ 1 is well conditioned; column k* uses the second-largest entry
/// m₂ and sums the other entries shifted by it.
pub fn loo_logmeanexp(s: &Tensor) -> Result<Tensor> {
    let b = batch_size(s)?;
    let log_norm = ((b - 1) as f64).ln();
    let m1 = s.max_keepdim(D::Minus1)?.detach();
    let cols = Tensor::arange(0u32, b as u32, s.device())?;
    let is_max = cols.broadcast_eq(&s.argmax_keepdim(D::Minus1)?)?;
    // Columns j ≠ k*: log(T − e_j) with T = Σ_k e^{S−m₁} (one term is exactly 1).
    let e = s.broadcast_sub(&m1)?.exp()?;
    let rest = e.broadcast_sub(&e.sum_keepdim(D::Minus1)?)?.neg()?;
    let safe_rest = is_max.where_cond(&rest.ones_like()?, &rest)?;
    let other = safe_rest.log()?.broadcast_add(&m1)?;
    // Column k*: drop it, shift by the runner-up m₂.
    let without_max = is_max.where_cond(&full_like(s, f64::NEG_INFINITY)?, s)?;
    let at_max = logsumexp(&without_max, D::Minus1)?.unsqueeze(D::Minus1)?;
    is_max
        .where_cond(&at_max.broadcast_as(s.shape())?, &other)?
        .affine(1.0, -log_norm)
}

/// log(α·e^{log_a} + (1−α)·e^{log_b}), with broadcasting (spec §2.3).
///
/// α = 0 and α = 1 return `log_b` and `log_a` exactly (broadcast to the common shape), so no
/// −∞ term ever enters the graph and the gradients stay finite.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::{log_interpolate, Alpha};
/// let a = Tensor::new(&[2f64.ln()], &Device::Cpu)?;
/// let b = Tensor::new(&[4f64.ln()], &Device::Cpu)?;
/// let v = log_interpolate(&a, &b, Alpha::new(0.25)?)?.to_vec1::<f64>()?[0];
/// assert!((v - 3.5f64.ln()).abs() < 1e-15); // log(0.25·2 + 0.75·4)
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn log_interpolate(log_a: &Tensor, log_b: &Tensor, alpha: super::Alpha) -> Result<Tensor> {
    let shape = log_a
        .shape()
        .broadcast_shape_binary_op(log_b.shape(), "log_interpolate")?;
    if alpha.value() == 0.0 {
        return log_b.broadcast_as(shape)?.contiguous();
    }
    if alpha.value() == 1.0 {
        return log_a.broadcast_as(shape)?.contiguous();
    }
    let a = log_a.affine(1.0, alpha.ln_alpha())?;
    let b = log_b.affine(1.0, alpha.ln_one_minus_alpha())?;
    logaddexp(&a, &b)
}

/// A straight-through pair: the forward value of `value`, the gradient of `objective`
/// (`stop_gradient(value) + objective − stop_gradient(objective)`). Returns `value` exactly,
/// however large `objective` is (`objective + stop_gradient(value − objective)` rounds the value
/// away once |objective| ≫ |value|). Used where a bound reports one number and trains with
/// another's gradient (I_JS, SMILE, MINE-EMA).
pub fn straight_through(value: &Tensor, objective: &Tensor) -> Result<Tensor> {
    value.detach().add(&objective.sub(&objective.detach())?)
}
