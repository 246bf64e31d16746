//! One training step of mi_core — the fused CPU step and the Candle autograd step — against the
//! same step in PyTorch eager, interleaved in one run, with the machine's matmul ceiling.
//!
//! `just bench` (or `cargo bench --bench train_step --features mi_core/cli -- [--threads N]
//! [--rounds R] [--python PATH] [--no-torch] [--only fused|autograd] [--critic separable|concat]`). For each case (critic × bound × B, d = 20) every
//! round times `reps` of our fused steps, `reps` of our autograd steps, then `reps` of PyTorch's
//! (a worker process running `bench/torch_step.py` with the same thread count); the table gives
//! the medians over all rounds, the ratios ours / PyTorch (< 1: we are faster) and the achieved
//! GFLOP/s (the step's matmul FLOPs, counted the same way for all three, over its median time).
//! A step is what training does: draw a fresh batch, score it, evaluate the bound, read its
//! value, backward, Adam. The ceiling is one `[4096, 256] · [256, 256]` f32 product (the concat
//! critic's big layer at B = 64) through the `gemm` crate directly, through candle, and through
//! PyTorch. The thread count is per process (rayon's pool is sized once): run it once per count.

use candle_core::Device;
use mi_core::bounds::Bound;
use mi_core::data::CorrelatedGaussian;
use mi_core::train::{CriticKind, FitConfig, FixedStream, ModelConfig, Trainer};
use std::time::Instant;

mod common;
use common::{
    cpu_model, default_python, fmt_ms, fmt_ratio, median, our_ceiling, torch_matmul, Worker,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    threads: usize,
    rounds: usize,
    python: Option<String>,
    /// Time only this path (`fused` or `autograd`), e.g. under a profiler.
    only: Option<String>,
    /// Time only this critic (`separable` or `concat`).
    critic: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        threads: 1,
        rounds: 5,
        python: Some(default_python()),
        only: None,
        critic: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--threads" => args.threads = num(it.next(), "--threads")?,
            "--rounds" => args.rounds = num(it.next(), "--rounds")?,
            "--python" => args.python = it.next(),
            "--no-torch" => args.python = None,
            "--only" => args.only = it.next(),
            "--critic" => args.critic = it.next(),
            "--bench" => {} // added by `cargo bench`
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.threads == 0 || args.rounds == 0 {
        return Err("--threads and --rounds must be ≥ 1".into());
    }
    Ok(args)
}

fn num(v: Option<String>, flag: &str) -> Result<usize, String> {
    v.and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{flag} needs a positive integer"))
}

/// Times `reps` of PyTorch's step for `case`.
fn torch_times(w: &mut Worker, case: &Case, reps: usize) -> Result<Vec<f64>, String> {
    w.times(&format!(
        "{} {} {} {reps}",
        case.critic_name(),
        case.bound_name(),
        case.b
    ))
}

/// PyTorch's GFLOP/s on one `[m, k] · [k, n]` f32 product (median of its repetitions).
struct Case {
    critic: CriticKind,
    bound: Bound,
    b: usize,
    reps: usize,
}

impl Case {
    fn critic_name(&self) -> &'static str {
        self.critic.name()
    }
    fn bound_name(&self) -> String {
        self.bound.name()
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

/// Matmul FLOPs of one training step (forward and backward, d = 20, the paper's networks):
/// 2·n·in·out per product; backward computes dW for every layer and dA for every layer but the
/// input one. The bound's B×B part and the elementwise work are not counted.
fn step_flops(critic: CriticKind, b: usize) -> f64 {
    let (d, h, e) = (20.0, 256.0, 32.0);
    let b = b as f64;
    match critic {
        CriticKind::Concat => {
            let pairs = b * b;
            // ax, ay: forward + dW; the B² pairs through 256 → 256 → 1: forward + dW + dA.
            2.0 * (2.0 * 2.0 * b * d * h) + 3.0 * 2.0 * pairs * (h * h + h)
        }
        _ => {
            // Two towers d → 256 → 256 → 32 on B rows, and S = h gᵀ with its two gradients.
            let tower = 2.0 * 2.0 * b * d * h + 3.0 * 2.0 * b * (h * h + h * e);
            2.0 * tower + 3.0 * 2.0 * b * b * e
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    // Before any tensor work.
    mi_core::train::set_kernel_threads(args.threads);
    let mut torch = match &args.python {
        Some(p) => Some(Worker::start(p, "torch_step.py", args.threads)?),
        None => None,
    };
    let stream = FixedStream(CorrelatedGaussian::from_mi(20, 4.0).map_err(|e| e.to_string())?);
    let mut cases = Vec::new();
    for critic in [CriticKind::Separable, CriticKind::Concat] {
        if args.critic.as_deref().is_some_and(|c| c != critic.name()) {
            continue;
        }
        for bound in [Bound::InfoNce, Bound::Nwj] {
            for (b, reps) in [
                (64, if critic == CriticKind::Concat { 8 } else { 40 }),
                (512, if critic == CriticKind::Concat { 1 } else { 6 }),
            ] {
                cases.push(Case {
                    critic,
                    bound,
                    b,
                    reps,
                });
            }
        }
    }
    // Two trainers per case: [fused, autograd].
    let mut trainers = Vec::new();
    for c in &cases {
        let model = ModelConfig {
            critic: c.critic,
            ..ModelConfig::paper(20)
        };
        let fit = FitConfig {
            batch_size: c.b,
            ..FitConfig::default()
        };
        let mut pair = Vec::new();
        for fused in [true, false] {
            let name = if fused { "fused" } else { "autograd" };
            if args.only.as_deref().is_some_and(|o| o != name) {
                pair.push(None);
                continue;
            }
            let mut t =
                Trainer::new(&model, c.bound, &fit, &Device::Cpu).map_err(|e| e.to_string())?;
            if t.set_fused(fused).map_err(|e| e.to_string())? != fused {
                return Err("the fused step does not apply to the bench's models".into());
            }
            for _ in 0..if c.reps == 1 { 1 } else { 3 } {
                t.step_once(&stream).map_err(|e| e.to_string())?;
            }
            pair.push(Some(t));
        }
        trainers.push(pair);
    }
    let mut ours: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; cases.len()];
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    // The matmul ceiling, measured every round beside the steps (medians reported): ours through
    // the gemm crate, through candle, and PyTorch's.
    let (m, k, n) = (4096, 256, 256);
    let mut ceilings: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..args.rounds {
        eprintln!("bench: round {}/{}", round + 1, args.rounds);
        let (direct, via_candle) = our_ceiling(args.threads, m, k, n)?;
        ceilings[0].push(direct);
        ceilings[1].push(via_candle);
        if let Some(t) = torch.as_mut() {
            ceilings[2].push(torch_matmul(t, m, k, n)?);
        }
        for (k, c) in cases.iter().enumerate() {
            for (path, t) in trainers[k].iter_mut().enumerate() {
                let Some(t) = t else { continue };
                for _ in 0..c.reps {
                    let t0 = Instant::now();
                    t.step_once(&stream).map_err(|e| e.to_string())?;
                    ours[k][path].push(t0.elapsed().as_secs_f64());
                }
            }
            if let Some(t) = torch.as_mut() {
                theirs[k].extend(torch_times(t, c, c.reps)?);
            }
        }
    }
    let (direct, via_candle) = (median(&mut ceilings[0]), median(&mut ceilings[1]));
    let torch_ceiling = Some(median(&mut ceilings[2])).filter(|g| !g.is_nan());
    println!("\nCPU: {}", cpu_model());
    println!(
        "matmul ceiling (median over rounds), [{m}, {k}] · [{k}, {n}] f32, {} thread(s): gemm crate \
         {direct:.0} GFLOP/s, candle {via_candle:.0} GFLOP/s, PyTorch {}",
        args.threads,
        torch_ceiling.map_or("—".into(), |g| format!("{g:.0} GFLOP/s"))
    );
    println!(
        "\none training step, d = 20, {} thread(s), {} rounds, medians (ms); ratio = mi_core / \
         PyTorch eager; GFLOP/s = the step's matmul FLOPs / median time",
        args.threads, args.rounds
    );
    println!(
        "| critic | bound | B | fused | autograd | PyTorch | fused/PyTorch | autograd/PyTorch \
         | fused GFLOP/s | autograd GFLOP/s | PyTorch GFLOP/s | fused / our ceiling |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, c) in cases.iter().enumerate() {
        let f = median(&mut ours[i][0]) * 1e3;
        let a = median(&mut ours[i][1]) * 1e3;
        let p = median(&mut theirs[i]) * 1e3;
        let gf = step_flops(c.critic, c.b) / 1e6;
        let rate = |ms: f64| {
            if ms.is_nan() {
                "—".to_string()
            } else {
                format!("{:.0}", gf / ms)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} % |",
            c.critic_name(),
            c.bound_name(),
            c.b,
            fmt_ms(f),
            fmt_ms(a),
            fmt_ms(p),
            fmt_ratio(f, p),
            fmt_ratio(a, p),
            rate(f),
            rate(a),
            rate(p),
            100.0 * gf / f / direct,
        );
    }
    Ok(())
}
