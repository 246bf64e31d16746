//! The objective's "done when" tests: KL = 0 without pixel noise, the TC upper bound ≥ the true
//! TC of a linear-Gaussian encoder (closed form), gradients against central finite differences
//! on a tiny encoder in f64, dual ascent, and configuration errors.

use super::*;
use crate::encoder::{ConvLayer, Posterior};
use crate::nn::init_reference;
use candle_core::Device;
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn normals(shape: &[usize], rng: &mut ChaCha8Rng, dtype: DType) -> Result<Tensor> {
    let n = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::from_vec(v, shape, &Device::Cpu)?.to_dtype(dtype)
}

/// 8×8 input, two convolutions (3@4×4 s2 p1 → 4×4, 4@2×2 s2 p0 → 2×2), dense 6, K = 3, q 5×2.
fn tiny() -> InfoMaxConfig {
    InfoMaxConfig {
        encoder: EncoderConfig {
            latents: 3,
            image_size: 8,
            in_channels: 1,
            conv: vec![
                ConvLayer {
                    channels: 3,
                    kernel: 4,
                    stride: 2,
                    padding: 1,
                },
                ConvLayer {
                    channels: 4,
                    kernel: 2,
                    stride: 2,
                    padding: 0,
                },
            ],
            dense: 6,
        },
        q_hidden: 5,
        q_layers: 2,
        ..Default::default()
    }
}

fn model(cfg: &InfoMaxConfig, dtype: DType) -> Result<(VarMap, InfoMax)> {
    let vm = VarMap::new();
    let m = InfoMax::new(cfg, VarBuilder::from_varmap(&vm, dtype, &Device::Cpu))?;
    init_reference(&vm, 11).map_err(|e| e.into_candle())?;
    Ok((vm, m))
}

fn sum(v: &[f64]) -> f64 {
    v.iter().sum()
}

#[test]
fn kl_is_zero_without_pixel_noise_and_terms_compose() -> Result<()> {
    let cfg = InfoMaxConfig::default();
    let (_, im) = model(&cfg, DType::F32)?;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let b = 6;
    let x = Tensor::rand(0f32, 1.0, (b, 1, 64, 64), &Device::Cpu)?.round()?;
    let eps = normals(&[b, 10], &mut rng, DType::F32)?;
    let zeros = Tensor::zeros((b, 1, 64, 64), DType::F32, &Device::Cpu)?;
    let m = Multipliers::initial(&cfg);
    let t = im.terms(&x, &eps, &zeros, &m)?;
    assert!(t.kl.abs() < 1e-9, "KL at ε = 0: {}", t.kl);
    assert_eq!(t.mbu.len(), 10);
    assert!((t.tc_ub - (sum(&t.mbu) - t.i_js)).abs() < 1e-9);
    assert!(t.tnce <= (b as f64).ln() + 1e-12 && t.js_fgan < 0.0);
    let want = -t.i_js + m.tc * (t.tc_ub - cfg.delta) + m.smooth * (t.kl - cfg.gamma);
    assert!((t.loss.to_scalar::<f64>()? - want).abs() < 1e-9);
    // The same with noise drawn but noise_std = 0, and > 0 with noise.
    let noise = normals(&[b, 1, 64, 64], &mut rng, DType::F32)?;
    let quiet = InfoMaxConfig {
        noise_std: 0.0,
        ..cfg.clone()
    };
    let (_, im0) = model(&quiet, DType::F32)?;
    assert!(im0.terms(&x, &eps, &noise, &m)?.kl.abs() < 1e-9);
    assert!(im.terms(&x, &eps, &noise, &m)?.kl > 1e-6);
    Ok(())
}

#[test]
fn bad_inputs_are_errors() -> Result<()> {
    let cfg = tiny();
    let (_, im) = model(&cfg, DType::F32)?;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let x = normals(&[4, 1, 8, 8], &mut rng, DType::F32)?;
    let eps = normals(&[4, 3], &mut rng, DType::F32)?;
    let m = Multipliers::initial(&cfg);
    let err = |r: Result<Terms>| r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err(im.terms(&x, &eps, &eps, &m)).contains("noise the same shape"));
    let x1 = x.narrow(0, 0, 1)?;
    assert!(err(im.terms(&x1, &eps.narrow(0, 0, 1)?, &x1, &m)).contains("B ≥ 2"));
    assert!(err(im.terms(&x, &eps.narrow(1, 0, 2)?, &x, &m)).contains("eps"));
    let nan = x.affine(0.0, f64::NAN)?;
    assert!(err(im.terms(&x, &eps, &nan, &m)).contains("noise"));
    let bad_m = Multipliers {
        tc: -1.0,
        smooth: 0.0,
    };
    assert!(err(im.terms(&x, &eps, &x, &bad_m)).contains("multipliers.tc"));
    Ok(())
}

/// x ~ N(0, I₃), p(y|x) = N(Wx, diag s²): y ~ N(0, C), C = WWᵀ + diag s², so
/// TC(Y) = ½(Σ_k log C_kk − log det C), I(X; Y) = ½(log det C − Σ_k log s_k²),
/// I(X; Y_k) = ½ log(C_kk / s_k²).
#[test]
fn tc_upper_bound_is_above_the_closed_form_tc_of_a_linear_gaussian_encoder() -> Result<()> {
    let w = [[1.0, 0.8, 0.0], [0.0, 1.0, 0.8], [0.6, 0.0, 1.0]];
    let s2 = [0.5, 0.3, 0.4];
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] =
                (0..3).map(|k| w[i][k] * w[j][k]).sum::<f64>() + if i == j { s2[i] } else { 0.0 };
        }
    }
    let det = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1])
        - c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0])
        + c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
    let tc = 0.5 * ((0..3).map(|k| c[k][k].ln()).sum::<f64>() - det.ln());
    let mi = 0.5 * (det.ln() - s2.iter().map(|v: &f64| v.ln()).sum::<f64>());
    let mi_k: Vec<f64> = (0..3).map(|k| 0.5 * (c[k][k] / s2[k]).ln()).collect();

    let dev = Device::Cpu;
    let wt = Tensor::new(&w, &dev)?.t()?;
    let logvar = Tensor::new(&[s2[0].ln(), s2[1].ln(), s2[2].ln()], &dev)?;
    let (b, batches) = (128, 400);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut ub, mut ub_true, mut mbu_k) = (vec![], vec![], vec![0.0; 3]);
    for _ in 0..batches {
        let x = normals(&[b, 3], &mut rng, DType::F64)?;
        let p = Posterior {
            mean: x.matmul(&wt)?,
            logvar: logvar.unsqueeze(0)?.repeat((b, 1))?,
        };
        let y = p.sample(&normals(&[b, 3], &mut rng, DType::F64)?)?;
        let per = p.log_prob_pairs_per_latent(&y)?;
        let lower = tnce(&p.log_prob_pairs(&y)?)?;
        ub.push(tc_upper_with_lower(&per, &lower)?.to_scalar::<f64>()?);
        let mbu = loo_upper(&per)?.to_vec1::<f64>()?;
        ub_true.push(sum(&mbu) - mi);
        for k in 0..3 {
            mbu_k[k] += mbu[k] / batches as f64;
        }
    }
    let stats = |v: &[f64]| {
        let n = v.len() as f64;
        let m = sum(v) / n;
        let var = v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, (var / n).sqrt())
    };
    let (m1, se1) = stats(&ub);
    let (m2, se2) = stats(&ub_true);
    println!(
        "true TC {tc:.4}, I {mi:.4}, I_k {mi_k:?}; E[ΣMBU − TNCE] = {m1:.4} ± {se1:.4}, \
         E[ΣMBU] − I = {m2:.4} ± {se2:.4}, E[MBU_k] = {mbu_k:?}"
    );
    assert!(tc > 0.1, "the test needs a clearly positive TC, got {tc}");
    assert!(
        m1 >= tc - 3.0 * se1,
        "E[ΣMBU − TNCE] {m1} ± {se1} < TC {tc}"
    );
    assert!(m2 >= tc - 3.0 * se2, "E[ΣMBU] − I {m2} ± {se2} < TC {tc}");
    for k in 0..3 {
        assert!(
            mbu_k[k] >= mi_k[k] - 0.05,
            "E[MBU_{k}] {} < I_k {}",
            mbu_k[k],
            mi_k[k]
        );
    }
    // Not vacuous: at B = 128 the bound stays within half a nat of the truth here.
    assert!(m2 < tc + 0.5, "{m2} vs {tc}");
    Ok(())
}

/// The training surrogate whose gradient `loss` carries: −(1 + λ_TC)·JSD_fgan + λ_TC·(ΣMBU − δ)
/// + λ_S·(R − γ) (the I_JS value NWJ has a straight-through JS gradient).
fn surrogate(t: &Terms, cfg: &InfoMaxConfig) -> f64 {
    let m = t.multipliers;
    -(1.0 + m.tc) * t.js_fgan + m.tc * (sum(&t.mbu) - cfg.delta) + m.smooth * (t.kl - cfg.gamma)
}

#[test]
fn gradients_match_central_finite_differences_on_a_tiny_encoder() -> Result<()> {
    let cfg = tiny();
    let (vm, im) = model(&cfg, DType::F64)?;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let vars: Vec<(String, candle_core::Var)> = {
        let data = vm
            .data()
            .lock()
            .map_err(|_| candle_core::Error::msg("lock"))?;
        let mut v: Vec<_> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    for (_, var) in &vars {
        // Random biases too, so no unit sits at a ReLU kink or is dead by construction.
        var.set(&normals(var.dims(), &mut rng, DType::F64)?.affine(0.5, 0.0)?)?;
    }
    let b = 5;
    let x = Tensor::rand(0f64, 1.0, (b, 1, 8, 8), &Device::Cpu)?;
    let eps = normals(&[b, 3], &mut rng, DType::F64)?;
    let noise = normals(&[b, 1, 8, 8], &mut rng, DType::F64)?;
    let m = Multipliers {
        tc: 0.7,
        smooth: 1.3,
    };
    let t = im.terms(&x, &eps, &noise, &m)?;
    assert!(t.kl > 0.0 && t.i_js.is_finite());
    let grads = t.loss.backward()?;
    let h = 1e-6;
    let mut checked = 0;
    for (name, var) in &vars {
        let g = grads
            .get(var)
            .ok_or_else(|| candle_core::Error::msg(format!("no gradient for {name}")))?
            .flatten_all()?
            .to_vec1::<f64>()?;
        assert!(g.iter().all(|v| v.is_finite()), "{name}");
        let base = var.as_tensor().flatten_all()?.to_vec1::<f64>()?;
        for _ in 0..3 {
            let idx = rand::RngExt::random_range(&mut rng, 0..base.len());
            let at = |delta: f64| -> Result<f64> {
                let mut v = base.clone();
                v[idx] += delta;
                var.set(&Tensor::from_vec(v, var.dims(), &Device::Cpu)?)?;
                Ok(surrogate(&im.terms(&x, &eps, &noise, &m)?, &cfg))
            };
            let fd = (at(h)? - at(-h)?) / (2.0 * h);
            var.set(&Tensor::from_vec(base.clone(), var.dims(), &Device::Cpu)?)?;
            let err = (g[idx] - fd).abs();
            assert!(
                err <= 1e-6 + 1e-5 * fd.abs(),
                "{name}[{idx}]: autograd {} vs FD {fd}",
                g[idx]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * vars.len());
    assert_eq!(vars.len(), 2 * (2 + 3) + 2 * 3); // 2 convs, dense, 2 heads; q has 3 layers
    Ok(())
}

fn terms_with(tc_ub: f64, kl: f64) -> Result<Terms> {
    Ok(Terms {
        loss: Tensor::new(0.0f64, &Device::Cpu)?,
        i_js: 0.0,
        js_fgan: 0.0,
        tnce: 0.0,
        mbu: vec![],
        tc_ub,
        kl,
        multipliers: Multipliers {
            tc: 0.0,
            smooth: 0.0,
        },
    })
}

#[test]
fn dual_ascent_raises_lowers_and_clamps_fixed_stays() -> Result<()> {
    let cfg = InfoMaxConfig {
        delta: 0.1,
        gamma: 1.0,
        penalty: Penalty::Dual {
            eta_tc: 0.5,
            eta_smooth: 0.25,
            init_tc: 1.0,
            init_smooth: 0.2,
        },
        ..tiny()
    };
    let mut m = Multipliers::initial(&cfg);
    assert_eq!(
        m,
        Multipliers {
            tc: 1.0,
            smooth: 0.2
        }
    );
    m.update(&terms_with(2.1, 3.0)?, &cfg); // both violated: +0.5·2, +0.25·2
    assert!(
        (m.tc - 2.0).abs() < 1e-12 && (m.smooth - 0.7).abs() < 1e-12,
        "{m:?}"
    );
    m.update(&terms_with(0.1 - 1.0, 1.0 - 0.4)?, &cfg); // satisfied: −0.5, −0.1
    assert!(
        (m.tc - 1.5).abs() < 1e-12 && (m.smooth - 0.6).abs() < 1e-12,
        "{m:?}"
    );
    m.update(&terms_with(-20.0, -20.0)?, &cfg); // clamped at 0
    assert_eq!(
        m,
        Multipliers {
            tc: 0.0,
            smooth: 0.0
        }
    );
    m.update(&terms_with(f64::NAN, 3.0)?, &cfg); // a non-finite term leaves its λ
    assert!(m.tc == 0.0 && (m.smooth - 0.5).abs() < 1e-12);

    let fixed = InfoMaxConfig {
        penalty: Penalty::Fixed {
            lambda_tc: 3.0,
            lambda_smooth: 0.5,
        },
        ..tiny()
    };
    let mut m = Multipliers::initial(&fixed);
    m.update(&terms_with(100.0, 100.0)?, &fixed);
    assert_eq!(
        m,
        Multipliers {
            tc: 3.0,
            smooth: 0.5
        }
    );
    Ok(())
}

#[test]
fn tc_schedule_holds_then_ramps_the_tc_term_and_its_dual_step() -> Result<()> {
    let cfg = InfoMaxConfig {
        delta: 0.1,
        penalty: Penalty::Dual {
            eta_tc: 0.5,
            eta_smooth: 0.25,
            init_tc: 2.0,
            init_smooth: 0.2,
        },
        tc_schedule: TcSchedule { warmup: 3, ramp: 4 },
        ..tiny()
    };
    let w: Vec<f64> = (0..9).map(|t| cfg.tc_schedule.weight(t)).collect();
    assert_eq!(w, [0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
    assert_eq!(TcSchedule::default().weight(0), 1.0);
    assert_eq!(TcSchedule { warmup: 2, ramp: 0 }.weight(2), 1.0);

    let mut m = Multipliers::initial(&cfg);
    assert_eq!(m.at_step(&cfg, 1).tc, 0.0);
    assert_eq!(m.at_step(&cfg, 4).tc, 1.0);
    assert_eq!(m.at_step(&cfg, 4).smooth, 0.2);
    m.update_at(&terms_with(10.1, 1.0)?, &cfg, 2); // warm-up: λ_TC held, λ_S moves
    assert_eq!(m.tc, 2.0);
    m.update_at(&terms_with(2.1, 1.0)?, &cfg, 4); // w = 0.5: +0.5·0.5·2
    assert!((m.tc - 2.5).abs() < 1e-12, "{m:?}");
    m.update_at(&terms_with(0.1 - 20.0, 1.0)?, &cfg, 4); // clamped at 0, as without a schedule
    assert_eq!(m.tc, 0.0);

    // The loss of a warm-up step is the loss without the TC term.
    let (_vm, im) = model(&cfg, DType::F64)?;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (b, k) = (6, cfg.encoder.latents);
    let side = cfg.encoder.image_size;
    let x = normals(&[b, 1, side, side], &mut rng, DType::F64)?;
    let eps = normals(&[b, k], &mut rng, DType::F64)?;
    let noise = normals(&[b, 1, side, side], &mut rng, DType::F64)?;
    let m = Multipliers::initial(&cfg);
    let warm = im.terms(&x, &eps, &noise, &m.at_step(&cfg, 0))?;
    let off = im.terms(&x, &eps, &noise, &Multipliers { tc: 0.0, ..m })?;
    let full = im.terms(&x, &eps, &noise, &m)?;
    let value = |t: &Terms| -> Result<f64> { t.loss.to_scalar::<f64>() };
    assert_eq!(value(&warm)?, value(&off)?);
    assert!((value(&full)? - value(&off)? - 2.0 * (full.tc_ub - 0.1)).abs() < 1e-9);
    Ok(())
}

#[test]
fn bad_configs_are_errors_and_configs_round_trip() -> crate::Result<()> {
    let ok = InfoMaxConfig::default();
    ok.validate()?;
    let json = serde_json::to_string(&ok).map_err(|e| candle_core::Error::msg(e.to_string()))?;
    let back: InfoMaxConfig =
        serde_json::from_str(&json).map_err(|e| candle_core::Error::msg(e.to_string()))?;
    assert_eq!(back, ok);
    let dual = |f: fn(&mut Penalty)| {
        let mut c = ok.clone();
        f(&mut c.penalty);
        c
    };
    let bad: Vec<(&str, InfoMaxConfig)> = vec![
        (
            "delta",
            InfoMaxConfig {
                delta: -0.1,
                ..ok.clone()
            },
        ),
        (
            "gamma",
            InfoMaxConfig {
                gamma: f64::NAN,
                ..ok.clone()
            },
        ),
        (
            "noise_std",
            InfoMaxConfig {
                noise_std: -1.0,
                ..ok.clone()
            },
        ),
        (
            "mlp",
            InfoMaxConfig {
                q_hidden: 0,
                ..ok.clone()
            },
        ),
        (
            "latents",
            InfoMaxConfig {
                encoder: EncoderConfig {
                    latents: 0,
                    ..ok.encoder.clone()
                },
                ..ok.clone()
            },
        ),
        (
            "eta_tc",
            dual(|p| {
                if let Penalty::Dual { eta_tc, .. } = p {
                    *eta_tc = 0.0
                }
            }),
        ),
        (
            "eta_smooth",
            dual(|p| {
                if let Penalty::Dual { eta_smooth, .. } = p {
                    *eta_smooth = f64::INFINITY
                }
            }),
        ),
        (
            "init_smooth",
            dual(|p| {
                if let Penalty::Dual { init_smooth, .. } = p {
                    *init_smooth = -1.0
                }
            }),
        ),
        (
            "lambda_tc",
            InfoMaxConfig {
                penalty: Penalty::Fixed {
                    lambda_tc: -1.0,
                    lambda_smooth: 0.0,
                },
                ..ok.clone()
            },
        ),
    ];
    for (name, cfg) in bad {
        let msg = cfg
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains(name), "{name}: {msg}");
        let vm = VarMap::new();
        assert!(
            InfoMax::new(&cfg, VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu)).is_err()
        );
    }
    Ok(())
}
