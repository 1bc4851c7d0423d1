#!/usr/bin/env bash
# A fixed CPU load beside a benchmark, for `bench/compare.sh` and `bench/compare-recipe.sh`
# (sourced, not run). Every process of the load runs at `nice 19`, as a user's background job
# would, and is stopped (with its children) before the next measured run starts.
#
#   none       nothing (the default)
#   spin:N     N processes that never sleep: a busy loop each
#   trainer    a second training run: the trainer's no-argument run (the synthetic default run,
#              `--seed 1`, its own run directory), started again whenever it ends; the binary
#              measured, or $LOAD_TRAINER (to keep the same neighbour while comparing builds)
#
#   source bench/background_load.sh
#   load_check "$spec" || exit 2
#   load_start "$spec" "$trainer"; ...measured run...; load_stop

load_pids=()
load_dir=""

# Whether `spec` is a load this file knows; prints why not to stderr.
load_check() {
  case "$1" in
    none|trainer) return 0 ;;
    spin:[1-9]|spin:[1-9][0-9]) return 0 ;;
    *) echo "unknown --load $1 (none, spin:N with N from 1 to 99, or trainer)" >&2; return 1 ;;
  esac
}

# Starts load `spec` ($1); `trainer` uses the trainer binary $2.
load_start() {
  local spec="$1" trainer="${2:-}"
  load_pids=()
  case "$spec" in
    none) return 0 ;;
    spin:*)
      local i
      for i in $(seq "${spec#spin:}"); do
        nice -n 19 sh -c 'while :; do :; done' &
        load_pids+=("$!")
      done
      ;;
    trainer)
      load_dir="$(mktemp -d)"
      (
        trap 'kill $child 2>/dev/null; wait $child 2>/dev/null; exit 0' TERM
        n=0
        while :; do
          n=$((n + 1))
          nice -n 19 "${LOAD_TRAINER:-$trainer}" --seed 1 --output-dir "$load_dir/run-$n" \
            </dev/null >/dev/null 2>&1 &
          child=$!
          wait "$child" || true
          rm -rf "$load_dir/run-$n"
        done
      ) &
      load_pids+=("$!")
      ;;
  esac
  # Let the load reach its steady state (the trainer past its start-up) before measuring.
  sleep "${LOAD_SETTLE_SECONDS:-5}"
}

# Stops the running load, if any.
load_stop() {
  local pid
  for pid in "${load_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${load_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  load_pids=()
  if [ -n "$load_dir" ]; then
    rm -rf "$load_dir"
    load_dir=""
  fi
}

# Run directly rather than sourced: --help prints the lines at the top; anything else says how
# to use it.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    -h|--help) sed -n '2,/^$/p' "$0"; exit 0 ;;
    *) echo "background_load.sh: source it from a benchmark script (see --help)" >&2; exit 2 ;;
  esac
fi
