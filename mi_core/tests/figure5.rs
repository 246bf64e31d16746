//! Figure 5's run end to end on a tiny encoder: train with checkpoints, resume with more steps,
//! refuse a checkpoint trained with other settings, and write the tables others rely on.

use candle_core::Device;
use mi_core::data::dsprites::{Dsprites, FACTOR_NAMES};
use mi_core::encoder::{ConvLayer, EncoderConfig};
use mi_core::experiments::dsprites::{self as fig5, Config, EvalConfig};

fn tiny() -> Config {
    let layer = |channels, kernel, padding| ConvLayer {
        channels,
        kernel,
        stride: 2,
        padding,
    };
    let mut cfg = Config::quick();
    cfg.infomax.encoder = EncoderConfig {
        latents: 3,
        conv: vec![
            layer(4, 4, 1),
            layer(4, 4, 1),
            layer(8, 2, 0),
            layer(8, 2, 0),
        ],
        dense: 16,
        ..EncoderConfig::default()
    };
    cfg.infomax.q_hidden = 16;
    cfg.fit.steps = 4;
    cfg.fit.batch_size = 8;
    cfg.checkpoint_every = 2;
    cfg.eval = EvalConfig {
        images: 600,
        batch: 256,
        ..EvalConfig::default()
    };
    cfg
}

#[test]
fn trains_resumes_and_writes_the_figure_5_tables() -> mi_core::Result<()> {
    let dir = std::env::temp_dir().join(format!("mi_core-fig5-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let data = Dsprites::procedural();
    let cfg = tiny();
    let first = fig5::run(&cfg, &data, Some(&dir), &Device::Cpu)?;
    first.check()?;
    assert_eq!(first.history.logs.len(), 4);
    assert_eq!(first.resumed_from, None);
    assert_eq!(first.eval_images, 600);
    assert_eq!(first.variances.len(), 3);
    assert_eq!(first.mi.len(), FACTOR_NAMES.len());

    // The same settings with more steps continue from the checkpoint; its first steps are
    // exactly the first run's.
    let more = Config {
        fit: mi_core::train::InfoMaxFit {
            steps: 6,
            ..cfg.fit
        },
        ..cfg.clone()
    };
    let longer = fig5::run(&more, &data, Some(&dir), &Device::Cpu)?;
    assert_eq!(longer.resumed_from, Some(4));
    assert_eq!(longer.history.logs.len(), 6);
    assert_eq!(longer.history.logs[..4], first.history.logs[..]);
    // The saved model evaluated without training gives the run's own scores.
    let saved = fig5::evaluate_saved(&more, &data, &dir.join("model.safetensors"), &Device::Cpu)?;
    assert_eq!(saved.factor_scores, longer.factor_scores);
    assert_eq!(saved.mi, longer.mi);
    assert!(saved.history.logs.is_empty() && saved.train_seconds == 0.0);
    assert!(fig5::evaluate_saved(&more, &data, &dir.join("config.json"), &Device::Cpu).is_err());
    // Other settings are another run: refused, not silently mixed.
    let other = Config {
        fit: mi_core::train::InfoMaxFit {
            batch_size: 10,
            ..cfg.fit
        },
        ..cfg.clone()
    };
    let e = fig5::run(&other, &data, Some(&dir), &Device::Cpu)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("other settings"), "{e}");

    let scores = first.factor_scores_csv()?;
    let mut lines = scores.lines();
    assert_eq!(lines.next(), Some("factor,best_latent,best_abs_spearman"));
    let factors: Vec<&str> = lines.map(|l| l.split(',').next().unwrap_or("")).collect();
    assert_eq!(factors, FACTOR_NAMES);
    assert!(first.mig_csv()?.starts_with("factor,mig\n"));
    assert!(first
        .mi_csv()?
        .starts_with("factor,latent_0,latent_1,latent_2\n"));

    // The trials table: rows added, a rerun replacing its own row, read back as written.
    let table = dir.join("trials.csv");
    let a = fig5::TrialRow::new("a", "quick", &first, "test CPU", 1);
    assert_eq!(a.steps, 4);
    assert_eq!((a.batch, a.tc_lower.as_str()), (cfg.fit.batch_size, "tnce"));
    let expected_i_js = first.history.logs.iter().map(|l| l.i_js).sum::<f64>() / 4.0;
    assert!((a.i_js - expected_i_js).abs() < 1e-12);
    fig5::record_trial(&table, &a)?;
    let b = fig5::TrialRow::new("b, with a comma", "quick steps=6", &longer, "test CPU", 2);
    fig5::record_trial(&table, &b)?;
    let a6 = fig5::TrialRow {
        settings: "rerun".into(),
        ..fig5::TrialRow::new("a", "quick", &longer, "test CPU", 1)
    };
    fig5::record_trial(&table, &a6)?;
    assert_eq!(fig5::read_trials(&table)?, vec![a6, b]);
    // A file that is not a trials table is refused and left alone.
    std::fs::write(&table, "x,y\n1,2\n").map_err(|e| mi_core::Error::Io {
        path: table.display().to_string(),
        detail: e.to_string(),
    })?;
    assert!(fig5::record_trial(&table, &a).is_err());
    assert_eq!(
        std::fs::read_to_string(&table).ok().as_deref(),
        Some("x,y\n1,2\n")
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// The committed Figure 5 result: the trials table reads back, its `cpu` row is the `cpu`
/// profile's run and agrees with `fig5_factor_scores.csv`, and the committed encoder loads into
/// the `cpu` profile's model and scores images (a small subset here; the notebook scores 65,536).
#[test]
fn the_committed_cpu_run_matches_its_tables_and_loads() -> mi_core::Result<()> {
    let figures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../figures");
    let trials = fig5::read_trials(&figures.join("fig5_trials.csv"))?;
    assert!(trials.len() >= 7, "{} trials", trials.len());
    let cpu = trials
        .iter()
        .find(|t| t.trial == "cpu")
        .ok_or_else(|| mi_core::Error::Io {
            path: "figures/fig5_trials.csv".into(),
            detail: "no `cpu` row".into(),
        })?;
    let profile = Config::cpu();
    assert_eq!(cpu.settings, "cpu");
    assert_eq!(
        (cpu.batch, cpu.steps, cpu.lr, cpu.delta),
        (
            profile.fit.batch_size,
            profile.fit.steps,
            profile.fit.adam.lr,
            profile.infomax.delta
        )
    );
    assert_eq!(cpu.eval_images, profile.eval.images);
    let scores = std::fs::read_to_string(figures.join("fig5_factor_scores.csv")).map_err(|e| {
        mi_core::Error::Io {
            path: "figures/fig5_factor_scores.csv".into(),
            detail: e.to_string(),
        }
    })?;
    let rho = |factor: &str| -> Option<f64> {
        scores
            .lines()
            .find(|l| l.starts_with(&format!("{factor},")))
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
    };
    for (factor, value) in [
        ("shape", cpu.shape_rho),
        ("scale", cpu.scale_rho),
        ("orientation", cpu.orientation_rho),
        ("pos_x", cpu.pos_x_rho),
        ("pos_y", cpu.pos_y_rho),
    ] {
        assert_eq!(rho(factor), Some(value), "{factor}");
    }

    let small = Config {
        eval: EvalConfig {
            images: 1024,
            ..profile.eval.clone()
        },
        ..profile
    };
    let report = fig5::evaluate_saved(
        &small,
        &Dsprites::procedural(),
        &figures.join("fig5_model.safetensors"),
        &Device::Cpu,
    )?;
    report.check()?;
    assert_eq!(report.eval_images, 1024);
    assert!(
        !report.active.is_empty(),
        "the trained encoder has active latents"
    );
    Ok(())
}
