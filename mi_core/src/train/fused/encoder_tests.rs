//! The fused encoder step against Candle autograd (the reference): the encoder's outputs and
//! every parameter's gradient at the paper's shapes (B = 64, and an odd B whose shards end in
//! partial chunks), bit-identical for 1 and 2 threads, and whole training runs (fused vs
//! autograd; 1 vs 2 threads).

use super::encoder::FusedEncoder;
use crate::data::dsprites::{Dsprites, IMAGE_SIDE};
use crate::encoder::{ConvLayer, EncoderConfig};
use crate::infomax::{InfoMax, InfoMaxConfig, Multipliers};
use crate::train::objective::Objective;
use crate::train::{AdamConfig, InfoMaxFit, InfoMaxTrainer};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

type R = crate::Result<()>;

fn normals(shape: &[usize], rng: &mut ChaCha8Rng) -> crate::Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut *rng)).collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

fn flat(t: &Tensor) -> crate::Result<Vec<f32>> {
    Ok(t.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
}

/// ‖a − b‖ / ‖b‖ (0 when both are 0).
fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        num += (f64::from(*x) - f64::from(*y)).powi(2);
        den += f64::from(*y).powi(2);
    }
    if den == 0.0 {
        num.sqrt()
    } else {
        (num / den).sqrt()
    }
}

fn var(vm: &VarMap, name: &str) -> crate::Result<Var> {
    let data = vm
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("poisoned"))?;
    Ok(data
        .get(name)
        .cloned()
        .ok_or_else(|| candle_core::Error::msg(format!("no `{name}`")))?)
}

/// Gradients of every encoder parameter, fused (1 and 2 threads) vs autograd, with real dSprites
/// images, the default (paper) encoder and q, multipliers away from 1.
fn check_gradients(b: usize, seed: u64) -> R {
    let cfg = InfoMaxConfig::default();
    let vm = VarMap::new();
    let model = InfoMax::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu))?;
    crate::nn::init_reference(&vm, seed)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let (x, _) = Dsprites::procedural().batch(b, &mut rng, &Device::Cpu)?;
    let eps = normals(&[b, cfg.encoder.latents], &mut rng)?;
    let noise = normals(&[b, 1, IMAGE_SIDE, IMAGE_SIDE], &mut rng)?;
    let m = Multipliers {
        tc: 1.7,
        smooth: 0.6,
    };

    let reference = model.encode_pair(&x, &noise)?;
    let t_ref = model.terms(&x, &eps, &noise, &m)?;
    let g_ref = t_ref.loss.backward()?;

    let mut per_threads = Vec::new();
    for threads in [1, 2] {
        let mut fused = FusedEncoder::new(&vm, "encoder", &cfg.encoder, cfg.noise_std)?;
        fused.fixed_threads = Some(threads);
        let both = fused.forward(&x, &noise)?;
        for (ours, theirs, what) in [
            (&both.mean, &reference.mean, "μ"),
            (&both.logvar, &reference.logvar, "logvar"),
        ] {
            let e = rel_err(&flat(ours)?, &flat(theirs)?);
            assert!(
                e <= 1e-5,
                "B = {b}, {threads} thread(s): {what} off by {e:e}"
            );
        }
        let t = model.terms_of_encoded(&both, &eps, &m)?;
        let (lf, lr) = (t.loss.to_scalar::<f64>()?, t_ref.loss.to_scalar::<f64>()?);
        assert!(
            (lf - lr).abs() <= 1e-5 * lr.abs().max(1.0),
            "loss {lf} vs {lr}"
        );
        let grads = fused.gradients(&t.loss.backward()?)?;
        assert_eq!(grads.len(), 2 * cfg.encoder.conv.len() + 6);
        for (name, g) in &grads {
            let v = var(&vm, name)?;
            let want = g_ref
                .get(v.as_tensor())
                .ok_or_else(|| candle_core::Error::msg(format!("no reference grad of {name}")))?;
            let want = flat(want)?;
            assert_eq!(g.len(), want.len(), "{name}");
            let e = rel_err(g, &want);
            assert!(
                e <= 1e-5,
                "B = {b}, {threads} thread(s): ∂L/∂{name} off by {e:e} (relative)"
            );
            assert!(
                want.iter().any(|w| *w != 0.0),
                "{name}: a zero gradient tests nothing"
            );
        }
        per_threads.push(grads);
    }
    assert_eq!(
        per_threads[0], per_threads[1],
        "1 and 2 threads must agree bit for bit"
    );
    Ok(())
}

#[test]
fn gradients_match_autograd_at_the_paper_shape() -> R {
    check_gradients(64, 0)
}

#[test]
fn gradients_match_autograd_at_an_odd_batch() -> R {
    // 2B = 22 images: shards of 5 and 6, so the third layer's chunks of 4 images end in a
    // partial one (1 or 2 images) after a full one.
    check_gradients(11, 7)
}

#[test]
fn chunks_cover_every_image_once_in_order() {
    for (n, per) in [(0, 4), (1, 4), (4, 4), (5, 4), (22, 4), (7, 1), (3, 16)] {
        let all: Vec<(usize, usize)> = super::encoder::chunks(n, per).collect();
        let mut next = 0;
        for &(first, m) in &all {
            assert_eq!(first, next, "n = {n}, per = {per}: {all:?}");
            assert!((1..=per).contains(&m), "n = {n}, per = {per}: {all:?}");
            next += m;
        }
        assert_eq!(next, n, "n = {n}, per = {per}: {all:?}");
        assert_eq!(all.len(), n.div_ceil(per), "n = {n}, per = {per}: {all:?}");
    }
}

/// The paper's encoder, narrowed so a whole run takes a moment.
fn tiny() -> (InfoMaxConfig, InfoMaxFit) {
    let layer = |channels, kernel, padding| ConvLayer {
        channels,
        kernel,
        stride: 2,
        padding,
    };
    let encoder = EncoderConfig {
        latents: 3,
        conv: vec![
            layer(4, 4, 1),
            layer(6, 4, 1),
            layer(8, 2, 0),
            layer(8, 2, 0),
        ],
        dense: 16,
        ..EncoderConfig::default()
    };
    let config = InfoMaxConfig {
        encoder,
        q_hidden: 16,
        ..InfoMaxConfig::default()
    };
    let fit = InfoMaxFit {
        steps: 10,
        batch_size: 9,
        adam: AdamConfig {
            lr: 1e-3,
            ..AdamConfig::default()
        },
        seed: 5,
    };
    (config, fit)
}

fn params(t: &InfoMaxTrainer) -> crate::Result<Vec<(String, Vec<f32>)>> {
    let mut out = Vec::new();
    for (name, v) in crate::train::objective::named_vars(t.objective.varmap())? {
        out.push((name, flat(v.as_tensor())?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn run(fused: bool, threads: Option<usize>) -> crate::Result<InfoMaxTrainer> {
    let (config, fit) = tiny();
    let mut t = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)?;
    assert_eq!(t.set_fused(fused)?, fused);
    if let Some(f) = t.objective.fused.as_mut() {
        f.fixed_threads = threads;
    }
    t.run_until(&Dsprites::procedural(), fit.steps, &mut |_| {})?;
    assert!(!t.diverged());
    Ok(t)
}

#[test]
fn fused_runs_follow_the_autograd_run_and_ignore_the_thread_count() -> R {
    let reference = run(false, None)?;
    let one = run(true, Some(1))?;
    let two = run(true, Some(2))?;
    assert!(one.is_fused() && !reference.is_fused());
    // Bit for bit across thread counts: the same shards, summed in the same order.
    assert_eq!(one.history(), two.history());
    assert_eq!(params(&one)?, params(&two)?);
    // Against autograd: the same run up to f32 rounding, step by step and in the weights.
    for (a, b) in one.history().logs.iter().zip(&reference.history().logs) {
        let tol = 1e-4 * b.loss.abs().max(1.0);
        assert!(
            (a.loss - b.loss).abs() <= tol,
            "step {}: {} vs {}",
            a.step,
            a.loss,
            b.loss
        );
        assert!((a.i_js - b.i_js).abs() <= tol, "step {}: I_JS", a.step);
    }
    for ((name, a), (_, b)) in params(&one)?.iter().zip(&params(&reference)?) {
        let e = rel_err(a, b);
        assert!(e <= 1e-4, "{name} after the run: off by {e:e}");
    }
    Ok(())
}
