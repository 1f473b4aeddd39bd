"""Partial reruns on a finished study, asked of real Snakemake: a change reruns exactly the jobs it affects.

Every run job's spec carries a fingerprint of everything that shapes its numbers (hpo/run/provenance.py: parameters,
the method's modules, the benchmark family's modules, the shared harness), and every analysis rule a digest of the
library modules its script imports (hpo/util/codebase.py); Snakemake's params trigger compares them by value. Each case
edits a copy of the repository (never this source tree), asks ``snakemake -n`` (and ``--summary``) what it would
run, and restores the copy; the last case really reruns. The study includes an ``llm`` and an ``mm_llm`` method
served by a local fake endpoint (the only way to have a vision model offline), so image edits can be proven too.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import fake_endpoints
import pytest
import yaml
from conftest import ROOT, run_bounded
from fake_openai import FakeOpenAI

from hpo.core import trajectory

pytestmark = pytest.mark.slow

BENCHMARKS = ["mlp-car", "nb201-cifar10", "svm-breast_cancer"]
CLASSICAL = ["random_search", "smac_rf", "optuna_tpe"]
METHODS = [*CLASSICAL, "llm", "mm_llm"]
SEEDS = [0, 1]
# Every rule downstream of the run files: after any run job reruns, all of them do (and nothing else may).
DOWNSTREAM = {
    "aggregate",
    "optuna_export",
    "stats",
    "report_md",
    "plot_anytime_regret",
    "plot_average_rank",
    "plot_cd_diagram",
    "plot_llm_usage",
    "plot_mm_gallery",
    "insight_stats",
    "plot_insight",
    "all",
}
LLM = {"llm", "mm_llm"}
PLANNED_INSIGHT = re.compile(
    r"rule insight:\n(?:    .*\n)*?    wildcards: benchmark=([^,]+), method=([^,]+), seed=(\d+)"
)
PLANNED_IMPORTANCE = re.compile(r"rule importance:\n(?:    .*\n)*?    wildcards: benchmark=([^\s,]+)")
PLANNED_RUN = re.compile(
    r"rule run(?:_images)?:\n(?:    .*\n)*?    wildcards: benchmark=([^,]+), method=([^,]+), seed=(\d+)"
)
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "results", "logs", ".snakemake", ".ruff_cache", ".pytest_cache", "__pycache__", "*.egg-info"
)


def no_config(request: dict) -> str:
    """The fake endpoint's reply: valid JSON without a configuration, so every LLM trial takes the seeded fallback
    (deterministic, fast); what matters here is which jobs rerun, not what the model says. The endpoint preflight's
    image question gets the right digit (a vision endpoint that reads images)."""
    if "digit" in json.dumps(request.get("response_format")):
        return fake_endpoints.good(request)
    return json.dumps({"rationale": "none"})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """One fake endpoint for the whole module: its URL is part of the LLM methods' params, so it must not change."""
    with FakeOpenAI(no_config) as fake:
        yield fake.url


def methods_config() -> dict[str, object]:
    llm_params = {"endpoint": "fake", "max_reasks": 0}
    return {
        **{m: {"kind": m} for m in CLASSICAL},
        "llm": {"kind": "llm", "params": llm_params},
        "mm_llm": {"kind": "mm_llm", "params": llm_params},
    }


def study(url: str, **overrides: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "benchmarks": list(BENCHMARKS),
        "methods": methods_config(),
        "endpoints": {"fake": {"base_url": url, "model": "fake-vision", "vision": True, "retries": 0}},
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
        proc = run_bounded(cmd, timeout, cwd=self.repo)
        out = proc.stdout
        assert proc.returncode == 0, f"snakemake failed ({proc.returncode}):\n{out[-6000:]}"
        return out

    def plan(self, cfg: dict[str, object]) -> tuple[set[tuple[str, str, int]], dict[str, int]]:
        """What ``snakemake -n`` would run: the run jobs' wildcards, and the job count per rule."""
        out = self.snakemake(cfg, "-n")
        runs = {(b, m, int(s)) for b, m, s in PLANNED_RUN.findall(out)}
        self.insight = {(b, m, int(s)) for b, m, s in PLANNED_INSIGHT.findall(out)}
        self.importance = set(PLANNED_IMPORTANCE.findall(out))
        counts: dict[str, int] = {}
        if "Job stats:" in out:
            table = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
            for line in table.splitlines()[3:]:
                name, _, count = line.rpartition(" ")
                if name.strip() and name.strip() != "total":
                    counts[name.strip()] = int(count)
        assert counts.get("run", 0) + counts.get("run_images", 0) == len(runs), out[-3000:]
        assert counts.get("insight", 0) == len(self.insight) and counts.get("importance", 0) == len(self.importance)
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


def others(counts: dict[str, int]) -> set[str]:
    """Rules planned besides the run rules and the per-run / per-benchmark jobs checked one by one."""
    return set(counts) - {"run", "run_images", "insight", "importance"}


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, endpoint: str) -> Study:
    s = Study(tmp_path_factory.mktemp("reruns"))
    s.snakemake(study(endpoint))
    assert len(s.run_files()) == len(runs_of(METHODS))
    runs, counts = s.plan(study(endpoint))
    assert not runs and not counts, f"a finished study must be up to date, plans {counts}"
    return s


EDIT = "\n# an edit that changes the module's source\n"


TABLES = ["mlp-car", "nb201-cifar10"]
# what reads the statistics (the Optuna export reads the run files only)
ANALYSIS = DOWNSTREAM - {"aggregate", "plot_anytime_regret", "plot_mm_gallery", "optuna_export"}


@pytest.mark.parametrize(
    ("relpath", "planned_runs", "importance", "planned_rules"),
    [
        # a method's module: only that method's runs
        ("hpo/optimizers/smac_rf.py", runs_of(["smac_rf"]), set(), DOWNSTREAM),
        # the module every LLM kind uses: only the LLM methods' runs
        ("hpo/llm/prompt.py", runs_of(["llm", "mm_llm"]), set(), DOWNSTREAM),
        # the image rendering and the shared plotting setup: only the multimodal runs (plus figures drawn with it)
        ("hpo/llm/images.py", runs_of(["mm_llm"]), set(), DOWNSTREAM),
        ("hpo/util/plotting.py", runs_of(["mm_llm"]), set(), DOWNSTREAM),
        # a table family's module (where its loss transform lives): that family's table, runs and ground truth only
        (
            "hpo/benchmarks/hpobench_mlp.py",
            runs_of(METHODS, ["mlp-car"]),
            {"mlp-car"},
            DOWNSTREAM | {"convert_table", "importance_table"},
        ),
        # the code of all tables: every table and tabular run, no live-ML run
        (
            "hpo/benchmarks/tabular.py",
            runs_of(METHODS, TABLES),
            set(TABLES),
            DOWNSTREAM | {"convert_table", "importance_table"},
        ),
        # a live ML model: the live-ML runs and ground truth only
        (
            "hpo/benchmarks/ml_models.py",
            runs_of(METHODS, ["svm-breast_cancer"]),
            {"svm-breast_cancer"},
            DOWNSTREAM | {"importance_table"},
        ),
        # the shared harness: every run, no table, no ground truth
        ("hpo/run/harness.py", runs_of(METHODS), set(), DOWNSTREAM),
        # configuration helpers shared by the harness and the importance computation: both, no table
        ("hpo/core/space.py", runs_of(METHODS), set(BENCHMARKS), DOWNSTREAM | {"importance_table"}),
        # the normalization: aggregation and what follows, no run job
        ("hpo/analysis/regret.py", set(), set(), DOWNSTREAM - {"optuna_export"}),
        # statistics code: the statistics (regret and insight) and what reads them
        ("hpo/stats/comparison.py", set(), set(), ANALYSIS),
        # the figure helpers every figure uses: every figure and the report, no statistics
        ("hpo/analysis/plots.py", set(), set(), DOWNSTREAM - {"aggregate", "stats", "insight_stats", "optuna_export"}),
        # a figure's script: that figure and the report only
        ("workflow_scripts/plot_anytime_regret.py", set(), set(), {"plot_anytime_regret", "report_md", "all"}),
    ],
)
def test_edit_reruns_exactly_what_it_affects(
    finished: Study, endpoint: str, relpath: str, planned_runs: set, importance: set, planned_rules: set
) -> None:
    with finished.edited(relpath, EDIT):
        runs, counts = finished.plan(study(endpoint))
    assert runs == planned_runs
    # an LLM run that reruns is asked about importance again; nothing else is
    assert finished.insight == {r for r in planned_runs if r[1] in LLM}
    assert finished.importance == importance
    assert others(counts) == planned_rules, counts
    if "convert_table" in planned_rules:
        tabular = {b for b, _, _ in planned_runs}
        assert counts["convert_table"] == len(tabular), counts


def test_added_seed_runs_only_new_jobs(finished: Study, endpoint: str) -> None:
    runs, counts = finished.plan(study(endpoint, seeds=[*SEEDS, 2]))
    assert runs == runs_of(METHODS, seeds=[2]) and finished.insight == runs_of(sorted(LLM), seeds=[2])
    assert not finished.importance and others(counts) == DOWNSTREAM, counts


def test_added_benchmark_runs_only_new_jobs(finished: Study, endpoint: str) -> None:
    runs, counts = finished.plan(study(endpoint, benchmarks=[*BENCHMARKS, "mlp-vehicle"]))
    assert runs == runs_of(METHODS, benchmarks=["mlp-vehicle"]) and finished.importance == {"mlp-vehicle"}
    # One new table to convert (the existing ones are kept), then only what is downstream of the runs.
    assert counts.pop("convert_table", 0) == 1 and others(counts) == DOWNSTREAM | {"importance_table"}, counts


def test_changed_budgets_rerun_no_run_job(finished: Study, endpoint: str) -> None:
    runs, counts = finished.plan(study(endpoint, budgets=[4]))
    assert not runs and "convert_table" not in counts and "aggregate" in counts, counts
    assert finished.insight == runs_of(sorted(LLM)) and not finished.importance  # asked at the new budgets


def test_changed_method_params_rerun_only_that_method(finished: Study, endpoint: str) -> None:
    """Last in this module: it really reruns, so the finished study afterwards has the new parameters."""
    changed = study(endpoint)
    changed["methods"]["smac_rf"] = {"kind": "smac_rf", "params": {"n_trees": 3}}  # type: ignore[index]
    runs, counts = finished.plan(changed)
    assert runs == runs_of(["smac_rf"]) and not finished.insight and not finished.importance
    assert others(counts) == DOWNSTREAM, counts
    # --summary names the trigger per file. (--list-changes params of Snakemake 9.27.1 lists every file that has
    # recorded params, changed or not, so it cannot be used for this.)
    summary = [line.split("\t") for line in finished.snakemake(changed, "--summary").splitlines() if "\t" in line]
    status = {row[0]: row[4] for row in summary if row[0].startswith("results/runs/") and row[0].endswith("parquet")}
    assert {f for f, st in status.items() if st != "ok"} == {
        f"results/runs/{b}/{m}/{s}.parquet" for b, m, s in runs_of(["smac_rf"])
    }, status
    assert {st for st in status.values() if st != "ok"} == {"params changed"}

    before = finished.run_files()
    old_parts = {p: trajectory.read_meta(p)["spec"]["provenance"] for p in before}
    out = finished.snakemake(changed)
    after = finished.run_files()
    rewritten = {p for p in after if after[p] != before.get(p)}
    assert {(p.parent.parent.name, p.parent.name, int(p.stem)) for p in rewritten} == runs_of(["smac_rf"])
    assert out.count("(Rule: run)") == len(runs_of(["smac_rf"])), "executed run jobs"
    for p in rewritten:
        meta = trajectory.read_meta(p)
        assert meta["spec"]["params"]["n_trees"] == 3
        # the provenance parts tell why it reran: the parameters changed, the code did not
        parts, old = meta["spec"]["provenance"], old_parts[p]
        assert parts["params"] != old["params"]
        assert [parts[k] for k in ("method", "benchmark", "harness")] == [
            old[k] for k in ("method", "benchmark", "harness")
        ]
    assert finished.plan(changed) == (set(), {}), "after the rerun the study is up to date again"
