//! `mi` — evaluate every bound of mi_core on a saved score matrix.
//!
//! ```text
//! mi bounds --scores S.npy [--log-baseline L.npy] [--alpha 0.01 --alpha 0.5 ...] [--format json|table]
//! mi bounds --scores S.npy --bound interpolated        # one bound; α recommended if not given
//! ```
//! S[i, j] = f(x_j, y_i) (row = y sample, column = x sample, diagonal = joint pairs), f32 or f64,
//! evaluated in f64. The log-baseline (one entry per row, log a(y_i)) defaults to zeros.

use clap::{Parser, Subcommand, ValueEnum};
use mi_core::cli::{evaluate_all, evaluate_one, render_table, AllBounds, BoundsOptions};
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
    }
}
