//! `mi` — evaluate every bound of mi_core on a saved score matrix, estimate the MI of a user's
//! data, and sample the ground-truth tasks.
//!
//! ```text
//! mi estimate --x X.npy --y Y.npy [--bound auto|all|infonce|nwj|…] [--format json|table]
//! mi estimate --x table.csv --y-cols c,d [--x-cols a,b] [--drop-nonfinite]   (or .parquet)
//! mi estimate --x X.npz --checkpoint DIR [--device cpu|cuda]
//! mi tasks list | mi tasks sample NAME --n N --seed S --out DIR | mi tasks bench [--bound …]
//! mi bounds --scores S.npy [--log-baseline L.npy] [--alpha 0.01 --alpha 0.5 ...] [--format json|table]
//! mi bounds --scores S.npy --bound interpolated        # one bound; α recommended if not given
//! ```
//! S[i, j] = f(x_j, y_i) (row = y sample, column = x sample, diagonal = joint pairs), f32 or f64,
//! evaluated in f64. The log-baseline (one entry per row, log a(y_i)) defaults to zeros.

use clap::{Parser, Subcommand, ValueEnum};
use mi_core::cli::{evaluate_all, evaluate_one, render_table, whole_arg, AllBounds, BoundsOptions};
use mi_core::data::Sampler;
use mi_core::estimate::{BoundChoice, Transform};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mi",
    version,
    about = "Variational bounds of mutual information (Poole et al., 2019)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate every bound on a score matrix saved as .npy (scores[i, j] = f(x_j, y_i)).
    Bounds {
        /// The [B, B] score matrix (.npy, float32 or float64).
        #[arg(long)]
        scores: PathBuf,
        /// The [B] log-baseline log a(y_i) for TUBA and I_α, log q(y_i) for the rate (.npy); TUBA
        /// and I_α read zeros if absent, the rate refuses to run without it.
        #[arg(long)]
        log_baseline: Option<PathBuf>,
        /// α of the interpolated bound I_α, in [0, 1]; repeat for several.
        #[arg(long = "alpha", allow_negative_numbers = true)]
        alphas: Vec<String>,
        /// The shift c in I_JS = NWJ(S + c).
        #[arg(long, default_value_t = mi_core::bounds::JS_EVAL_SHIFT, allow_negative_numbers = true)]
        js_eval_shift: f64,
        /// The clip τ of SMILE.
        #[arg(long, default_value_t = 5.0, allow_negative_numbers = true)]
        smile_tau: f64,
        /// Evaluate only this bound (tuba, nwj, dv, infonce, interpolated, js_fgan, js, smile,
        /// tnce, loo_upper, mine_ema, alpha_A, …). `interpolated` without --alpha uses the α
        /// recommended for this batch size and MI (Figure 4's best-α map).
        #[arg(long)]
        bound: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Estimate I(X; Y) of paired rows: a held-out estimate with its standard error (JSON on
    /// stdout, progress on stderr).
    Estimate {
        /// X: .npy/.npz (1-D or 2-D, a row per sample), .csv (header row) or .parquet.
        #[arg(long)]
        x: PathBuf,
        /// Y (same formats); omit to take Y from X's file (--y-cols, or an .npz array `y`).
        #[arg(long)]
        y: Option<PathBuf>,
        /// X's columns: names and/or index ranges, e.g. `a,b` or `0:3,5`.
        #[arg(long)]
        x_cols: Option<String>,
        /// Y's columns (same syntax).
        #[arg(long)]
        y_cols: Option<String>,
        /// X's array in an .npz (default `x`, or its only array).
        #[arg(long)]
        x_key: Option<String>,
        /// Y's array in an .npz (default `y`, or its only array).
        #[arg(long)]
        y_key: Option<String>,
        /// Drop rows holding NaN or ±∞ (counted in the output) instead of failing.
        #[arg(long)]
        drop_nonfinite: bool,
        /// Write the kept critic (weights, fitted transforms, config.json with the estimate)
        /// into DIR, one sub-folder per bound for `--bound all`; written, never resumed.
        #[arg(long, value_name = "DIR", conflicts_with = "gaussian_encoder")]
        checkpoint: Option<PathBuf>,
        /// X holds a Gaussian encoder p(y|x) per row — the mean, then the log-variance of y
        /// (2·dim(Y) columns): report TNCE ≤ I(X; Y) ≤ the leave-one-out upper bound, no training.
        #[arg(long)]
        gaussian_encoder: bool,
        /// With --gaussian-encoder: the differential entropy (nats) of the encoder's mean columns
        /// (h(X) when the mean is x itself); adds the Barber–Agakov lower bound with a learned
        /// Gaussian decoder.
        #[arg(long, allow_negative_numbers = true, requires = "gaussian_encoder")]
        entropy_x: Option<f64>,
        #[command(flatten)]
        args: EstimateArgs,
    },
    /// The ground-truth tasks: list, sample, bench.
    Tasks {
        #[command(subcommand)]
        command: TasksCommand,
    },
}

/// Arguments shared by `estimate` and `tasks bench`: how to train and report.
#[derive(clap::Args)]
struct EstimateArgs {
    /// auto (default: InfoNCE, or I_α when InfoNCE saturates), all, nce/infonce, nwj, tuba,
    /// dv/mine, js, smile, interpolated (α recommended unless --alpha), alpha_A.
    #[arg(long, default_value = "auto")]
    bound: String,
    /// α of the interpolated bound, in [0, 1] (interpolated, auto and all only).
    #[arg(long, allow_negative_numbers = true)]
    alpha: Option<f64>,
    /// The critic: auto (default: a separable critic at --hidden and --lr and a narrow concat
    /// critic at its own width and rate both trained, the better on validation kept),
    /// separable or concat.
    #[arg(long, value_enum, default_value_t = CriticArg::Auto)]
    critic: CriticArg,
    /// Minibatch size B (default: 128, less for small data).
    #[arg(long, allow_negative_numbers = true)]
    batch_size: Option<i128>,
    /// Most training steps (early stopping on the validation split usually stops sooner).
    #[arg(long, allow_negative_numbers = true)]
    #[arg(default_value_t = mi_core::EstimateConfig::default().max_steps as i128)]
    steps: i128,
    /// Seeds the split, the weights and the minibatches.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    seed: i128,
    /// Hidden width of the critic's networks (smaller overfits less on small data).
    #[arg(long, allow_negative_numbers = true)]
    #[arg(default_value_t = mi_core::EstimateConfig::default().hidden as i128)]
    hidden: i128,
    /// Adam's learning rate.
    #[arg(long, allow_negative_numbers = true)]
    #[arg(default_value_t = mi_core::EstimateConfig::default().lr)]
    lr: f64,
    /// Per-column transform fitted on the training rows.
    #[arg(long, value_enum, default_value_t = TransformArg::Gaussianize)]
    transform: TransformArg,
    /// Device: cpu, cuda or cuda:N (CUDA needs a build with the `cuda` feature).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

impl EstimateArgs {
    fn batch_size(&self) -> mi_core::Result<Option<usize>> {
        self.batch_size
            .map(|b| whole_arg("estimate", "batch_size", b, 2))
            .transpose()
    }

    fn seed(&self) -> mi_core::Result<u64> {
        whole_arg("estimate", "seed", self.seed, 0)
    }

    fn config(&self) -> mi_core::Result<mi_core::EstimateConfig> {
        let config = mi_core::EstimateConfig {
            bound: self.bound.parse()?,
            alpha: self.alpha,
            critic: match self.critic {
                CriticArg::Auto => mi_core::CriticChoice::Auto,
                CriticArg::Separable => mi_core::CriticChoice::Separable,
                CriticArg::Concat => mi_core::CriticChoice::Concat,
            },
            batch_size: self.batch_size()?,
            max_steps: whole_arg("estimate", "steps", self.steps, 1)?,
            hidden: whole_arg("estimate", "hidden", self.hidden, 1)?,
            lr: self.lr,
            seed: self.seed()?,
            transform: match self.transform {
                TransformArg::Gaussianize => Transform::Gaussianize,
                TransformArg::Standardize => Transform::Standardize,
            },
            device: self.device.parse()?,
            ..mi_core::EstimateConfig::default()
        };
        config.validate()?;
        Ok(config)
    }
}

#[derive(Subcommand)]
enum TasksCommand {
    /// List the tasks: name, dimensions, true MI, description.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Write N samples of a task to DIR as x.npy, y.npy (float64) and truth.json.
    Sample {
        /// The task's name (see `mi tasks list`).
        name: String,
        /// Number of samples.
        #[arg(long, allow_negative_numbers = true)]
        n: i128,
        /// Seed of the sample.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        seed: i128,
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Estimate every task's MI and compare with the truth (slow: minutes per task and bound).
    Bench {
        /// Only these tasks (comma-separated names; default all).
        #[arg(long)]
        tasks: Option<String>,
        /// Samples per task.
        #[arg(long, default_value_t = 10_000, allow_negative_numbers = true)]
        n: i128,
        /// Seed of the samples.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        data_seed: i128,
        /// Also write DIR/tasks_bench.csv (the table) and DIR/tasks_bench.html (estimate ± SE vs
        /// the truth per task and bound, offline); needs the `plots` and `tables` features.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        estimate: EstimateArgs,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CriticArg {
    Auto,
    Separable,
    Concat,
}

#[derive(Clone, Copy, ValueEnum)]
enum TransformArg {
    Gaussianize,
    Standardize,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Table,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> mi_core::Result<()> {
    match cli.command {
        Command::Bounds {
            scores,
            log_baseline,
            alphas,
            js_eval_shift,
            smile_tau,
            bound,
            format,
        } => {
            let opts = BoundsOptions {
                alphas,
                js_eval_shift,
                smile_tau,
            };
            let scores = mi_core::io::read_npy(&scores)?;
            let baseline = log_baseline.map(mi_core::io::read_npy).transpose()?;
            if let Some(name) = bound {
                let one = evaluate_one(&name, &scores, baseline.as_ref(), &opts)?;
                match format {
                    Format::Json => println!("{}", one.to_json()?),
                    Format::Table => print!("{}", one.render_table()),
                }
                return Ok(());
            }
            let all: AllBounds = evaluate_all(&scores, baseline.as_ref(), &opts)?;
            match format {
                Format::Json => println!("{}", all.to_json()?),
                Format::Table => print!("{}", render_table(&all)),
            }
            Ok(())
        }
        Command::Estimate {
            x,
            y,
            x_cols,
            y_cols,
            x_key,
            y_key,
            drop_nonfinite,
            checkpoint,
            gaussian_encoder,
            entropy_x,
            args,
        } => {
            let (tx, ty) = mi_core::io::read_xy(&mi_core::io::XySource {
                x: &x,
                y: y.as_deref(),
                x_cols: x_cols.as_deref(),
                y_cols: y_cols.as_deref(),
                x_key: x_key.as_deref(),
                y_key: y_key.as_deref(),
            })?;
            let (tx, ty) = (tx.to_tensor()?, ty.to_tensor()?);
            if gaussian_encoder {
                let config = mi_core::estimate::SandwichConfig {
                    batch_size: args.batch_size()?,
                    seed: args.seed()?,
                    drop_nonfinite,
                    entropy_x,
                    ..Default::default()
                };
                let s = mi_core::estimate::sandwich_gaussian(&tx, &ty, &config)?;
                match args.format {
                    Format::Json => println!("{}", s.to_json()?),
                    Format::Table => print!("{}", s.render_table()),
                }
                return Ok(());
            }
            let config = mi_core::EstimateConfig {
                drop_nonfinite,
                ..args.config()?
            };
            if let Some(dir) = &checkpoint {
                // Before training: a folder that cannot take the checkpoint fails now, not after.
                mi_core::estimate::checkpoint::check_checkpoint_dir(dir, &config)?;
            }
            if config.bound == BoundChoice::All {
                let all = mi_core::estimate::estimate_all(&tx, &ty, &config)?;
                if let Some(dir) = &checkpoint {
                    all.save_checkpoints(dir)?;
                }
                match args.format {
                    Format::Json => println!("{}", all.to_json()?),
                    Format::Table => print!("{}", all.render_table()),
                }
            } else {
                let one = mi_core::estimate(&tx, &ty, &config)?;
                if let Some(dir) = &checkpoint {
                    one.save_checkpoint(dir)?;
                }
                match args.format {
                    Format::Json => println!("{}", one.to_json()?),
                    Format::Table => print!("{}", one.render_table()),
                }
            }
            Ok(())
        }
        Command::Tasks { command } => tasks(command),
    }
}

fn json<T: serde::Serialize>(v: &T) -> mi_core::Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| mi_core::Error::Io {
        path: "<stdout>".into(),
        detail: e.to_string(),
    })
}

fn task_info(t: &mi_core::tasks::Task) -> serde_json::Value {
    serde_json::json!({
        "name": t.name(),
        "dim_x": t.dim_x(),
        "dim_y": t.dim_y(),
        "mi": t.mutual_information(),
        "description": t.description(),
        "truth": t.truth_source(),
    })
}

fn tasks(command: TasksCommand) -> mi_core::Result<()> {
    match command {
        TasksCommand::List { format } => {
            let all = mi_core::tasks::all()?;
            match format {
                Format::Json => {
                    let rows: Vec<_> = all.iter().map(task_info).collect();
                    println!("{}", json(&rows)?);
                }
                Format::Table => {
                    println!(
                        "{:<24} {:>5} {:>5} {:>9}  description",
                        "name", "dim_x", "dim_y", "mi"
                    );
                    for t in &all {
                        println!(
                            "{:<24} {:>5} {:>5} {:>9.4}  {}",
                            t.name(),
                            t.dim_x(),
                            t.dim_y(),
                            t.mutual_information(),
                            t.description()
                        );
                    }
                }
            }
            Ok(())
        }
        TasksCommand::Sample { name, n, seed, out } => {
            let task = mi_core::tasks::by_name(&name)?;
            let n: usize = whole_arg("mi tasks sample", "n", n, 1)?;
            let seed: u64 = whole_arg("mi tasks sample", "seed", seed, 0)?;
            let (x, y) = mi_core::estimate::task_tensors(&task, n, seed)?;
            std::fs::create_dir_all(&out).map_err(|e| mi_core::Error::Io {
                path: out.display().to_string(),
                detail: format!("cannot create the folder: {e}"),
            })?;
            mi_core::io::write_npy(&x, out.join("x.npy"))?;
            mi_core::io::write_npy(&y, out.join("y.npy"))?;
            let mut truth = task_info(&task);
            truth["n"] = n.into();
            truth["seed"] = seed.into();
            mi_core::io::write_text(out.join("truth.json"), &json(&truth)?)?;
            println!("{}", json(&truth)?);
            Ok(())
        }
        TasksCommand::Bench {
            tasks,
            n,
            data_seed,
            out,
            estimate,
        } => {
            let config = estimate.config()?;
            let n: usize = whole_arg("mi tasks bench", "n", n, 1)?;
            let data_seed: u64 = whole_arg("mi tasks bench", "data_seed", data_seed, 0)?;
            let chosen = match &tasks {
                Some(list) => list
                    .split(',')
                    .map(mi_core::tasks::by_name)
                    .collect::<mi_core::Result<Vec<_>>>()?,
                None => mi_core::tasks::all()?,
            };
            if let Some(dir) = out.as_deref().filter(|_| !WRITES_FIGURES) {
                return Err(no_figures(dir));
            }
            let table = matches!(estimate.format, Format::Table);
            if table {
                println!("{}", mi_core::estimate::bench_header());
            }
            let report = mi_core::estimate::bench(&chosen, n, data_seed, &config, &mut |r| {
                if table {
                    println!("{}", mi_core::estimate::bench_line(r));
                }
            })?;
            if table {
                let summary =
                    mi_core::estimate::bench_summary(report.within_count(), report.rows.len());
                println!("{summary}");
            } else {
                println!("{}", json(&report.rows)?);
            }
            if let Some(dir) = out {
                write_bench(&report, &dir)?;
            }
            Ok(())
        }
    }
}

/// Writes `tasks_bench.csv` and `tasks_bench.html` into `dir` (paths on stderr: stdout holds
/// only the table or the JSON).
#[cfg(all(feature = "plots", feature = "tables"))]
fn write_bench(
    report: &mi_core::estimate::BenchReport,
    dir: &std::path::Path,
) -> mi_core::Result<()> {
    let (csv, html) = (dir.join("tasks_bench.csv"), dir.join("tasks_bench.html"));
    mi_core::table::write_csv(&report.to_dataframe()?, &csv)?;
    mi_core::io::figure::write_html(&mi_core::plot::tasks_bench(report), &html)?;
    eprintln!("wrote {} and {}", csv.display(), html.display());
    Ok(())
}

/// Whether this build can write tables and figures (`mi tasks bench --out`).
const WRITES_FIGURES: bool = cfg!(all(feature = "plots", feature = "tables"));

fn no_figures(dir: &std::path::Path) -> mi_core::Error {
    mi_core::Error::InvalidParameter {
        op: "mi tasks bench",
        name: "out",
        value: dir.display().to_string(),
        reason: "this `mi` was built without tables and figures: build it with \
                 --features mi_core/cli,mi_core/notebook (`just mi`)",
    }
}

#[cfg(not(all(feature = "plots", feature = "tables")))]
fn write_bench(_: &mi_core::estimate::BenchReport, dir: &std::path::Path) -> mi_core::Result<()> {
    Err(no_figures(dir))
}
