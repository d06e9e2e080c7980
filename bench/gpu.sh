#!/usr/bin/env bash
# WebGPU benchmarks on a real NVIDIA GPU through dawn.node's Vulkan backend → bench/results/gpu.json.
#   bash bench/gpu.sh            # a real GPU; refuses a software adapter
#   bash bench/gpu.sh --smoke    # tiny sizes, correctness only; runs on SwiftShader too
#   bash bench/gpu.sh --help     # the sections, the options (--budget-s, --out) and what it writes
# Writes bench/results/gpu.json and its markdown tables, bench/results/gpu.md.
# Needs Node ≥ 20.9 and the npm registry (for npm ci when node_modules is missing). Brings the Vulkan
# loader (libvulkan1) with apt-get where it is missing, and finds or writes the NVIDIA Vulkan ICD manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=0
for a in "$@"; do
  [ "$a" = "--smoke" ] && SMOKE=1
  # Help needs neither the driver nor the kernels built.
  if [ "$a" = "--help" ] || [ "$a" = "-h" ]; then exec node --import tsx bench/gpu.ts --help; fi
done
say() { echo "gpu.sh: $*" >&2; }

node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=9)?0:1)' 2>/dev/null \
  || { say "Node ≥ 20.9 is required (found: $(node --version 2>/dev/null || echo none))"; exit 2; }

# dawn.node dlopens libvulkan.so.1 at run time; Debian/Ubuntu ship it as libvulkan1.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  say "no Vulkan loader (libvulkan.so.1): installing libvulkan1"
  if command -v apt-get >/dev/null; then
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libvulkan1 >/dev/null
  else
    say "apt-get is not available: install the Vulkan loader (libvulkan.so.1) with this system's package manager"; exit 2
  fi
fi

# The user's own choice wins. Else the NVIDIA ICD manifest from the usual places; containers often mount
# the driver (libGLX_nvidia.so.0 carries the Vulkan ICD) without its manifest, so write one then.
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  ICD=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json /usr/local/share/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -n1 || true)
  if [ -z "$ICD" ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia\.so\.0 '; then
    ICD=/tmp/inflow_nvidia_icd.json
    echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3.0"}}' > "$ICD"
    say "wrote $ICD (the driver is present, its Vulkan manifest was not)"
  fi
  if [ -n "$ICD" ]; then
    export VK_ICD_FILENAMES="$ICD"
    say "Vulkan driver: $ICD"
  elif [ "$SMOKE" = 0 ]; then
    say "no NVIDIA Vulkan driver found (no nvidia_icd.json, no libGLX_nvidia.so.0)."
    say "In a container, run with NVIDIA_DRIVER_CAPABILITIES=all (or graphics,compute,utility); else install the NVIDIA driver's Vulkan part."
    exit 2
  fi
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

[ -d node_modules ] || { say "npm ci"; npm ci --no-audit --no-fund >&2; }
# The engine's wasm/WGSL bundles are generated files (the test suite has built them already).
[ "${INFLOW_KERNELS_BUILT:-}" = 1 ] && [ -d bindings/generated ] || npm run asbuild --silent >&2
exec node --no-liftoff --import tsx bench/gpu.ts "$@"
