#!/usr/bin/env bash
# bmi (benchmark-mi 0.1.3) in its own venv, .venv-bmi, for `just bench-estimate`. A plain
# `pip install benchmark-mi` resolves a JAX that bmi 0.1.3 no longer runs on: these pins do.
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv-bmi/bin/python -c "import bmi" 2>/dev/null; then exit 0; fi
python3 -m venv .venv-bmi
.venv-bmi/bin/pip install --quiet "jax==0.4.23" "jaxlib==0.4.23" "scipy==1.11.4" "chex==0.1.85" \
    "scikit-learn==1.3.2" "ml_dtypes==0.3.2" "benchmark-mi==0.1.3"
.venv-bmi/bin/python -c "import bmi"
