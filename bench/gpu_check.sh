#!/usr/bin/env bash
# The CUDA build on a machine with a GPU, in one prepared run: CPU vs CUDA agreement of every
# bound (value and gradient, f64 and f32, the 29 reference cases), of one training step of both
# critics for every Figure 2 estimator and of five steps at the paper's shape
# (mi_core/tests/cuda.rs); then Figure 2 on the GPU: the quick profile, and the paper sweep
# (all 38 runs) under a time limit, with every run's time.
#
# Build here first (`just check-cuda`: no GPU needed); it leaves the executables in target/cuda/
# and the same, packed, in target/cuda.tar.gz.
# The GPU machine needs the NVIDIA driver (libcuda.so.1) and the CUDA 13 libraries (cuBLAS,
# cuRAND, NVRTC, the runtime: a system toolkit or NVIDIA's Python wheels, both are looked for);
# no Rust toolchain. Carry target/cuda.tar.gz (or target/cuda) there and run
# `bash bench/gpu_check.sh`.
#
#   SWEEP_LIMIT   seconds the paper sweep may take (default 360; stored runs resume it)
#   RUNS_AT_ONCE  runs trained concurrently on the GPU (default 8)
#   OUT           where the logs and summaries go (default target/gpu-check)
set -uo pipefail
cd "$(dirname "$0")/.."
bin=target/cuda
out="${OUT:-target/gpu-check}"
mkdir -p "$out"
if [ ! -d "$bin" ] && [ -f "$bin.tar.gz" ]; then
    tar -C target -xzf "$bin.tar.gz"
fi
for exe in cuda figure_2; do
    [ -x "$bin/$exe" ] || { echo "gpu_check: $bin/$exe missing: run \`just check-cuda\` here and carry $bin.tar.gz" >&2; exit 2; }
done

# The CUDA libraries: a system toolkit, or the nvidia-* wheels of the machine's Python.
dirs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && dirs="$dirs:$d"
done
wheels=$(python3 - <<'EOF' 2>/dev/null
import glob, os
try:
    import nvidia
except ImportError:
    raise SystemExit
found = {os.path.dirname(p) for root in nvidia.__path__
         for p in glob.glob(os.path.join(root, "**", "lib*.so*"), recursive=True)}
print(":".join(sorted(found)))
EOF
)
export LD_LIBRARY_PATH="${wheels}${dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

status=0
{
    echo "== $(date -u +%FT%TZ) $(uname -n)"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
    echo "== missing libraries (none expected):"
    ldd "$bin/cuda" | grep 'not found' || echo "none"
} 2>&1 | tee "$out/gpu_check.log"

echo "== CPU vs CUDA agreement (mi_core/tests/cuda.rs)" | tee -a "$out/gpu_check.log"
start=$(date +%s)
"$bin/cuda" --ignored --test-threads 1 2>&1 | tee -a "$out/gpu_check.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "agreement: $(($(date +%s) - start)) s" | tee -a "$out/gpu_check.log"

echo "== Figure 2, quick profile, on the GPU" | tee -a "$out/gpu_check.log"
start=$(date +%s)
"$bin/figure_2" quick "$out/fig2-quick" 1 cuda 2>&1 >/dev/null \
    | grep -v '^\s*$' | tail -n 40 | tee -a "$out/gpu_check.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "quick profile: $(($(date +%s) - start)) s" | tee -a "$out/gpu_check.log"

limit="${SWEEP_LIMIT:-360}"
echo "== Figure 2, paper profile (38 runs, ${RUNS_AT_ONCE:-8} at once), limit ${limit} s" \
    | tee -a "$out/gpu_check.log"
start=$(date +%s)
timeout "$limit" "$bin/figure_2" paper "$out/fig2-paper" "${RUNS_AT_ONCE:-8}" cuda 2>&1 >/dev/null \
    | grep -v '^\s*$' | tail -n 60 | tee -a "$out/gpu_check.log"
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 124 ]; then
    echo "paper sweep: stopped at the ${limit} s limit; finished runs are stored in" \
        "target/fig2-runs/paper-cuda and a rerun resumes" | tee -a "$out/gpu_check.log"
elif [ "$rc" -ne 0 ]; then
    status=1
fi
echo "paper sweep: $(($(date +%s) - start)) s wall" | tee -a "$out/gpu_check.log"
# Every stored GPU run with its own time (also those of a sweep the limit stopped).
python3 - target/fig2-runs/paper-cuda 2>&1 <<'EOF' | tee -a "$out/gpu_check.log"
import glob, json, os, sys
runs = sorted(glob.glob(os.path.join(sys.argv[1], "*.json")))
for path in runs:
    r = json.load(open(path))["result"]
    steps = len(r["history"]["estimates"])
    print(f"  {os.path.basename(path)[:-5]:<36} {steps:>6} steps {r['elapsed_s']:>8.1f} s"
          f" ({1e3 * r['elapsed_s'] / max(steps, 1):.2f} ms/step)")
print(f"{len(runs)} of 38 paper runs stored")
EOF
# The summaries travel back; the HTML figures stay (large).
for p in quick paper; do
    [ -f "$out/fig2-$p/fig2_summary.csv" ] && cp "$out/fig2-$p/fig2_summary.csv" "$out/fig2_${p}_summary.csv"
done
exit "$status"
