"""A classical run job imports only what it uses: never pandas, matplotlib, smac, optuna or openai.

These libraries cost a run job up to a third of its wall time and memory (pandas alone ~0.3 s and ~40 MiB, see
docs/performance.md). Two real processes are inspected: ``python -m hpo run`` and the workflow's own run job, whose
process is watched through a ``sitecustomize`` module that records, at exit, which top-level modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SNAKEMAKE, run_bounded

NEVER = {"pandas", "matplotlib", "smac", "optuna", "openai"}

PROBE = """
import atexit, json, os, sys

def _record():
    out = os.path.join(os.environ["HPO_IMPORT_PROBE"], f"{os.getpid()}.json")
    with open(out, "w") as f:
        json.dump({"argv": sys.argv, "modules": sorted({m.split(".")[0] for m in list(sys.modules)})}, f)

atexit.register(_record)
"""


def _probe_env(probe: Path) -> dict[str, str]:
    (probe / "site").mkdir(parents=True)
    (probe / "site" / "sitecustomize.py").write_text(PROBE)
    (probe / "out").mkdir()
    path = os.pathsep.join([str(probe / "site"), str(ROOT)])
    return {**os.environ, "PYTHONPATH": path, "HPO_IMPORT_PROBE": str(probe / "out")}


def test_probe_sees_an_import(tmp_path: Path) -> None:
    """The probe itself works: a process that imports pandas is recorded as such."""
    env = _probe_env(tmp_path)
    subprocess.run([sys.executable, "-c", "import pandas"], env=env, check=True, timeout=120)
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json")]
    assert "pandas" in record["modules"]


def test_cli_random_search_run_imports_nothing_it_does_not_use(tmp_path: Path, table_dir: Path) -> None:
    env = _probe_env(tmp_path)
    out = tmp_path / "run.parquet"
    cmd = [sys.executable, "-m", "hpo", "run", "mlp-car", "random_search", "--n-trials", "30", "--out", str(out)]
    subprocess.run(cmd, env=env, check=True, timeout=300, cwd=tmp_path)
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json")]
    assert out.exists() and "pyarrow" in record["modules"] and "ConfigSpace" in record["modules"]
    assert not NEVER & set(record["modules"]), sorted(NEVER & set(record["modules"]))


@pytest.mark.slow
def test_workflow_run_job_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    study = {
        "benchmarks": ["mlp-car"],
        "methods": {"rs": {"kind": "random_search"}},
        "seeds": [0],
        "n_trials": 20,
        "n_init": 4,
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    env = _probe_env(tmp_path / "probe")
    target = "results/runs/mlp-car/rs/0.parquet"
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--cores", "1"]
    proc = run_bounded([*cmd, target, "--configfile", str(tmp_path / "study.yaml")], 600, env=env)
    assert proc.returncode == 0, proc.stdout[-4000:]
    records = [json.loads(p.read_text()) for p in (tmp_path / "probe" / "out").glob("*.json")]
    (job,) = [r for r in records if r["argv"][0].endswith("run_job.py")]
    assert (tmp_path / target).exists() and "pyarrow" in job["modules"]
    assert not NEVER & set(job["modules"]), sorted(NEVER & set(job["modules"]))
