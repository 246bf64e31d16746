//! The Barber–Agakov bound (paper Eq. 2):
//!
//! I(X; Y) ≥ I_BA = h(X) + E_{p(x,y)}[log q(x | y)],
//!
//! for any *normalised* decoder q(x | y); the gap is E_{p(y)}[KL(p(x|y) ‖ q(x|y))], so it is tight
//! at q = p(x | y). Minibatch form: I_BA = h(X) + (1/B) Σ_i log q(x_i | y_i).
//!
//! * **Lower bound**, unbiased for its expectation; variance that of log q(x_i | y_i).
//! * Needs the entropy h(X) to be **known** (e.g. (d/2)·log(2πe) for X ~ N(0, I_d)); with data
//!   of unknown h(X) it bounds nothing. It takes no score matrix, so it is not a [`super::Bound`].
//! * Not to be confused with the colab's "I_BA", which is the *upper* bound R of Eq. 1
//!   ([`super::rate`]).

use super::validate;
use candle_core::{Result, Tensor, D};

/// I_BA = h(X) + mean(log q(x_i | y_i)): `log_q [..., B]` (one decoder log-density per joint pair,
/// normalised in x) and the known entropy `entropy_x` (nats) → `[...]`.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mi_core::bounds::barber_agakov;
/// let log_q = Tensor::new(&[-1.0f64, -2.0, -3.0], &Device::Cpu)?;
/// assert!((barber_agakov(&log_q, 1.5)?.to_scalar::<f64>()? + 0.5).abs() < 1e-12);
/// # Ok::<(), candle_core::Error>(())
/// ```
pub fn barber_agakov(log_q: &Tensor, entropy_x: f64) -> Result<Tensor> {
    if log_q.rank() == 0 || log_q.dim(D::Minus1)? == 0 {
        return Err(crate::Error::Shape {
            op: "barber_agakov",
            detail: format!("log_q must be [..., B] with B ≥ 1, got {:?}", log_q.dims()),
        }
        .into_candle());
    }
    validate::float_and_finite("barber_agakov", "log_q", log_q)?;
    if !entropy_x.is_finite() {
        return Err(crate::Error::InvalidParameter {
            op: "barber_agakov",
            name: "entropy_x",
            value: entropy_x.to_string(),
            reason: "the entropy h(X) must be finite",
        }
        .into_candle());
    }
    log_q.mean(D::Minus1)?.affine(1.0, entropy_x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CorrelatedGaussian, Sampler};
    use candle_core::Device;
    use rand::SeedableRng;

    /// log N(x; ρy, (1 − ρ²) I) per row of the correlated Gaussian's sample.
    fn log_q(x: &[f64], y: &[f64], d: usize, rho: f64) -> Vec<f64> {
        let v = 1.0 - rho * rho;
        x.chunks(d)
            .zip(y.chunks(d))
            .map(|(a, b)| {
                a.iter()
                    .zip(b)
                    .map(|(xa, yb)| {
                        -0.5 * (2.0 * std::f64::consts::PI * v).ln()
                            - (xa - rho * yb).powi(2) / (2.0 * v)
                    })
                    .sum()
            })
            .collect()
    }

    /// With the true decoder p(x|y) the bound's expectation is I; a wrong decoder falls below.
    #[test]
    fn tight_with_the_true_decoder_and_lower_otherwise() -> crate::Result<()> {
        let (d, rho, n) = (2, 0.8, 100_000);
        let g = CorrelatedGaussian::new(d, rho)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (x, y) = g.sample_f64(n, &mut rng);
        let h = 0.5 * d as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
        let truth = g.mutual_information();
        let lq = log_q(&x, &y, d, rho);
        let mean = lq.iter().sum::<f64>() / n as f64;
        let se = (lq.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n * (n - 1)) as f64).sqrt();
        let ba = barber_agakov(&Tensor::from_vec(lq, n, &Device::Cpu)?, h)?.to_scalar::<f64>()?;
        assert!((ba - truth).abs() < 4.0 * se, "{ba} vs {truth} ± {se}");
        let wrong = log_q(&x, &y, d, 0.5);
        let ba_wrong =
            barber_agakov(&Tensor::from_vec(wrong, n, &Device::Cpu)?, h)?.to_scalar::<f64>()?;
        assert!(ba_wrong < truth - 0.1, "{ba_wrong} vs {truth}");
        assert!(barber_agakov(
            &Tensor::zeros(0, candle_core::DType::F64, &Device::Cpu)?,
            0.0
        )
        .is_err());
        assert!(barber_agakov(&Tensor::new(&[f64::NAN], &Device::Cpu)?, 0.0).is_err());
        Ok(())
    }
}
