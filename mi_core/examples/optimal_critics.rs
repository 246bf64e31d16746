//! Every bound with its optimal critic on the 20-d correlated Gaussian, at I = 0…10 nats.
//!
//! `cargo run --release --example optimal_critics` — a table of the mean over 200 batches of
//! B = 64 (f64), next to the truth: watch InfoNCE saturate at log 64 and TNCE ≤ I ≤ MBU.

use candle_core::{DType, Device};
use mi_core::prelude::*;
use rand::SeedableRng;

fn main() -> Result<()> {
    let (reps, b, d) = (200, 64, 20);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    println!(
        "  true I   NWJ(1+r)   TNCE     I_0.5    MBU      (B = {b}, log B = {:.3})",
        (b as f64).ln()
    );
    for mi in [0.0, 2.0, 4.0, 6.0, 8.0, 10.0] {
        let g = CorrelatedGaussian::from_mi(d, mi)?;
        let batch = g.sample(reps * b, &mut rng, &Device::Cpu, DType::F64)?;
        let (x, y) = (
            batch.x.reshape((reps, b, d))?,
            batch.y.reshape((reps, b, d))?,
        );
        let lp = g.log_cond_pairs(&x, &y)?;
        let log_py = g.log_marginal(&y)?;
        let mean =
            |t: candle_core::Tensor| -> Result<f64> { Ok(t.mean_all()?.to_scalar::<f64>()?) };
        println!(
            "{mi:8.1} {:10.3} {:8.3} {:8.3} {:8.3}",
            mean(nwj(&g.log_ratio_pairs(&x, &y)?.affine(1.0, 1.0)?)?)?,
            mean(tnce(&lp)?)?,
            mean(interpolated(&lp, &log_py, Alpha::new(0.5)?)?)?,
            mean(loo_upper(&lp)?)?,
        );
    }
    Ok(())
}
