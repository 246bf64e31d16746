//! Figure 2 of the paper from the command line: critics trained while the true MI climbs a
//! staircase, on Gaussian and cubic data.
//!
//! `cargo run --release --features plots,cli --example figure_2 -- PROFILE [OUT_DIR] [THREADS]
//! [DEVICE]`
//!
//! * `quick` — [`staircase::Config::quick`], a few minutes on 2 cores;
//! * `paper` — all 38 runs of [`staircase::Config::paper`] (20 000 steps each);
//! * `paper-minimum` — the part of the paper sweep that fits a 2-core session: every estimator
//!   with the separable critic on both datasets (and TNCE), plus NWJ, JS, InfoNCE and α = 0.01
//!   with the concat critic on Gaussian data.
//!
//! THREADS is how many runs train at once (0: one per core); DEVICE is `cpu` (the default),
//! `cuda` or `cuda:N` (a build with `--features mi_core/cuda`, see `just check-cuda`).
//!
//! Finished runs are kept in `target/fig2-runs/PROFILE/` (`PROFILE-cuda/` for runs trained on a
//! GPU, so that their times stay apart) and reused, so an interrupted
//! sweep resumes where it stopped and `paper` after `paper-minimum` trains only the rest. The
//! figures and the summary are written from every stored run of the paper grid:
//! `fig2_staircase.html` (the paper's panels), `fig2_staircase_all.html` (every estimator),
//! `fig2_summary.csv`. Static images: `just fig2` exports PNGs with the browser tool.

use mi_core::bounds::Bound;
use mi_core::estimate::DeviceChoice;
use mi_core::experiments::staircase::{self, Config};
use mi_core::io::figure::{write_html, write_html_page};
use mi_core::plot::{fig2_pages, fig2_paper};
use mi_core::train::{CriticKind, DatasetKind};
use std::path::PathBuf;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if let Err(e) = run() {
        eprintln!("figure_2: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile = args.first().map_or("quick", String::as_str).to_string();
    let out = PathBuf::from(args.get(1).map_or("figures/quick", String::as_str));
    let threads: usize = match args.get(2) {
        Some(t) => t
            .parse()
            .map_err(|_| format!("THREADS must be a number, got `{t}`"))?,
        None => 0,
    };
    let choice: DeviceChoice = args.get(3).map_or("cpu", String::as_str).parse()?;
    let device = choice.device()?;
    // One thread per run: parallelism comes from running several runs at once.
    mi_core::train::set_kernel_threads(1);
    let base = match profile.as_str() {
        "quick" => Config::quick(),
        "paper" | "paper-minimum" => Config::paper(),
        other => {
            return Err(format!("unknown profile `{other}` (quick, paper, paper-minimum)").into())
        }
    };
    let store = if profile == "quick" { "quick" } else { "paper" };
    let runs_dir = PathBuf::from("target/fig2-runs").join(match choice {
        DeviceChoice::Cpu => store.to_string(),
        DeviceChoice::Cuda(_) => format!("{store}-cuda"),
    });
    let full = Config {
        threads,
        runs_dir: Some(runs_dir),
        ..base
    };
    let parts: Vec<Config> = if profile == "paper-minimum" {
        let keep = ["nwj", "js", "infonce", "alpha_0.01"];
        vec![
            Config {
                critics: vec![CriticKind::Separable],
                ..full.clone()
            },
            Config {
                datasets: vec![DatasetKind::Gaussian],
                critics: vec![CriticKind::Concat],
                estimators: full
                    .estimators
                    .iter()
                    .filter(|b| keep.contains(&b.name().as_str()))
                    .copied()
                    .collect::<Vec<Bound>>(),
                conditional: vec![],
                ..full.clone()
            },
        ]
    } else {
        vec![full.clone()]
    };
    for part in &parts {
        // Reused runs keep the wall time they were trained in: count them before running.
        let before = staircase::stored(part)?.runs.len();
        let r = staircase::run(part, &device)?;
        eprintln!(
            "figure_2: {} runs ({} stored before, with their own times below) in {:.0} s wall",
            r.runs.len(),
            before,
            r.elapsed_s,
        );
        for run in &r.runs {
            let steps = run.history.estimates.len();
            eprintln!(
                "  {:<36} {:>6} steps {:>8.1} s ({:.2} ms/step){}",
                run.spec.name(),
                steps,
                run.elapsed_s,
                1e3 * run.elapsed_s / steps.max(1) as f64,
                run.history
                    .diverged_at
                    .map_or(String::new(), |t| format!(", diverged at step {t}"))
            );
        }
    }
    let report = staircase::stored(&full)?;
    std::fs::create_dir_all(&out)?;
    let summary = report.summary_csv()?;
    mi_core::io::write_text(out.join("fig2_summary.csv"), &summary)?;
    write_html(&fig2_paper(&report), out.join("fig2_staircase.html"))?;
    let pages = fig2_pages(&report);
    write_html_page(
        &pages.iter().collect::<Vec<_>>(),
        out.join("fig2_staircase_all.html"),
    )?;
    println!("{summary}");
    eprintln!(
        "figure_2: {} of {} runs of the paper grid written to {}",
        report.runs.len(),
        full.runs().len(),
        out.display()
    );
    Ok(())
}
