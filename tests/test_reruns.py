"""Partial reruns on a finished study, asked of real Snakemake: a change reruns exactly the jobs it affects.

The per-method fingerprint (params + the method's module source, hpo/fingerprint.py) is a param of rule ``run``,
so Snakemake's params trigger decides. Each case edits a copy of the repository (never this source tree), asks
``snakemake -n`` (and ``--summary``) what it would run, and restores the copy; one case really reruns.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from hpo import trajectory

pytestmark = pytest.mark.slow

BENCHMARKS = ["mlp-car", "nb201-cifar10"]
METHODS = ["random_search", "smac_rf", "optuna_tpe"]
SEEDS = [0, 1]
# Rules downstream of the run files: whatever needs the trajectories may rerun with them, nothing else.
DOWNSTREAM_OK = re.compile(r"^(aggregate|stats|report_\w+|plot_\w+|all)$")
PLANNED_RUN = re.compile(r"rule run:\n(?:    .*\n)*?    wildcards: benchmark=([^,]+), method=([^,]+), seed=(\d+)")
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "results", "logs", ".snakemake", ".ruff_cache", ".pytest_cache", "__pycache__", "*.egg-info"
)


def study(**overrides: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "benchmarks": list(BENCHMARKS),
        "methods": {m: {"kind": m} for m in METHODS},
        "seeds": list(SEEDS),
        "n_trials": 6,
        "n_init": 2,
        "budgets": [3],
    }
    cfg.update(overrides)
    return cfg


class Study:
    """A copy of the repository, a working directory, and real Snakemake runs bounded in time."""

    def __init__(self, base: Path) -> None:
        self.repo = base / "repo"
        self.work = base / "work"
        shutil.copytree(ROOT, self.repo, ignore=COPY_IGNORE)
        self.work.mkdir()
        self._n = 0

    def config(self, cfg: dict[str, object]) -> Path:
        self._n += 1
        path = self.work.parent / f"study{self._n}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return path

    def snakemake(self, cfg: dict[str, object], *args: str, timeout: float = 300) -> str:
        cmd = [sys.executable, "-m", "snakemake", "-s", str(self.repo / "Snakefile"), "-d", str(self.work)]
        cmd += ["--cores", "2", *args, "--configfile", str(self.config(cfg))]
        proc = subprocess.Popen(
            cmd, cwd=self.repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # Snakemake ignores SIGTERM while jobs run
            out, _ = proc.communicate()
            raise AssertionError(f"snakemake timed out after {timeout} s:\n{out[-4000:]}") from None
        assert proc.returncode == 0, f"snakemake failed ({proc.returncode}):\n{out[-6000:]}"
        return out

    def plan(self, cfg: dict[str, object]) -> tuple[set[tuple[str, str, int]], dict[str, int]]:
        """What ``snakemake -n`` would run: the run jobs' wildcards, and the job count per rule."""
        out = self.snakemake(cfg, "-n")
        runs = {(b, m, int(s)) for b, m, s in PLANNED_RUN.findall(out)}
        counts: dict[str, int] = {}
        if "Job stats:" in out:
            table = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
            for line in table.splitlines()[3:]:
                name, _, count = line.rpartition(" ")
                if name.strip() and name.strip() != "total":
                    counts[name.strip()] = int(count)
        assert counts.get("run", 0) == len(runs), out[-3000:]
        return runs, counts

    def run_files(self) -> dict[Path, int]:
        """Every run file with its modification time in ns."""
        return {p: p.stat().st_mtime_ns for p in (self.work / "results" / "runs").rglob("*.parquet")}

    @contextlib.contextmanager
    def edited(self, relpath: str, extra: str) -> Iterator[None]:
        """Append ``extra`` to a file of the copy for the duration of the block."""
        path = self.repo / relpath
        original = path.read_bytes()
        path.write_bytes(original + extra.encode())
        try:
            yield
        finally:
            path.write_bytes(original)


def runs_of(methods: list[str], benchmarks: list[str] = BENCHMARKS, seeds: list[int] = SEEDS) -> set:
    return {(b, m, s) for b in benchmarks for m in methods for s in seeds}


def only_downstream(counts: dict[str, int]) -> list[str]:
    """Rules planned besides ``run`` that are not downstream of the run files (should be none)."""
    return [r for r in counts if r != "run" and not DOWNSTREAM_OK.match(r)]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Study:
    s = Study(tmp_path_factory.mktemp("reruns"))
    s.snakemake(study())
    assert len(s.run_files()) == len(runs_of(METHODS))
    runs, counts = s.plan(study())
    assert not runs and not counts, f"a finished study must be up to date, plans {counts}"
    return s


def test_changed_method_code_reruns_only_that_method(finished: Study) -> None:
    with finished.edited("hpo/optimizers/smac_rf.py", "\n# an edit that changes the module's source\n"):
        runs, counts = finished.plan(study())
    assert runs == runs_of(["smac_rf"])
    assert "convert_table" not in counts and not only_downstream(counts), counts


def test_changed_analysis_code_reruns_no_run_job(finished: Study) -> None:
    with finished.edited("hpo/analysis/plots.py", "\n# an edit of figure code\n"):
        runs, counts = finished.plan(study())
    assert not runs and not only_downstream(counts), counts
    with finished.edited("workflow_scripts/plot_anytime_regret.py", "\n# an edit of the figure script\n"):
        runs, counts = finished.plan(study())
    # Snakemake's code trigger reruns the figure whose script changed, and no run job.
    assert not runs and counts.get("plot_anytime_regret") == 1 and not only_downstream(counts), counts


def test_added_seed_runs_only_new_jobs(finished: Study) -> None:
    runs, counts = finished.plan(study(seeds=[*SEEDS, 2]))
    assert runs == runs_of(METHODS, seeds=[2])
    assert "convert_table" not in counts and not only_downstream(counts), counts


def test_added_benchmark_runs_only_new_jobs(finished: Study) -> None:
    runs, counts = finished.plan(study(benchmarks=[*BENCHMARKS, "mlp-vehicle"]))
    assert runs == runs_of(METHODS, benchmarks=["mlp-vehicle"])
    # One new table to convert (the two existing ones are kept), then only what is downstream of the runs.
    assert counts.pop("convert_table", 0) == 1 and not only_downstream(counts), counts


def test_changed_method_params_rerun_only_that_method(finished: Study) -> None:
    """Last in this module: it really reruns, so the finished study afterwards has the new parameters."""
    changed = study(
        methods={m: {"kind": m} for m in METHODS} | {"smac_rf": {"kind": "smac_rf", "params": {"n_trees": 3}}}
    )
    runs, counts = finished.plan(changed)
    assert runs == runs_of(["smac_rf"])
    assert "convert_table" not in counts and not only_downstream(counts), counts
    # --summary names the trigger per file. (--list-changes params of Snakemake 9.27.1 lists every file that has
    # recorded params, changed or not, so it cannot be used for this.)
    summary = [line.split("\t") for line in finished.snakemake(changed, "--summary").splitlines() if "\t" in line]
    status = {row[0]: row[4] for row in summary if row[0].startswith("results/runs/")}
    assert {f for f, st in status.items() if st != "ok"} == {
        f"results/runs/{b}/{m}/{s}.parquet" for b, m, s in runs_of(["smac_rf"])
    }, status
    assert {st for st in status.values() if st != "ok"} == {"params changed"}

    before = finished.run_files()
    out = finished.snakemake(changed)
    after = finished.run_files()
    rewritten = {p for p in after if after[p] != before.get(p)}
    assert {(p.parent.parent.name, p.parent.name, int(p.stem)) for p in rewritten} == runs_of(["smac_rf"])
    assert out.count("(Rule: run)") == len(runs_of(["smac_rf"])), "executed run jobs"
    for p in rewritten:
        assert trajectory.read_meta(p)["spec"]["params"]["n_trees"] == 3
    assert finished.plan(changed) == (set(), {}), "after the rerun the study is up to date again"
