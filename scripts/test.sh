#!/usr/bin/env bash
# Set up and run the test suite (lint included); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
bash scripts/setup.sh requirements-dev.txt
. .venv/bin/activate
ruff check .
# Two pytest-xdist workers, each test file whole on one of them (a module's shared study or server is built once);
# `-n 0` among the arguments runs serially, `-m "not slow"` is the fast loop (docs/getting-started.md, "Tests").
python -m pytest -q -n 2 --dist loadfile "$@"
