#!/usr/bin/env bash
# Burn (`trainer bench`) against PyTorch (`bench/pytorch_alexnet.py`) and ONNX Runtime on one
# machine (ONNX Runtime twice: on PyTorch's export of the model, `onnxruntime-cpu`, and on
# `trainer export`'s file of the same weights, `onnxruntime-burn`): for every configuration, `--rounds` rounds that each run every side once, one after the
# other (alternating, so a slow spell of the machine hits all sides alike); prints the medians over
# the rounds, each side's ratio to PyTorch, the per-phase times, and the CPU model.
#
#   bench/compare.sh                                # CPU: every compiled-in CPU backend, 2 threads
#   TRAINER=target/release/trainer bench/compare.sh --rounds 5
#   bench/compare.sh --backends cuda --torch-device cuda --configs "standard:128:227" --no-onnx
#
# Options:
#   --backends "B ..."  Burn devices (default: those of flex, ndarray, tch the binary runs)
#   --torch-device D    cpu (default) or cuda[:N]
#   --threads N         PyTorch and ONNX Runtime CPU threads (default 2, the CI machine's cores)
#   --precision P       fp32 (default), bf16, f16 or mixed for Burn; PyTorch runs fp32, or its
#                       autocast in bf16 (for bf16 and mixed) or f16
#   --configs "A:B:S[:W[:C[:O]]] ..."  arch:batch:image_size[:width[:classes[:opt]]] (width 1,
#                       1000 classes and sgd when left out; default "standard:16:227
#                       standard:64:227 standard:128:67:0.5:10:adamw", the last the default run's
#                       shape and optimiser)
#   --mode M            infer, train or both (default)
#   --rounds N          alternating rounds per configuration (default 3); medians over them
#   --iters N, --warmup N   per run, passed to every side (defaults 5 and 2)
#   --no-onnx           leave ONNX Runtime out (it needs pip `onnxruntime` and `onnx`)
#   --load SPEC         also run every side beside a fixed background load at nice 19, each
#                       round alone and then loaded: spin:N (N busy loops) or trainer (a second
#                       trainer on the synthetic default run); the table gives each side's speed
#                       under both and the share it kept (bench/background_load.sh)
#   --json FILE         also write every run (one JSON object per line) to FILE
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=background_load.sh
source "$here/background_load.sh"
backends=""
torch_device="cpu"
threads=2
precision="fp32"
configs="standard:16:227 standard:64:227 standard:128:67:0.5:10:adamw"
mode="both"
rounds=3
iters=5
warmup=2
onnx=1
load="none"
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backends) backends="$2"; shift 2 ;;
    --torch-device) torch_device="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --precision) precision="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --no-onnx) onnx=0; shift ;;
    --load) load="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

load_check "$load" || exit 2
loads="none"
[ "$load" = none ] || loads="none $load"

# PyTorch's bf16 and f16 are autocast (f32 weights), Burn's `mixed` is the same split.
torch_precision="$precision"
[ "$precision" = mixed ] && torch_precision=bf16

if [ -n "${TRAINER:-}" ]; then
  trainer=("$TRAINER")
else
  cargo build --release --quiet -p trainer
  trainer=("$(cd "$here/.." && pwd)/target/release/trainer")
fi
python="${PYTHON:-python3}"
results="$(mktemp)"
onnx_file=""
trap 'load_stop; rm -f "$results" ${onnx_file:+"$onnx_file" "$onnx_file.pth" "$onnx_file.err"}' EXIT

# Copies the JSON rows of stdin to the results, each tagged with the load it ran beside.
tagged() {
  "$python" -c 'import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        print(json.dumps(dict(json.loads(line), load=sys.argv[1])))' "$1" >>"$results"
}

if [ -z "$backends" ]; then
  for b in flex ndarray tch; do
    if "${trainer[@]}" bench --device "$b" --mode infer -b 1 --image-size 67 --width 0.25 \
        --num-classes 2 --warmup 0 --iters 1 --precision "$precision" --json >/dev/null 2>&1; then
      backends="$backends $b"
    fi
  done
fi
[ "$torch_device" = cpu ] || onnx=0

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
echo "cpu: ${cpu:-unknown}, $(nproc) cores; burn backends: ${backends# }; $("$python" -c \
  'import torch; print("torch", torch.__version__, end="")')" >&2

for c in $configs; do
  IFS=: read -r arch batch size width classes opt <<<"$c"
  common=(--arch "$arch" -b "$batch" --image-size "$size" --width "${width:-1}"
          --num-classes "${classes:-1000}" --opt "${opt:-sgd}" --iters "$iters"
          --warmup "$warmup" --json)
  onnx_file=""
  if [ "$onnx" = 1 ] && [ "$mode" != train ]; then
    # The same seeded weights as PyTorch's side, exported by the trainer.
    onnx_file="$(mktemp --suffix .onnx)"
    "$python" "$here/pytorch_alexnet.py" "${common[@]}" --save-weights "$onnx_file.pth"
    width_flag=""
    [ "$arch" = torchvision ] || width_flag="--width=${width:-1}"
    "${trainer[@]}" export --weights "$onnx_file.pth" --arch "$arch" $width_flag \
      --num-classes "${classes:-1000}" --image-size "$size" -o "$onnx_file" >&2
    rm -f "$onnx_file.pth"
  fi
  for r in $(seq "$rounds"); do
    for l in $loads; do
      load_start "$l" "${trainer[0]}"
      for b in $backends; do
        echo "round $r: burn $b $arch batch $batch ${size}px ..." >&2
        "${trainer[@]}" bench --device "$b" --mode "$mode" --precision "$precision" "${common[@]}" \
          | tagged "$l"
      done
      echo "round $r: pytorch $arch batch $batch ${size}px ..." >&2
      OMP_NUM_THREADS="$threads" "$python" "$here/pytorch_alexnet.py" --device "$torch_device" \
        --threads "$threads" --mode "$mode" --precision "$torch_precision" "${common[@]}" \
        | tagged "$l"
      if [ "$onnx" = 1 ] && [ "$mode" != train ]; then
        echo "round $r: onnxruntime $arch batch $batch ${size}px ..." >&2
        # torch.onnx.export refuses an adaptive pool whose input map is not a multiple of its
        # 6x6 output (e.g. at 67 px), so that row is left out there.
        if row="$(OMP_NUM_THREADS="$threads" "$python" -W ignore "$here/pytorch_alexnet.py" \
            --mode infer --runtime onnxruntime --threads "$threads" "${common[@]}" \
            2>"$onnx_file.err")"; then
          printf '%s\n' "$row" | tagged "$l"
        elif grep -q "SymbolicValueError" "$onnx_file.err"; then
          echo "round $r: PyTorch's ONNX export fails at ${size}px: onnxruntime-cpu left out" >&2
        else
          cat "$onnx_file.err" >&2
          exit 1
        fi
        echo "round $r: onnxruntime (trainer export) $arch batch $batch ${size}px ..." >&2
        OMP_NUM_THREADS="$threads" "$python" "$here/pytorch_alexnet.py" --mode infer \
          --runtime onnxruntime --onnx-file "$onnx_file" --threads "$threads" "${common[@]}" \
          | tagged "$l"
      fi
      load_stop
    done
  done
  [ -z "$onnx_file" ] || rm -f "$onnx_file" "$onnx_file.err"
done

[ -n "$json_out" ] && cp "$results" "$json_out"

"$python" - "$results" "$cpu" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    row = json.loads(line)
    key = (row["arch"], row["mode"], row["batch"], row["image_size"], row.get("width", 1.0),
           row.get("opt") or "-", row.get("load", "none"))
    runs.setdefault(key, {}).setdefault(row["backend"], []).append(row)

def med(rows, field):
    values = [r[field] for r in rows if r.get(field) is not None]
    return statistics.median(values) if values else None

def ms(value):
    return "-" if value is None else f"{value:.0f}"

print(f"CPU: {sys.argv[2] or 'unknown'}; medians over rounds; vs torch under the same load; "
      "kept = img/s beside the load / img/s alone")
print(f"{'arch':<11} {'mode':<6} {'batch':>5} {'size':>5} {'width':>5} {'opt':<5} "
      f"{'load':<8} {'backend':<16} {'img/s':>8} "
      f"{'vs torch':>9} {'kept':>5} {'fwd ms':>7} {'bwd ms':>7} {'step ms':>8} {'runs':>5}")
for key, sides in runs.items():
    torch_side = next((rows for name, rows in sides.items() if name.startswith("pytorch")), None)
    base = med(torch_side, "images_per_sec") if torch_side else None
    alone = runs.get(key[:-1] + ("none",), {}) if key[-1] != "none" else {}
    for name, rows in sides.items():
        ips = med(rows, "images_per_sec")
        ratio = f"{ips / base:.2f}x" if base else "-"
        kept = f"{ips / med(alone[name], 'images_per_sec'):.0%}" if name in alone else "-"
        print(f"{key[0]:<11} {key[1]:<6} {key[2]:>5} {key[3]:>5} {key[4]:>5g} {key[5]:<5} "
              f"{key[6]:<8} {name:<16} {ips:>8.2f} {ratio:>9} {kept:>5} "
              f"{ms(med(rows, 'forward_ms')):>7} {ms(med(rows, 'backward_ms')):>7} "
              f"{ms(med(rows, 'step_ms')):>8} {len(rows):>5}")
PY
