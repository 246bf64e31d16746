//! The convolutional encoder of the dSprites experiment (spec §7.4) and its mean-field Gaussian
//! posterior p(y | x) = N(μ(x), diag σ²(x)), σ = exp(½·logvar).
//!
//! The default [`EncoderConfig`] is disentanglement_lib's `conv_encoder` (Burgess et al. 2018 /
//! Locatello et al. 2018), in NCHW with symmetric padding so the shapes match its "same" padding:
//!
//! | layer | spec | output |
//! |---|---|---|
//! | input | 1 × 64 × 64 | |
//! | `conv1` | 32 filters, 4×4, stride 2, padding 1, ReLU | 32 × 32 × 32 |
//! | `conv2` | 32 filters, 4×4, stride 2, padding 1, ReLU | 32 × 16 × 16 |
//! | `conv3` | 64 filters, 2×2, stride 2, padding 0, ReLU | 64 × 8 × 8 |
//! | `conv4` | 64 filters, 2×2, stride 2, padding 0, ReLU | 64 × 4 × 4 |
//! | flatten | (channel, row, column) order | 1024 |
//! | `dense` | 256, ReLU | 256 |
//! | `mean`, `logvar` | two linear heads | K = 10 each |
//!
//! The parameter names in that table (`conv1.weight`, `dense.bias`, `logvar.weight`, …) are the
//! checkpoint keys. Parameters are created as zeros: fill them with
//! [`init_reference`](crate::nn::init_reference) (Glorot uniform kernels, zero biases).
//!
//! [`Posterior`] holds μ and log σ² `[B, K]` and gives, in the crate's score convention (rows = y,
//! columns = x):
//! * the reparameterised sample y = μ + σ ⊙ ε;
//! * Lp[i, j] = log p(y_i | x_j) = Σ_k log N(y_ik; μ_jk, σ²_jk) `[B, B]` and its per-latent
//!   terms `[K, B, B]` (the input of [`loo_upper`](crate::bounds::loo_upper) and
//!   [`tc_upper_with_lower`](crate::bounds::tc_upper_with_lower));
//! * KL(p₁ ‖ p₂) = Σ_k ½[logvar₂ − logvar₁ + (σ₁² + (μ₁ − μ₂)²)/σ₂² − 1] per row.
//!
//! **No log-variance clamp.** σ² = exp(logvar) is formed in the posterior's dtype; the objective
//! ([`crate::infomax`]) casts μ and logvar to f64 first, where exp(logvar) stays positive and
//! finite for |logvar| < 700, far beyond anything a trained encoder reaches. A clamp would cut the
//! gradient of the variance where it saturates and change the bounds' values; a diverged
//! encoder (non-finite output) is reported as an error by the densities instead.

use crate::density::{diag_gaussian_log_prob_pairs, diag_gaussian_log_prob_pairs_per_dim};
use crate::error::Error;
use candle_core::{DType, Module, Result, Tensor, D};
use candle_nn::{Init, Linear, VarBuilder};

mod conv;
pub use conv::GemmConv;
use serde::{Deserialize, Serialize};

/// One convolution: `channels` filters of `kernel × kernel`, then a ReLU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvLayer {
    /// Output channels.
    pub channels: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Symmetric zero padding.
    pub padding: usize,
}

impl ConvLayer {
    /// Output side of a square input of side `size`: ⌊(size + 2·padding − kernel)/stride⌋ + 1,
    /// or `None` when the kernel does not fit.
    pub fn output_size(&self, size: usize) -> Option<usize> {
        let padded = size + 2 * self.padding;
        (self.stride > 0 && padded >= self.kernel).then(|| (padded - self.kernel) / self.stride + 1)
    }
}

/// The encoder's shape: square single-image input, a stack of ReLU convolutions, one dense ReLU
/// layer and the two linear heads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// Number of latents K (10).
    pub latents: usize,
    /// Side of the square input image (64).
    pub image_size: usize,
    /// Input channels (1: binary dSprites).
    pub in_channels: usize,
    /// The convolutions, input side first (named `conv1`, `conv2`, …).
    pub conv: Vec<ConvLayer>,
    /// Width of the dense layer after the flatten (256).
    pub dense: usize,
}

impl Default for EncoderConfig {
    /// disentanglement_lib's `conv_encoder` with 10 latents (see the module table).
    fn default() -> Self {
        let layer = |channels, kernel, padding| ConvLayer {
            channels,
            kernel,
            stride: 2,
            padding,
        };
        Self {
            latents: 10,
            image_size: 64,
            in_channels: 1,
            conv: vec![
                layer(32, 4, 1),
                layer(32, 4, 1),
                layer(64, 2, 0),
                layer(64, 2, 0),
            ],
            dense: 256,
        }
    }
}

/// A square feature map's `(channels, side)`.
pub type MapShape = (usize, usize);

impl EncoderConfig {
    /// The input and output shape of every convolution, or an error naming the first layer whose
    /// kernel does not fit or whose width is 0.
    pub fn conv_shapes(&self) -> crate::Result<Vec<(MapShape, MapShape)>> {
        let bad = |name, value: String, reason| Error::InvalidParameter {
            op: "EncoderConfig",
            name,
            value,
            reason,
        };
        if self.image_size == 0 || self.in_channels == 0 {
            return Err(bad(
                "image_size/in_channels",
                format!("{} / {}", self.image_size, self.in_channels),
                "the input needs a side and a channel count ≥ 1",
            ));
        }
        let mut shape = (self.in_channels, self.image_size);
        let mut out = Vec::with_capacity(self.conv.len());
        for layer in &self.conv {
            let side = layer
                .output_size(shape.1)
                .filter(|_| layer.channels > 0 && layer.kernel > 0 && layer.stride > 0);
            let Some(side) = side else {
                return Err(bad(
                    "conv",
                    format!("{layer:?} on a {}×{0} input", shape.1),
                    "every convolution needs channels, kernel, stride ≥ 1 and a kernel that fits \
                     the padded input",
                ));
            };
            out.push((shape, (layer.channels, side)));
            shape = (layer.channels, side);
        }
        Ok(out)
    }

    /// Width of the flattened convolution output (1024 for the default).
    pub fn flat_dim(&self) -> crate::Result<usize> {
        let shapes = self.conv_shapes()?;
        let (c, s) = shapes
            .last()
            .map_or((self.in_channels, self.image_size), |l| l.1);
        Ok(c * s * s)
    }

    /// Checks every width is ≥ 1 and every kernel fits.
    pub fn validate(&self) -> crate::Result<()> {
        self.conv_shapes()?;
        if self.latents == 0 || self.dense == 0 {
            return Err(Error::InvalidParameter {
                op: "EncoderConfig",
                name: "latents/dense",
                value: format!("{} / {}", self.latents, self.dense),
                reason: "the dense layer and the latent heads need a width ≥ 1",
            });
        }
        Ok(())
    }
}

/// The convolutional encoder: `x [B, C, S, S]` → [`Posterior`] with μ, logvar `[B, K]`.
#[derive(Clone, Debug)]
pub struct ConvEncoder {
    conv: Vec<GemmConv>,
    dense: Linear,
    mean: Linear,
    logvar: Linear,
    config: EncoderConfig,
}

fn linear(inp: usize, out: usize, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get_with_hints((out, inp), "weight", Init::Const(0.0))?;
    let bias = vb.get_with_hints(out, "bias", Init::Const(0.0))?;
    Ok(Linear::new(weight, Some(bias)))
}

impl ConvEncoder {
    /// Creates the parameters (zeros until [`init_reference`](crate::nn::init_reference)) under
    /// `vb`: `conv{k}.weight [out, in, kernel, kernel]`, `conv{k}.bias`, `dense.*`, `mean.*`,
    /// `logvar.*`.
    pub fn new(config: &EncoderConfig, vb: VarBuilder) -> Result<Self> {
        config.validate()?;
        let shapes = config.conv_shapes()?;
        let conv = config
            .conv
            .iter()
            .zip(&shapes)
            .enumerate()
            .map(|(k, (layer, ((c_in, side), _)))| {
                let vb = vb.pp(format!("conv{}", k + 1));
                let dims = (layer.channels, *c_in, layer.kernel, layer.kernel);
                let weight = vb.get_with_hints(dims, "weight", Init::Const(0.0))?;
                let bias = vb.get_with_hints(layer.channels, "bias", Init::Const(0.0))?;
                GemmConv::new(weight, bias, *side, layer.stride, layer.padding)
            })
            .collect::<Result<Vec<_>>>()?;
        let flat = config.flat_dim()?;
        Ok(Self {
            conv,
            dense: linear(flat, config.dense, vb.pp("dense"))?,
            mean: linear(config.dense, config.latents, vb.pp("mean"))?,
            logvar: linear(config.dense, config.latents, vb.pp("logvar"))?,
            config: config.clone(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// The parameters' dtype (the dtype of the `VarBuilder` it was built with).
    pub fn dtype(&self) -> DType {
        self.dense.weight().dtype()
    }

    /// `x [B, C, S, S]` (any float dtype; cast to the parameters' dtype) → the posterior, μ and
    /// logvar `[B, K]`. A wrong shape is an [`Error::Shape`] naming the expected one.
    pub fn forward(&self, x: &Tensor) -> Result<Posterior> {
        let (c, s) = (self.config.in_channels, self.config.image_size);
        let b = match x.dims() {
            [b, xc, h, w] if *b > 0 && *xc == c && *h == s && *w == s => *b,
            dims => {
                return Err(Error::Shape {
                    op: "ConvEncoder::forward",
                    detail: format!("x must be [B ≥ 1, {c}, {s}, {s}], got {dims:?}"),
                }
                .into_candle())
            }
        };
        let mut h = x.to_dtype(self.dtype())?;
        for conv in &self.conv {
            h = conv.forward(&h)?.relu()?;
        }
        let h = self.dense.forward(&h.reshape((b, ()))?)?.relu()?;
        Ok(Posterior {
            mean: self.mean.forward(&h)?,
            logvar: self.logvar.forward(&h)?,
        })
    }
}

/// A mean-field Gaussian posterior per row: p(y | x_b) = N(mean_b, diag exp(logvar_b)).
#[derive(Clone, Debug)]
pub struct Posterior {
    /// μ `[B, K]`.
    pub mean: Tensor,
    /// log σ² `[B, K]`.
    pub logvar: Tensor,
}

impl Posterior {
    fn check(&self, op: &'static str, name: &str, t: &Tensor) -> Result<()> {
        if self.mean.rank() != 2 || self.logvar.dims() != self.mean.dims() {
            return Err(Error::Shape {
                op,
                detail: format!(
                    "the posterior's mean and logvar must both be [B, K], got {:?} and {:?}",
                    self.mean.dims(),
                    self.logvar.dims()
                ),
            }
            .into_candle());
        }
        let k = self.mean.dim(1)?;
        match t.dims() {
            [_, tk] if *tk == k => Ok(()),
            dims => Err(Error::Shape {
                op,
                detail: format!("{name} must be [B, {k}] (K = {k} latents), got {dims:?}"),
            }
            .into_candle()),
        }
    }

    /// σ = exp(½·logvar) `[B, K]`.
    pub fn std(&self) -> Result<Tensor> {
        self.logvar.affine(0.5, 0.0)?.exp()
    }

    /// σ² = exp(logvar) `[B, K]`.
    pub fn var(&self) -> Result<Tensor> {
        self.logvar.exp()
    }

    /// The same posterior in `dtype` (differentiable: gradients flow back through the cast).
    pub fn to_dtype(&self, dtype: DType) -> Result<Self> {
        Ok(Self {
            mean: self.mean.to_dtype(dtype)?,
            logvar: self.logvar.to_dtype(dtype)?,
        })
    }

    /// Rows `start .. start + len`.
    pub fn narrow(&self, start: usize, len: usize) -> Result<Self> {
        Ok(Self {
            mean: self.mean.narrow(0, start, len)?,
            logvar: self.logvar.narrow(0, start, len)?,
        })
    }

    /// The reparameterised sample y = μ + σ ⊙ ε: `eps [B, K]` standard normal → `[B, K]`.
    pub fn sample(&self, eps: &Tensor) -> Result<Tensor> {
        self.check("Posterior::sample", "eps", eps)?;
        if eps.dims() != self.mean.dims() {
            return Err(Error::Shape {
                op: "Posterior::sample",
                detail: format!(
                    "eps must have the posterior's shape {:?}, got {:?}",
                    self.mean.dims(),
                    eps.dims()
                ),
            }
            .into_candle());
        }
        self.mean
            .add(&self.std()?.mul(&eps.to_dtype(self.mean.dtype())?)?)
    }

    /// Lp[i, j] = log p(y_i | x_j) `[B, B]` (rows = y, columns = x): `y [B, K]`.
    pub fn log_prob_pairs(&self, y: &Tensor) -> Result<Tensor> {
        self.check("Posterior::log_prob_pairs", "y", y)?;
        diag_gaussian_log_prob_pairs(y, &self.mean, &self.var()?)
    }

    /// Lp⁽ᵏ⁾[k, i, j] = log N(y_ik; μ_jk, σ²_jk) `[K, B, B]`: `y [B, K]`. Summing over k gives
    /// [`Posterior::log_prob_pairs`].
    pub fn log_prob_pairs_per_latent(&self, y: &Tensor) -> Result<Tensor> {
        self.check("Posterior::log_prob_pairs_per_latent", "y", y)?;
        diag_gaussian_log_prob_pairs_per_dim(y, &self.mean, &self.var()?)
    }

    /// KL(self_b ‖ other_b) per row `[B]`, in closed form:
    /// Σ_k ½[logvar₂ − logvar₁ + (σ₁² + (μ₁ − μ₂)²)/σ₂² − 1] with 1 = self, 2 = other.
    pub fn kl(&self, other: &Posterior) -> Result<Tensor> {
        self.check("Posterior::kl", "other.mean", &other.mean)?;
        if other.mean.dims() != self.mean.dims() || other.logvar.dims() != self.mean.dims() {
            return Err(Error::Shape {
                op: "Posterior::kl",
                detail: format!(
                    "both posteriors must be {:?}, got mean {:?} and logvar {:?}",
                    self.mean.dims(),
                    other.mean.dims(),
                    other.logvar.dims()
                ),
            }
            .into_candle());
        }
        let diff = other.logvar.sub(&self.logvar)?; // logvar₂ − logvar₁
        let num = self.var()?.add(&self.mean.sub(&other.mean)?.sqr()?)?;
        let ratio = num.mul(&other.logvar.neg()?.exp()?)?;
        diff.add(&ratio)?.affine(0.5, -0.5)?.sum(D::Minus1)
    }
}

#[cfg(test)]
mod tests;
