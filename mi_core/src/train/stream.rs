//! Where training batches come from: a [`Stream`] gives step t's batch (fresh every step — the
//! infinite-data regime of the paper) and, when known, the conditional p(y|x) in force at step t.

use crate::critic::KnownConditional;
use crate::data::{Batch, CorrelatedGaussian, Cubic, Sampler, Staircase};
use candle_core::{DType, Device, Tensor};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A source of training batches indexed by step.
pub trait Stream: Sync {
    /// Dimension of x.
    fn dim_x(&self) -> usize;
    /// Dimension of y.
    fn dim_y(&self) -> usize;
    /// The true I(X; Y) at `step` (NaN when unknown).
    fn true_mi(&self, step: usize) -> f64;
    /// Step `step`'s batch of `batch_size` pairs, drawn from `rng`.
    fn batch(
        &self,
        step: usize,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
        dtype: DType,
    ) -> crate::Result<Batch>;
    /// The known conditional at `step`, if any (the conditional critic needs it).
    fn known(&self, step: usize) -> Option<&dyn KnownConditional>;
}

/// The two synthetic datasets of Figure 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetKind {
    /// The correlated Gaussian (x, y).
    Gaussian,
    /// (x, (W y)³) with W ~ N(0, 1)^{d×d} fixed per run.
    Cubic,
}

impl DatasetKind {
    /// `gaussian` or `cubic`.
    pub fn name(&self) -> &'static str {
        match self {
            DatasetKind::Gaussian => "gaussian",
            DatasetKind::Cubic => "cubic",
        }
    }
}

/// How the cubic dataset's z = (W y)³ is scaled (both keep I(X; Z) = I(X; Y)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CubicScale {
    /// z as the paper describes it, values in the hundreds to thousands (spec §6.2).
    Raw,
    /// Each coordinate of z divided by its standard deviation ([`Cubic::standardized`]).
    #[default]
    Unit,
}

/// One level's distribution.
#[derive(Clone, Debug)]
enum Level {
    Gaussian(CorrelatedGaussian),
    Cubic(Cubic),
}

impl KnownConditional for Level {
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Level::Gaussian(g) => g.log_cond_pairs(x, y),
            Level::Cubic(c) => c.log_cond_pairs(x, y),
        }
    }
    fn log_marginal(&self, y: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Level::Gaussian(g) => g.log_marginal(y),
            Level::Cubic(c) => c.log_marginal(y),
        }
    }
}

/// The paper's rising-MI data: a [`Staircase`] of MI levels on the Gaussian or cubic dataset.
///
/// The cubic W is drawn once from `data_seed` (so every run of a sweep sees the same W), and each
/// step's batch from the training RNG.
#[derive(Clone, Debug)]
pub struct StaircaseStream {
    dim: usize,
    schedule: Staircase,
    /// (MI, distribution) per distinct level, in schedule order.
    levels: Vec<(f64, Level)>,
}

impl StaircaseStream {
    /// `dim`-dimensional `dataset` following `schedule`; `cubic` says how the cubic data are
    /// scaled (ignored for the Gaussian).
    pub fn new(
        dataset: DatasetKind,
        dim: usize,
        schedule: Staircase,
        data_seed: u64,
        cubic: CubicScale,
    ) -> crate::Result<Self> {
        let mut mis: Vec<f64> = Vec::new();
        for t in 0..schedule.n_steps() {
            let mi = schedule.mi_at(t);
            if mis.last() != Some(&mi) {
                mis.push(mi);
            }
        }
        let first = CorrelatedGaussian::from_mi(dim, mis.first().copied().unwrap_or(0.0))?;
        let cubic = match dataset {
            DatasetKind::Cubic => {
                use rand::SeedableRng;
                let mut rng = ChaCha8Rng::seed_from_u64(data_seed);
                rng.set_stream(0xc0b1c);
                let raw = Cubic::new(first, &mut rng)?;
                Some(match cubic {
                    CubicScale::Raw => raw,
                    CubicScale::Unit => raw.standardized(),
                })
            }
            DatasetKind::Gaussian => None,
        };
        let levels = mis
            .iter()
            .map(|&mi| {
                Ok((
                    mi,
                    match &cubic {
                        Some(c) => Level::Cubic(c.with_mi(mi)?),
                        None => Level::Gaussian(CorrelatedGaussian::from_mi(dim, mi)?),
                    },
                ))
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(Self {
            dim,
            schedule,
            levels,
        })
    }

    /// The schedule.
    pub fn schedule(&self) -> Staircase {
        self.schedule
    }

    fn level(&self, step: usize) -> Option<&Level> {
        let mi = self.schedule.mi_at(step);
        self.levels.iter().find(|(m, _)| *m == mi).map(|(_, l)| l)
    }
}

impl Stream for StaircaseStream {
    fn dim_x(&self) -> usize {
        self.dim
    }
    fn dim_y(&self) -> usize {
        self.dim
    }
    fn true_mi(&self, step: usize) -> f64 {
        self.schedule.mi_at(step)
    }
    fn batch(
        &self,
        step: usize,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
        dtype: DType,
    ) -> crate::Result<Batch> {
        match self.level(step) {
            Some(Level::Gaussian(g)) => g.sample(batch_size, rng, device, dtype),
            Some(Level::Cubic(c)) => c.sample(batch_size, rng, device, dtype),
            None => Err(crate::Error::InvalidParameter {
                op: "StaircaseStream",
                name: "step",
                value: step.to_string(),
                reason: "no level for this step",
            }),
        }
    }
    fn known(&self, step: usize) -> Option<&dyn KnownConditional> {
        self.level(step).map(|l| l as &dyn KnownConditional)
    }
}

/// A fixed joint distribution: the same p(x, y) at every step.
#[derive(Clone, Debug)]
pub struct FixedStream<S>(pub S);

impl<S: Sampler + KnownConditional + Sync> Stream for FixedStream<S> {
    fn dim_x(&self) -> usize {
        self.0.dim_x()
    }
    fn dim_y(&self) -> usize {
        self.0.dim_y()
    }
    fn true_mi(&self, _step: usize) -> f64 {
        self.0.mutual_information()
    }
    fn batch(
        &self,
        _step: usize,
        batch_size: usize,
        rng: &mut ChaCha8Rng,
        device: &Device,
        dtype: DType,
    ) -> crate::Result<Batch> {
        self.0.sample(batch_size, rng, device, dtype)
    }
    fn known(&self, _step: usize) -> Option<&dyn KnownConditional> {
        Some(&self.0)
    }
}
