#!/usr/bin/env bash
# GPU check: cross-backend parity and Burn-vs-PyTorch speed on an NVIDIA machine that has no Rust
# toolchain and no network (the workplace's device machine: x86-64, CUDA 13 driver, PyTorch, no
# Vulkan loader). Everything it runs is built elsewhere and brought in `.gpu/`:
#
#   scripts/gpu-check.sh --pack      # on the build machine: builds (~30 min cold) and packs
#   scripts/gpu-check.sh bench       # on the GPU machine, from the repository root (.gpu/, .gl/)
#   scripts/gpu-check.sh parity      # likewise (.gpu-parity/, .gl/)
#
# The two compressed binaries (~35 MB each) do not fit one transfer of the workplace's device
# tool (64 MiB), hence two calls: `bench` needs .gpu/trainer.xz, `parity` .gpu-parity/*.xz.
#
# Packing builds the release trainer and the parity test with wgpu, vulkan and cuda (cuda needs
# LLVM for cubecl-llvm: scripts/llvm-from-pypi.sh where GitHub is out of reach, and
# CUDARC_CUDA_VERSION=13000 when no CUDA toolkit is installed), xz-compresses both (~20 MB each)
# and downloads Debian's libvulkan1 into .gl/ (the Vulkan loader; the NVIDIA driver brings the ICD).
#
# The run writes its logs to $OUT (or /tmp/gpu-check): gpu.txt, parity.txt, bench-*.jsonl and
# compare-*.txt. Each step has a time cap, and the whole run stops starting new steps after
# GPU_CHECK_SECONDS (default 540).
set -uo pipefail

if [ "${1:-}" = "--pack" ]; then
  set -e
  target="${CARGO_TARGET_DIR:-target/gpu}"
  CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}" cargo test --release --no-run \
    --target-dir "$target" -p alexnet -p trainer \
    --features alexnet/train,trainer/wgpu,trainer/vulkan,trainer/cuda
  mkdir -p .gpu .gpu-parity .gl
  parity="$(ls -t "$target"/release/deps/backend_parity-* | grep -v '\.d$' | head -1)"
  strip -o /tmp/trainer.stripped "$target/release/trainer"
  strip -o /tmp/backend_parity.stripped "$parity"
  xz -T0 -6 -c /tmp/trainer.stripped >.gpu/trainer.xz
  xz -T0 -6 -c /tmp/backend_parity.stripped >.gpu-parity/backend_parity.xz
  (cd .gl && apt-get download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2)
  ls -la .gpu .gpu-parity .gl
  exit 0
fi

OUT="${OUT:-/tmp/gpu-check}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
results="$OUT/results.jsonl"
deadline=$(($(date +%s) + ${GPU_CHECK_SECONDS:-540}))
log() { echo "== $(date +%T) $*"; }
# `cap N cmd...`: run cmd with at most N seconds, fewer when the run's deadline is nearer.
cap() {
  local want=$1 left=$((deadline - $(date +%s)))
  shift
  if [ "$left" -lt 20 ]; then log "skipped (out of time): $*"; return 124; fi
  [ "$want" -gt "$left" ] && want=$left
  local start=$(date +%s)
  timeout "$want" "$@"
  local rc=$?
  log "rc=$rc in $(($(date +%s) - start)) s (cap $want s)"
  return $rc
}

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
# The NVIDIA Vulkan driver (libGLX_nvidia) needs glvnd's libGLdispatch: the .gl/ debs bring the
# loaders (libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2).
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -e "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
done
mkdir -p /tmp/gpu-bin
for f in .gpu*/*.xz; do xz -dc "$f" >"/tmp/gpu-bin/$(basename "$f" .xz)"; done
chmod +x /tmp/gpu-bin/*
trainer=/tmp/gpu-bin/trainer

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

if [ "${1:-bench}" = "parity" ]; then
  # The test reads its fixtures from the path it was built at: link that path here.
  built_at="$(grep -a -m1 -o '/[[:alnum:]_./-]*/crates/alexnet/tests/fixtures' \
    /tmp/gpu-bin/backend_parity | head -1 | sed 's#/crates/alexnet/tests/fixtures##')"
  if [ -n "$built_at" ] && [ ! -e "$built_at" ]; then
    mkdir -p "$(dirname "$built_at")" && ln -sfn "$PWD" "$built_at"
  fi
  log "parity: flex, cuda, vulkan, wgpu"
  ALEXNET_PARITY_DEVICES=flex,cuda,vulkan,wgpu cap 240 /tmp/gpu-bin/backend_parity --nocapture
  log done
  exit 0
fi

# `bench NAME SECONDS args...`: trainer bench --json, rows tagged with NAME into results.jsonl.
bench() {
  local name=$1 seconds=$2
  shift 2
  log "bench $name: $*"
  cap "$seconds" "$trainer" bench --json "$@" | sed "s/^{/{\"run\":\"$name\",/" | tee -a "$results"
}
# First start: kernels compiled and autotuned from nothing (cubecl caches the autotune results
# under ./target/environment when run from the repository).
bench cuda-cold 220 --device cuda --arch standard -b 128 --image-size 227 --mode both
log "compare cuda fp32 (the second start of the Burn side)"
TRAINER=$trainer cap 150 bash bench/compare.sh --burn-device cuda --torch-device cuda \
  --configs "standard:128:227" --iters 20 --json "$OUT/compare-cuda.jsonl"
log "pytorch cuda bf16 channels-last"
cap 45 python3 bench/pytorch_alexnet.py --device cuda -b 128 --image-size 227 --precision bf16 \
  --channels-last --iters 20 --json | tee -a "$results"
bench vulkan-cold 160 --device vulkan --arch standard -b 128 --image-size 227 --mode train
bench cuda-bf16 100 --device cuda --arch standard -b 128 --image-size 227 --mode train \
  --precision bf16
ls -la target/environment 2>/dev/null | head
log done
