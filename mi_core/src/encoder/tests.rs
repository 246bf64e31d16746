//! Candle's conv2d and the encoder's gemm convolution (forward, input and weight gradients)
//! against naive loops at the encoder's
//! exact shapes, the encoder's shapes and names, and the posterior's densities, KL and sampling
//! against naive references and Monte Carlo.

use super::*;
use crate::nn::init_reference;
use candle_core::{Device, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn normals(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// NCHW input `[b, c, s, s]`, kernel `[o, c, k, k]`.
struct Conv {
    b: usize,
    c: usize,
    s: usize,
    o: usize,
    k: usize,
    stride: usize,
    pad: usize,
}

impl Conv {
    fn out(&self) -> usize {
        (self.s + 2 * self.pad - self.k) / self.stride + 1
    }
    /// The input pixel read by output (oh, ow) at kernel tap (kh, kw), if inside the image.
    fn src(&self, oh: usize, ow: usize, kh: usize, kw: usize) -> Option<(usize, usize)> {
        let h = (oh * self.stride + kh).checked_sub(self.pad)?;
        let w = (ow * self.stride + kw).checked_sub(self.pad)?;
        (h < self.s && w < self.s).then_some((h, w))
    }
    /// Naive forward, input gradient and weight gradient of Σ g ⊙ conv(x, w), in f64.
    fn naive(&self, x: &[f32], w: &[f32], g: &[f32]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (b, c, s, o, k, n) = (self.b, self.c, self.s, self.o, self.k, self.out());
        let xi = |bi: usize, ci: usize, h: usize, ww: usize| ((bi * c + ci) * s + h) * s + ww;
        let wi = |oi: usize, ci: usize, kh: usize, kw: usize| ((oi * c + ci) * k + kh) * k + kw;
        let yi = |bi: usize, oi: usize, oh: usize, ow: usize| ((bi * o + oi) * n + oh) * n + ow;
        let mut y = vec![0.0; b * o * n * n];
        let mut dx = vec![0.0; x.len()];
        let mut dw = vec![0.0; w.len()];
        for bi in 0..b {
            for oi in 0..o {
                for oh in 0..n {
                    for ow in 0..n {
                        let gv = g[yi(bi, oi, oh, ow)] as f64;
                        let mut acc = 0.0;
                        for ci in 0..c {
                            for kh in 0..k {
                                for kw in 0..k {
                                    if let Some((h, ww)) = self.src(oh, ow, kh, kw) {
                                        let (a, bb) = (xi(bi, ci, h, ww), wi(oi, ci, kh, kw));
                                        acc += x[a] as f64 * w[bb] as f64;
                                        dx[a] += w[bb] as f64 * gv;
                                        dw[bb] += x[a] as f64 * gv;
                                    }
                                }
                            }
                        }
                        y[yi(bi, oi, oh, ow)] = acc;
                    }
                }
            }
        }
        (y, dx, dw)
    }
}

fn assert_close(what: &str, got: &Tensor, want: &[f64]) -> Result<()> {
    let got = got.flatten_all()?.to_dtype(DType::F64)?.to_vec1::<f64>()?;
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    // f32 sums of up to ~8k products of unit-scale terms: relative 1e-5 of the largest entry.
    assert!(
        worst <= 1e-5 * scale,
        "{what}: max |err| {worst} (scale {scale})"
    );
    Ok(())
}

/// Every layer of the default encoder at batches 32 (where the weight gradient of `conv2` is a
/// convolution with channels = height = width = 32, the layout of candle issue 3404) and 5.
#[test]
fn conv2d_forward_and_backward_match_naive_at_encoder_shapes() -> Result<()> {
    let cfg = EncoderConfig::default();
    let shapes = cfg.conv_shapes().map_err(|e| e.into_candle())?;
    let mut rng = ChaCha8Rng::seed_from_u64(3404);
    let dev = Device::Cpu;
    for b in [32, 5] {
        for (layer, ((c, s), (o, n))) in cfg.conv.iter().zip(&shapes) {
            let conv = Conv {
                b,
                c: *c,
                s: *s,
                o: *o,
                k: layer.kernel,
                stride: layer.stride,
                pad: layer.padding,
            };
            assert_eq!(conv.out(), *n);
            let x = normals(b * c * s * s, &mut rng);
            let w = normals(o * c * conv.k * conv.k, &mut rng);
            let g = normals(b * o * n * n, &mut rng);
            let xv = Var::from_tensor(&Tensor::from_vec(x.clone(), (b, *c, *s, *s), &dev)?)?;
            let wv = Var::from_tensor(&Tensor::from_vec(
                w.clone(),
                (*o, *c, conv.k, conv.k),
                &dev,
            )?)?;
            let gt = Tensor::from_vec(g.clone(), (b, *o, *n, *n), &dev)?;
            let (ry, rdx, rdw) = conv.naive(&x, &w, &g);
            // Candle's conv2d, and the encoder's own gemm convolution (what it trains with).
            let bias = Tensor::zeros(*o, DType::F32, &dev)?;
            let gemm = GemmConv::new(wv.as_tensor().clone(), bias, *s, conv.stride, conv.pad)?;
            for (name, y) in [
                ("candle", xv.conv2d(&wv, conv.pad, conv.stride, 1, 1)?),
                ("gemm", gemm.forward(xv.as_tensor())?),
                ("gemm-indexed", gemm.forward_indexed(xv.as_tensor())?),
            ] {
                let grads = y.mul(&gt)?.sum_all()?.backward()?;
                let tag = format!("{name} B={b} {c}x{s}x{s} -> {o}x{n}x{n}");
                assert_close(&format!("{tag} forward"), &y, &ry)?;
                let dx = grads
                    .get(&xv)
                    .ok_or_else(|| candle_core::Error::msg("no dx"))?;
                assert_close(&format!("{tag} input grad"), dx, &rdx)?;
                let dw = grads
                    .get(&wv)
                    .ok_or_else(|| candle_core::Error::msg("no dw"))?;
                assert_close(&format!("{tag} weight grad"), dw, &rdw)?;
            }
        }
    }
    Ok(())
}

fn encoder(cfg: &EncoderConfig, dtype: DType) -> Result<(VarMap, ConvEncoder)> {
    let vm = VarMap::new();
    let enc = ConvEncoder::new(cfg, VarBuilder::from_varmap(&vm, dtype, &Device::Cpu))?;
    init_reference(&vm, 1).map_err(|e| e.into_candle())?;
    Ok((vm, enc))
}

#[test]
fn default_encoder_shapes_names_and_errors() -> Result<()> {
    let cfg = EncoderConfig::default();
    assert_eq!(cfg.flat_dim().map_err(|e| e.into_candle())?, 1024);
    let (vm, enc) = encoder(&cfg, DType::F32)?;
    let mut names: Vec<String> = vm
        .data()
        .lock()
        .map_or(vec![], |d| d.keys().cloned().collect());
    names.sort();
    let mut want = vec![];
    for p in [
        "conv1", "conv2", "conv3", "conv4", "dense", "logvar", "mean",
    ] {
        want.push(format!("{p}.bias"));
        want.push(format!("{p}.weight"));
    }
    assert_eq!(names, want);
    let shape = |n: &str| {
        vm.data()
            .lock()
            .map(|d| d[n].dims().to_vec())
            .unwrap_or_default()
    };
    assert_eq!(shape("conv2.weight"), [32, 32, 4, 4]);
    assert_eq!(shape("dense.weight"), [256, 1024]);
    // Glorot for kernels: U(±√(6 / ((in + out)·kh·kw))).
    let w = vm
        .data()
        .lock()
        .map(|d| d["conv3.weight"].as_tensor().clone());
    let w = w.map_err(|_| candle_core::Error::msg("lock"))?;
    let limit = (6.0f32 / ((32.0 + 64.0) * 4.0)).sqrt();
    let w = w.flatten_all()?.to_vec1::<f32>()?;
    assert!(w.iter().all(|v| v.abs() <= limit) && w.iter().any(|v| v.abs() > 0.9 * limit));

    let x = Tensor::rand(0f32, 1.0, (3, 1, 64, 64), &Device::Cpu)?;
    let p = enc.forward(&x)?;
    assert_eq!(p.mean.dims(), [3, 10]);
    assert_eq!(p.logvar.dims(), [3, 10]);
    for bad in [(3, 1, 32, 32), (3, 3, 64, 64)] {
        let e = enc.forward(&Tensor::zeros(bad, DType::F32, &Device::Cpu)?);
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("[B ≥ 1, 1, 64, 64]"), "{msg}");
    }
    assert!(enc
        .forward(&Tensor::zeros((64, 64), DType::F32, &Device::Cpu)?)
        .is_err());

    let mut bad = cfg.clone();
    bad.latents = 0;
    assert!(bad.validate().is_err());
    let mut bad = cfg.clone();
    bad.image_size = 4; // conv3 2×2 on a 1×1 map fails, earlier layers shrink to nothing
    assert!(bad.validate().is_err());
    let mut bad = cfg;
    bad.conv[1].stride = 0;
    assert!(bad.validate().is_err());
    Ok(())
}

fn posterior(b: usize, k: usize, rng: &mut ChaCha8Rng) -> Result<Posterior> {
    let dev = Device::Cpu;
    let m: Vec<f64> = (0..b * k).map(|_| StandardNormal.sample(rng)).collect();
    let lv: Vec<f64> = (0..b * k)
        .map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            0.7 * z
        })
        .collect();
    Ok(Posterior {
        mean: Tensor::from_vec(m, (b, k), &dev)?,
        logvar: Tensor::from_vec(lv, (b, k), &dev)?,
    })
}

fn log_normal(y: f64, m: f64, lv: f64) -> f64 {
    -0.5 * ((2.0 * std::f64::consts::PI).ln() + lv + (y - m).powi(2) / lv.exp())
}

#[test]
fn log_prob_pairs_match_naive_per_pair() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (b, k) = (7, 4);
    let p = posterior(b, k, &mut rng)?;
    let eps: Vec<f64> = (0..b * k)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let y = p.sample(&Tensor::from_vec(eps, (b, k), &Device::Cpu)?)?;
    let lp = p.log_prob_pairs(&y)?.to_vec2::<f64>()?;
    let per = p.log_prob_pairs_per_latent(&y)?.to_vec3::<f64>()?;
    let (m, lv, yv) = (
        p.mean.to_vec2::<f64>()?,
        p.logvar.to_vec2::<f64>()?,
        y.to_vec2::<f64>()?,
    );
    for i in 0..b {
        for j in 0..b {
            let terms: Vec<f64> = (0..k)
                .map(|q| log_normal(yv[i][q], m[j][q], lv[j][q]))
                .collect();
            assert!((lp[i][j] - terms.iter().sum::<f64>()).abs() < 1e-10);
            for q in 0..k {
                assert!((per[q][i][j] - terms[q]).abs() < 1e-10);
            }
        }
    }
    let short = Tensor::zeros((b, k + 1), DType::F64, &Device::Cpu)?;
    assert!(p.log_prob_pairs(&short).is_err());
    assert!(p.sample(&short).is_err());
    Ok(())
}

#[test]
fn kl_is_zero_for_identical_and_matches_monte_carlo() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (b, k) = (3, 2);
    let p1 = posterior(b, k, &mut rng)?;
    let p2 = posterior(b, k, &mut rng)?;
    let same = p1.kl(&p1)?.to_vec1::<f64>()?;
    assert!(same.iter().all(|v| v.abs() < 1e-14), "{same:?}");
    let kl = p1.kl(&p2)?.to_vec1::<f64>()?;
    let (m1, l1) = (p1.mean.to_vec2::<f64>()?, p1.logvar.to_vec2::<f64>()?);
    let (m2, l2) = (p2.mean.to_vec2::<f64>()?, p2.logvar.to_vec2::<f64>()?);
    let n = 200_000;
    for r in 0..b {
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let mut d = 0.0;
            for q in 0..k {
                let e: f64 = StandardNormal.sample(&mut rng);
                let y = m1[r][q] + (0.5 * l1[r][q]).exp() * e;
                d += log_normal(y, m1[r][q], l1[r][q]) - log_normal(y, m2[r][q], l2[r][q]);
            }
            s += d;
            s2 += d * d;
        }
        let mean = s / n as f64;
        let se = ((s2 / n as f64 - mean * mean) / n as f64).sqrt();
        assert!(kl[r] >= 0.0);
        assert!(
            (kl[r] - mean).abs() < 4.0 * se,
            "row {r}: {} vs MC {mean} ± {se}",
            kl[r]
        );
    }
    Ok(())
}

#[test]
fn reparameterised_samples_have_the_posterior_moments() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 40_000;
    let p = Posterior {
        mean: Tensor::new(&[[1.5f32, -2.0]], &Device::Cpu)?.repeat((n, 1))?,
        logvar: Tensor::new(&[[0.0f32, (0.25f32).ln()]], &Device::Cpu)?.repeat((n, 1))?,
    };
    let eps = Tensor::from_vec(normals(2 * n, &mut rng), (n, 2), &Device::Cpu)?;
    let y = p.sample(&eps)?.to_dtype(DType::F64)?;
    let mean = y.mean(0)?.to_vec1::<f64>()?;
    let sd = y
        .broadcast_sub(&y.mean_keepdim(0)?)?
        .sqr()?
        .mean(0)?
        .sqrt()?
        .to_vec1::<f64>()?;
    let se = |s: f64| s / (n as f64).sqrt();
    assert!((mean[0] - 1.5).abs() < 4.0 * se(1.0) && (mean[1] + 2.0).abs() < 4.0 * se(0.5));
    // sd's standard error ≈ σ/√(2n).
    assert!((sd[0] - 1.0).abs() < 4.0 * se(1.0) / 2f64.sqrt(), "{sd:?}");
    assert!((sd[1] - 0.5).abs() < 4.0 * se(0.5) / 2f64.sqrt(), "{sd:?}");
    Ok(())
}
