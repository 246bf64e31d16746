#!/usr/bin/env bash
# Builds mi_core with `--features cuda` on a machine that has no GPU and no CUDA toolkit
# (`just check-cuda`): nvcc and the CUDA libraries come from NVIDIA's PyPI wheels in .venv-cuda,
# and the driver library (libcuda, installed with the GPU driver, never with the toolkit) is a
# link stub generated from cudarc's bindings. The binaries it links load the real
# libcuda.so.1 of a GPU machine at start.
#
#   bench/cuda_build.sh          compile and link the library, `mi`, figure_2 and every test
#                                binary (release), then run the CPU tests of that build;
#                                bench/gpu_check.sh runs the rest on a GPU machine
#   bench/cuda_build.sh env      print the environment (`eval "$(bench/cuda_build.sh env)"`)
#
# Time: the CUDA kernels of candle-kernels dominate (~45 min on 2 cores, cold). CUDA_COMPUTE_CAP
# (default 90: Hopper) picks the GPU architecture the kernels are built for.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolkit: CUDA 13.0. candle ships its kernels as PTX, which the GPU driver compiles at start,
# and a driver compiles only PTX from a toolkit no newer than itself: 13.0 runs on every CUDA 13
# driver (the lent H200 machines had 13.0). cudarc 0.19 knows 13.0 to 13.4 (13.5 is refused).
# The other wheels are versioned on their own: these are the 13.0 releases.
WHEELS=(
    "nvidia-cuda-nvcc==13.0.88" "nvidia-nvvm==13.0.88" "nvidia-cuda-crt==13.0.88"
    "nvidia-cuda-runtime==13.0.88" "nvidia-cuda-nvrtc==13.0.88" "nvidia-cuda-cccl==13.0.85"
    "nvidia-curand==10.4.0.35" "nvidia-cublas==13.0.2.14"
)
venv="${CUDA_VENV:-$PWD/.venv-cuda}"
features="mi_core/cuda,mi_core/cli,mi_core/plots"

log() { echo "cuda_build: $*" >&2; }

toolkit_root() {
    local root
    root=$(ls -d "$venv"/lib/python3*/site-packages/nvidia/cu13 2>/dev/null | head -n 1)
    if [ -z "$root" ] || [ ! -x "$root/bin/nvcc" ]; then
        log "installing the CUDA 13.0 toolkit wheels into $venv (~1.2 GB)"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "${WHEELS[@]}" >&2
        root=$(ls -d "$venv"/lib/python3*/site-packages/nvidia/cu13 | head -n 1)
    fi
    echo "$root"
}

# The wheels ship versioned libraries only (libcudart.so.13); the linker asks for libcudart.so.
link_names() {
    local lib base
    for lib in "$1"/lib/lib*.so.*; do
        base="${lib%%.so.*}.so"
        [ -e "$base" ] || ln -s "$(basename "$lib")" "$base"
    done
}

# libcuda stub: every driver entry point cudarc declares, each returning CUDA_ERROR_UNKNOWN (999),
# with the real library's soname so that binaries depend on libcuda.so.1 as usual.
driver_stub() {
    local stubs="$1/lib/stubs" manifest sys
    [ -e "$stubs/libcuda.so" ] && return 0
    manifest=$(cargo metadata --format-version 1 --features "$features" 2>/dev/null \
        | python3 -c 'import json, sys
print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"] == "cudarc"))')
    sys="$(dirname "$manifest")/src/driver/sys/mod.rs"
    mkdir -p "$stubs"
    grep -o 'pub unsafe fn cu[A-Za-z0-9_]*' "$sys" | awk '{ print $4 }' | sort -u \
        | awk '{ print "int " $1 "(void) { return 999; }" }' >"$stubs/libcuda_stub.c"
    [ -s "$stubs/libcuda_stub.c" ] || { log "no driver entry points found in $sys"; exit 1; }
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$stubs/libcuda.so" "$stubs/libcuda_stub.c"
    ln -sf libcuda.so "$stubs/libcuda.so.1"
    log "libcuda stub: $(wc -l <"$stubs/libcuda_stub.c") entry points from $sys"
}

root=$(toolkit_root)
link_names "$root"
driver_stub "$root"
env_lines=(
    "export PATH=\"$root/bin:\$PATH\""
    "export CUDA_HOME=\"$root\" CUDA_PATH=\"$root\" CUDA_ROOT=\"$root\" NVCC=\"$root/bin/nvcc\""
    "export CUDA_COMPUTE_CAP=\"${CUDA_COMPUTE_CAP:-90}\""
)
if [ "${1:-}" = env ]; then
    printf '%s\n' "${env_lines[@]}"
    exit 0
fi
eval "$(printf '%s\n' "${env_lines[@]}")"
nvcc --version | tail -n 2 >&2

start=$(date +%s)
log "cargo build --release --features $features (library, mi, figure_2, test binaries)"
# The executables bench/gpu_check.sh runs on a GPU machine are copied, stripped, to target/cuda/
# and packed into target/cuda.tar.gz (carry either there). The build shares target/release with the CPU builds, so until the
# next CPU build target/release/mi and examples/figure_2 are these CUDA ones, which need
# libcuda.so.1 to start; `cargo run`, `just fig2` and `just test` rebuild theirs.
mkdir -p target/cuda
cargo build --release --features "$features" --lib --bins --tests --example figure_2 \
    --message-format=json-render-diagnostics \
    | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        name, kind = m["target"]["name"], m["target"]["kind"][0]
        if (kind, name) in {("test", "cuda"), ("example", "figure_2")}:
            print(name, m["executable"])' \
    | while read -r name exe; do strip -o "target/cuda/$name" "$exe"; done
[ -x target/cuda/cuda ] && [ -x target/cuda/figure_2 ] || { log "executables missing"; exit 1; }
# ~115 MB, mostly Candle's PTX text: gzip brings it under the 64 MiB a device call may carry.
tar -C target -czf target/cuda.tar.gz cuda
log "compiled and linked in $(($(date +%s) - start)) s; for a GPU machine: target/cuda.tar.gz" \
    "($(du -h target/cuda.tar.gz | cut -f1))"

# The CUDA build still runs on the CPU: its unit tests, with the stub standing in for the driver
# (so asking for a CUDA device is an error, which the tests of estimate::device check).
export LD_LIBRARY_PATH="$root/lib:$root/lib/stubs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cargo test --release --features "$features" --lib
log "done in $(($(date +%s) - start)) s"
