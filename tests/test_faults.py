"""Faults as they happen on a cluster, with real Snakemake: killed jobs, a method that always fails, corrupt files.

What must hold: a killed run leaves no readable partial trajectory and completes on rerun; with --keep-going one
broken method does not stop the others and shows up as failed in the failure report logs/run_status.csv (with the
job's error); a corrupt run file, or a readable one copied to the wrong place, is named by aggregation and never used.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from hpo.core import trajectory

pytestmark = pytest.mark.slow
# One run job in the output of `snakemake -n`: its wildcards.
PLANNED_RUN = re.compile(
    r"rule run(?:_images)?:\n(?:    .*\n)*?    wildcards: benchmark=([^,]+), method=([^,]+), seed=(\d+)"
)


def start_snakemake(workdir: Path, *args: str) -> subprocess.Popen:
    """Real Snakemake on this repository, in its own process group so that it can be killed with its jobs."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def kill_group(proc: subprocess.Popen) -> str:
    """SIGKILL Snakemake and every process of its group (its jobs); return what it printed."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return proc.communicate()[0]


def run_snakemake(workdir: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run to the end; on timeout SIGKILL the whole process group (Snakemake ignores SIGTERM while jobs run)."""
    proc = start_snakemake(workdir, *args)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out = kill_group(proc)
        raise AssertionError(f"snakemake timed out after {timeout} s:\n{out[-4000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def write_study(path: Path, **overrides: object) -> Path:
    study = {"benchmarks": ["mlp-car"], "seeds": [0, 1], "n_trials": 4, "n_init": 2, "budgets": [3]}
    study.update(overrides)
    path.write_text(yaml.safe_dump(study))
    return path


def test_sigkill_mid_run_leaves_no_partial_file_and_rerun_completes(tmp_path: Path) -> None:
    # Slow enough (TPE over 3000 trials, ~15 s on 2 cores) to be killed well inside its trial loop.
    n = 3000
    study = write_study(tmp_path / "study.yaml", methods={"tpe": {"kind": "optuna_tpe"}}, seeds=[0], n_trials=n)
    target = "results/runs/mlp-car/tpe/0.parquet"
    out, log = tmp_path / target, tmp_path / "logs/runs/mlp-car/tpe/0.log"
    proc = start_snakemake(tmp_path, target, "--configfile", str(study))
    try:
        deadline = time.monotonic() + 120
        while not (log.exists() and "run RunSpec" in log.read_text()):
            assert proc.poll() is None, f"snakemake ended before the job started:\n{proc.communicate()[0][-3000:]}"
            assert time.monotonic() < deadline, "run job did not start within 120 s"
            time.sleep(0.1)
        time.sleep(3.0)  # past imports and table loading: inside the trial loop
        assert not out.exists(), "the job finished before it could be killed; make it slower"
    finally:
        # Power cut: Snakemake and the job die at once, nobody cleans up.
        kill_group(proc)

    leftovers = [p for p in out.parent.iterdir()] if out.parent.exists() else []
    assert not out.exists()
    for p in leftovers:  # only the atomic writer's temp files may remain, and none is a readable trajectory
        assert p.name.startswith(f".{out.name}.") and p.name.endswith(".tmp"), p
        with pytest.raises(ValueError):
            trajectory.read(p)

    # The researcher's recovery: unlock the killed run's working directory, run again.
    assert run_snakemake(tmp_path, "--configfile", str(study), "--unlock").returncode == 0
    rerun = run_snakemake(tmp_path, target, "--configfile", str(study))
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    table = trajectory.read(out)
    assert table.num_rows == n and table.column("trial").to_pylist() == list(range(1, n + 1))


def test_keep_going_failing_method_does_not_stop_others_and_is_reported(tmp_path: Path) -> None:
    # A method that raises in every job: an LLM endpoint whose API key variable is not set (no network involved).
    os.environ.pop("HPO_TEST_UNSET_API_KEY", None)
    study = write_study(
        tmp_path / "study.yaml",
        methods={
            "tpe": {"kind": "optuna_tpe"},
            "rs": {"kind": "random_search"},
            "nokey": {"kind": "llm", "params": {"endpoint": "nokey", "cache": "off"}},
        },
        endpoints={
            "nokey": {
                "base_url": "http://127.0.0.1:9/v1",
                "model": "none",
                "api_key_env": "HPO_TEST_UNSET_API_KEY",
                "retries": 0,
                "timeout": 2,
            }
        },
    )
    proc = run_snakemake(tmp_path, "--configfile", str(study), "--keep-going")
    assert proc.returncode != 0, "the broken method must fail the workflow"
    runs = tmp_path / "results" / "runs" / "mlp-car"
    for method in ("tpe", "rs"):
        for seed in (0, 1):
            assert trajectory.read(runs / method / f"{seed}.parquet").num_rows == 4
    assert not (runs / "nokey").exists() or not any((runs / "nokey").glob("*.parquet"))
    assert "run status written to logs/run_status.csv" in proc.stdout
    assert not (tmp_path / "results" / "run_status.csv").exists(), "aggregate is the only writer of run_status.csv"

    status = pd.read_csv(tmp_path / "logs" / "run_status.csv", keep_default_na=False).set_index("method")
    assert set(status.index) == {"tpe", "rs", "nokey"}
    assert (status.loc[["tpe", "rs"], "status"] == "complete").all()
    broken = status.loc["nokey"]
    # Its endpoint's preflight (rules/endpoints.smk) failed first, so none of its run jobs started.
    assert broken["status"] == "missing" and broken["n_seeds_done"] == 0 and "2 of 2 seeds missing" in broken["reason"]
    assert "HPO_TEST_UNSET_API_KEY is not set" in (tmp_path / "logs" / "endpoints" / "nokey.log").read_text()
    assert not (tmp_path / "results" / "summary.csv").exists(), "no summary may rest on part of the study"

    # Finished work is kept: running again plans only the failed method's jobs (and what needs them).
    plan = run_snakemake(tmp_path, "--configfile", str(study), "-n")
    assert plan.returncode == 0, plan.stdout[-3000:]
    planned = PLANNED_RUN.findall(plan.stdout)
    assert sorted(planned) == [("mlp-car", "nokey", "0"), ("mlp-car", "nokey", "1")], planned


def test_corrupt_run_file_is_named_by_aggregation_never_used(tmp_path: Path) -> None:
    study = write_study(tmp_path / "study.yaml", methods={"tpe": {"kind": "optuna_tpe"}})
    targets = ["results/run_status.csv"]
    first = run_snakemake(tmp_path, *targets, "--configfile", str(study))
    assert first.returncode == 0, first.stdout[-4000:]
    summary = tmp_path / "results" / "summary.csv"
    assert summary.exists()

    victim = tmp_path / "results" / "runs" / "mlp-car" / "tpe" / "1.parquet"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # a half-copied file, e.g. from an interrupted rsync

    proc = run_snakemake(tmp_path, *targets, "--configfile", str(study))
    assert proc.returncode != 0, "aggregation must not succeed on a corrupt run file"
    assert "results/runs/mlp-car/tpe/1.parquet: not a readable Parquet trajectory" in proc.stdout
    assert not summary.exists(), "the failed aggregate's outputs must not survive"
    status = pd.read_csv(tmp_path / "logs" / "run_status.csv", keep_default_na=False).set_index("method")
    assert status.loc["tpe", "status"] == "partial" and status.loc["tpe", "n_seeds_done"] == 1
    assert "1 of 2 seeds corrupt: results/runs/mlp-car/tpe/1.parquet" in status.loc["tpe", "reason"]

    # Recovery as the message says: delete it, rerun; only that run is recomputed.
    victim.unlink()
    fixed = run_snakemake(tmp_path, *targets, "--configfile", str(study))
    assert fixed.returncode == 0, fixed.stdout[-4000:]
    assert fixed.stdout.count("(Rule: run)") == 1, "exactly the deleted run is recomputed"
    status = pd.read_csv(tmp_path / "results" / "run_status.csv").set_index("method")
    assert status.loc["tpe", "status"] == "complete"
    assert not (tmp_path / "logs" / "run_status.csv").exists(), "a finished study has no failure report"


def test_run_file_in_the_wrong_place_is_refused_never_counted(tmp_path: Path) -> None:
    """A readable trajectory copied over another job's file must not count twice in the statistics."""
    study = write_study(
        tmp_path / "study.yaml", methods={"rs": {"kind": "random_search"}, "tpe": {"kind": "optuna_tpe"}}
    )
    first = run_snakemake(tmp_path, "results/summary.csv", "--configfile", str(study))
    assert first.returncode == 0, first.stdout[-4000:]
    runs = tmp_path / "results" / "runs" / "mlp-car"
    victim = runs / "tpe" / "0.parquet"
    victim.write_bytes((runs / "rs" / "0.parquet").read_bytes())
    (tmp_path / "results" / "summary.csv").unlink()  # ask for the summary again

    proc = run_snakemake(tmp_path, "results/summary.csv", "--configfile", str(study))
    assert proc.returncode != 0, "aggregation must refuse a file its job did not write"
    assert "results/runs/mlp-car/tpe/0.parquet: method is 'rs' but the job at this path has 'tpe'" in proc.stdout
    status = pd.read_csv(tmp_path / "logs" / "run_status.csv", keep_default_na=False).set_index("method")
    assert status.loc["tpe", "status"] == "partial" and "1 of 2 seeds mismatch" in status.loc["tpe", "reason"]
    assert status.loc["rs", "status"] == "complete"


def test_status_from_disk_tells_done_failed_corrupt_missing(tmp_path: Path) -> None:
    """The onerror hook's reading of the disk, case by case (no Snakemake needed)."""
    import pyarrow as pa

    from hpo.analysis.aggregate import report_incomplete, status_from_disk

    runs, logs = tmp_path / "runs", tmp_path / "logs"
    (runs / "b" / "m").mkdir(parents=True)
    (logs / "b" / "m").mkdir(parents=True)
    empty = pa.table({n: [] for n in trajectory.SCHEMA.names}, schema=trajectory.SCHEMA)
    trajectory.write(empty, runs / "b/m/0.parquet", {"spec": {"benchmark": "b", "method": "m", "seed": 0}})
    (runs / "b/m/1.parquet").write_bytes(b"PAR1 not really")
    (logs / "b/m/2.log").write_text("run ...\nTraceback (most recent call last):\n  File x\nValueError: boom\n")
    (logs / "b/m/4.log").write_text("run ...\n")  # killed: no traceback
    # seed 0's file copied to seed 5's place
    trajectory.write(empty, runs / "b/m/5.parquet", {"spec": {"benchmark": "b", "method": "m", "seed": 0}})
    expected = {"benchmarks": ["b"], "methods": ["m", "llm"], "seeds": [0, 1, 2, 3, 4, 5]}
    expected_runs = {
        str(runs / f"b/m/{s}.parquet"): {"benchmark": "b", "method": "m", "seed": s} for s in expected["seeds"]
    }
    templates = (expected_runs, str(logs / "{benchmark}/{method}/{seed}.log"))
    status = status_from_disk(expected, {"llm": "no endpoint"}, *templates).set_index("method")
    m = status.loc["m"]
    assert (m["status"], m["n_seeds_done"], m["n_seeds_expected"]) == ("partial", 1, 6)
    assert m["reason"].startswith("1 of 6 seeds failed: ValueError: boom (log: ")
    assert (
        "1 of 6 seeds mismatch: " in m["reason"]
        and "5.parquet: seed is 0 but the job at this path has 5" in m["reason"]
    )
    assert "1 of 6 seeds corrupt: " in m["reason"] and "1.parquet" in m["reason"]
    assert m["reason"].endswith("2 of 6 seeds missing")
    assert tuple(status.loc["llm", ["status", "reason"]]) == ("skipped", "no endpoint")

    out = tmp_path / "run_status.csv"
    assert report_incomplete(expected, {"llm": "no endpoint"}, *templates, out)[0].startswith("run status written")
    assert pd.read_csv(out).set_index("method").loc["m", "status"] == "partial"
    only_done = {"benchmarks": ["b"], "methods": ["m"], "seeds": [0]}
    out.unlink()
    assert report_incomplete(only_done, {}, *templates, out) == [] and not out.exists()
