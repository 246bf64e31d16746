//! Each bound's autograd gradient against central finite differences in f64, and no NaN
//! gradients at the edges (α ∈ {0, 1}, a score dominating its row by hundreds of nats, f32).

mod common;

use candle_core::{DType, Device, Tensor, Var};
use common::scalar;
use mi_core::bounds::*;
use mi_core::density::{diag_gaussian_log_prob_pairs, diag_gaussian_log_prob_pairs_per_dim};

type F<'a> = &'a dyn Fn(&Tensor) -> candle_core::Result<Tensor>;

fn data(n: usize, seed: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|k| ((((k + seed) * 7919) % 1009) as f64 / 1009.0 - 0.5) * 2.0 * scale)
        .collect()
}

fn tensor(v: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::Cpu).expect("tensor")
}

/// Autograd gradient of `value` at x0 vs central differences of `objective` (same function
/// unless the bound reports one value and trains another, like I_JS and SMILE).
fn check(name: &str, value: F, objective: F, x0: &Tensor) {
    let var = Var::from_tensor(x0).expect("var");
    let out = value(var.as_tensor()).expect("value");
    let grads = out.backward().expect("backward");
    // No gradient entry means the value does not depend on x (I_α at α = 1 and its baseline).
    let g = match grads.get(var.as_tensor()) {
        Some(g) => g
            .flatten_all()
            .and_then(|t| t.to_vec1::<f64>())
            .expect("grad vec"),
        None => vec![0.0; x0.elem_count()],
    };
    let base = x0
        .flatten_all()
        .and_then(|t| t.to_vec1::<f64>())
        .expect("x0");
    let h = 1e-5;
    for k in 0..base.len() {
        let mut plus = base.clone();
        let mut minus = base.clone();
        plus[k] += h;
        minus[k] -= h;
        let f = |v: Vec<f64>| scalar(&objective(&tensor(v, x0.dims())).expect("objective"));
        let fd = (f(plus) - f(minus)) / (2.0 * h);
        assert!(g[k].is_finite(), "{name}: non-finite gradient at {k}");
        assert!(
            (g[k] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
            "{name}[{k}]: autograd {} vs fd {fd}",
            g[k]
        );
    }
}

#[test]
fn score_gradients_match_finite_differences() {
    let b = 5;
    let s = tensor(data(b * b, 1, 3.0), &[b, b]);
    let l = tensor(data(b, 2, 1.0), &[b]);
    let jsf: F = &|x| js_fgan(x);
    let tuba_s: F = &|x| tuba(x, &l);
    let cases: Vec<(&str, F, F)> = vec![
        ("nwj", &|x| nwj(x), &|x| nwj(x)),
        ("dv", &|x| dv(x), &|x| dv(x)),
        ("infonce", &|x| infonce(x), &|x| infonce(x)),
        ("js_fgan", jsf, jsf),
        ("js (value NWJ, gradient JS)", &|x| js(x, 1.0), jsf),
        (
            "smile (value clipped DV, gradient JS)",
            &|x| smile(x, 1.0),
            jsf,
        ),
        ("tnce", &|x| tnce(x), &|x| tnce(x)),
        ("loo_upper", &|x| loo_upper(x), &|x| loo_upper(x)),
        ("tuba wrt scores", tuba_s, tuba_s),
    ];
    for (name, value, objective) in cases {
        check(name, value, objective, &s);
    }
    for a in [0.0, 0.01, 0.5, 0.99, 1.0] {
        let alpha = Alpha::new(a).expect("alpha");
        let f: F = &|x| interpolated(x, &l, alpha);
        check(&format!("I_alpha({a}) wrt scores"), f, f, &s);
        let fl: F = &|x| interpolated(&s, x, alpha);
        check(&format!("I_alpha({a}) wrt baseline"), fl, fl, &l);
    }
    let fl: F = &|x| tuba(&s, x);
    check("tuba wrt baseline", fl, fl, &l);
    let w = tensor(data(b * b, 3, 1.0), &[b, b]);
    let loo: F = &|x| loo_logmeanexp(x)?.mul(&w)?.sum_all();
    check("loo_logmeanexp", loo, loo, &s);
    let d = reduce::diag(&s).expect("diag");
    let fr: F = &|x| rate(&d, x);
    check("rate wrt log q", fr, fr, &l);
    let per_dim = tensor(data(3 * b * b, 4, 2.0), &[3, b, b]);
    let tc: F = &|x| tc_upper(x);
    check("tc_upper", tc, tc, &per_dim);
}

#[test]
fn mine_ema_gradient_is_the_corrected_gradient() {
    let b = 4;
    let s = tensor(data(b * b, 5, 2.0), &[b, b]);
    let mut ema = MineEma::new(0.5).expect("ema");
    ema.step(&s).expect("warm-up");
    let var = Var::from_tensor(&s).expect("var");
    let v = ema.step(var.as_tensor()).expect("step");
    let log_a = ema.log_baseline();
    let g = v.backward().expect("bw");
    let g = g
        .get(var.as_tensor())
        .expect("grad")
        .flatten_all()
        .and_then(|t| t.to_vec1::<f64>())
        .expect("v");
    // E_p[∇f] − E_q[e^f ∇f]/a_t: 1/B on the diagonal, −e^{S_ij}/(B(B−1)·a_t) off it.
    let sv = s.flatten_all().and_then(|t| t.to_vec1::<f64>()).expect("s");
    for i in 0..b {
        for j in 0..b {
            let want = if i == j {
                1.0 / b as f64
            } else {
                -(sv[i * b + j] - log_a).exp() / (b * (b - 1)) as f64
            };
            assert!(
                (g[i * b + j] - want).abs() < 1e-12,
                "[{i},{j}] {} vs {want}",
                g[i * b + j]
            );
        }
    }
}

#[test]
fn density_gradients_match_finite_differences() {
    let (b, d) = (4, 3);
    let y = tensor(data(b * d, 6, 1.5), &[b, d]);
    let m = tensor(data(b * d, 7, 1.5), &[b, d]);
    let v = tensor(data(b * d, 8, 0.4), &[b, d])
        .affine(1.0, 1.0)
        .expect("var > 0");
    let w = tensor(data(b * b, 9, 1.0), &[b, b]);
    let fy: F = &|x| diag_gaussian_log_prob_pairs(x, &m, &v)?.mul(&w)?.sum_all();
    check("pairs wrt y", fy, fy, &y);
    let fm: F = &|x| diag_gaussian_log_prob_pairs(&y, x, &v)?.mul(&w)?.sum_all();
    check("pairs wrt mean", fm, fm, &m);
    let fv: F = &|x| diag_gaussian_log_prob_pairs(&y, &m, x)?.mul(&w)?.sum_all();
    check("pairs wrt var", fv, fv, &v);
    let fk: F = &|x| {
        diag_gaussian_log_prob_pairs_per_dim(&y, x, &v)?
            .sum(0)?
            .mul(&w)?
            .sum_all()
    };
    check("per-dim pairs wrt mean", fk, fk, &m);
}

#[test]
fn no_nan_gradients_at_the_edges_in_f32() {
    let b = 6;
    let l = tensor(data(b, 11, 1.0), &[b])
        .to_dtype(DType::F32)
        .expect("f32");
    // Log-space bounds take a 300-nat dominance; the exp-space ones (whose true value is
    // −e^{300}, beyond f32) take 60 nats.
    for (spike, log_space_only) in [(300.0, true), (60.0, false)] {
        let mut v = data(b * b, 10, 2.0);
        v[2] += spike; // row 0 dominated by an off-diagonal entry
        v[b + 1] -= spike; // a joint pair far below its row
        let s = tensor(v, &[b, b]).to_dtype(DType::F32).expect("f32");
        let var = Var::from_tensor(&s).expect("var");
        let x = var.as_tensor();
        let mut outs: Vec<(&str, Tensor)> = vec![
            (
                "alpha 1",
                interpolated(x, &l, Alpha::new(1.0).expect("a")).expect("v"),
            ),
            ("loo", loo_logmeanexp(x).expect("v").sum_all().expect("v")),
            ("infonce", infonce(x).expect("v")),
            ("loo_upper", loo_upper(x).expect("v")),
            ("dv", dv(x).expect("v")),
            ("js_fgan", js_fgan(x).expect("v")),
        ];
        if !log_space_only {
            outs.push((
                "alpha 0",
                interpolated(x, &l, Alpha::new(0.0).expect("a")).expect("v"),
            ));
            outs.push((
                "alpha 0.5",
                interpolated(x, &l, Alpha::new(0.5).expect("a")).expect("v"),
            ));
            outs.push(("nwj", nwj(x).expect("v")));
            outs.push(("js", js(x, 1.0).expect("v")));
        }
        for (name, out) in outs {
            let g = out.backward().expect("bw");
            let g = g
                .get(x)
                .expect("grad")
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .expect("v");
            assert!(
                g.iter().all(|v| v.is_finite()),
                "{name} spike {spike}: {g:?}"
            );
            assert!(scalar(&out).is_finite(), "{name} spike {spike}: value");
        }
    }
}
