#!/usr/bin/env bash
# `just setup`: everything the notebooks need, installed once and checked every time (idempotent).
#   1. the evcxr Jupyter kernel (pinned, `cargo install --locked`; ~15-25 min the first time);
#   2. a project-local Python venv (.venv) with the pinned Jupyter packages of requirements.txt;
#   3. the Rust kernel registered inside that venv (not in the user's global Jupyter);
#   4. headless Chromium + chromedriver for static figure export and the browser test
#      (apt-get where we are root on Debian/Ubuntu; otherwise we say what to install).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
EVCXR_VERSION=0.22.0
say() { printf 'setup: %s\n' "$*"; }

# 1. evcxr_jupyter
command -v cargo >/dev/null || { say "cargo not found: install Rust from https://rustup.rs"; exit 1; }
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$cargo_bin:$PATH"
have=$(cargo install --list 2>/dev/null | awk '/^evcxr_jupyter v/ {sub(/^v/, "", $2); sub(/:$/, "", $2); print $2}')
command -v evcxr_jupyter >/dev/null || have=""
if [ "$have" != "$EVCXR_VERSION" ]; then
    say "installing evcxr_jupyter $EVCXR_VERSION (cargo install --locked; 15-25 min on 2 cores)"
    start=$(date +%s)
    cargo install evcxr_jupyter --locked --version "$EVCXR_VERSION"
    say "evcxr_jupyter installed in $(( $(date +%s) - start )) s"
else
    say "evcxr_jupyter $have: ok"
fi

# 2. the venv with pinned Jupyter packages (re-installed when requirements.txt changes)
req=notebooks/requirements.txt
stamp=.venv/.mi_requirements
if [ ! -x .venv/bin/python ]; then
    say "creating .venv (python3 -m venv)"
    python3 -m venv .venv
fi
if [ ! -f "$stamp" ] || ! cmp -s "$req" "$stamp"; then
    say "installing Jupyter packages into .venv from $req"
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
else
    say ".venv packages: ok"
fi

# 3. the kernel, registered inside the venv (evcxr honours JUPYTER_PATH, one folder)
kernel_dir=.venv/share/jupyter/kernels/rust
if [ ! -f "$kernel_dir/kernel.json" ] || ! grep -q evcxr "$kernel_dir/kernel.json"; then
    say "registering the Rust kernel in .venv"
    JUPYTER_PATH="$root/.venv/share/jupyter" evcxr_jupyter --install >/dev/null
fi
.venv/bin/jupyter kernelspec list 2>/dev/null | grep -qw rust \
    || { say "the rust kernel is not visible to .venv's Jupyter (see $kernel_dir)"; exit 1; }
say "rust kernel: ok ($kernel_dir)"

# 4. headless Chromium + chromedriver
if .venv/bin/python notebooks/tools/browser.py find >/dev/null 2>&1; then
    say "chromium + chromedriver: ok"
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium and chromium-driver (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    .venv/bin/python notebooks/tools/browser.py find
else
    .venv/bin/python notebooks/tools/browser.py find || true
    say "install Chromium and chromedriver as above, then run 'just setup' again"
    exit 1
fi
say "ready"
