#!/usr/bin/env bash
# The Figure 5 search of issue 24, round 1: each trial starts from the `cpu` profile with the
# overrides shown, trains on one thread (two trials share the two cores), and adds its row to
# figures/fig5_trials.csv. Usage: bash bench/fig5_trials.sh (from the repository root, after
# `cargo build --release --features mi_core/notebook --example figure_5`).
set -euo pipefail
bin=target/release/examples/figure_5
trial() { # NAME OVERRIDES...
    local name=$1; shift
    mkdir -p target/fig5-trials
    RAYON_NUM_THREADS=1 "$bin" cpu "$@" --trial "$name" > "target/fig5-trials/$name.log" 2>&1
}
pair() { trial "$@" & }
pair b64 steps=6000
trial b256 batch=256 steps=1500
wait
pair b64-js-warmup-ramp steps=6000 tc_lower=js warmup=500 ramp=2000
trial b128 batch=128 steps=3000
wait
pair b64-gamma10 steps=6000 gamma=10
trial b64-delta0.5 steps=6000 delta=0.5
wait
