#!/usr/bin/env bash
# Create .venv (Python 3.11 + pip only) and install the pinned requirements and the hpo package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# What pip cannot install: need <what> <Debian package> <test command...> installs the package when root (apt-get),
# else stops with one line naming it.
need() {
  local what=$1 pkg=$2
  shift 2
  "$@" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    "$@" >/dev/null 2>&1 && return 0
  fi
  echo "setup: $what is missing: install the Debian package $pkg (or your system's equivalent) and rerun" >&2
  exit 1
}
if [ ! -x .venv/bin/python ]; then
  need "Python's venv module (with ensurepip)" python3-venv "$PY" -c "import ensurepip, venv"
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# llama-cpp-python compiles llama.cpp from source. Its default -march=native build uses AMX tile instructions on CPUs
# that report them, and the llama.cpp server then dies with a general protection fault on its first request where
# the kernel/container does not grant AMX state (seen on this project's 2-core machines). A portable AVX2 build runs
# everywhere x86-64-v3 does and is fast enough for the 135M embedded model. Override with CMAKE_ARGS.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF}"
REQ="${1:-requirements.txt}"
# pip's own wheel cache is keyed by the download URL, not by CMAKE_ARGS: a wheel once built with other flags (e.g.
# -march=native on an AMX machine) would be reused silently. Build llama-cpp-python once per (pin, flags, Python,
# platform) into a cache of our own, install from there, and check the build serves a token before going on.
LLAMA_PIN=$(grep -hE '^llama-cpp-python' requirements.txt | head -1 || true)
if grep -qE '^(-r requirements.txt|llama-cpp-python)' "$REQ" && [ -n "$LLAMA_PIN" ]; then
  KEY=$(printf '%s\n%s\n%s\n' "$LLAMA_PIN" "$CMAKE_ARGS" "$(python -c 'import platform, sys; print(sys.version, platform.machine())')" | sha256sum | cut -c1-16)
  WHEELS="${XDG_CACHE_HOME:-$HOME/.cache}/mm-llm-hpo/llama-wheels/$KEY"
  if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    need "a C/C++ compiler (to build llama.cpp)" build-essential sh -c "command -v cc && command -v c++"
    echo "building ${LLAMA_PIN%%[*} from source (portable flags; ~3-10 min on 2 cores, once per machine)"
    TMPW=$(mktemp -d)
    python -m pip wheel --quiet --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$TMPW" \
      "llama-cpp-python==${LLAMA_PIN##*==}"
    mkdir -p "$(dirname "$WHEELS")"
    rm -rf "$WHEELS.partial" && mv "$TMPW" "$WHEELS.partial" && mv "$WHEELS.partial" "$WHEELS"
  fi
  WHEEL=$(ls "$WHEELS"/llama_cpp_python-*.whl | head -1)
  if [ "$(cat .venv/.llama-wheel 2>/dev/null)" != "$WHEEL" ]; then  # not yet this build in this venv
    rm -f .venv/.llama-wheel
    python -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
    python -m pip install --quiet "$WHEEL[server]"
    CHECK_LLAMA=1
  fi
fi
python -m pip install --quiet -r "$REQ"
python -m pip install --quiet --no-deps -e .
# Packages whose declared pins conflict with ours (see the file) go in without their dependencies.
python -m pip install --quiet --no-deps -r requirements-nodeps.txt
if [ -n "${CHECK_LLAMA:-}" ]; then
  python -m hpo.llm.server --check
  echo "$WHEEL" > .venv/.llama-wheel
fi
