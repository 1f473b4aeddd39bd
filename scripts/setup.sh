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
python -m pip install --quiet -r "${1:-requirements.txt}"
python -m pip install --quiet --no-deps -e .
