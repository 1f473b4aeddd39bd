#!/usr/bin/env bash
# Set up and run the test suite (lint included); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/setup.sh requirements-dev.txt
. .venv/bin/activate
ruff check .
python -m pytest -q "$@"
