"""The README's figure is what scripts/readme_figure.sh writes, and the Snakemake report's text fits any study."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "readme_figure.sh"


def _script_dest() -> str:
    """The path the script writes (its DEST line), relative to the repository root."""
    match = re.search(r'^DEST="([^"]+)"', SCRIPT.read_text(), re.M)
    assert match, "scripts/readme_figure.sh has no DEST= line"
    return match.group(1)


def test_readme_image_is_what_the_script_writes() -> None:
    # the README embeds exactly one figure of the study, and it is the file the script regenerates
    images = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", (ROOT / "README.md").read_text())
    assert images == [_script_dest()], images


def test_script_copies_the_study_figure(tmp_path: Path) -> None:
    # run the real script against a copy of the repository layout: it copies results/figures/anytime_regret.png
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts" / SCRIPT.name)
    missing = subprocess.run(["bash", "scripts/readme_figure.sh"], cwd=repo, capture_output=True, text=True)
    assert missing.returncode == 1 and "run the default study first" in missing.stderr
    figure = repo / "results" / "figures" / "anytime_regret.png"
    figure.parent.mkdir(parents=True)
    figure.write_bytes(b"\x89PNG\r\n\x1a\nstudy figure")
    done = subprocess.run(["bash", "scripts/readme_figure.sh"], cwd=repo, capture_output=True, text=True, check=True)
    assert (repo / _script_dest()).read_bytes() == figure.read_bytes(), done.stdout


def test_report_intro_does_not_assume_tabular_benchmarks() -> None:
    # the default study has a live benchmark (xgb-breast_cancer); the intro must stay true for any study
    intro = (ROOT / "report" / "workflow.rst").read_text()
    assert "tabular HPOBench benchmarks" not in intro
    assert "live training" in intro
