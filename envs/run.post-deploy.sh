#!/usr/bin/env bash
# Snakemake runs this inside the freshly created run env (a post-deploy script): packages whose declared pins conflict
# with the env's go in without their dependencies, exactly as scripts/setup.sh installs them (requirements-nodeps.txt).
set -euo pipefail
python -m pip install --no-deps dehb==0.1.2
