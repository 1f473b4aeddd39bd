#!/usr/bin/env bash
# Copy the default study's anytime-regret figure into the README/docs image, so the picture the README shows is the
# one `bash scripts/study.sh` draws (no hand-made figure can drift from the workflow). Run after the default study.
# Usage: bash scripts/readme_figure.sh [RESULTS_DIR]   (default: results)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="${1:-results}/figures/anytime_regret.png"
DEST="docs/_static/anytime_regret.png"
if [ ! -s "$SRC" ]; then
    echo "readme_figure: $SRC is missing; run the default study first (bash scripts/study.sh)" >&2
    exit 1
fi
mkdir -p "$(dirname "$DEST")"
cp "$SRC" "$DEST.tmp"   # written atomically: a half-copied PNG never replaces the committed one
mv "$DEST.tmp" "$DEST"
echo "readme_figure: $SRC -> $DEST"
