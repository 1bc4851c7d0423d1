#!/usr/bin/env bash
# Burn (`trainer bench`) against PyTorch (`bench/pytorch_alexnet.py`) on the same machine, same
# configurations, one after the other; prints both throughputs and the ratio Burn / PyTorch.
#
#   bench/compare.sh                                   # CPU: default Burn device vs PyTorch, 2 threads
#   bench/compare.sh --burn-device cuda --torch-device cuda --configs "standard:128:227"
#   TRAINER=/path/to/trainer bench/compare.sh ...      # a prebuilt binary instead of cargo run
#
# Options:
#   --burn-device D     device for trainer bench (default: the binary's default device)
#   --torch-device D    cpu (default) or cuda[:N]
#   --threads N         PyTorch CPU threads (default 2, the CI machine's cores)
#   --precision P       fp32 (default), bf16 or f16 for both sides
#   --configs "A:B:S ..."  arch:batch:image_size triples (default "standard:16:227 standard:64:227")
#   --mode M            infer, train or both (default)
#   --iters N, --warmup N   passed to both sides (defaults 10 and 2)
#   --json FILE         also write every measurement (one JSON object per line) to FILE
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
burn_device=""
torch_device="cpu"
threads=2
precision="fp32"
configs="standard:16:227 standard:64:227"
mode="both"
iters=10
warmup=2
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --burn-device) burn_device="$2"; shift 2 ;;
    --torch-device) torch_device="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --precision) precision="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "${TRAINER:-}" ]; then
  trainer=("$TRAINER")
else
  trainer=(cargo run --release --quiet -p trainer --)
fi
python="${PYTHON:-python3}"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

for c in $configs; do
  IFS=: read -r arch batch size <<<"$c"
  common=(--arch "$arch" -b "$batch" --image-size "$size" --mode "$mode" --iters "$iters"
          --warmup "$warmup" --precision "$precision" --json)
  dev=()
  [ -n "$burn_device" ] && dev=(--device "$burn_device")
  echo "burn    $arch batch $batch ${size}px ..." >&2
  "${trainer[@]}" bench "${dev[@]}" "${common[@]}" | sed 's/^/burn /' >>"$results"
  echo "pytorch $arch batch $batch ${size}px ..." >&2
  OMP_NUM_THREADS="$threads" "$python" "$here/pytorch_alexnet.py" --device "$torch_device" \
    --threads "$threads" "${common[@]}" | sed 's/^/torch /' >>"$results"
done

[ -n "$json_out" ] && sed 's/^[a-z]* //' "$results" >"$json_out"

"$python" - "$results" <<'EOF'
import json, sys
burn, torch = {}, {}
for line in open(sys.argv[1]):
    side, obj = line.split(" ", 1)
    row = json.loads(obj)
    key = (row["arch"], row["mode"], row["batch"], row["image_size"])
    (burn if side == "burn" else torch)[key] = row
print(f"{'arch':<11} {'mode':<6} {'batch':>5} {'size':>5} {'burn':<10} {'burn img/s':>11} "
      f"{'pytorch img/s':>14} {'burn/pytorch':>13}")
for key, b in burn.items():
    t = torch.get(key)
    tp = t["images_per_sec"] if t else float("nan")
    print(f"{key[0]:<11} {key[1]:<6} {key[2]:>5} {key[3]:>5} {b['backend']:<10} "
          f"{b['images_per_sec']:>11.2f} {tp:>14.2f} {b['images_per_sec'] / tp:>13.2f}")
EOF
