#!/usr/bin/env bash
# Create .venv (Python 3.11 + pip only) and install the pinned requirements and the hpo package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# llama-cpp-python compiles llama.cpp from source. Its default -march=native build uses AMX tile instructions on CPUs
# that report them, and the llama.cpp server then dies with a general protection fault on its first request where
# the kernel/container does not grant AMX state (seen on this project's 2-core machines). A portable AVX2 build runs
# everywhere x86-64-v3 does and is fast enough for the 135M embedded model. Override with CMAKE_ARGS.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF}"
python -m pip install --quiet -r "${1:-requirements.txt}"
python -m pip install --quiet --no-deps -e .
