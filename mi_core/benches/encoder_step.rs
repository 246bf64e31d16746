//! One training step of the dSprites encoder's InfoMax objective (mi_core::infomax) against the
//! same step in PyTorch eager (`bench/torch_encoder_step.py`), interleaved in one run at the same
//! thread count.
//!
//! `just bench` (or `cargo bench --bench encoder_step --features mi_core/cli -- [--threads N]
//! [--rounds R] [--python PATH] [--no-torch]`). A step is what training does: draw a batch of
//! binary 64×64 images, the latent noise and the pixel noise; encode x and x + ε (one batch of
//! 2B); the InfoMax loss (I_JS with the structured critic, per-latent leave-one-out bounds, TC,
//! smoothness KL, read back as numbers); backward; Adam; the multipliers' dual-ascent step. Every
//! round times `reps` of ours then `reps` of PyTorch's per batch size; the table gives medians
//! over all rounds and the ratio ours / PyTorch (< 1: we are faster).

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use mi_core::infomax::{InfoMax, InfoMaxConfig, Multipliers};
use mi_core::train::{Adam, AdamConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Bernoulli, Distribution, StandardNormal};
use std::time::Instant;

mod common;
use common::{cpu_model, default_python, fmt_ms, fmt_ratio, median, Worker};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Batch sizes and steps timed per round.
const CASES: [(usize, usize); 2] = [(64, 4), (256, 2)];
/// Fraction of lit pixels in the random binary images (dSprites: a few percent).
const LIT: f64 = 0.1;

struct Step {
    model: InfoMax,
    adam: Adam,
    multipliers: Multipliers,
    config: InfoMaxConfig,
    rng: ChaCha8Rng,
    b: usize,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Step {
    fn new(b: usize) -> Result<Self, String> {
        let config = InfoMaxConfig::default();
        let vm = VarMap::new();
        let model = InfoMax::new(
            &config,
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
        )
        .map_err(err)?;
        mi_core::nn::init_reference(&vm, 0).map_err(err)?;
        let vars = vm
            .data()
            .lock()
            .map_err(err)?
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let adam = Adam::new(
            AdamConfig {
                lr: 1e-4,
                ..AdamConfig::default()
            },
            vars,
        )
        .map_err(err)?;
        Ok(Self {
            multipliers: Multipliers::initial(&config),
            model,
            adam,
            config,
            rng: ChaCha8Rng::seed_from_u64(0),
            b,
        })
    }

    fn normals(&mut self, shape: &[usize]) -> Result<Tensor, String> {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| StandardNormal.sample(&mut self.rng))
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).map_err(err)
    }

    fn run(&mut self) -> Result<(), String> {
        let (b, k) = (self.b, self.config.encoder.latents);
        let lit = Bernoulli::new(LIT).map_err(err)?;
        let px: Vec<f32> = (0..b * 64 * 64)
            .map(|_| f32::from(u8::from(lit.sample(&mut self.rng))))
            .collect();
        let x = Tensor::from_vec(px, (b, 1, 64, 64), &Device::Cpu).map_err(err)?;
        let eps = self.normals(&[b, k])?;
        let noise = self.normals(&[b, 1, 64, 64])?;
        let terms = self
            .model
            .terms(&x, &eps, &noise, &self.multipliers)
            .map_err(err)?;
        let grads = terms.loss.backward().map_err(err)?;
        self.adam.step(&grads).map_err(err)?;
        self.multipliers.update(&terms, &self.config);
        Ok(())
    }
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
    let mut steps = Vec::new();
    for (b, _) in CASES {
        let mut s = Step::new(b)?;
        for _ in 0..2 {
            s.run()?; // warm-up
        }
        steps.push(s);
    }
    let mut ours = vec![Vec::new(); CASES.len()];
    let mut theirs = vec![Vec::new(); CASES.len()];
    for round in 0..args.rounds {
        eprintln!("bench: encoder round {}/{}", round + 1, args.rounds);
        for (i, (b, reps)) in CASES.iter().enumerate() {
            for _ in 0..*reps {
                let t0 = Instant::now();
                steps[i].run()?;
                ours[i].push(t0.elapsed().as_secs_f64());
            }
            if let Some(t) = torch.as_mut() {
                theirs[i].extend(t.times(&format!("{b} {reps}"))?);
            }
        }
    }
    println!("\nCPU: {}", cpu_model());
    println!(
        "\ndSprites encoder InfoMax step (x and x + ε through the conv encoder, I_JS + per-latent \
         LOO bounds + TC + KL in f64, backward, Adam), {} thread(s), {} rounds, medians (ms); \
         ratio = mi_core / PyTorch eager",
        args.threads, args.rounds
    );
    println!("| B | mi_core | PyTorch | mi_core/PyTorch |");
    println!("|---|---|---|---|");
    for (i, (b, _)) in CASES.iter().enumerate() {
        let o = median(&mut ours[i]) * 1e3;
        let p = median(&mut theirs[i]) * 1e3;
        println!(
            "| {b} | {} | {} | {} |",
            fmt_ms(o),
            fmt_ms(p),
            fmt_ratio(o, p)
        );
    }
    Ok(())
}
