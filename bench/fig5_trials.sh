#!/usr/bin/env bash
# The Figure 5 search of issue 24 as it was run: each trial starts from the `cpu` profile with
# the overrides shown, trains on one thread (two trials share the two cores, so their wall times
# are those of a shared machine), and adds its row to figures/fig5_trials.csv. (Rounds 1-3 ran
# when the `cpu` profile was B = 64, δ = 0.1; the overrides below spell those out, so they
# reproduce the same runs with today's profile.)
# Usage, from the repository root: bash bench/fig5_trials.sh [ROUND ...] (default: every round),
# after `cargo build --release --features mi_core/notebook --example figure_5`.
set -euo pipefail
bin=target/release/examples/figure_5
mkdir -p target/fig5-trials
trial() { # NAME OVERRIDES...
    local name=$1; shift
    RAYON_NUM_THREADS=1 MI_PROGRESS=lines "$bin" cpu "$@" --trial "$name" \
        > "target/fig5-trials/$name.log" 2>&1
}
round() {
    case $1 in
        1) trial b64 batch=64 delta=0.1 steps=6000 & trial b256 batch=256 delta=0.1 steps=1500
           wait ;;
        2) trial b64-js-warmup-ramp batch=64 delta=0.1 steps=6000 tc_lower=js warmup=500 ramp=2000 &
           trial b128 batch=128 delta=0.1 steps=3000; wait ;;
        3) trial b64-delta0.5 batch=64 delta=0.5 steps=6000 &
           trial b64-delta1 batch=64 delta=1 steps=6000; wait ;;
        # Round 4 (Intel Xeon, after the chunked fused step), one trial after the other on one
        # core while the paper profile trained on the other: γ = 10, and 4x the steps.
        4) trial b64-delta0.5-gamma10 batch=64 delta=0.5 steps=6000 gamma=10
           trial b64-delta0.5-24k batch=64 delta=0.5 steps=24000 ;;
        # The `cpu` profile itself (alone, on both cores): `just fig5 cpu figures --trial cpu`.
        *) echo "no round $1" >&2; exit 1 ;;
    esac
}
for r in "${@:-1 2 3 4}"; do for k in $r; do round "$k"; done; done
