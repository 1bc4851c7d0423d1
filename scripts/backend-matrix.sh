#!/usr/bin/env bash
# Cross-backend parity on the backend CI does not build: the wgpu code path (cubecl's kernels,
# the same code that runs on a GPU through wgpu) on Mesa's lavapipe, a software Vulkan driver, so
# it runs on a machine without a GPU. CI leaves it out because building Burn with wgpu adds about
# 28 minutes to its run (CI's time: CONTRIBUTING.md, "CI"); run this before every change to model
# or backend code.
#
#   scripts/backend-matrix.sh                  # lavapipe (Vulkan); installs it with apt if missing
#   BACKEND_MATRIX_API=gl scripts/backend-matrix.sh    # llvmpipe through OpenGL instead
#
# Measured on the project's 2-core machine (Debian 12, Mesa 22.3.6, 2026-11-29): the test build
# took 28 min cold, the run 73-186 s on lavapipe and 246 s on OpenGL/llvmpipe; every difference from
# PyTorch was under 1.2e-6.
#
# The `wgpu` feature is the one tested: wgpu compiles cubecl's WGSL to SPIR-V with naga, and
# lavapipe runs that. With the `vulkan` feature (cubecl's own SPIR-V compiler) lavapipe 22.3
# segfaults inside libvulkan_lvp.so on the first kernel (reproduced 2026-11-29).
# The script points the Vulkan loader at lavapipe alone, so a machine that also has a GPU driver
# still tests the software path; with BACKEND_MATRIX_API=gl it points the loader at no driver,
# and wgpu, which tries Vulkan first, falls back to OpenGL.
#
# Both software drivers cap a storage buffer at 128 MiB; the parity test's models are the
# reduced-width fixtures of crates/alexnet/tools/make_grad_fixtures.py, well under that (the full
# model's fc6 weight, 151 MB, is not).
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
esac
cd "$(dirname "$0")/.."

api="${BACKEND_MATRIX_API:-vulkan}"
# Whether the dynamic linker knows library $1 (no `grep -q`: with pipefail, ldconfig killed by
# SIGPIPE would read as "missing").
has_lib() { ldconfig -p | grep -F "$1" >/dev/null; }
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)

case "$api" in
  vulkan)
    icd=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
    if [ ! -f "$icd" ] || ! has_lib libvulkan.so.1; then
      echo "installing the Vulkan loader and Mesa's lavapipe" >&2
      "${sudo_cmd[@]}" apt-get install -y --no-install-recommends libvulkan1 mesa-vulkan-drivers
    fi
    drivers="$icd"
    label="wgpu on Vulkan (lavapipe)"
    ;;
  gl)
    if ! has_lib libEGL_mesa.so; then
      echo "installing Mesa's EGL and OpenGL drivers (llvmpipe)" >&2
      "${sudo_cmd[@]}" apt-get install -y --no-install-recommends libegl1 libegl-mesa0 libgl1-mesa-dri
    fi
    drivers="$(mktemp -d)"
    trap 'rm -rf "$drivers"' EXIT
    label="wgpu on OpenGL (llvmpipe)"
    ;;
  *)
    echo "BACKEND_MATRIX_API must be vulkan or gl, not '$api'" >&2
    exit 2
    ;;
esac

start=$(date +%s)
VK_DRIVER_FILES="$drivers" VK_ICD_FILENAMES="$drivers" \
  ALEXNET_PARITY_DEVICES="${ALEXNET_PARITY_DEVICES:-wgpu}" \
  cargo test -p alexnet --features alexnet/train,alexnet-device/wgpu --test backend_parity -- --nocapture
echo "$label: parity passed in $(( $(date +%s) - start )) s"
