//! Ground-truth tasks: named joint distributions with a known I(X; Y), for checking estimators.
//!
//! One registry ([`all`], [`by_name`]) holds every task: the command line (`mi tasks`), the
//! benchmark and the tests read it, so a name, its distribution and its true MI are defined once.
//!
//! | family | tasks | true MI |
//! |---|---|---|
//! | Figure 2 (Poole et al.) | `fig2-gaussian-I`, `fig2-cubic-I` (20-d, I ∈ {2, 6, 10}) | −(d/2) log(1 − ρ²) ([`crate::data`]) |
//! | multivariate normal ("Beyond Normal", Czyż et al. 2023) | `normal-1x1-0.75`, `normal-dense-*`, `normal-sparse-*` | ½(log det Σ_XX + log det Σ_YY − log det Σ) ([`JointNormal`]) |
//! | additive uniform noise | `uniform-noise-E` | ε − log 2ε (ε ≤ ½) or 1/(4ε) ([`AdditiveUniform`]) |
//! | Student-t | `student-t-*` | Gaussian part + digamma terms ([`StudentT`]) |
//! | marginal maps | `bimodal-*`, `wiggly-*`, `half-cube-*`, `asinh-student-t-*` | the base task's (invariance) |
//! | spiral | `spiral-3x3` | the base task's (invariance) |
//!
//! The transformed tasks draw the base task's sample from the RNG and apply the map, so their
//! samples are *exactly* the map of the base samples (tested), and I(f(X); g(Y)) = I(X; Y) for
//! injective f, g gives their MI. Every sampler draws on the CPU in f64 from the caller's RNG.
//!
//! ```
//! use mi_core::data::Sampler;
//! use rand::SeedableRng;
//! let task = mi_core::tasks::by_name("student-t-1x1-df1")?;
//! assert!((task.mutual_information() - ((8.0 * std::f64::consts::PI).ln() - 3.0)).abs() < 1e-12);
//! let (x, y) = task.sample_f64(100, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
//! assert_eq!((x.len(), y.len()), (100, 100));
//! # Ok::<(), mi_core::Error>(())
//! ```

mod maps;
mod normal;
mod registry;
mod student;
mod uniform;

pub use maps::{spiral, unspiral, MarginalMap, Wiggle, BIMODAL_SD, WIGGLE_X, WIGGLE_Y};
pub use normal::JointNormal;
pub use student::StudentT;
pub use uniform::AdditiveUniform;

use crate::data::{CorrelatedGaussian, Cubic, Sampler};
use crate::error::{Error, Result};
use registry::{Entry, REGISTRY};

/// The spiral's speed v (θ = v‖x‖²).
pub const SPIRAL_SPEED: f64 = 1.0 / 3.0;
/// Seed of the fixed mixing matrix W of the `fig2-cubic-*` tasks (ChaCha8, stream 0).
pub const CUBIC_W_SEED: u64 = 0;

/// How a task's distribution is built.
#[derive(Clone, Debug)]
pub(crate) enum Family {
    Gaussian(CorrelatedGaussian),
    Cubic(Cubic),
    Normal(JointNormal),
    Uniform(AdditiveUniform),
    StudentT(StudentT),
    /// Per-coordinate maps of a base task.
    Mapped {
        base: Box<Family>,
        x: MarginalMap,
        y: MarginalMap,
    },
    /// The spiral applied to the base task's X.
    Spiral {
        base: Box<Family>,
        speed: f64,
    },
}

impl Family {
    fn dims(&self) -> (usize, usize) {
        match self {
            Family::Gaussian(s) => (s.dim_x(), s.dim_y()),
            Family::Cubic(s) => (s.dim_x(), s.dim_y()),
            Family::Normal(s) => (s.dim_x(), s.dim_y()),
            Family::Uniform(s) => (s.dim_x(), s.dim_y()),
            Family::StudentT(s) => (s.dim_x(), s.dim_y()),
            Family::Mapped { base, .. } | Family::Spiral { base, .. } => base.dims(),
        }
    }

    fn mi(&self) -> f64 {
        match self {
            Family::Gaussian(s) => s.mutual_information(),
            Family::Cubic(s) => s.mutual_information(),
            Family::Normal(s) => s.mutual_information(),
            Family::Uniform(s) => s.mutual_information(),
            Family::StudentT(s) => s.mutual_information(),
            // Injective maps of X and Y leave I(X; Y) unchanged.
            Family::Mapped { base, .. } | Family::Spiral { base, .. } => base.mi(),
        }
    }

    fn entropy_x(&self) -> Option<f64> {
        let standard_normal =
            |d: usize| 0.5 * d as f64 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
        match self {
            // X ~ N(0, I_d) (the cubic map acts on Y only).
            Family::Gaussian(s) => Some(standard_normal(s.dim())),
            Family::Cubic(s) => Some(standard_normal(s.base().dim())),
            Family::Normal(s) => Some(s.entropy_x()),
            // X ~ U(0, 1).
            Family::Uniform(_) => Some(0.0),
            // Known in closed form but not implemented; maps of X change h(X).
            Family::StudentT(_) | Family::Mapped { .. } | Family::Spiral { .. } => None,
        }
    }

    fn sample<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        match self {
            Family::Gaussian(s) => s.sample_f64(n, rng),
            Family::Cubic(s) => s.sample_f64(n, rng),
            Family::Normal(s) => s.sample_f64(n, rng),
            Family::Uniform(s) => s.sample_f64(n, rng),
            Family::StudentT(s) => s.sample_f64(n, rng),
            Family::Mapped { base, x, y } => {
                let (mut a, mut b) = base.sample(n, rng);
                x.apply_all(&mut a);
                y.apply_all(&mut b);
                (a, b)
            }
            Family::Spiral { base, speed } => {
                let (mut a, b) = base.sample(n, rng);
                spiral(&mut a, base.dims().0, *speed);
                (a, b)
            }
        }
    }
}

/// A named distribution with its true MI.
#[derive(Clone, Debug)]
pub struct Task {
    entry: &'static Entry,
    family: Family,
}

impl Task {
    /// The registry name (`student-t-2x2-df2`, …).
    pub fn name(&self) -> &'static str {
        self.entry.name
    }

    /// What the task is, in one line.
    pub fn description(&self) -> &'static str {
        self.entry.description
    }

    /// Where the true MI comes from (a formula or the invariance it rests on).
    pub fn truth_source(&self) -> &'static str {
        self.entry.truth
    }

    /// The differential entropy h(X) (nats) where it is known — the Gaussian tasks (Figure 2's,
    /// cubic included since its map acts on Y, and the multivariate normals) and the additive
    /// uniform noise (X ~ U(0, 1): 0) — for the Barber–Agakov bound; `None` elsewhere.
    pub fn entropy_x(&self) -> Option<f64> {
        self.family.entropy_x()
    }
}

impl Sampler for Task {
    fn dim_x(&self) -> usize {
        self.family.dims().0
    }

    fn dim_y(&self) -> usize {
        self.family.dims().1
    }

    fn mutual_information(&self) -> f64 {
        self.family.mi()
    }

    fn sample_f64<R: rand::Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Vec<f64>, Vec<f64>) {
        self.family.sample(n, rng)
    }
}

/// Every registered task's name, in registry order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

/// The task called `name`; an unknown name is an error that lists the known ones.
pub fn by_name(name: &str) -> Result<Task> {
    let entry = REGISTRY
        .iter()
        .find(|e| e.name == name.trim())
        .ok_or_else(|| Error::InvalidParameter {
            op: "tasks",
            name: "name",
            value: name.to_string(),
            reason: "unknown task (`mi tasks list` lists them)",
        })?;
    Ok(Task {
        entry,
        family: (entry.build)()?,
    })
}

/// Every registered task, in registry order.
pub fn all() -> Result<Vec<Task>> {
    REGISTRY.iter().map(|e| by_name(e.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(42)
    }

    #[test]
    fn registry_names_are_unique_and_every_task_builds() -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for task in all()? {
            assert!(seen.insert(task.name()), "duplicate {}", task.name());
            let mi = task.mutual_information();
            assert!(mi.is_finite() && mi > 0.0, "{}: {mi}", task.name());
            let (x, y) = task.sample_f64(7, &mut rng());
            assert_eq!(x.len(), 7 * task.dim_x());
            assert_eq!(y.len(), 7 * task.dim_y());
            assert!(x.iter().chain(&y).all(|v| v.is_finite()), "{}", task.name());
            // Seeded: the same RNG gives the same sample.
            assert_eq!(task.sample_f64(7, &mut rng()), (x, y));
        }
        assert!(by_name("no-such-task").is_err());
        Ok(())
    }

    #[test]
    fn figure_2_tasks_carry_the_gaussian_truth() -> Result<()> {
        for (name, mi) in [("fig2-gaussian-6", 6.0), ("fig2-cubic-10", 10.0)] {
            let t = by_name(name)?;
            assert!((t.mutual_information() - mi).abs() < 1e-12, "{name}");
            assert_eq!((t.dim_x(), t.dim_y()), (20, 20));
        }
        let h20 = 10.0 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
        assert_eq!(by_name("fig2-cubic-2")?.entropy_x(), Some(h20));
        assert!(by_name("spiral-3x3")?.entropy_x().is_none());
        // Σ_XX = [[1, ½], [½, 1]]: h = log 2πe + ½ log ¾.
        let h = by_name("normal-dense-2x2-0.5")?
            .entropy_x()
            .unwrap_or(f64::NAN);
        let two_pi_e = 2.0 * std::f64::consts::PI * std::f64::consts::E;
        assert!(
            (h - (two_pi_e.ln() + 0.5 * 0.75f64.ln())).abs() < 1e-12,
            "{h}"
        );
        // normal-1x1-0.75 is the 1-d Gaussian of the data module.
        let t = by_name("normal-1x1-0.75")?;
        let g = CorrelatedGaussian::new(1, 0.75)?;
        assert!((t.mutual_information() - g.mutual_information()).abs() < 1e-12);
        Ok(())
    }

    /// The invariance argument made concrete: a transformed task's sample is exactly the map of
    /// the base task's sample from the same RNG, and its MI is the base's.
    #[test]
    fn transformed_tasks_are_exact_maps_of_their_base() -> Result<()> {
        let cases = [
            (
                "bimodal-1x1-0.75",
                "normal-1x1-0.75",
                MarginalMap::Bimodal,
                MarginalMap::Bimodal,
            ),
            (
                "wiggly-1x1-0.75",
                "normal-1x1-0.75",
                MarginalMap::Wiggly(WIGGLE_X),
                MarginalMap::Wiggly(WIGGLE_Y),
            ),
            (
                "half-cube-1x1-0.75",
                "normal-1x1-0.75",
                MarginalMap::HalfCube,
                MarginalMap::HalfCube,
            ),
            (
                "half-cube-5x5-0.5",
                "normal-dense-5x5-0.5",
                MarginalMap::HalfCube,
                MarginalMap::HalfCube,
            ),
            (
                "asinh-student-t-1x1-df1",
                "student-t-1x1-df1",
                MarginalMap::Asinh,
                MarginalMap::Asinh,
            ),
            (
                "asinh-student-t-2x2-df2",
                "student-t-2x2-df2",
                MarginalMap::Asinh,
                MarginalMap::Asinh,
            ),
        ];
        for (name, base, fx, fy) in cases {
            let (t, b) = (by_name(name)?, by_name(base)?);
            assert_eq!(t.mutual_information(), b.mutual_information(), "{name}");
            let (x, y) = t.sample_f64(500, &mut rng());
            let (bx, by) = b.sample_f64(500, &mut rng());
            assert!(
                x.iter().zip(&bx).all(|(v, w)| *v == fx.apply(*w)),
                "{name}: x"
            );
            assert!(
                y.iter().zip(&by).all(|(v, w)| *v == fy.apply(*w)),
                "{name}: y"
            );
        }
        let (t, g) = (by_name("spiral-3x3")?, CorrelatedGaussian::new(3, 0.8)?);
        assert_eq!(t.mutual_information(), g.mutual_information());
        let (mut x, y) = t.sample_f64(500, &mut rng());
        let (gx, gy) = g.sample_f64(500, &mut rng());
        assert_eq!(y, gy);
        unspiral(&mut x, 3, SPIRAL_SPEED);
        assert!(x.iter().zip(&gx).all(|(a, b)| (a - b).abs() < 1e-12));
        Ok(())
    }
}
