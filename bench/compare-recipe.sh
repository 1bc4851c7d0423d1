#!/usr/bin/env bash
# The trainer's default recipe end to end on an image folder, Burn against PyTorch: `trainer
# --dataset folder` and `bench/pytorch_recipe.py` (the same model, init, optimiser, schedule,
# photo augmentation and dropout, batch and per-epoch validation) train on the same folder, one after the other, for
# `--rounds` alternating rounds. Prints, per side, the medians over the rounds of the training
# and validation speed (images/s and epochs/s), the whole run's time (data loading, training,
# validation; process start-up included), the final val top-1/top-5, each side's ratio to
# PyTorch, and the CPU model.
#
#   cargo run --release -p alexnet-data --example synthetic_folder -- /tmp/shapes --train 12000 --val 2000
#   bench/compare-recipe.sh --data-dir /tmp/shapes --epochs 4
#
# Options:
#   --data-dir DIR      an image folder, DIR/{train,val}/<class>/* (required)
#   --epochs N          epochs per run (default 4)
#   --seed N            both sides' seed (default 0)
#   --threads N         PyTorch's intra-op threads (default 2, the CI machine's cores)
#   --workers N         PyTorch DataLoader worker processes (default 2)
#   --device D          the trainer's device (default flex)
#   --rounds N          alternating rounds (default 1); medians over them
#   --load SPEC         also run every side beside a fixed background load at nice 19, each
#                       round alone and then loaded: spin:N (N busy loops) or trainer (a second
#                       trainer on the synthetic default run); prints each side's speed alone
#                       and loaded and the share it kept (bench/background_load.sh)
#   --margin POINTS     a run whose final val top-1 is more than POINTS below the other side's
#                       median under the same load, or within 2 points of chance, is reported as
#                       diverged instead of timed, and the script exits with status 3 (default 5)
#   --json FILE         also write every run (one JSON object per line) to FILE
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=background_load.sh
source "$here/background_load.sh"
data_dir=""
epochs=4
seed=0
threads=2
workers=2
device="flex"
rounds=1
load="none"
margin=5
json_out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --margin) margin="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "compare-recipe.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$data_dir" ] || [ ! -d "$data_dir/train" ] || [ ! -d "$data_dir/val" ]; then
  echo "compare-recipe.sh: --data-dir DIR with DIR/train and DIR/val is required" >&2
  exit 2
fi
load_check "$load" || exit 2
loads="none"
[ "$load" = none ] || loads="none $load"

if [ -n "${TRAINER:-}" ]; then
  trainer="$TRAINER"
else
  cargo build --release --quiet -p trainer
  trainer="$(cd "$here/.." && pwd)/target/release/trainer"
fi
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'load_stop; rm -rf "$work"' EXIT
results="$work/results.jsonl"

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
echo "cpu: ${cpu:-unknown}, $(nproc) cores; $("$python" -c \
  'import torch; print("torch", torch.__version__, end="")')" >&2

now() { date +%s.%N; }
for r in $(seq "$rounds"); do
  for l in $loads; do
    beside=""
    [ "$l" = none ] || beside=" beside load $l"
    echo "round $r: burn $device, $epochs epochs$beside ..." >&2
    run_dir="$work/run-$r-${l//[:\/]/-}"
    load_start "$l" "$trainer"
    start=$(now)
    "$trainer" --dataset folder --data-dir "$data_dir" --epochs "$epochs" --seed "$seed" \
      --device "$device" --output-dir "$run_dir" </dev/null >"$work/trainer.log" 2>&1 \
      || { tail -20 "$work/trainer.log" >&2; exit 1; }
    end=$(now)
    load_stop
    "$python" "$here/recipe_rows.py" burn "$run_dir" "$data_dir" "$end" "$start" "$l" >>"$results"

    echo "round $r: pytorch, $epochs epochs$beside ..." >&2
    load_start "$l" "$trainer"
    start=$(now)
    OMP_NUM_THREADS="$threads" "$python" "$here/pytorch_recipe.py" --data-dir "$data_dir" \
      --epochs "$epochs" --seed "$seed" --threads "$threads" --workers "$workers" \
      >"$work/pytorch.json"
    end=$(now)
    load_stop
    "$python" "$here/recipe_rows.py" pytorch "$work/pytorch.json" "$end" "$start" "$l" >>"$results"
  done
done

[ -n "$json_out" ] && cp "$results" "$json_out"
classes="$(find "$data_dir/train" -mindepth 1 -maxdepth 1 -type d | wc -l)"
"$python" "$here/recipe_rows.py" table "$results" "${cpu:-unknown}" "$margin" "$classes"
