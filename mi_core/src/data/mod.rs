//! Ground-truth data: samplers that know their mutual information.
//!
//! Samplers are immutable and take the RNG as an argument (like `rand::Distribution`). They draw
//! on the CPU in f64 from the caller's seeded RNG, then convert and move the batch to the
//! requested device and dtype, so CPU and GPU runs see the same data.

mod cubic;
pub mod dsprites;
mod gaussian;
mod schedule;

pub use cubic::Cubic;
pub use gaussian::{mi_to_rho, rho_to_mi, CorrelatedGaussian};
pub use schedule::Staircase;

use candle_core::{DType, Device, Tensor};

/// A batch of joint samples: row i of `x` and row i of `y` form the pair (x_i, y_i).
#[derive(Clone, Debug)]
pub struct Batch {
    /// `[B, dim_x]`.
    pub x: Tensor,
    /// `[B, dim_y]`.
    pub y: Tensor,
}

/// A joint distribution p(x, y) with a known I(X; Y).
pub trait Sampler {
    /// Dimension of x.
    fn dim_x(&self) -> usize;
    /// Dimension of y.
    fn dim_y(&self) -> usize;
    /// The true mutual information I(X; Y) in nats.
    fn mutual_information(&self) -> f64;
    /// Draws `n` pairs as row-major f64 buffers `([n·dim_x], [n·dim_y])`.
    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>);

    /// Draws `n ≥ 1` pairs on the CPU and returns them as `[n, dim]` tensors of `dtype` on `device`.
    fn sample<R: rand::Rng + ?Sized>(
        &self,
        n: usize,
        rng: &mut R,
        device: &Device,
        dtype: DType,
    ) -> crate::Result<Batch> {
        if n == 0 {
            return Err(crate::Error::InvalidParameter {
                op: "sample",
                name: "n",
                value: "0".into(),
                reason: "draw at least one pair",
            });
        }
        let (x, y) = self.sample_f64(n, rng);
        let to = |v: Vec<f64>, d: usize| -> crate::Result<Tensor> {
            Ok(Tensor::from_vec(v, (n, d), &Device::Cpu)?
                .to_dtype(dtype)?
                .to_device(device)?)
        };
        Ok(Batch {
            x: to(x, self.dim_x())?,
            y: to(y, self.dim_y())?,
        })
    }
}
