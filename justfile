# mi_core — variational bounds of mutual information.  `just` lists the recipes.
set shell := ["bash", "-euo", "pipefail", "-c"]

cargo_features := "--features mi_core/cli,mi_core/plots"

# List the recipes.
default:
    @just --list

# The test suite: formatting, clippy (warnings are errors) and every test, doctests included.
test:
    @command -v cargo-fmt >/dev/null || { echo "rustfmt missing: rustup component add rustfmt"; exit 1; }
    @command -v cargo-clippy >/dev/null || { echo "clippy missing: rustup component add clippy"; exit 1; }
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets {{cargo_features}} -- -D warnings
    cargo test --workspace {{cargo_features}}

# Slow known-answer and paper-scale runs (ignored by default), in release mode.
test-slow:
    cargo test --workspace --release {{cargo_features}} -- --ignored --nocapture

# Regenerate the paper's figures by executing the notebooks (arrives with the notebook pipeline).
render:
    @echo "just render: the notebooks and figures are coming with the notebook pipeline (issue 3)."
    @echo "Meanwhile: 'just test' checks every bound, 'just mi bounds --scores S.npy' evaluates them."

# Figures 3 and 4 (optimal critics): CSV tables and offline HTML figures in figures/.
tables-3-4 which="both" replicates="":
    cargo run --release --features mi_core/plots --example figures_3_4 -- {{which}} {{ if replicates == "" { "default" } else { replicates } }} figures

# Run the `mi` command-line tool, e.g. `just mi bounds --scores S.npy --alpha 0.5 --format table`.
mi *args:
    cargo run --quiet --release {{cargo_features}} --bin mi -- {{args}}

# API documentation.
doc:
    cargo doc --workspace --no-deps {{cargo_features}}
