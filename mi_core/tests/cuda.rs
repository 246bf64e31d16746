//! The CUDA build against the CPU: every bound's value and gradient on the shared reference cases
//! (f64 and f32), one full training step (bound, backward, Adam) of both critics for every
//! estimator of Figure 2, and a few steps at the paper's shape. They need a GPU, so they are
//! ignored in a plain `cargo test`; `bench/gpu_check.sh` runs them with `--ignored` on a machine
//! that has one (built by `just check-cuda`).
#![cfg(feature = "cuda")]

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::{cases, close, scalar};
use mi_core::bounds::{Bound, Estimator};
use mi_core::critic::CriticConfig;
use mi_core::data::CorrelatedGaussian;
use mi_core::experiments::staircase::PAPER_ESTIMATORS;
use mi_core::train::{CriticKind, FitConfig, FixedStream, Model, ModelConfig, Trainer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;
type R = Res<()>;
/// A model's parameters by name, on the CPU.
type Weights = Vec<(String, Vec<f32>)>;

fn gpu() -> Res<Device> {
    Ok(mi_core::estimate::DeviceChoice::Cuda(0).device()?)
}

/// Every bound that evaluates scores alone (Figure 2's, DV, the JS f-GAN objective and the
/// bounds that read log p(y|x)), by name.
fn every_bound() -> Vec<Bound> {
    PAPER_ESTIMATORS
        .into_iter()
        .chain([
            "dv",
            "js_fgan",
            "tnce",
            "loo_upper",
            "rate",
            "alpha_0",
            "alpha_1",
        ])
        .map(|n| n.parse().expect("a bound's name"))
        .collect()
}

/// Equal where the CPU's value is not finite, else within the reference tolerance.
fn agree(gpu: f64, cpu: f64, dtype: DType, extreme: bool) -> bool {
    if cpu.is_finite() {
        close(gpu, cpu, dtype, extreme)
    } else {
        gpu == cpu || (gpu.is_nan() && cpu.is_nan())
    }
}

/// The bound's value and its gradient with respect to the scores, on `device`.
fn value_and_grad(
    bound: Bound,
    scores: &Tensor,
    log_baseline: &Tensor,
    device: &Device,
) -> Res<(f64, Vec<f64>)> {
    let s = Var::from_tensor(&scores.to_device(device)?)?;
    let lb = log_baseline.to_device(device)?;
    let lb = bound.uses_log_baseline().then_some(&lb);
    let value = Estimator::new(bound)?.evaluate(s.as_tensor(), lb)?;
    let grads = value.backward()?;
    let g = grads
        .get(s.as_tensor())
        .ok_or("no gradient for the scores")?
        .to_device(&Device::Cpu)?
        .to_dtype(DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?;
    Ok((scalar(&value.to_device(&Device::Cpu)?), g))
}

#[test]
#[ignore = "needs a CUDA device: bench/gpu_check.sh"]
fn every_bound_and_its_gradient_agree_with_the_cpu() -> R {
    let gpu = gpu()?;
    let (_, cases) = cases();
    let mut failures = Vec::new();
    let mut checked = 0;
    for dtype in [DType::F64, DType::F32] {
        for case in &cases {
            let (s, lb) = (case.scores(dtype), case.log_baseline(dtype));
            for bound in every_bound() {
                let (v_cpu, g_cpu) = value_and_grad(bound, &s, &lb, &Device::Cpu)?;
                let (v_gpu, g_gpu) = value_and_grad(bound, &s, &lb, &gpu)?;
                let name = bound.name();
                if !agree(v_gpu, v_cpu, dtype, case.extreme()) {
                    failures.push(format!(
                        "case {} {name} {dtype:?}: {v_gpu} vs {v_cpu}",
                        case.index
                    ));
                }
                // Gradients: entrywise, relative to the largest entry (the f32 tolerance is the
                // bounds' own: 1e-4).
                let scale = g_cpu.iter().fold(0f64, |m, g| m.max(g.abs())).max(1e-30);
                let tol = if dtype == DType::F64 { 1e-9 } else { 1e-4 };
                let worst = g_cpu
                    .iter()
                    .zip(&g_gpu)
                    .filter(|(c, _)| c.is_finite())
                    .fold(0f64, |m, (c, g)| m.max((c - g).abs() / scale));
                let non_finite_agree = g_cpu
                    .iter()
                    .zip(&g_gpu)
                    .all(|(c, g)| c.is_finite() || c == g || (c.is_nan() && g.is_nan()));
                if !(worst <= tol && non_finite_agree) {
                    failures.push(format!(
                        "case {} {name} {dtype:?}: gradient differs by {worst:e} of its largest entry",
                        case.index
                    ));
                }
                checked += 1;
            }
        }
    }
    eprintln!(
        "{checked} bound evaluations compared, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

fn named(model: &Model) -> Res<Weights> {
    let data = model
        .varmap()
        .data()
        .lock()
        .map_err(|_| "poisoned VarMap")?;
    let mut out = Vec::new();
    for (name, var) in data.iter() {
        let v = var
            .as_tensor()
            .to_device(&Device::Cpu)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        out.push((name.clone(), v));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Trains `steps` steps on `device` (autograd on both: the fused step is CPU-only) and returns
/// the logged estimates and the weights after them.
fn train(
    model: &ModelConfig,
    bound: Bound,
    fit: &FitConfig,
    steps: usize,
    device: &Device,
) -> Res<(Vec<f64>, Weights)> {
    let stream = FixedStream(CorrelatedGaussian::from_mi(model.net.dim_x, 2.0)?);
    let mut t = Trainer::new(model, bound, fit, device)?;
    t.set_fused(false)?;
    for _ in 0..steps {
        t.step_once(&stream)?.ok_or("the run diverged")?;
    }
    Ok((t.history().estimates.clone(), named(t.model())?))
}

#[test]
#[ignore = "needs a CUDA device: bench/gpu_check.sh"]
fn one_training_step_agrees_with_the_cpu() -> R {
    let gpu = gpu()?;
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        for name in PAPER_ESTIMATORS {
            let bound: Bound = name.parse()?;
            if bound.needs_known_conditional() {
                continue;
            }
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
            let (e_cpu, w_cpu) = train(&model, bound, &fit, 1, &Device::Cpu)?;
            let (e_gpu, w_gpu) = train(&model, bound, &fit, 1, &gpu)?;
            assert!(
                close(e_gpu[0], e_cpu[0], DType::F32, false),
                "{critic:?} {name}: estimate {} vs {}",
                e_gpu[0],
                e_cpu[0]
            );
            for ((param, a), (_, b)) in w_gpu.iter().zip(&w_cpu) {
                let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-30);
                let diff = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                assert!(
                    diff / scale <= 1e-4,
                    "{critic:?} {name} {param}: {:e}",
                    diff / scale
                );
            }
        }
    }
    Ok(())
}

/// The paper's networks and batch (hidden 256, B = 64, dim 20): five steps of InfoNCE and NWJ on
/// both critics log the same estimates on both devices. The tolerance is looser than one step's
/// (1e-3 relative or absolute): Adam's first steps move each weight by about ±lr, so a gradient
/// entry that rounds to the other sign moves that weight the other way.
#[test]
#[ignore = "needs a CUDA device: bench/gpu_check.sh"]
fn training_at_the_paper_shape_agrees_with_the_cpu() -> R {
    let gpu = gpu()?;
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        for name in ["infonce", "nwj"] {
            let bound: Bound = name.parse()?;
            let model = ModelConfig {
                critic,
                baseline: ModelConfig::baseline_for(&bound),
                ..ModelConfig::paper(20)
            };
            let fit = FitConfig::default();
            let (e_cpu, _) = train(&model, bound, &fit, 5, &Device::Cpu)?;
            let (e_gpu, _) = train(&model, bound, &fit, 5, &gpu)?;
            for (step, (g, c)) in e_gpu.iter().zip(&e_cpu).enumerate() {
                assert!(
                    (g - c).abs() <= 1e-3 * c.abs().max(1.0),
                    "{critic:?} {name} step {step}: {g} vs {c}"
                );
            }
        }
    }
    Ok(())
}
