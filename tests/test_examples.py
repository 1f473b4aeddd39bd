"""The library example (docs/library.md) runs as a plain script and prints what it promises."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_library_example_runs(table_dir) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "library_usage.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=True,
    )
    assert "after  40 trials: best loss" in proc.stdout
    assert "incumbent:" in proc.stdout and "Op0" in proc.stdout


def test_cli_rejects_unknown_benchmark(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hpo", "run", "nope-x", "random_search", "--out", str(tmp_path / "x.parquet")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert "unknown benchmark 'nope-x'" in proc.stderr
    assert not (tmp_path / "x.parquet").exists()
