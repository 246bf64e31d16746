//! Figure 5 of the paper from the command line: the dSprites encoder trained under the
//! regularised InfoMax objective, then scored.
//!
//! `cargo run --release --features notebook --example figure_5 -- PROFILE [OUT_DIR] [STEPS] [js|tnce]`
//!
//! * `quick` — [`Config::quick`] (minutes on 2 cores);
//! * `paper` — [`Config::paper`] (B = 256, 10⁵ steps, the whole factor grid evaluated: hours
//!   on a CPU). `STEPS` overrides the number of steps (e.g. to train a paper-profile run in
//!   parts: a later call with more steps continues from the checkpoint); the last argument
//!   picks the lower bound on I(X; Y) inside TC_ub (`tnce`, the profiles' default, or
//!   `js`, the paper's; see `Config::quick`).
//!
//! Checkpoints go to `target/fig5-runs/PROFILE/` every `checkpoint_every` steps, and a new call
//! resumes from the last one (same settings required), so an interrupted run continues to the
//! same result. Writes into OUT_DIR: `fig5_selectivity.html`, `fig5_training.html`,
//! `fig5_mi_matrix.html`, `fig5_factor_scores.csv`, `fig5_mig.csv`, `fig5_mi_matrix.csv`, and
//! the trained encoder and q(y) as `fig5_model.safetensors`.

use candle_core::Device;
use mi_core::data::dsprites::{self, Dsprites};
use mi_core::experiments::dsprites::{self as fig5, Config};
use mi_core::io::figure::write_html;
use mi_core::plot::{infomax_training, mi_matrix_heatmap, selectivity};
use std::path::PathBuf;

fn main() {
    if let Err(e) = run() {
        eprintln!("figure_5: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let profile = args.first().map_or("quick", String::as_str).to_string();
    let mut cfg = match profile.as_str() {
        "quick" => Config::quick(),
        "paper" => Config::paper(),
        other => return Err(format!("unknown profile `{other}` (quick, paper)").into()),
    };
    let default_out = if profile == "quick" {
        "figures/quick"
    } else {
        "figures"
    };
    let out = PathBuf::from(args.get(1).map_or(default_out, String::as_str));
    if let Some(s) = args.get(2) {
        cfg.fit.steps = s
            .parse()
            .map_err(|_| format!("STEPS must be a number, got `{s}`"))?;
    }
    match args.get(3).map(String::as_str) {
        None | Some("tnce") => {}
        Some("js") => cfg.infomax.tc_lower = mi_core::infomax::TcLower::Js,
        Some(other) => return Err(format!("TC_LOWER is js or tnce, got `{other}`").into()),
    }
    let (source, why) = dsprites::open_default();
    println!("{why}");
    let data = Dsprites::new(source);
    let tag = format!("{profile}-{:?}", cfg.infomax.tc_lower).to_lowercase();
    let checkpoints = PathBuf::from("target/fig5-runs").join(tag);
    let report = fig5::run(&cfg, &data, Some(&checkpoints), &Device::Cpu)?;
    report.check()?;
    mi_core::io::create_dir(&out)?;
    write_html(
        &selectivity(&report.selectivity),
        out.join("fig5_selectivity.html"),
    )?;
    let training = infomax_training(&report.history, cfg.infomax.delta, cfg.infomax.gamma);
    write_html(&training, out.join("fig5_training.html"))?;
    let names = report.factor_names();
    let heat = mi_matrix_heatmap(&report.mi, &names, cfg.eval.bins);
    write_html(&heat, out.join("fig5_mi_matrix.html"))?;
    mi_core::io::write_text_atomic(
        out.join("fig5_factor_scores.csv"),
        &report.factor_scores_csv()?,
    )?;
    mi_core::io::write_text_atomic(out.join("fig5_mig.csv"), &report.mig_csv()?)?;
    mi_core::io::write_text_atomic(out.join("fig5_mi_matrix.csv"), &report.mi_csv()?)?;
    let weights = mi_core::io::read_safetensors(checkpoints.join("model.safetensors"))?;
    mi_core::io::write_safetensors(out.join("fig5_model.safetensors"), &weights)?;
    println!(
        "{} steps (B = {}), {:.0} s training this call, {} images encoded in {:.0} s; diverged: {:?}",
        report.history.logs.len(),
        cfg.fit.batch_size,
        report.train_seconds,
        report.eval_images,
        report.eval_seconds,
        report.history.diverged_at
    );
    if let Some(last) = report.last() {
        println!(
            "last step: I_JS {:.3}  TC_ub {:.3}  KL {:.3}  λ_TC {:.3}  λ_S {:.3}",
            last.i_js, last.tc_ub, last.kl, last.lambda_tc, last.lambda_smooth
        );
    }
    println!("active latents: {:?}", report.active);
    println!("{}", report.factor_scores_csv()?);
    println!("{}", report.mig_csv()?);
    let finding = report.paper_finding(0.5);
    println!(
        "{finding:?}\npaper's finding reproduced: {}",
        finding.reproduced()
    );
    Ok(())
}
