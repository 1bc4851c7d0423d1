#!/usr/bin/env bash
# Provide the LLVM that Burn's `cuda` backend needs, from PyPI instead of GitHub.
#
# burn's `cuda` feature pulls cubecl-cuda -> cubecl-llvm, whose build script runs
# tracel-llvm-bundler: it expects LLVM 23.1 (static libraries with the NVPTX target, headers and
# llvm-config) in ~/.local/share/tracel/tracel-llvm-23.1.0-4 (or $XDG_DATA_HOME/tracel/...) and
# downloads a prebuilt archive from GitHub when that directory has no `.tracel-llvm-installed`
# marker. On machines that reach PyPI but not GitHub, the `mlc-llvm-static` wheels carry the same
# LLVM (23.1.1, all targets with the `extra-targets` wheel); this script installs them and points
# the bundler's directory at them. Run it once before `cargo build --features cuda`.
# python3 must stay on PATH during the build (the wheel's llvm-config is a Python script).
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac

python3 -m pip install --quiet 'mlc-llvm-static[all]==23.1.1.post0'
static="$(python3 -c 'import mlc_llvm_static, os; print(os.path.dirname(mlc_llvm_static.__file__))')/static"
chmod +x "$static/bin/llvm-config"
"$static/bin/llvm-config" --targets-built | grep -qw NVPTX || {
  echo "error: $static has no NVPTX target (is mlc-llvm-static-extra-targets installed?)" >&2
  exit 1
}
data="${XDG_DATA_HOME:-$HOME/.local/share}/tracel"
mkdir -p "$data"
ln -sfn "$static" "$data/tracel-llvm-23.1.0-4"
touch "$static/.tracel-llvm-installed"
echo "LLVM $("$static/bin/llvm-config" --version) for cubecl-llvm: $data/tracel-llvm-23.1.0-4 -> $static"
