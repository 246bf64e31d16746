//! Figure 5 of the paper from the command line: the dSprites encoder trained under the
//! regularised InfoMax objective, then scored.
//!
//! `cargo run --release --features notebook --example figure_5 -- PROFILE [OUT_DIR] [KEY=VALUE ...] [--trial NAME]`
//!
//! * `PROFILE` — `quick` (minutes), `cpu` (≤ 45 minutes on 2 cores) or `paper` (B = 256, 10⁵
//!   steps, the whole factor grid: hours on a CPU); see `Config::named`.
//! * `KEY=VALUE` — overrides any setting (`batch=128`, `lr=3e-4`, `tc_lower=js`, `warmup=500`,
//!   `ramp=1000`, `delta=0.5`, `gamma=10`, `steps=6000`, or a dotted path of the config's JSON
//!   such as `infomax.penalty.eta_tc=0.001`); `OVERRIDE_ALIASES` lists the short names.
//! * `--trial NAME` — one trial of the Figure 5 search: its figures go to
//!   `target/fig5-trials/NAME/` (unless OUT_DIR is given) and its row (settings, wall time,
//!   terms, scores) into `figures/fig5_trials.csv`, replacing an earlier row of that name.
//!
//! Checkpoints go to `target/fig5-runs/TAG/` (TAG: the trial's name, or the profile and its
//! overrides other than `steps`) every `checkpoint_every` steps, and a new call resumes from the
//! last one (same settings required), so an interrupted run continues to the same result and a
//! larger `steps=` trains the same run further. Writes into OUT_DIR: `fig5_selectivity.html`,
//! `fig5_training.html`, `fig5_mi_matrix.html`, `fig5_factor_scores.csv`, `fig5_mig.csv`,
//! `fig5_mi_matrix.csv`, and the trained encoder and q(y) as `fig5_model.safetensors`.

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

/// A folder name from free text: letters, digits, `.`, `_` and `-` kept, the rest `-`.
fn folder_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let profile = args.next().unwrap_or_else(|| "quick".into());
    let (mut out, mut trial, mut overrides) = (None, None, Vec::new());
    while let Some(a) = args.next() {
        if a == "--trial" {
            trial = Some(args.next().ok_or("--trial needs a NAME")?);
        } else if a.contains('=') {
            overrides.push(a);
        } else if out.is_none() {
            out = Some(PathBuf::from(a));
        } else {
            return Err(format!("unexpected argument `{a}` (KEY=VALUE, --trial NAME)").into());
        }
    }
    let cfg = Config::named(&profile)?.with_overrides(&overrides)?;
    let out = out.unwrap_or_else(|| match (&trial, profile.as_str()) {
        (Some(name), _) => PathBuf::from("target/fig5-trials").join(folder_name(name)),
        (None, "quick") => PathBuf::from("figures/quick"),
        (None, _) => PathBuf::from("figures"),
    });
    let tag = match &trial {
        Some(name) => format!("trial-{}", folder_name(name)),
        None => std::iter::once(profile.clone())
            .chain(
                overrides
                    .iter()
                    .filter(|o| !o.starts_with("steps="))
                    .cloned(),
            )
            .map(|p| folder_name(&p))
            .collect::<Vec<_>>()
            .join("_"),
    };
    let (source, why) = dsprites::open_default();
    println!("{why}");
    let data = Dsprites::new(source);
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
    if let Some(name) = &trial {
        let settings = std::iter::once(profile.clone())
            .chain(overrides.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let threads = candle_core::utils::get_num_threads();
        let row = fig5::TrialRow::new(
            name,
            &settings,
            &report,
            &mi_core::limits::cpu_model(),
            threads,
        );
        fig5::record_trial(&PathBuf::from("figures/fig5_trials.csv"), &row)?;
        println!("trial `{name}` recorded in figures/fig5_trials.csv");
    }
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
    let finding = report.paper_finding(fig5::LEARNED_RHO);
    println!(
        "{finding:?}\npaper's finding reproduced: {}",
        finding.reproduced()
    );
    Ok(())
}
