//! The InfoMax objective through the one training loop: terms logged every step, dual ascent
//! between steps, checkpoints with exact resume, and the checkpoint kind guarding the format.

use candle_core::Device;
use mi_core::data::dsprites::Dsprites;
use mi_core::encoder::{ConvLayer, EncoderConfig};
use mi_core::infomax::{InfoMaxConfig, Penalty};
use mi_core::train::{AdamConfig, InfoMaxFit, InfoMaxTrainer, Trainer};

/// The paper's encoder shape, narrowed so a step takes milliseconds.
fn tiny() -> (InfoMaxConfig, InfoMaxFit) {
    let layer = |channels, kernel, padding| ConvLayer {
        channels,
        kernel,
        stride: 2,
        padding,
    };
    let encoder = EncoderConfig {
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
    let config = InfoMaxConfig {
        encoder,
        q_hidden: 16,
        ..InfoMaxConfig::default()
    };
    let fit = InfoMaxFit {
        steps: 8,
        batch_size: 16,
        adam: AdamConfig {
            lr: 1e-3,
            ..AdamConfig::default()
        },
        seed: 3,
    };
    (config, fit)
}

#[test]
fn every_term_is_logged_and_the_multipliers_follow_dual_ascent() -> mi_core::Result<()> {
    let (config, fit) = tiny();
    let data = Dsprites::procedural();
    let mut t = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)?;
    t.run_until(&data, fit.steps, &mut |_| {})?;
    let logs = &t.history().logs;
    assert_eq!(logs.len(), fit.steps);
    assert!(!t.diverged());
    let Penalty::Dual {
        eta_tc, eta_smooth, ..
    } = config.penalty
    else {
        panic!("the default penalty is dual ascent");
    };
    for (s, w) in logs.windows(2).enumerate() {
        let (a, b) = (&w[0], &w[1]);
        assert_eq!(a.step, s);
        assert_eq!(a.mbu.len(), 3);
        // MBU_k are upper bounds on I(X; Y_k) ≥ 0 only in expectation, but TC_ub is their
        // sum minus I_JS, by definition.
        let sum: f64 = a.mbu.iter().sum();
        assert!((a.tc_ub - (sum - a.i_js)).abs() < 1e-9, "step {s}");
        assert!(a.kl >= 0.0);
        let tc = (a.lambda_tc + eta_tc * (a.tc_ub - config.delta)).max(0.0);
        let sm = (a.lambda_smooth + eta_smooth * (a.kl - config.gamma)).max(0.0);
        assert!((b.lambda_tc - tc).abs() < 1e-12, "step {s}: λ_TC");
        assert!((b.lambda_smooth - sm).abs() < 1e-12, "step {s}: λ_S");
    }
    // Training changed the weights: the loss of the same batch differs after the steps.
    assert_ne!(logs[0].loss, logs[fit.steps - 1].loss);
    Ok(())
}

#[test]
fn a_resumed_run_repeats_the_uninterrupted_one_exactly() -> mi_core::Result<()> {
    let (config, fit) = tiny();
    let data = Dsprites::procedural();
    let mut whole = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)?;
    whole.run_until(&data, fit.steps, &mut |_| {})?;

    let dir = std::env::temp_dir().join(format!("mi_core-infomax-ckpt-{}", std::process::id()));
    let mut first = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)?;
    first.run_until(&data, 3, &mut |_| {})?;
    first.save(&dir)?;
    let mut resumed = InfoMaxTrainer::load(&dir, &Device::Cpu)?;
    assert_eq!(resumed.step(), 3);
    assert_eq!(resumed.multipliers(), first.multipliers());
    resumed.run_until(&data, fit.steps, &mut |_| {})?;
    assert_eq!(resumed.history(), whole.history());
    assert_eq!(resumed.multipliers(), whole.multipliers());

    // A checkpoint says what it holds: an InfoMax checkpoint is not a critic run.
    let e = Trainer::load(&dir, &Device::Cpu)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("`infomax` checkpoint") && e.contains("`critic`"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

#[test]
fn bad_settings_are_errors() {
    let (config, mut fit) = tiny();
    fit.batch_size = 1;
    let e = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("batch_size"), "{e}");
    let (mut config, fit) = tiny();
    config.noise_std = f64::NAN;
    assert!(InfoMaxTrainer::new(&config, &fit, &Device::Cpu).is_err());
}

#[test]
fn a_blown_up_encoder_is_a_recorded_divergence_not_an_error() -> mi_core::Result<()> {
    use mi_core::train::Objective;
    let (config, fit) = tiny();
    let data = Dsprites::procedural();
    let mut t = InfoMaxTrainer::new(&config, &fit, &Device::Cpu)?;
    t.run_until(&data, 2, &mut |_| {})?;
    // Poison the mean head (linear, no ReLU to hide a NaN): every posterior is NaN from here.
    for (name, var) in t
        .objective()
        .varmap()
        .data()
        .lock()
        .map_err(|_| candle_core::Error::msg("poisoned lock"))?
        .iter()
    {
        if name.starts_with("encoder.mean") {
            var.set(&var.as_tensor().affine(f64::NAN, 0.0)?)?;
        }
    }
    let multipliers = t.multipliers();
    t.run_until(&data, fit.steps, &mut |_| {})?;
    assert_eq!(t.history().diverged_at, Some(2));
    assert_eq!(t.history().logs.len(), 2);
    assert_eq!(t.step(), 2);
    assert!(t.diverged());
    // The multipliers are not moved by the non-finite step.
    assert_eq!(t.multipliers(), multipliers);
    Ok(())
}
