//! The fused path against Candle autograd: gradients of every parameter for both critics, with
//! and without the learned baseline, for every bound Figure 2 trains with (and DV, the JS f-GAN
//! objective), and one full Adam step.

use super::FusedStep;
use crate::bounds::{Bound, Estimator};
use crate::critic::{BaselineKind, CriticConfig};
use crate::data::{Batch, CorrelatedGaussian, Sampler};
use crate::train::{Adam, AdamConfig, CriticKind, Model, ModelConfig};
use candle_core::{backprop::GradStore, DType, Device, Tensor};
use rand::SeedableRng;

type R = crate::Result<()>;

/// Figure 2's estimators, DV and the JS f-GAN objective.
fn bounds() -> impl Iterator<Item = &'static str> {
    crate::experiments::staircase::PAPER_ESTIMATORS
        .into_iter()
        .chain(["dv", "js_fgan"])
}

fn setup(
    critic: CriticKind,
    baseline: BaselineKind,
    dim: usize,
    hidden: usize,
    b: usize,
    seed: u64,
) -> crate::Result<(Model, Adam, Batch)> {
    let net = CriticConfig {
        hidden,
        embed: hidden / 2,
        ..CriticConfig::paper(dim)
    };
    let cfg = ModelConfig {
        critic,
        baseline,
        net,
        baseline_hidden: 2 * hidden,
        ..ModelConfig::paper(dim)
    };
    let model = Model::new(&cfg, seed, &Device::Cpu)?;
    let vars = named_vars(&model)?;
    let adam = Adam::new(AdamConfig::default(), vars)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed + 100);
    let data = CorrelatedGaussian::from_mi(dim, 2.0)?;
    let batch = data.sample(b, &mut rng, &Device::Cpu, DType::F32)?;
    Ok((model, adam, batch))
}

fn named_vars(model: &Model) -> crate::Result<Vec<(String, candle_core::Var)>> {
    let data = model
        .varmap()
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("poisoned"))?;
    let mut v: Vec<_> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by(|a, c| a.0.cmp(&c.0));
    Ok(v)
}

/// loss = −value of `bound` on (scores, log-baseline), evaluated in f64 as the trainer does.
fn loss_grads(bound: Bound, s: &Tensor, lb: Option<&Tensor>) -> crate::Result<GradStore> {
    let lb = lb.map(|t| t.to_dtype(DType::F64)).transpose()?;
    let value = Estimator::new(bound)?.evaluate(&s.to_dtype(DType::F64)?, lb.as_ref())?;
    Ok(value.neg()?.backward()?)
}

/// Largest |fused − autograd| over largest |autograd|, over every parameter (each parameter
/// normalised by its own gradient's scale), and whether the two paths agree on which
/// parameters get a gradient.
fn compare(
    critic: CriticKind,
    baseline: BaselineKind,
    bound: Bound,
    (dim, hidden, b): (usize, usize, usize),
) -> crate::Result<f64> {
    let (model, adam, batch) = setup(critic, baseline, dim, hidden, b, 7)?;
    let auto = loss_grads(
        bound,
        &model.scores(&batch, None)?,
        model.log_baseline(&batch.y)?.as_ref(),
    )?;
    let Some(mut fused) = FusedStep::new(&model, Some(&adam))? else {
        panic!("the fused path applies here")
    };
    let (s, lb) = fused.forward(&model, &batch)?;
    let reached = fused.backward(&loss_grads(bound, &s, lb.as_ref())?)?;
    let nets = fused.nets();
    let (mut worst, mut nonzero, mut total) = (0f64, 0usize, 0usize);
    for (n, net) in nets.iter().enumerate() {
        let Some(net) = net else { continue };
        for ((name, var), g) in net.vars.iter().zip(&net.grads) {
            let want = auto.get(var.as_tensor());
            assert_eq!(
                want.is_some(),
                reached[n],
                "{critic:?} {baseline:?} {bound}: {name} reached by one path only"
            );
            let Some(want) = want else { continue };
            let want = want.flatten_all()?.to_vec1::<f32>()?;
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
            let diff = want
                .iter()
                .zip(g)
                .fold(0f32, |m, (a, c)| m.max((a - c).abs()));
            worst = worst.max(f64::from(diff / scale));
            nonzero += usize::from(scale > 1e-20);
            total += 1;
        }
    }
    // Every parameter the loss reaches has a gradient that is not all zeros (most of them).
    assert!(
        2 * nonzero >= total && total > 0,
        "{critic:?} {baseline:?} {bound}: {nonzero} of {total} gradients nonzero"
    );
    Ok(worst)
}

#[test]
fn gradients_match_autograd_for_every_bound_small() -> R {
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        for baseline in [
            BaselineKind::Constant,
            BaselineKind::Learned,
            BaselineKind::Gaussian,
        ] {
            for name in bounds() {
                let bound: Bound = name.parse()?;
                let worst = compare(critic, baseline, bound, (3, 8, 6))?;
                eprintln!("small {critic:?} {baseline:?} {name}: {worst:.2e}");
                assert!(worst <= 1e-5, "{critic:?} {baseline:?} {name}: {worst:e}");
            }
        }
    }
    Ok(())
}

#[test]
fn gradients_match_autograd_at_the_paper_shape() -> R {
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        for (name, baseline) in [
            ("infonce", BaselineKind::Constant),
            ("nwj", BaselineKind::Constant),
            ("alpha_0.01", BaselineKind::Learned),
        ] {
            let worst = compare(critic, baseline, name.parse()?, (20, 256, 64))?;
            eprintln!("paper {critic:?} {baseline:?} {name}: {worst:.2e}");
            assert!(worst <= 1e-5, "{critic:?} {baseline:?} {name}: {worst:e}");
        }
    }
    Ok(())
}

/// One full step through the trainer (bound, backward, Adam) on both paths: the parameters after
/// it agree to f32 rounding, for both critics with and without the learned baseline.
#[test]
fn one_adam_step_matches_autograd() -> R {
    use crate::train::{FitConfig, FixedStream, Trainer};
    let stream = FixedStream(CorrelatedGaussian::from_mi(3, 2.0)?);
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        for bound in ["infonce", "alpha_0.5", "mine_ema_0.99"] {
            let bound: Bound = bound.parse()?;
            let mut net = CriticConfig::paper(3);
            net.hidden = 16;
            net.embed = 8;
            let model = ModelConfig {
                critic,
                baseline: ModelConfig::baseline_for(&bound),
                net,
                baseline_hidden: 16,
                ..ModelConfig::paper(3)
            };
            let fit = FitConfig {
                batch_size: 6,
                ..FitConfig::default()
            };
            let mut after = Vec::new();
            for fused in [true, false] {
                let mut t = Trainer::new(&model, bound, &fit, &Device::Cpu)?;
                assert_eq!(t.set_fused(fused)?, fused);
                t.step_once(&stream)?;
                after.push(named_vars(t.model())?);
            }
            let mut worst = 0f32;
            for ((name, a), (_, b)) in after[0].iter().zip(&after[1]) {
                let (a, b) = (
                    a.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                    b.as_tensor().flatten_all()?.to_vec1::<f32>()?,
                );
                let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
                let diff = a
                    .iter()
                    .zip(&b)
                    .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    diff / scale <= 1e-5,
                    "{critic:?} {bound} {name}: {}",
                    diff / scale
                );
                worst = worst.max(diff / scale);
            }
            eprintln!("adam step {critic:?} {bound}: {worst:.2e}");
        }
    }
    Ok(())
}
