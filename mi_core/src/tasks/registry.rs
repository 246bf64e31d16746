//! The registry: every task's name, description, where its truth comes from, and its builder.

use super::{
    AdditiveUniform, Family, JointNormal, MarginalMap, StudentT, SPIRAL_SPEED, WIGGLE_X, WIGGLE_Y,
};
use crate::data::{CorrelatedGaussian, Cubic};
use crate::error::Result;
use rand::SeedableRng;

/// One row of the registry.
#[derive(Debug)]
pub(super) struct Entry {
    pub name: &'static str,
    pub description: &'static str,
    pub truth: &'static str,
    pub build: fn() -> Result<Family>,
}

const GAUSSIAN_MI: &str = "−(d/2)·log(1 − ρ²)";
const NORMAL_MI: &str = "½(log det Σ_XX + log det Σ_YY − log det Σ)";
const STUDENT_MI: &str =
    "Gaussian MI of the dispersion + g(m) + g(n) − g(m+n), g(d) = log Γ(ν/2) − \
                          log Γ((ν+d)/2) + ((ν+d)/2)(ψ((ν+d)/2) − ψ(ν/2))";
const UNIFORM_MI: &str = "ε − log 2ε for ε ≤ ½, 1/(4ε) for ε ≥ ½";
const INVARIANT_MI: &str = "the base task's MI: injective per-variable maps leave MI unchanged";

fn fig2_gaussian(mi: f64) -> Result<Family> {
    Ok(Family::Gaussian(CorrelatedGaussian::from_mi(20, mi)?))
}

fn fig2_cubic(mi: f64) -> Result<Family> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(super::CUBIC_W_SEED);
    let base = CorrelatedGaussian::from_mi(20, mi)?;
    Ok(Family::Cubic(Cubic::new(base, &mut rng)?.standardized()))
}

fn dense(m: usize, c: f64) -> Result<Family> {
    Ok(Family::Normal(JointNormal::dense(m, m, c)?))
}

fn student(m: usize, df: f64) -> Result<Family> {
    Ok(Family::StudentT(StudentT::new(
        JointNormal::dense(m, m, 0.0)?,
        df,
    )?))
}

fn mapped(base: Result<Family>, x: MarginalMap, y: MarginalMap) -> Result<Family> {
    Ok(Family::Mapped {
        base: Box::new(base?),
        x,
        y,
    })
}

pub(super) static REGISTRY: &[Entry] = &[
    Entry {
        name: "fig2-gaussian-2",
        description: "Figure 2's correlated Gaussian, 20-d, I = 2 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_gaussian(2.0),
    },
    Entry {
        name: "fig2-gaussian-6",
        description: "Figure 2's correlated Gaussian, 20-d, I = 6 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_gaussian(6.0),
    },
    Entry {
        name: "fig2-gaussian-10",
        description: "Figure 2's correlated Gaussian, 20-d, I = 10 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_gaussian(10.0),
    },
    Entry {
        name: "fig2-cubic-2",
        description: "Figure 2's cubic data (x, (Wy)³ standardised), 20-d, I = 2 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_cubic(2.0),
    },
    Entry {
        name: "fig2-cubic-6",
        description: "Figure 2's cubic data (x, (Wy)³ standardised), 20-d, I = 6 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_cubic(6.0),
    },
    Entry {
        name: "fig2-cubic-10",
        description: "Figure 2's cubic data (x, (Wy)³ standardised), 20-d, I = 10 nats",
        truth: GAUSSIAN_MI,
        build: || fig2_cubic(10.0),
    },
    Entry {
        name: "normal-1x1-0.75",
        description: "bivariate normal, correlation 0.75",
        truth: NORMAL_MI,
        build: || dense(1, 0.75),
    },
    Entry {
        name: "normal-dense-2x2-0.5",
        description: "2 + 2 normals, correlation 0.5 between every two coordinates",
        truth: NORMAL_MI,
        build: || dense(2, 0.5),
    },
    Entry {
        name: "normal-dense-5x5-0.5",
        description: "5 + 5 normals, correlation 0.5 between every two coordinates",
        truth: NORMAL_MI,
        build: || dense(5, 0.5),
    },
    Entry {
        name: "normal-dense-25x25-0.5",
        description: "25 + 25 normals, correlation 0.5 between every two coordinates",
        truth: NORMAL_MI,
        build: || dense(25, 0.5),
    },
    Entry {
        name: "normal-sparse-5x5",
        description: "5 + 5 normals, (X_k, Y_k) correlated by 0.8 for k < 2, the rest noise",
        truth: NORMAL_MI,
        build: || Ok(Family::Normal(JointNormal::sparse(5, 5, 2, 0.8)?)),
    },
    Entry {
        name: "normal-sparse-10x10",
        description: "10 + 10 normals, (X_k, Y_k) correlated by 0.8 for k < 3, the rest noise",
        truth: NORMAL_MI,
        build: || Ok(Family::Normal(JointNormal::sparse(10, 10, 3, 0.8)?)),
    },
    Entry {
        name: "uniform-noise-0.1",
        description: "X ~ U(0,1), Y = X + U(−0.1, 0.1)",
        truth: UNIFORM_MI,
        build: || Ok(Family::Uniform(AdditiveUniform::new(0.1)?)),
    },
    Entry {
        name: "uniform-noise-0.75",
        description: "X ~ U(0,1), Y = X + U(−0.75, 0.75)",
        truth: UNIFORM_MI,
        build: || Ok(Family::Uniform(AdditiveUniform::new(0.75)?)),
    },
    Entry {
        name: "bimodal-1x1-0.75",
        description: "normal-1x1-0.75 with both marginals mapped onto ½N(−1, ¼) + ½N(1, ¼)",
        truth: INVARIANT_MI,
        build: || mapped(dense(1, 0.75), MarginalMap::Bimodal, MarginalMap::Bimodal),
    },
    Entry {
        name: "wiggly-1x1-0.75",
        description: "normal-1x1-0.75 with x + Σ a sin(ωx + φ) on each variable",
        truth: INVARIANT_MI,
        build: || {
            mapped(
                dense(1, 0.75),
                MarginalMap::Wiggly(WIGGLE_X),
                MarginalMap::Wiggly(WIGGLE_Y),
            )
        },
    },
    Entry {
        name: "half-cube-1x1-0.75",
        description: "normal-1x1-0.75 with sign(v)|v|^{3/2} on each variable",
        truth: INVARIANT_MI,
        build: || mapped(dense(1, 0.75), MarginalMap::HalfCube, MarginalMap::HalfCube),
    },
    Entry {
        name: "half-cube-5x5-0.5",
        description: "normal-dense-5x5-0.5 with sign(v)|v|^{3/2} on every coordinate",
        truth: INVARIANT_MI,
        build: || mapped(dense(5, 0.5), MarginalMap::HalfCube, MarginalMap::HalfCube),
    },
    Entry {
        name: "student-t-1x1-df1",
        description: "bivariate Student-t (Cauchy), ν = 1, identity dispersion",
        truth: STUDENT_MI,
        build: || student(1, 1.0),
    },
    Entry {
        name: "student-t-2x2-df2",
        description: "2 + 2 Student-t, ν = 2, identity dispersion",
        truth: STUDENT_MI,
        build: || student(2, 2.0),
    },
    Entry {
        name: "student-t-5x5-df2",
        description: "5 + 5 Student-t, ν = 2, identity dispersion",
        truth: STUDENT_MI,
        build: || student(5, 2.0),
    },
    Entry {
        name: "asinh-student-t-1x1-df1",
        description: "student-t-1x1-df1 with asinh on each variable",
        truth: INVARIANT_MI,
        build: || mapped(student(1, 1.0), MarginalMap::Asinh, MarginalMap::Asinh),
    },
    Entry {
        name: "asinh-student-t-2x2-df2",
        description: "student-t-2x2-df2 with asinh on every coordinate",
        truth: INVARIANT_MI,
        build: || mapped(student(2, 2.0), MarginalMap::Asinh, MarginalMap::Asinh),
    },
    Entry {
        name: "spiral-3x3",
        description: "3-d correlated Gaussian (ρ = 0.8) with X rotated by v‖x‖² in its first plane",
        truth: INVARIANT_MI,
        build: || {
            Ok(Family::Spiral {
                base: Box::new(Family::Gaussian(CorrelatedGaussian::new(3, 0.8)?)),
                speed: SPIRAL_SPEED,
            })
        },
    },
];
