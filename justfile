# mi_core — variational bounds of mutual information.  `just` lists the recipes.
set shell := ["bash", "-euo", "pipefail", "-c"]

cargo_features := "--features mi_core/cli,mi_core/notebook,mi_core/parquet"
# evcxr's build cache, shared by every notebook and every render (a warm render only computes).
export EVCXR_TMPDIR := justfile_directory() / "target" / "evcxr"
python := justfile_directory() / ".venv" / "bin" / "python"

# List the recipes.
default:
    @just --list

# Everything: the Rust suite, then the notebook smoke and the browser test (installs what they need).
test: test-rust notebook-smoke

# The Rust suite: formatting, clippy (warnings are errors) and every test, doctests included.
test-rust:
    @command -v cargo-fmt >/dev/null || { echo "rustfmt missing: rustup component add rustfmt"; exit 1; }
    @command -v cargo-clippy >/dev/null || { echo "clippy missing: rustup component add clippy"; exit 1; }
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets {{cargo_features}} -- -D warnings
    cargo test --workspace {{cargo_features}}

# Slow known-answer and paper-scale runs (ignored by default), in release mode.
test-slow:
    cargo test --workspace --release {{cargo_features}} -- --ignored --nocapture

# Install the notebook tool chain: evcxr kernel, .venv with Jupyter, Chromium (idempotent).
setup:
    bash notebooks/tools/setup.sh

# Writes figures (HTML, PNG), tables (CSV) and the executed notebooks as HTML:
# profile `quick` (minutes on a CPU) -> figures/quick/, `paper` -> figures/.
# (`just --list` shows only the last comment line of a recipe: keep the summary there.)
# Execute every notebook headlessly and write its figures and tables (quick -> figures/quick/).
render profile="quick" *notebooks: setup
    {{python}} notebooks/tools/render.py --profile {{profile}} {{notebooks}}

# JupyterLab on notebooks/ with the Rust kernel (quick profile unless MI_PROFILE says otherwise).
lab: setup
    MI_PROFILE="${MI_PROFILE:-quick}" .venv/bin/jupyter lab --notebook-dir notebooks $([ "$(id -u)" = 0 ] && echo --allow-root)

# The notebooks' conventions (clean, one shared :dep line), then 01_bounds executed by the real
# kernel (quick profile, into target/notebook-smoke), then the browser test on every page it wrote.
# Notebook smoke: lint the notebooks, execute 01_bounds with the real kernel, browser-test its pages.
notebook-smoke: setup
    {{python}} notebooks/tools/lint.py
    rm -rf target/notebook-smoke
    {{python}} notebooks/tools/render.py --profile quick --out target/notebook-smoke notebooks/01_bounds.ipynb
    just browser-test target/notebook-smoke

# Each page is opened offline in headless Chromium: no console errors, every figure draws its traces.
# Browser test: open every HTML figure and exported notebook under DIR in headless Chromium.
browser-test dir="figures":
    {{python}} notebooks/tools/browser.py check $(ls {{dir}}/*.html)
    if ls {{dir}}/notebooks/*.html >/dev/null 2>&1; then {{python}} notebooks/tools/browser.py check --allow-no-figure {{dir}}/notebooks/*.html; fi

# Figures 3 and 4 (optimal critics): CSV tables and offline HTML figures in figures/.
tables-3-4 which="both" replicates="":
    cargo run --release --features mi_core/plots --example figures_3_4 -- {{which}} {{ if replicates == "" { "default" } else { replicates } }} figures

# Profiles: quick | paper | paper-minimum (the part of the paper sweep that fits a 2-core
# session). Finished runs are kept in target/fig2-runs/ and reused, so a stopped sweep resumes.
# Figure 2 (critics trained on a rising MI) from the command line: HTML + PNG figures, fig2_summary.csv.
fig2 profile="quick" out="": setup
    cargo run --release --features mi_core/plots,mi_core/cli --example figure_2 -- {{profile}} {{ if out == "" { if profile == "quick" { "figures/quick" } else { "figures" } } else { out } }}
    d={{ if out == "" { if profile == "quick" { "figures/quick" } else { "figures" } } else { out } }}; rm -f "$d"/fig2_staircase_all_*.png; {{python}} notebooks/tools/browser.py export "$d/fig2_staircase.html" "$d/fig2_staircase_all.html"

# Profiles: quick | cpu (<= 45 min on 2 cores) | paper; KEY=VALUE overrides any setting
# (batch=128 lr=3e-4 tc_lower=js warmup=500 ramp=1000 delta=0.5 steps=...), `--trial NAME` adds
# the run to figures/fig5_trials.csv. Resumes from target/fig5-runs/.
# Figure 5 (dSprites, InfoMax/TC) from the command line: figures, tables, the trained model.
fig5 profile="quick" *args:
    cargo run --release --features mi_core/notebook --example figure_5 -- {{profile}} {{args}}

# Installs PyTorch into .venv-bench (~5 GB) unless BENCH_PYTHON names a Python that has it.
# Per thread count: one training step of mi_core (fused and autograd) vs PyTorch eager (same
# threads, interleaved): medians, ratios, GFLOP/s and the matmul ceiling; then the dSprites
# encoder's InfoMax step (B = 64 and 256) the same way.
# Training steps of mi_core vs PyTorch eager on the CPU (MLP critics, dSprites encoder), side by side.
bench threads="1 2" rounds="3":
    if [ -z "${BENCH_PYTHON:-}" ] && [ ! -x .venv-bench/bin/python ]; then python3 -m venv .venv-bench && .venv-bench/bin/pip install --quiet "torch==2.15.0" numpy; fi
    for t in {{threads}}; do cargo bench --bench train_step --features mi_core/cli -- --threads $t --rounds {{rounds}}; done
    for t in {{threads}}; do cargo bench --bench encoder_step --features mi_core/cli -- --threads $t --rounds {{rounds}}; done

# `mi estimate` vs bmi 0.1.3's InfoNCE, NWJ, DV and MINE on the same samples of every task
# (n = 10,000): truth, ours, bmi's best, |error|, wall time, ratios (~1 h on 2 cores). Pass
# e.g. `--tasks a,b`, `--seeds 10 --no-bmi` (SE vs spread across seeds), `--bmi-steps 10000`.
bench-estimate *args:
    bash bench/setup_bmi.sh
    cargo build --release --features mi_core/cli --bin mi
    .venv-bmi/bin/python bench/estimate_vs_bmi.py --mi target/release/mi {{args}}

# The CUDA build compiled and linked here without a GPU: the CUDA 13.0 wheels from PyPI into
# .venv-cuda, a libcuda link stub, then the CPU tests of that build (~25 min cold on 2 cores).
# Compile --features cuda without a GPU (nvcc from PyPI wheels); leaves target/cuda/ for gpu-check.
check-cuda:
    bash bench/cuda_build.sh

# On a machine with a GPU, after check-cuda (carry target/cuda): CPU vs CUDA agreement, Figure 2 timed.
gpu-check:
    bash bench/gpu_check.sh

# Run the `mi` command-line tool, e.g. `just mi bounds --scores S.npy --alpha 0.5 --format table`.
mi *args:
    cargo run --quiet --release {{cargo_features}} --bin mi -- {{args}}

# API documentation.
doc:
    cargo doc --workspace --no-deps {{cargo_features}}
