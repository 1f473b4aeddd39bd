"""``python -m hpo plan`` (issue 26): one screen naming every job group Snakemake would run, the skipped methods and
why, the model calls (the estimate's, to the call) and a wall time; the schedule it rests on, and the one source of
per-call latency (a latency measured in the study's results wins over the embedded model's default)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT

from hpo.llm.ledger import SPEND_ENV
from hpo.study.cli import load_study
from hpo.study.estimate import estimate
from hpo.study.latency import EMBEDDED_SECONDS_PER_CALL, call_latency
from hpo.study.plan import STAGES, stage_of
from hpo.study.timing import Job, machine_speed, wall_seconds


@pytest.fixture(autouse=True)
def _restore_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SPEND_ENV, "{}")  # load_study installs the study's caps; undone after each test


def _plan(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "hpo", "plan", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=_env())


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT), SPEND_ENV: "{}"}


def test_plan_of_the_default_study_names_every_job_group_and_the_skipped_methods(tmp_path: Path) -> None:
    """Run in an empty directory (nothing finished): the counts follow from config/config.yaml, every rule Snakemake
    plans is on its stage's line, the vision methods are skipped with the reason, and the model calls equal the
    estimate's total."""
    proc = _plan(tmp_path, "--cores", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    print(out)
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    study = load_study(ROOT / "config" / "config.yaml")
    runnable = [m for m in study["methods"] if m not in study["skipped"]]
    llm = [m for m in runnable if study["methods"][m]["kind"] in ("llm", "llm_tpe", "llambo_lite")]
    runs = len(cfg["benchmarks"]) * len(runnable) * len(cfg["seeds"])
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  ") and ln.split()}
    assert re.search(rf"\brun {runs}\b", lines["runs"]) and lines["runs"].split()[1] == str(runs)
    assert re.search(rf"\binsight {len(llm) * len(cfg['seeds']) * len(cfg['benchmarks'])}\b", lines["insight"])
    assert f"importance {len(cfg['benchmarks'])}" in out and "importance_table 1" in out
    for rule in ("convert_table", "aggregate", "optuna_export", "stats", "insight_stats", "plot_anytime_regret"):
        assert re.search(rf"\b{rule} \d+", out), rule
    assert "report_md 1" in out and "all 1" in out
    for stage in ("tables", "runs", "insight", "ground", "aggregation", "statistics", "figures", "report"):
        assert stage in lines, stage
    assert "other" not in lines  # every rule of the workflow has its stage
    block = out.split("jobs to run (", 1)[1].split("\n\n", 1)[0]
    total = int(block.split(",", 1)[0])
    per_stage = [int(m.group(1)) for m in re.finditer(r"^  \S.*?\s{2,}(\d+)  ", block, flags=re.M)]
    per_rule = [int(n) for n in re.findall(r"\b[a-z_]+ (\d+)(?=,|$)", block, flags=re.M)]
    assert sum(per_rule) == total > runs and sum(per_stage) == total
    assert study["skipped"] and {"mm_llm", "mm_llm_blank"} <= set(study["skipped"])
    for method, why in study["skipped"].items():
        assert f"  {method}: {why}" in out
    rows = estimate(study)
    calls = re.search(r"model calls: ([\d,]+)", out).group(1)
    assert int(calls.replace(",", "")) == round(sum(r.calls for r in rows)) > 0
    hours = float(re.search(r"([\d.]+) h of model time", out).group(1))
    assert hours == pytest.approx(sum(r.model_hours for r in rows), abs=0.006)
    minutes = float(re.search(r"wall time on 2 cores: ([\d.]+) min", out).group(1))
    assert 5 <= minutes <= 30  # the default study: 9-11 minutes measured on 2 cores


def test_more_cores_never_take_longer_and_a_config_error_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"benchmarks": ["mlp-car"], "methods": {"x": {"kind": "nope"}}}))
    proc = _plan(tmp_path, "--configfile", str(bad))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")


def test_every_rule_of_the_workflow_has_a_stage() -> None:
    """A rule added to the workflow without a stage would be shown under "other": name it in STAGES."""
    rules = re.findall(r"^rule (\w+):", "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk")), re.M)
    rules += re.findall(r"^rule (\w+):", (ROOT / "Snakefile").read_text(), re.M)
    assert len(rules) > 15 and {r: stage_of(r) for r in rules if stage_of(r) == "other"} == {}
    assert set(STAGES) >= {"runs", "insight", "ground truth", "aggregation", "statistics", "figures", "report"}


def test_the_schedule_places_jobs_on_cores_after_what_they_follow() -> None:
    """Hand-checked: three 10 s jobs on 2 cores end at 20 s; an insight job starts when its run ends; the analysis
    starts after every run; a remote LLM job (no core) runs beside them under llm_slots."""
    assert wall_seconds([Job("run", 10), Job("run", 10), Job("run", 10)], cores=2) == 20
    assert wall_seconds([Job("run", 10), Job("run", 10), Job("run", 10)], cores=3) == 10
    assert wall_seconds([Job("run", 10), Job("insight", 5, after=0), Job("run", 12)], cores=2) == 15
    assert wall_seconds([Job("run", 10), Job("run", 2), Job("stats", 4, stage=1)], cores=2) == 14
    assert wall_seconds([Job("run", 10), Job("run", 10, core=False)], cores=1, llm_slots=1) == 10


def _llm_study(tmp_path: Path) -> dict:
    study = {"benchmarks": ["mlp-car"], "methods": {"llm": {"kind": "llm"}}, "seeds": [0, 1], "n_trials": 8}
    study |= {"n_init": 3, "budgets": [4], "results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    return load_study(tmp_path / "study.yaml")


def test_a_latency_measured_in_the_results_overrides_the_default(tmp_path: Path) -> None:
    """Before any run: the embedded model's default (not measured, ``*``). After a run file records 4 fresh calls
    in 10 s (and a cache hit at 0 s) and an insight file 2 calls in 30 s: 2.5 s and 15 s per call, and the estimate's
    model hours are exactly calls x those seconds."""
    study = _llm_study(tmp_path)
    before = call_latency(study, "llm")
    assert (before.seconds, before.measured) == (EMBEDDED_SECONDS_PER_CALL, False)
    run = tmp_path / "results" / "runs" / "mlp-car" / "llm"
    run.mkdir(parents=True)
    cols = {"attempts": [0, 2, 3], "cache_hits": [0, 0, 1], "llm_latency": [0.0, 4.0, 6.0]}
    pq.write_table(pa.table(cols), run / "0.parquet")
    statements = [{"attempts": 1, "cache_hits": 0, "llm_latency": 10.0}, {"attempts": 1, "llm_latency": 20.0}]
    (run / "0_insight.json").write_text(json.dumps({"statements": statements}))
    after, insight = call_latency(study, "llm"), call_latency(study, "llm", insight=True)
    assert (after.seconds, after.measured, insight.seconds) == (2.5, True, 15.0)
    assert machine_speed(study) == pytest.approx(2.5 / EMBEDDED_SECONDS_PER_CALL)  # CPU-bound jobs scale alike
    (row,) = estimate(study)  # the files are no finished jobs of this study (no metadata): every job is left
    assert (row.run_jobs, row.insight_jobs) == (2, 2) and row.latency_measured
    run_calls, insight_calls = 2 * 5, 2 * 3  # 5 proposals a run; the prior and budgets 4 and 8 per insight job
    assert row.calls == run_calls + insight_calls
    assert row.model_hours == pytest.approx((run_calls * 2.5 + insight_calls * 15.0) / 3600)
