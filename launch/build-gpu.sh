#!/usr/bin/env bash
# Configure and build seqrec on the lent GPU machine against its own PyTorch: LibTorch with
# CUDA from the wheel's CMake config, NCCL from the wheel's nvidia-nccl package.
#
#   bash launch/build-gpu.sh                  # from the repo root; the build goes to $BUILD
#   TARGETS=seqrec bash launch/build-gpu.sh   # the binary only (no tests, no benchmarks): faster
#
# Environment: BUILD [build-gpu], PYTHON [python3], CUDA_ARCH [90], TARGETS [all],
# JOBS [nproc], CMAKE_EXTRA_ARGS (appended to the configure line), NCCL_HOME (found from
# the wheel when unset), ALLOW_CPU_BUILD=1 (accept a build without CUDA/NCCL; it fails
# otherwise, since a CPU build there measures nothing), DRY_RUN=1 (print the cmake lines).
#
# The machine may lack Open MPI, HDF5, Boost.Program_options, GoogleTest and nlohmann_json:
# pack them here with launch/pack-gpu-deps.sh, carry ".device", and this script sources
# .device/env.sh (which unpacks them into /opt/sysroot and exports the search paths).
set -euo pipefail

BUILD=${BUILD:-build-gpu}
PYTHON=${PYTHON:-python3}
CUDA_ARCH=${CUDA_ARCH:-90}
JOBS=${JOBS:-$(nproc)}
read -r -a targets <<<"${TARGETS:-}"
read -r -a cmake_extra <<<"${CMAKE_EXTRA_ARGS:-}"

die() {
  echo "build-gpu: $*" >&2
  exit 1
}
say() { echo "build-gpu: $*"; }

[[ -f CMakeLists.txt && -d src ]] || die "run me from the seqrec repository root"

if [[ -f .device/env.sh ]]; then
  say "sourcing .device/env.sh (MPI, HDF5, Boost, GTest under /opt/sysroot)"
  # shellcheck disable=SC1091
  source .device/env.sh
fi

# --- PyTorch: LibTorch's CMake config and whether it has CUDA
# stderr apart: an import-time warning must not end up in the values read below
torch_errors=$(mktemp)
torch_info=$("$PYTHON" -c '
import os, torch
print(torch.__version__)
print(torch.version.cuda or "")
print(os.path.join(torch.utils.cmake_prefix_path, "Torch"))
' 2>"$torch_errors") || die "'$PYTHON' cannot import torch; this recipe builds against the machine's PyTorch:
$(cat "$torch_errors")"
rm -f "$torch_errors"
{
  read -r torch_version
  read -r torch_cuda
  read -r torch_cmake_dir
} <<<"$torch_info"
# env.sh derives Torch_DIR from python3 too; keep a caller's own when it holds a config
if [[ -z ${Torch_DIR:-} || ! -f ${Torch_DIR:-}/TorchConfig.cmake ]]; then
  Torch_DIR=$torch_cmake_dir
fi
export Torch_DIR
[[ -f $Torch_DIR/TorchConfig.cmake ]] || die "no TorchConfig.cmake in $Torch_DIR"
if [[ -z $torch_cuda && ${ALLOW_CPU_BUILD:-0} != 1 ]]; then
  die "PyTorch $torch_version has no CUDA (torch.version.cuda is None); set ALLOW_CPU_BUILD=1 to build anyway"
fi

# --- the CUDA toolkit LibTorch's config looks for (nvcc, cudart)
nvcc=${CUDACXX:-$(command -v nvcc || true)}
if [[ -z $nvcc && -x /usr/local/cuda/bin/nvcc ]]; then nvcc=/usr/local/cuda/bin/nvcc; fi
cuda_args=()
if [[ -n $nvcc ]]; then
  export CUDACXX=$nvcc
  cuda_root=$(cd "$(dirname "$nvcc")/.." && pwd)
  cuda_args=(-DCUDAToolkit_ROOT="$cuda_root" -DCMAKE_CUDA_COMPILER="$nvcc")
elif [[ -n $torch_cuda ]]; then
  say "warning: no nvcc found; LibTorch's config may not find the CUDA toolkit"
fi
# LibTorch's CMake otherwise compiles and runs a probe to pick the architectures
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$((CUDA_ARCH / 10)).$((CUDA_ARCH % 10))}

# --- NCCL: pip's nvidia-nccl wheel has lib/libnccl.so.2 and include/nccl.h only; the
# project's CMakeLists looks under NCCL_HOME.
if [[ -z ${NCCL_HOME:-} ]]; then
  NCCL_HOME=$("$PYTHON" - <<'PY' || true
import glob, os, site, sys

def candidates():
    try:
        import nvidia.nccl as nccl  # a namespace package: __path__, maybe no __file__
        for path in getattr(nccl, "__path__", []):
            yield path
        if getattr(nccl, "__file__", None):
            yield os.path.dirname(nccl.__file__)
    except Exception:
        pass
    roots = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    try:
        roots += site.getsitepackages() + [site.getusersitepackages()]
    except Exception:
        pass
    for root in roots:
        yield os.path.join(root, "nvidia", "nccl")
        # CUDA 13 wheels group most NVIDIA libraries under nvidia/cu13
        for path in sorted(glob.glob(os.path.join(root, "nvidia", "cu*"))):
            yield path

for path in candidates():
    if glob.glob(os.path.join(path, "lib", "libnccl.so*")) and os.path.isfile(os.path.join(path, "include", "nccl.h")):
        print(path)
        break
PY
  )
  if [[ -n $NCCL_HOME ]]; then
    export NCCL_HOME
  else
    unset NCCL_HOME
    say "warning: no NCCL in the Python packages (nvidia/nccl/{lib,include}); CMake will look beside CUDA and in the system"
  fi
fi

# --- nlohmann_json: header-only, and not among the shared sysroot's packages;
# launch/pack-gpu-deps.sh unpacks Debian's beside it in .device/nlohmann.
if [[ -d .device/nlohmann/usr ]]; then
  export CMAKE_PREFIX_PATH=$PWD/.device/nlohmann/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
fi

if command -v ninja >/dev/null; then generator=Ninja; else generator="Unix Makefiles"; fi

say "PyTorch $torch_version, CUDA ${torch_cuda:-none} (torch); nvcc: ${nvcc:-none}"
if [[ -n $nvcc ]]; then say "  $("$nvcc" --version | grep -m1 -i release || true)"; fi
say "Torch_DIR $Torch_DIR"
say "NCCL_HOME ${NCCL_HOME:-unset}"
say "generator $generator, build dir $BUILD, CUDA arch $CUDA_ARCH, $JOBS jobs, targets ${targets[*]:-all}"
nvidia-smi -L 2>/dev/null | sed 's/^/build-gpu:   /' || true

configure=(cmake -S . -B "$BUILD" -G "$generator" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$Torch_DIR"
  -DCMAKE_CUDA_ARCHITECTURES="$CUDA_ARCH" "${cuda_args[@]}" "${cmake_extra[@]}")
build=(cmake --build "$BUILD" -j "$JOBS")
if ((${#targets[@]})); then build+=(--target "${targets[@]}"); fi

if [[ ${DRY_RUN:-0} == 1 ]]; then
  printf 'build-gpu: would run:'
  printf ' %q' "${configure[@]}"
  printf '\nbuild-gpu: would run:'
  printf ' %q' "${build[@]}"
  printf '\n'
  exit 0
fi

mkdir -p "$BUILD"
"${configure[@]}" 2>&1 | tee "$BUILD/configure.log"
# The project's CMakeLists falls back to a CPU-only build with a warning when it misses
# CUDA or NCCL; on the GPU machine that is a failure, said here rather than at run time.
if ! grep -q "seqrec: GPU build" "$BUILD/configure.log"; then
  if [[ ${ALLOW_CPU_BUILD:-0} != 1 ]]; then
    die "CMake configured a CPU-only build (see the seqrec: lines of $BUILD/configure.log); set NCCL_HOME or ALLOW_CPU_BUILD=1"
  fi
  say "warning: CPU-only build (ALLOW_CPU_BUILD=1)"
fi
"${build[@]}"
say "built $BUILD/seqrec"
