#!/usr/bin/env bash
# Set up and run the default study (config/config.yaml) on all cores; extra arguments go to snakemake.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
. .venv/bin/activate
snakemake --cores "${CORES:-$(nproc)}" "$@"
