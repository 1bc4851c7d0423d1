#!/usr/bin/env bash
# GPU check, in one run on an NVIDIA machine that has PyTorch but no Rust toolchain and no
# network: cross-backend parity, the persistent autotune cache (a cold and a warm start),
# data-parallel training with DDP on every GPU present (one GPU runs the same code path), a DDP
# run that must stop on a diverging loss instead of hanging, and training throughput in fp32,
# bf16 and mixed precision against PyTorch's fp32 and bf16 autocast, side by side.
#
#   scripts/gpu-check.sh --pack      # on a build machine: builds (~30 min cold) and packs .gpu/, .gl/
#   scripts/gpu-check.sh             # on the GPU machine, from the repository root
#
# Packing builds the release trainer and the parity test with wgpu, vulkan and cuda (cuda needs
# LLVM for cubecl-llvm: scripts/llvm-from-pypi.sh where GitHub is out of reach, and
# CUDARC_CUDA_VERSION=13000 when no CUDA toolkit is installed), with fat LTO and stripped so that
# both xz-compressed binaries fit .gpu/ under GPU_CHECK_PACK_MIB (default 60), and downloads
# Debian's libvulkan1 into .gl/ (the Vulkan loader; the NVIDIA driver brings the ICD).
#
# The run writes to $OUT (or /tmp/gpu-check): gpu-check.log, results.jsonl (every bench row,
# tagged with its step), compare-*.txt, the DDP runs' directories and summary.txt (the numbers
# for docs/performance.md). Steps run in order of priority, each with a time cap; a step that
# would start after GPU_CHECK_SECONDS (default 570) is skipped and says so. The first start
# autotunes every kernel (more than 160 s for a training step on an H200 without the cache), so
# the comparisons at the end are the ones a slow first start leaves out.
set -uo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

if [ "${1:-}" = "--pack" ]; then
  set -e
  target="${CARGO_TARGET_DIR:-target/gpu}"
  CUDARC_CUDA_VERSION="${CUDARC_CUDA_VERSION:-13000}" CARGO_PROFILE_RELEASE_LTO=fat \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo test --release --no-run --target-dir "$target" -p alexnet -p trainer \
    --features alexnet/train,trainer/wgpu,trainer/vulkan,trainer/cuda
  mkdir -p .gpu .gl
  parity="$(ls -t "$target"/release/deps/backend_parity-* | grep -v '\.d$' | head -1)"
  strip -o /tmp/trainer.stripped "$target/release/trainer"
  strip -o /tmp/backend_parity.stripped "$parity"
  xz -T0 -9e -c /tmp/trainer.stripped >.gpu/trainer.xz
  xz -T0 -9e -c /tmp/backend_parity.stripped >.gpu/backend_parity.xz
  (cd .gl && apt-get download libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2)
  ls -la .gpu .gl
  mib=$(($(du -sk .gpu .gl | awk '{s += $1} END {print s}') / 1024))
  echo "packed: $mib MiB"
  if [ "$mib" -gt "${GPU_CHECK_PACK_MIB:-60}" ]; then
    echo "error: $mib MiB is over GPU_CHECK_PACK_MIB=${GPU_CHECK_PACK_MIB:-60}" >&2
    exit 1
  fi
  exit 0
fi

OUT="${OUT:-/tmp/gpu-check}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu-check.log") 2>&1
results="$OUT/results.jsonl"
summary="$OUT/summary.txt"
deadline=$(($(date +%s) + ${GPU_CHECK_SECONDS:-570}))
# Progress lines go to stderr, so they never mix with the JSON rows piped into results.jsonl.
log() { echo "== $(date +%T) $*" >&2; }
note() { echo "$*" | tee -a "$summary"; }
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
for f in .gpu/*.xz; do xz -dc "$f" >"/tmp/gpu-bin/$(basename "$f" .xz)"; done
chmod +x /tmp/gpu-bin/*
trainer=/tmp/gpu-bin/trainer

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee -a "$summary"
gpus=$(nvidia-smi --query-gpu=name --format=csv,noheader | wc -l)
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$summary"

# NCCL: the CUDA runtime looks for libnccl.so (not NCCL's own libnccl.so.2); PyTorch's wheel
# brings libnccl.so.2, so give it the name the runtime looks for.
if ! ldconfig -p | grep -q 'libnccl\.so '; then
  nccl="$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null)"
  if [ -n "$nccl" ] && [ -e "$nccl/libnccl.so.2" ]; then
    mkdir -p /tmp/nccl && ln -sf "$nccl/libnccl.so.2" /tmp/nccl/libnccl.so
    export LD_LIBRARY_PATH="/tmp/nccl${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi

log "parity: flex, cuda, vulkan, wgpu"
# The test reads its fixtures from the path it was built at: link that path here.
built_at="$(grep -a -m1 -o '/[[:alnum:]_./-]*/crates/alexnet/tests/fixtures' \
  /tmp/gpu-bin/backend_parity | head -1 | sed 's#/crates/alexnet/tests/fixtures##')"
if [ -n "$built_at" ] && [ ! -e "$built_at" ]; then
  mkdir -p "$(dirname "$built_at")" && ln -sfn "$PWD" "$built_at"
fi
ALEXNET_PARITY_DEVICES=flex,cuda,vulkan,wgpu cap 120 /tmp/gpu-bin/backend_parity --nocapture \
  >"$OUT/parity.txt" 2>&1
note "parity: rc=$? ($(grep -c '^test .* ok$' "$OUT/parity.txt") passed; $OUT/parity.txt)"

# `bench NAME SECONDS args...`: trainer bench --json, rows tagged with NAME into results.jsonl.
bench() {
  local name=$1 seconds=$2
  shift 2
  log "bench $name: $*"
  cap "$seconds" "$trainer" bench --json "$@" | sed "s/^{/{\"run\":\"$name\",/" | tee -a "$results"
}
field() {
  python3 -c "import json; rows = [json.loads(l) for l in open('$results') if l.startswith('{')]
print(next((r.get('$2') for r in rows if r.get('run') == '$1'), None))"
}

# The persistent autotune cache: a first start with an empty cache, then a second start.
export XDG_CACHE_HOME="$OUT/cache"
train_args=(--device cuda --arch standard -b 128 --image-size 227 --mode train --iters 5)
bench cold 200 "${train_args[@]}"
bench warm 45 "${train_args[@]}"
note "autotune cache: first step $(field cold first_step_ms) ms cold, $(field warm first_step_ms) ms warm ($(ls "$XDG_CACHE_HOME"/cubecl 2>/dev/null | tr '\n' ' '))"

# DDP on every GPU (one GPU exercises the same path).
ddp=(--devices cuda:all --arch standard --image-size 227 --width 1 -b 128 --synthetic-train 5120
  --synthetic-val 512 --aug none)
log "ddp on $gpus GPU(s)"
cap 90 "$trainer" "${ddp[@]}" --epochs 2 --output-dir "$OUT/ddp" 2>&1 | tail -5
note "ddp: $(python3 -c "import json; s = json.load(open('$OUT/ddp/summary.json')); print(s['devices'], 'global batch', s['global_batch_size'], 'images/epoch', s['images_per_epoch'], 'img/s', round(s['images_per_sec']), 'top-1', s['top1'])" 2>&1)"
# Throughput, side by side with PyTorch (fp32, then bf16 autocast for mixed and bf16).
compare() {
  local precision=$1 seconds=$2
  log "compare $precision"
  TRAINER=$trainer cap "$seconds" bash bench/compare.sh --backends cuda --torch-device cuda \
    --configs "standard:128:227" --mode train --rounds 2 --iters 10 --no-onnx \
    --precision "$precision" --json "$OUT/compare-$precision.jsonl" | tee "$OUT/compare-$precision.txt"
  note "train $precision: $(grep -m1 '^standard .* cuda ' "$OUT/compare-$precision.txt")"
  note "train $precision: $(grep -m1 '^standard .* pytorch' "$OUT/compare-$precision.txt")"
}
compare fp32 90
compare mixed 90

# A diverging DDP run must stop (exit 1, the loss named) instead of waiting in an all-reduce: the
# trainer's watchdog ends it ALEXNET_DDP_STOP_GRACE seconds after the stop.
log "ddp with a diverging loss"
ALEXNET_DDP_STOP_GRACE=20 cap 75 "$trainer" "${ddp[@]}" --epochs 1 --opt sgd --lr 1e12 \
  --output-dir "$OUT/ddp-nan" >"$OUT/ddp-nan.txt" 2>&1
note "ddp nan stop: rc=$? (1 expected) $(grep -o 'error: .*' "$OUT/ddp-nan.txt" | head -1)"
compare bf16 75
log done
cat "$summary"
