//! Critics f(x, y) and baselines a(y), all producing scores in the crate's convention
//! **`scores[i, j] = f(x_j, y_i)`** (rows are y, columns are x; see [`crate::bounds`]).
//!
//! | critic | scores | parameters |
//! |---|---|---|
//! | [`SeparableCritic`] | h(y_i)ᵀ g(x_j) | two MLPs d → 256 → 256 → 32 |
//! | [`ConcatCritic`] | F([x_j; y_i]) on all B² pairs | one MLP 2d → 256 → 256 → 1 |
//! | [`ConditionalCritic`] | log p(y_i \| x_j) of a known encoder | none |
//! | [`RatioCritic`] | log p(y_i \| x_j) − log p(y_i) + c (NWJ's optimum at c = 1) | none |
//!
//! Networks follow candle's idiom — a struct built by `new(&Config, VarBuilder)` — and their
//! parameter names (`critic.g.0.weight`, `baseline.2.bias`, …) are the checkpoint keys.

use crate::data::{CorrelatedGaussian, Cubic};
use crate::nn::{Mlp, MlpConfig};
use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

/// A critic: `x [Bx, dim_x]`, `y [By, dim_y]` → `scores [By, Bx]` with `scores[i, j] = f(x_j, y_i)`.
pub trait Critic {
    /// The score matrix of every (x_j, y_i) pair.
    fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor>;
}

fn check_xy(op: &'static str, x: &Tensor, y: &Tensor, dx: usize, dy: usize) -> Result<()> {
    match (x.dims(), y.dims()) {
        ([_, a], [_, b]) if *a == dx && *b == dy => Ok(()),
        _ => Err(crate::Error::Shape {
            op,
            detail: format!(
                "expected x [B, {dx}] and y [B, {dy}], got x {:?} and y {:?}",
                x.dims(),
                y.dims()
            ),
        }
        .into_candle()),
    }
}

/// The paper's critic networks (`critic_params` of the reference: 2 layers, 256 wide, 32-d
/// embedding, ReLU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticConfig {
    /// Dimension of x.
    pub dim_x: usize,
    /// Dimension of y.
    pub dim_y: usize,
    /// Width of the hidden layers.
    pub hidden: usize,
    /// Number of hidden layers.
    pub layers: usize,
    /// Embedding width of the separable critic.
    pub embed: usize,
    /// Most (x, y) pairs the concat critic evaluates at once (memory bound for large B).
    pub max_pairs: usize,
}

impl CriticConfig {
    /// The paper's networks for `dim`-dimensional x and y.
    pub fn paper(dim: usize) -> Self {
        Self {
            dim_x: dim,
            dim_y: dim,
            hidden: 256,
            layers: 2,
            embed: 32,
            max_pairs: 1 << 16,
        }
    }
}

/// Separable critic f(x, y) = h(y)ᵀ g(x): 2B network passes per batch.
#[derive(Clone, Debug)]
pub struct SeparableCritic {
    g: Mlp,
    h: Mlp,
    dims: (usize, usize),
}

impl SeparableCritic {
    /// g (on x) under `vb.pp("g")`, h (on y) under `vb.pp("h")`.
    pub fn new(config: &CriticConfig, vb: VarBuilder) -> Result<Self> {
        let net = |input| MlpConfig {
            input,
            hidden: config.hidden,
            layers: config.layers,
            output: config.embed,
        };
        Ok(Self {
            g: Mlp::new(&net(config.dim_x), vb.pp("g"))?,
            h: Mlp::new(&net(config.dim_y), vb.pp("h"))?,
            dims: (config.dim_x, config.dim_y),
        })
    }
}

impl Critic for SeparableCritic {
    fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        check_xy("SeparableCritic", x, y, self.dims.0, self.dims.1)?;
        let gx = self.g.forward(x)?; // [Bx, E]
        let hy = self.h.forward(y)?; // [By, E]
        hy.matmul(&gx.t()?)
    }
}

/// Joint (concat) critic f(x, y) = F([x; y]) on every pair, x first.
///
/// The first layer is computed as W_x x_j + W_y y_i + b — two `[B, d]` matmuls and a broadcast
/// add — rather than on a materialised `[B², 2d]` concatenation, and rows of y are processed in
/// chunks of at most `max_pairs` pairs so memory stays bounded at large B.
/// [`ConcatCritic::scores_naive`] is the direct form (tested equal).
#[derive(Clone, Debug)]
pub struct ConcatCritic {
    f: Mlp,
    dims: (usize, usize),
    max_pairs: usize,
}

impl ConcatCritic {
    /// F under `vb.pp("f")`: `dim_x + dim_y → hidden ×layers → 1`.
    pub fn new(config: &CriticConfig, vb: VarBuilder) -> Result<Self> {
        let f = Mlp::new(
            &MlpConfig {
                input: config.dim_x + config.dim_y,
                hidden: config.hidden,
                layers: config.layers,
                output: 1,
            },
            vb.pp("f"),
        )?;
        Ok(Self {
            f,
            dims: (config.dim_x, config.dim_y),
            max_pairs: config.max_pairs.max(1),
        })
    }

    /// The naive form: F on the `[By·Bx, dx + dy]` concatenation of every pair.
    pub fn scores_naive(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        check_xy("ConcatCritic", x, y, self.dims.0, self.dims.1)?;
        let (bx, by) = (x.dim(0)?, y.dim(0)?);
        let (dx, dy) = self.dims;
        let xs = x.unsqueeze(0)?.broadcast_as((by, bx, dx))?;
        let ys = y.unsqueeze(1)?.broadcast_as((by, bx, dy))?;
        let pairs = Tensor::cat(&[xs, ys], 2)?.reshape((by * bx, dx + dy))?;
        self.f.forward(&pairs)?.reshape((by, bx))
    }
}

impl Critic for ConcatCritic {
    fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        check_xy("ConcatCritic", x, y, self.dims.0, self.dims.1)?;
        let (bx, by) = (x.dim(0)?, y.dim(0)?);
        let (dx, dy) = self.dims;
        let Some(first) = self.f.layers().first() else {
            return Err(candle_core::Error::msg("ConcatCritic: no layers"));
        };
        let w = first.weight(); // [H, dx + dy]
        let ax = x.matmul(&w.narrow(1, 0, dx)?.t()?)?; // [Bx, H]: W_x x_j
        let mut ay = y.matmul(&w.narrow(1, dx, dy)?.t()?)?; // [By, H]: W_y y_i
        if let Some(b) = first.bias() {
            ay = ay.broadcast_add(b)?;
        }
        let hidden = ax.dim(1)?;
        let rows = (self.max_pairs / bx.max(1)).clamp(1, by.max(1));
        let ax = ax.unsqueeze(0)?;
        let mut chunks = Vec::with_capacity(by.div_ceil(rows));
        let mut i0 = 0;
        while i0 < by {
            let c = rows.min(by - i0);
            let pre = ay.narrow(0, i0, c)?.unsqueeze(1)?.broadcast_add(&ax)?; // [c, Bx, H]
            let out = self.f.forward_from(&pre.reshape((c * bx, hidden))?, 1)?;
            chunks.push(out.reshape((c, bx))?);
            i0 += c;
        }
        if chunks.len() == 1 {
            Ok(chunks.remove(0))
        } else {
            Tensor::cat(&chunks, 0)
        }
    }
}

/// A joint distribution whose conditional log-density log p(y|x) and marginal log p(y) are known.
pub trait KnownConditional {
    /// `log p(y_i | x_j)`: `x, y [..., B, d]` → `[..., B, B]`.
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> Result<Tensor>;
    /// `log p(y_i)`: `y [..., B, d]` → `[..., B]`.
    fn log_marginal(&self, y: &Tensor) -> Result<Tensor>;
}

impl KnownConditional for CorrelatedGaussian {
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        CorrelatedGaussian::log_cond_pairs(self, x, y)
    }
    fn log_marginal(&self, y: &Tensor) -> Result<Tensor> {
        CorrelatedGaussian::log_marginal(self, y)
    }
}

impl KnownConditional for Cubic {
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Cubic::log_cond_pairs(self, x, y)
    }
    fn log_marginal(&self, y: &Tensor) -> Result<Tensor> {
        Cubic::log_marginal(self, y)
    }
}

/// A reference to a known distribution is one too (the training loop borrows the stream's).
impl<K: KnownConditional + ?Sized> KnownConditional for &K {
    fn log_cond_pairs(&self, x: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
        (**self).log_cond_pairs(x, y)
    }
    fn log_marginal(&self, y: &Tensor) -> candle_core::Result<Tensor> {
        (**self).log_marginal(y)
    }
}

/// The known conditional as a critic: `scores[i, j] = log p(y_i | x_j)` (TNCE's, and with the
/// true marginal as baseline, TUBA's and I_α's optimal critic). No parameters.
#[derive(Clone, Debug)]
pub struct ConditionalCritic<K>(pub K);

impl<K: KnownConditional> Critic for ConditionalCritic<K> {
    fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        self.0.log_cond_pairs(x, y)
    }
}

/// The log density ratio plus a constant: `scores[i, j] = log p(y_i|x_j) − log p(y_i) + shift`.
/// With `shift = 1` this is NWJ's unique optimal critic; with 0, InfoNCE's and I_JS's.
#[derive(Clone, Debug)]
pub struct RatioCritic<K> {
    /// The distribution.
    pub known: K,
    /// The constant added to every score.
    pub shift: f64,
}

impl<K: KnownConditional> Critic for RatioCritic<K> {
    fn scores(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let lp = self.known.log_cond_pairs(x, y)?;
        let r = lp.broadcast_sub(&self.known.log_marginal(y)?.unsqueeze(D::Minus1)?)?;
        r.affine(1.0, self.shift)
    }
}

/// Which baseline a(y) a bound gets (the reference's `BASELINES`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// None (log a ≡ 0): NWJ, InfoNCE, JS.
    Constant,
    /// A learned unnormalised log a(y): MLP d → 512 → 512 → 1 (TUBA, I_α).
    Learned,
    /// log N(y; 0, I): the true marginal of the correlated Gaussian.
    Gaussian,
}

/// A baseline log a(y_i), one value per row of the scores.
#[derive(Clone, Debug)]
pub enum Baseline {
    /// No baseline.
    Constant,
    /// The learned network.
    Learned(Mlp),
    /// log N(y; 0, I).
    Gaussian,
}

impl Baseline {
    /// Builds the baseline (a learned one under `vb`, `dim_y → hidden ×layers → 1`).
    pub fn new(
        kind: BaselineKind,
        dim_y: usize,
        hidden: usize,
        layers: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(match kind {
            BaselineKind::Constant => Baseline::Constant,
            BaselineKind::Gaussian => Baseline::Gaussian,
            BaselineKind::Learned => Baseline::Learned(Mlp::new(
                &MlpConfig {
                    input: dim_y,
                    hidden,
                    layers,
                    output: 1,
                },
                vb,
            )?),
        })
    }

    /// `y [B, d]` → `log a(y_i) [B]`, or `None` for the constant baseline.
    pub fn log_baseline(&self, y: &Tensor) -> Result<Option<Tensor>> {
        match self {
            Baseline::Constant => Ok(None),
            Baseline::Gaussian => crate::density::std_normal_log_prob(y).map(Some),
            Baseline::Learned(net) => net.forward(y)?.squeeze(D::Minus1).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn batch(b: usize, d: usize, seed: u64) -> crate::Result<(Tensor, Tensor)> {
        use crate::data::Sampler;
        use rand::SeedableRng;
        let g = CorrelatedGaussian::from_mi(d, 2.0)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let bt = g.sample(b, &mut rng, &Device::Cpu, DType::F64)?;
        Ok((bt.x, bt.y))
    }

    #[test]
    fn concat_fast_form_equals_naive_form_in_chunks() -> crate::Result<()> {
        let vm = VarMap::new();
        let mut cfg = CriticConfig::paper(5);
        cfg.hidden = 32;
        cfg.max_pairs = 7; // chunks of one row of y, the last ragged
        let vb = VarBuilder::from_varmap(&vm, DType::F64, &Device::Cpu);
        let critic = ConcatCritic::new(&cfg, vb)?;
        crate::nn::init_reference(&vm, 3)?;
        let (x, y) = batch(6, 5, 1)?;
        let fast = critic.scores(&x, &y)?;
        let naive = critic.scores_naive(&x, &y)?;
        assert_eq!(fast.dims(), &[6, 6]);
        let diff = fast.sub(&naive)?.abs()?.max_all()?.to_scalar::<f64>()?;
        assert!(diff < 1e-12, "{diff}");
        // The orientation: row i is y_i, column j is x_j — checked on one entry by hand.
        let one = critic.scores_naive(&x.narrow(0, 4, 1)?, &y.narrow(0, 1, 1)?)?;
        let want = one.flatten_all()?.to_vec1::<f64>()?[0];
        assert!((fast.get(1)?.get(4)?.to_scalar::<f64>()? - want).abs() < 1e-12);
        Ok(())
    }

    /// Fills every parameter (biases too) with fixed, distinct, signed values (in name order:
    /// the VarMap's own order changes from run to run).
    fn fill(vm: &VarMap) -> crate::Result<()> {
        let data = vm
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("poisoned"))?;
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        for (k, name) in names.into_iter().enumerate() {
            let var = &data[name];
            let n = var.elem_count();
            let v: Vec<f64> = (0..n)
                .map(|i| (0.7 * (i + 13 * k) as f64 + 0.3).sin() * 0.6)
                .collect();
            var.set(&Tensor::from_vec(v, var.shape(), &Device::Cpu)?)?;
        }
        Ok(())
    }

    /// The MLP by hand: `x W_kᵀ + b_k`, ReLU after every layer but the last.
    fn mlp_naive(mlp: &Mlp, row: &[f64]) -> crate::Result<Vec<f64>> {
        let mut h = row.to_vec();
        let last = mlp.layers().len() - 1;
        for (k, layer) in mlp.layers().iter().enumerate() {
            let w = layer.weight().to_vec2::<f64>()?;
            let b = match layer.bias() {
                Some(b) => b.to_vec1::<f64>()?,
                None => vec![0.0; w.len()],
            };
            h = w
                .iter()
                .zip(&b)
                .map(|(wr, bi)| {
                    let z = wr.iter().zip(&h).map(|(a, c)| a * c).sum::<f64>() + bi;
                    if k < last {
                        z.max(0.0)
                    } else {
                        z
                    }
                })
                .collect();
        }
        Ok(h)
    }

    #[test]
    fn every_depth_matches_the_naive_network() -> crate::Result<()> {
        for layers in 0..=2 {
            let vm = VarMap::new();
            let cfg = CriticConfig {
                dim_x: 3,
                dim_y: 4,
                hidden: 8,
                layers,
                embed: 5,
                max_pairs: 7,
            };
            let vb = VarBuilder::from_varmap(&vm, DType::F64, &Device::Cpu);
            let concat = ConcatCritic::new(&cfg, vb.pp("c"))?;
            let sep = SeparableCritic::new(&cfg, vb.pp("s"))?;
            let base = Baseline::new(BaselineKind::Learned, 4, 8, layers, vb.pp("b"))?;
            fill(&vm)?;
            let (b, _) = batch(6, 4, 2)?;
            let x = b.narrow(1, 0, 3)?;
            let y = b.affine(1.5, 0.2)?;
            let (xs, ys) = (x.to_vec2::<f64>()?, y.to_vec2::<f64>()?);
            let close = |got: f64, want: f64, what: &str| {
                assert!(
                    (got - want).abs() < 1e-12 * (1.0 + want.abs()),
                    "{layers} hidden layers, {what}: {got} vs {want}"
                );
            };
            // Concat: the factorised, chunked form = F on each concatenated pair.
            let fast = concat.scores(&x, &y)?.to_vec2::<f64>()?;
            let naive = concat.scores_naive(&x, &y)?.to_vec2::<f64>()?;
            let mut negative = false;
            for i in 0..6 {
                for j in 0..6 {
                    let pair: Vec<f64> = xs[j].iter().chain(&ys[i]).copied().collect();
                    let want = mlp_naive(&concat.f, &pair)?[0];
                    close(fast[i][j], want, "concat fast");
                    close(naive[i][j], want, "concat naive");
                    negative |= want < 0.0;
                }
            }
            assert!(
                negative,
                "the test weights should give some negative scores"
            );
            // Separable: h(y_i)ᵀ g(x_j).
            let s = sep.scores(&x, &y)?.to_vec2::<f64>()?;
            for i in 0..6 {
                let hy = mlp_naive(&sep.h, &ys[i])?;
                for j in 0..6 {
                    let gx = mlp_naive(&sep.g, &xs[j])?;
                    close(
                        s[i][j],
                        hy.iter().zip(&gx).map(|(a, c)| a * c).sum(),
                        "separable",
                    );
                }
            }
            // The learned baseline.
            let Baseline::Learned(net) = &base else {
                panic!("a learned baseline")
            };
            let lb = base.log_baseline(&y)?.map(|t| t.to_vec1::<f64>());
            let Some(Ok(lb)) = lb else {
                panic!("a learned baseline has values")
            };
            for i in 0..6 {
                close(lb[i], mlp_naive(net, &ys[i])?[0], "baseline");
            }
        }
        Ok(())
    }
}
