"""Static checks that run with the tests: import layers (import-linter), Snakemake's linter, rule formatting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from conftest import ROOT, SNAKEMAKE

BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=300)


def test_import_layers_have_no_cycles() -> None:
    """pyproject.toml's contracts: helpers at the bottom, analysis never imports optimizers or LLM code, no cycles."""
    proc = run([str(BIN / "lint-imports")])
    assert proc.returncode == 0 and "0 broken" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_snakemake_lint_is_clean(tmp_path: Path) -> None:
    # a study with every kind of rule: tabular and computed benchmarks, classical and LLM methods
    study = {
        "benchmarks": ["mlp-car", "synth-branin"],
        "methods": {"rs": {"kind": "random_search"}, "llm": {"kind": "llm"}},
        "seeds": [0],
        "n_trials": 4,
        "n_init": 2,
        "budgets": [2],
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--lint", "--configfile", "study.yaml"]
    proc = run(cmd, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Congratulations, your workflow is in a good condition!" in proc.stdout + proc.stderr


def test_rules_are_formatted() -> None:
    proc = run([str(BIN / "snakefmt"), "--check", "Snakefile", "rules"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
