//! Networks: the reference MLP (Keras `Dense` stack: Glorot-uniform kernels, zero biases) and its
//! seeded initialisation.
//!
//! Candle's CPU RNG cannot be seeded and `candle_nn::linear` initialises differently from the
//! reference (Kaiming-normal, ~2.4× wider), so parameters are created as zeros through a
//! [`VarBuilder`] — their names become checkpoint keys — and then filled by
//! [`init_reference`] from a seeded [`ChaCha8Rng`]: the same seed gives the same weights on every
//! machine and device.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Init, Linear, VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

/// The shape of an [`Mlp`]: `layers` hidden `Dense(hidden, relu)` layers, then `Dense(output)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Input width.
    pub input: usize,
    /// Width of every hidden layer.
    pub hidden: usize,
    /// Number of hidden layers (2 in the paper).
    pub layers: usize,
    /// Output width.
    pub output: usize,
}

impl MlpConfig {
    /// Checks every width is ≥ 1.
    pub fn validate(&self, op: &'static str) -> crate::Result<()> {
        if self.input == 0 || self.output == 0 || (self.layers > 0 && self.hidden == 0) {
            return Err(crate::Error::InvalidParameter {
                op,
                name: "mlp",
                value: format!("{self:?}"),
                reason: "every layer needs a width ≥ 1",
            });
        }
        Ok(())
    }

    /// Parameters (every weight and bias); `None` if the count overflows.
    pub fn params(&self) -> Option<u64> {
        let mut widths = vec![self.input];
        widths.extend(std::iter::repeat_n(self.hidden, self.layers));
        widths.push(self.output);
        widths.windows(2).try_fold(0u64, |acc, w| {
            let (i, o) = (u64::try_from(w[0]).ok()?, u64::try_from(w[1]).ok()?);
            acc.checked_add(i.checked_add(1)?.checked_mul(o)?)
        })
    }

    /// Multiply-adds of one forward pass of one row.
    pub fn macs(&self) -> usize {
        let mut widths = vec![self.input];
        widths.extend(std::iter::repeat_n(self.hidden, self.layers));
        widths.push(self.output);
        widths.windows(2).map(|w| w[0] * w[1]).sum()
    }
}

/// A multilayer perceptron with ReLU between layers; parameters `{k}.weight [out, in]` and
/// `{k}.bias [out]` for k = 0 … layers.
#[derive(Clone, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// Creates the parameters (zeros until [`init_reference`]) under `vb`.
    pub fn new(config: &MlpConfig, vb: VarBuilder) -> Result<Self> {
        config.validate("Mlp")?;
        let mut widths = vec![config.input];
        widths.extend(std::iter::repeat_n(config.hidden, config.layers));
        widths.push(config.output);
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(k, w)| {
                let vb = vb.pp(k.to_string());
                let weight = vb.get_with_hints((w[1], w[0]), "weight", Init::Const(0.0))?;
                let bias = vb.get_with_hints(w[1], "bias", Init::Const(0.0))?;
                Ok(Linear::new(weight, Some(bias)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// `[..., input] → [..., output]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_from(x, 0)
    }

    /// Runs layers `first..` on `h`, the pre-activation output of layer `first − 1` (or the input
    /// when `first = 0`): lets a caller compute the first layer its own way. The ReLU is applied
    /// to `h` only when layer `first − 1` is a hidden layer; with `first = layers().len()` (the
    /// caller computed the output layer itself, an MLP without hidden layers) `h` is returned.
    pub fn forward_from(&self, h: &Tensor, first: usize) -> Result<Tensor> {
        let n = self.layers.len();
        if first > n {
            return Err(candle_core::Error::msg(format!(
                "Mlp::forward_from: layer {first} of a {n}-layer network"
            )));
        }
        // Layer k < n − 1 is hidden (ReLU after it); layer n − 1 is the output layer.
        let mut h = if first == 0 || first == n {
            h.clone()
        } else {
            h.relu()?
        };
        for (k, layer) in self.layers.iter().enumerate().skip(first) {
            h = layer.forward(&h)?;
            if k + 1 < n {
                h = h.relu()?;
            }
        }
        Ok(h)
    }
}

/// Fills every parameter of `varmap` with the reference initialisation: `*.weight` of shape
/// `[out, in]` ~ U(±√(6 / (in + out))) (Glorot uniform), convolution kernels `*.weight` of shape
/// `[out, in, kh, kw]` ~ U(±√(6 / ((in + out)·kh·kw))) (Keras' Glorot for convolutions),
/// everything else zero. Each parameter
/// draws from its own stream of `seed` (named by the parameter), so adding a network does not
/// change the others' weights.
pub fn init_reference(varmap: &VarMap, seed: u64) -> crate::Result<()> {
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("init_reference: the VarMap lock is poisoned"))?;
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        let var = &vars[name];
        let (shape, dtype, device) = (var.shape().clone(), var.dtype(), var.device().clone());
        let value = match shape.dims() {
            [out, inp] if name.ends_with("weight") => {
                let v = glorot_uniform(name, seed, *inp, *out, out * inp)?;
                Tensor::from_vec(v, (*out, *inp), &candle_core::Device::Cpu)?
                    .to_dtype(dtype)?
                    .to_device(&device)?
            }
            // A convolution kernel `[out, in, kh, kw]`: Keras' Glorot uniform with
            // fan_in = in·kh·kw and fan_out = out·kh·kw.
            [out, inp, kh, kw] if name.ends_with("weight") => {
                let (fan_in, fan_out) = (inp * kh * kw, out * kh * kw);
                let v = glorot_uniform(name, seed, fan_in, fan_out, out * fan_in)?;
                Tensor::from_vec(v, (*out, *inp, *kh, *kw), &candle_core::Device::Cpu)?
                    .to_dtype(dtype)?
                    .to_device(&device)?
            }
            _ => Tensor::zeros(shape, dtype, &device)?,
        };
        var.set(&value)?;
    }
    Ok(())
}

/// `n` draws of U(±√(6 / (fan_in + fan_out))) from `seed`'s stream named `name`.
fn glorot_uniform(
    name: &str,
    seed: u64,
    fan_in: usize,
    fan_out: usize,
    n: usize,
) -> candle_core::Result<Vec<f64>> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    let dist = Uniform::new(-limit, limit)
        .map_err(|e| candle_core::Error::msg(format!("init_reference: {name}: {e}")))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(crate::seed::name_hash(name));
    Ok((0..n).map(|_| dist.sample(&mut rng)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn glorot_limits_zero_bias_and_seeded() -> crate::Result<()> {
        let cfg = MlpConfig {
            input: 20,
            hidden: 256,
            layers: 2,
            output: 32,
        };
        let make = |seed| -> crate::Result<(VarMap, Mlp)> {
            let vm = VarMap::new();
            let mlp = Mlp::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
            init_reference(&vm, seed)?;
            Ok((vm, mlp))
        };
        let (_, a) = make(7)?;
        let (_, b) = make(7)?;
        let (_, c) = make(8)?;
        let w0 = a.layers()[0].weight().flatten_all()?.to_vec1::<f32>()?;
        let limit = (6.0f32 / (20.0 + 256.0)).sqrt();
        assert!(w0.iter().all(|v| v.abs() <= limit));
        // Uniform on ±limit: variance limit²/3.
        let var = w0.iter().map(|v| v * v).sum::<f32>() / w0.len() as f32;
        assert!((var / (limit * limit / 3.0) - 1.0).abs() < 0.05, "{var}");
        assert_eq!(w0, b.layers()[0].weight().flatten_all()?.to_vec1::<f32>()?);
        assert_ne!(w0, c.layers()[0].weight().flatten_all()?.to_vec1::<f32>()?);
        let bias = a.layers()[1].bias().map(|b| b.to_vec1::<f32>());
        assert!(matches!(bias, Some(Ok(v)) if v.iter().all(|&x| x == 0.0)));
        assert_eq!(cfg.macs(), 20 * 256 + 256 * 256 + 256 * 32);
        Ok(())
    }
}
