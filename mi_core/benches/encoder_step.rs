//! One training step of the dSprites encoder's InfoMax objective (mi_core::infomax) against the
//! same step in PyTorch eager (`bench/torch_encoder_step.py`), interleaved in one run at the same
//! thread count.
//!
//! `just bench` (or `cargo bench --bench encoder_step --features mi_core/cli -- [--threads N]
//! [--rounds R] [--python PATH] [--no-torch]`). A step is what training does —
//! `InfoMaxTrainer::step_once`, on the fused CPU step and on Candle autograd: draw a procedural
//! dSprites batch, the latent noise and the pixel noise; encode x and x + ε (one batch of 2B);
//! the InfoMax loss (I_JS with the structured critic, per-latent leave-one-out bounds, TC,
//! smoothness KL, read back as numbers); backward; Adam; the multipliers' dual-ascent step. Every
//! round times `reps` of ours then `reps` of PyTorch's per batch size; the table gives medians
//! over all rounds and the ratio ours / PyTorch (< 1: we are faster).

use candle_core::Device;
use mi_core::data::dsprites::Dsprites;
use mi_core::encoder::EncoderConfig;
use mi_core::infomax::InfoMaxConfig;
use mi_core::train::{AdamConfig, InfoMaxFit, InfoMaxTrainer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

mod common;
use common::{cpu_model, default_python, fmt_ms, fmt_ratio, median, our_ceiling, Worker};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Batch sizes and steps timed per round.
const CASES: [(usize, usize); 2] = [(64, 4), (256, 2)];

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A training run at batch size `b` on the fused path or on Candle autograd.
fn trainer(b: usize, fused: bool) -> Result<InfoMaxTrainer, String> {
    let fit = InfoMaxFit {
        steps: usize::MAX,
        batch_size: b,
        adam: AdamConfig {
            lr: 1e-4,
            ..AdamConfig::default()
        },
        seed: 0,
    };
    let mut t = InfoMaxTrainer::new(&InfoMaxConfig::default(), &fit, &Device::Cpu).map_err(err)?;
    if t.set_fused(fused).map_err(err)? != fused {
        return Err("the fused encoder step does not apply here".into());
    }
    Ok(t)
}

/// Matmul FLOPs of one step: the 2B images through the encoder forward (2·rows·in·out per
/// product), backward twice that (dW and dA) but for the first layer's input gradient. The
/// B × B part, q and the elementwise work are not counted.
fn step_flops(cfg: &EncoderConfig, b: usize) -> Result<f64, String> {
    let shapes = cfg.conv_shapes().map_err(err)?;
    let mut fwd = 0.0;
    let mut first = 0.0;
    for (l, (layer, ((c_in, _), (c_out, side)))) in cfg.conv.iter().zip(&shapes).enumerate() {
        let f = 2.0 * (side * side * c_out * c_in * layer.kernel * layer.kernel) as f64;
        if l == 0 {
            first = f;
        }
        fwd += f;
    }
    let flat = cfg.flat_dim().map_err(err)? as f64;
    fwd += 2.0 * flat * cfg.dense as f64 + 2.0 * 2.0 * (cfg.dense * cfg.latents) as f64;
    Ok(2.0 * b as f64 * (3.0 * fwd - first))
}

struct Args {
    threads: usize,
    rounds: usize,
    python: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        threads: 1,
        rounds: 3,
        python: Some(default_python()),
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, flag: &str| {
        v.and_then(|s| s.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{flag} needs a positive integer"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => args.threads = num(it.next(), "--threads")?,
            "--rounds" => args.rounds = num(it.next(), "--rounds")?,
            "--python" => args.python = it.next(),
            "--no-torch" => args.python = None,
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(args)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    mi_core::train::set_kernel_threads(args.threads); // before any tensor work
    let mut torch = match &args.python {
        Some(p) => Some(Worker::start(p, "torch_encoder_step.py", args.threads)?),
        None => None,
    };
    let data = Dsprites::procedural();
    let mut runs = Vec::new();
    for (b, _) in CASES {
        let mut pair = Vec::new();
        for fused in [true, false] {
            let mut t = trainer(b, fused)?;
            for _ in 0..2 {
                t.step_once(&data).map_err(err)?; // warm-up
            }
            pair.push(t);
        }
        runs.push(pair);
    }
    let mut ours = vec![[Vec::new(), Vec::new()]; CASES.len()];
    let mut batches = vec![Vec::new(); CASES.len()];
    let mut theirs = vec![Vec::new(); CASES.len()];
    let mut ceiling = Vec::new();
    let (m, k, n) = (4096, 256, 256);
    for round in 0..args.rounds {
        eprintln!("bench: encoder round {}/{}", round + 1, args.rounds);
        ceiling.push(our_ceiling(args.threads, m, k, n)?.0);
        for (i, (b, reps)) in CASES.iter().enumerate() {
            for (path, t) in runs[i].iter_mut().enumerate() {
                for _ in 0..*reps {
                    let t0 = Instant::now();
                    t.step_once(&data).map_err(err)?;
                    ours[i][path].push(t0.elapsed().as_secs_f64());
                }
            }
            // What drawing the batch costs inside our step (PyTorch's draws random pixels).
            let mut rng = ChaCha8Rng::seed_from_u64(round as u64);
            let t0 = Instant::now();
            data.batch(*b, &mut rng, &Device::Cpu).map_err(err)?;
            batches[i].push(t0.elapsed().as_secs_f64());
            if let Some(t) = torch.as_mut() {
                theirs[i].extend(t.times(&format!("{b} {reps}"))?);
            }
        }
    }
    let ceiling = median(&mut ceiling);
    let cfg = EncoderConfig::default();
    println!("\nCPU: {}", cpu_model());
    println!(
        "matmul ceiling (median over rounds), [{m}, {k}] · [{k}, {n}] f32 through the gemm crate, \
         {} thread(s): {ceiling:.0} GFLOP/s",
        args.threads
    );
    println!(
        "\ndSprites encoder InfoMax step (a procedural dSprites batch, x and x + ε through the conv \
         encoder, I_JS + per-latent LOO bounds + TC + KL in f64, backward, Adam, dual ascent), {} \
         thread(s), {} rounds, medians (ms); ratio = mi_core / PyTorch eager; GFLOP/s = the \
         step's matmul FLOPs / median time; batch = drawing the batch, inside our step",
        args.threads, args.rounds
    );
    println!(
        "| B | fused | autograd | PyTorch | fused/PyTorch | autograd/PyTorch | fused GFLOP/s \
         | autograd GFLOP/s | PyTorch GFLOP/s | fused / our ceiling | batch |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, (b, _)) in CASES.iter().enumerate() {
        let f = median(&mut ours[i][0]) * 1e3;
        let a = median(&mut ours[i][1]) * 1e3;
        let p = median(&mut theirs[i]) * 1e3;
        let gf = step_flops(&cfg, *b)? / 1e6;
        let rate = |ms: f64| {
            if ms.is_nan() {
                "—".to_string()
            } else {
                format!("{:.0}", gf / ms)
            }
        };
        println!(
            "| {b} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} % | {} |",
            fmt_ms(f),
            fmt_ms(a),
            fmt_ms(p),
            fmt_ratio(f, p),
            fmt_ratio(a, p),
            rate(f),
            rate(a),
            rate(p),
            100.0 * gf / f / ceiling,
            fmt_ms(median(&mut batches[i]) * 1e3),
        );
    }
    Ok(())
}
