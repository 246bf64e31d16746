//! `recommend_alpha`: the α of I_α that gave the most accurate gradients in Figure 4.
//!
//! **Provenance.** The table below is the best-α map of
//! [`gradient_accuracy::run`](super::gradient_accuracy::run) on its default grid — the 20-d
//! Gaussian encoder, MI ∈ {0, 1, …, 10} nats, B ∈ {4, 8, …, 512}, the α grid
//! [`ALPHA_GRID`](super::gradient_accuracy::ALPHA_GRID), seed 0 — with 200 replicates per cell,
//! computed with mi_core 0.1.0 (`cargo run --release --example figures_3_4 -- 4 200`), argmin
//! over α of the gradient MSE with the optimal critic. It is a guide for choosing α, not a
//! guarantee: with a learned critic the best α also depends on the critic's quality.
//!
//! The map has the paper's shape: α → 1 (InfoNCE-like) at small MI or tiny batches, α → 0.01
//! (NWJ-like, but never α = 0 itself) at large MI and large batches. Where many α tie — e.g.
//! I = 10, B = 8, where every α from 0.05 to 0.99 lies within 5 % of the best gradient MSE —
//! the argmin is decided by noise (there it picked 0.99 over 0.1 by 1 %).

use crate::error::{Error, Result};

/// The MI values (nats) of the rows of [`BEST_ALPHA_MAP`].
pub const BEST_ALPHA_MIS: [f64; 11] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
/// The batch sizes of the columns of [`BEST_ALPHA_MAP`].
pub const BEST_ALPHA_BATCH_SIZES: [usize; 8] = [4, 8, 16, 32, 64, 128, 256, 512];
/// The best α per (MI, B): argmin over the α grid of the gradient MSE (rows MI, columns B).
pub const BEST_ALPHA_MAP: [[f64; 8]; 11] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],         // I = 0
    [0.99, 1.0, 1.0, 1.0, 0.99, 0.9, 0.99, 0.8],      // I = 1
    [0.99, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],        // I = 2
    [0.99, 0.5, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1],        // I = 3
    [0.99, 0.5, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05],      // I = 4
    [0.99, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05],    // I = 5
    [0.99, 0.2, 0.1, 0.05, 0.05, 0.05, 0.01, 0.01],   // I = 6
    [0.99, 0.2, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01],   // I = 7
    [0.99, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01],  // I = 8
    [0.99, 0.1, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01],  // I = 9
    [0.99, 0.99, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01], // I = 10
];

/// The α recommended for I_α at `batch_size` and an MI of about `mi_estimate` nats.
///
/// Bilinear interpolation of log₁₀ α over (log₂ B, MI) in [`BEST_ALPHA_MAP`] (α = 0 entries count
/// as 10⁻⁵, and a result below 10⁻⁴·⁵ is returned as 0, i.e. NWJ/TUBA); B and the MI are
/// clamped to the grid (4 ≤ B ≤ 512, 0 ≤ I ≤ 10). Errors on B < 2 or a non-finite or negative
/// MI estimate.
///
/// ```
/// use mi_core::experiments::recommend_alpha;
/// let small = recommend_alpha(8, 0.5)?;   // little information, few samples: InfoNCE-like
/// let large = recommend_alpha(512, 9.0)?; // much information, many samples: NWJ-like
/// assert!(small > large);
/// # Ok::<(), mi_core::Error>(())
/// ```
pub fn recommend_alpha(batch_size: usize, mi_estimate: f64) -> Result<f64> {
    if batch_size < 2 {
        return Err(Error::InvalidParameter {
            op: "recommend_alpha",
            name: "batch_size",
            value: batch_size.to_string(),
            reason: "the batch size must be at least 2",
        });
    }
    if !(mi_estimate.is_finite() && mi_estimate >= 0.0) {
        return Err(Error::InvalidParameter {
            op: "recommend_alpha",
            name: "mi_estimate",
            value: mi_estimate.to_string(),
            reason: "the MI estimate must be finite and ≥ 0",
        });
    }
    let log_b: Vec<f64> = BEST_ALPHA_BATCH_SIZES
        .iter()
        .map(|&b| (b as f64).log2())
        .collect();
    let (bi, bt) = bracket(&log_b, (batch_size as f64).log2());
    let (mi, mt) = bracket(&BEST_ALPHA_MIS, mi_estimate);
    let u = |m: usize, b: usize| BEST_ALPHA_MAP[m][b].max(1e-5).log10();
    let lo = u(mi, bi) * (1.0 - bt) + u(mi, bi + 1) * bt;
    let hi = u(mi + 1, bi) * (1.0 - bt) + u(mi + 1, bi + 1) * bt;
    let v = lo * (1.0 - mt) + hi * mt;
    Ok(if v < -4.5 {
        0.0
    } else {
        10f64.powf(v).min(1.0)
    })
}

/// The cell `i` with `grid[i] ≤ x ≤ grid[i + 1]` (x clamped to the grid) and the weight of i + 1.
fn bracket(grid: &[f64], x: f64) -> (usize, f64) {
    let n = grid.len();
    let x = x.clamp(grid[0], grid[n - 1]);
    let i = grid.iter().rposition(|&g| g <= x).unwrap_or(0).min(n - 2);
    (i, (x - grid[i]) / (grid[i + 1] - grid[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_return_the_table() {
        for (m, &mi) in BEST_ALPHA_MIS.iter().enumerate() {
            for (b, &bs) in BEST_ALPHA_BATCH_SIZES.iter().enumerate() {
                let want = BEST_ALPHA_MAP[m][b];
                let got = recommend_alpha(bs, mi).expect("alpha");
                assert!(
                    (got - want).abs() <= 1e-12 * (1.0 + want),
                    "I={mi}, B={bs}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn clamps_and_errors() {
        assert_eq!(
            recommend_alpha(2, 0.0).expect("a"),
            recommend_alpha(4, 0.0).expect("b")
        );
        assert_eq!(
            recommend_alpha(4096, 50.0).expect("a"),
            recommend_alpha(512, 10.0).expect("b")
        );
        assert!(recommend_alpha(1, 1.0).is_err());
        assert!(recommend_alpha(64, f64::NAN).is_err());
        assert!(recommend_alpha(64, -0.5).is_err());
        let mid = recommend_alpha(90, 3.3).expect("interior");
        assert!((0.0..=1.0).contains(&mid));
    }
}
