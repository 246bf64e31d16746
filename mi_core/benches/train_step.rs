//! One training step of mi_core against the same step in PyTorch eager, interleaved in one run.
//!
//! `just bench` (or `cargo bench --bench train_step --features cli -- [--threads N] [--rounds R]
//! [--python PATH] [--no-torch]`). For each case (critic × bound × B, d = 20) every round times
//! `reps` of our steps, then `reps` of PyTorch's (a worker process running
//! `bench/torch_step.py` with the same thread count); the table gives the medians over all
//! rounds and the ratio ours / PyTorch (< 1: we are faster). A step is what training does: draw a
//! fresh batch, score it, evaluate the bound, read its value, backward, Adam.

use candle_core::Device;
use mi_core::bounds::Bound;
use mi_core::data::CorrelatedGaussian;
use mi_core::train::{CriticKind, FitConfig, FixedStream, ModelConfig, Trainer};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    threads: usize,
    rounds: usize,
    python: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        threads: 1,
        rounds: 5,
        python: Some(
            std::env::var("BENCH_PYTHON").unwrap_or_else(|_| ".venv-bench/bin/python".into()),
        ),
    };
    let mut it = std::env::args().skip(1);
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
    if args.threads == 0 || args.rounds == 0 {
        return Err("--threads and --rounds must be ≥ 1".into());
    }
    Ok(args)
}

fn num(v: Option<String>, flag: &str) -> Result<usize, String> {
    v.and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{flag} needs a positive integer"))
}

struct Torch {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Torch {
    fn start(python: &str, threads: usize) -> Result<Self, String> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/torch_step.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(threads.to_string())
            .env("OMP_NUM_THREADS", threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{python}` ({e}); `just bench` installs PyTorch into .venv-bench, or pass --no-torch"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut t = Torch {
            child,
            stdin,
            stdout,
        };
        let hello = t.line()?;
        eprintln!("bench: PyTorch worker {hello}");
        Ok(t)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut s = String::new();
        match self.stdout.read_line(&mut s) {
            Ok(0) => Err("the PyTorch worker exited (see its error above)".into()),
            Ok(_) => Ok(s.trim().to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn time(&mut self, case: &Case, reps: usize) -> Result<Vec<f64>, String> {
        writeln!(
            self.stdin,
            "{} {} {} {reps}",
            case.critic_name(),
            case.bound_name(),
            case.b
        )
        .and_then(|_| self.stdin.flush())
        .map_err(|e| e.to_string())?;
        let reply = self.line()?;
        let v: serde_json::Value =
            serde_json::from_str(&reply).map_err(|e| format!("{e}: {reply}"))?;
        v["times"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .ok_or_else(|| format!("bad reply: {reply}"))
    }
}

impl Drop for Torch {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    // Before any tensor work.
    mi_core::train::set_kernel_threads(args.threads);
    let mut torch = match &args.python {
        Some(p) => Some(Torch::start(p, args.threads)?),
        None => None,
    };
    let stream = FixedStream(CorrelatedGaussian::from_mi(20, 4.0).map_err(|e| e.to_string())?);
    let mut cases = Vec::new();
    for critic in [CriticKind::Separable, CriticKind::Concat] {
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
        let mut t = Trainer::new(&model, c.bound, &fit, &Device::Cpu).map_err(|e| e.to_string())?;
        for _ in 0..3 {
            t.step_once(&stream).map_err(|e| e.to_string())?;
        }
        trainers.push(t);
    }
    let mut ours: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); cases.len()];
    for round in 0..args.rounds {
        eprintln!("bench: round {}/{}", round + 1, args.rounds);
        for (k, c) in cases.iter().enumerate() {
            for _ in 0..c.reps {
                let t0 = Instant::now();
                trainers[k].step_once(&stream).map_err(|e| e.to_string())?;
                ours[k].push(t0.elapsed().as_secs_f64());
            }
            if let Some(t) = torch.as_mut() {
                theirs[k].extend(t.time(c, c.reps)?);
            }
        }
    }
    println!(
        "\none training step, d = 20, {} thread(s), {} rounds, medians (ms); ratio = mi_core / PyTorch eager",
        args.threads, args.rounds
    );
    println!("| critic | bound | B | mi_core | PyTorch | ratio |");
    println!("|---|---|---|---|---|---|");
    for (k, c) in cases.iter().enumerate() {
        let a = median(&mut ours[k]) * 1e3;
        let b = median(&mut theirs[k]) * 1e3;
        println!(
            "| {} | {} | {} | {a:.2} | {} | {} |",
            c.critic_name(),
            c.bound_name(),
            c.b,
            if b.is_nan() {
                "—".into()
            } else {
                format!("{b:.2}")
            },
            if b.is_nan() {
                "—".into()
            } else {
                format!("{:.2}×", a / b)
            },
        );
    }
    Ok(())
}
