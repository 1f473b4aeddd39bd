"""End-to-end runs of the real Snakemake workflow, and the bad inputs that must stop it before any job runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, snakemake
from PIL import Image

from hpo.core.trajectory import SCHEMA, read_meta

TEST_CONFIG = str(ROOT / "config" / "test.yaml")

pytestmark = pytest.mark.slow  # real Snakemake studies


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wd = tmp_path_factory.mktemp("study")
    snakemake(wd, "--configfile", TEST_CONFIG)
    return wd


def test_every_declared_output_exists(finished: Path) -> None:
    import yaml

    cfg = yaml.safe_load(open(TEST_CONFIG))
    res = finished / "results"
    for b in cfg["benchmarks"]:
        for m in cfg["methods"]:
            for s in cfg["seeds"]:
                path = res / "runs" / b / m / f"{s}.parquet"
                table = pq.read_table(path)
                assert table.schema.names[: len(SCHEMA.names)] == SCHEMA.names
                assert table.num_rows == cfg["n_trials"]
                meta = read_meta(path)
                assert meta["spec"]["seed"] == s and len(meta["spec"]["fingerprint"]) == 16
                assert "ConfigSpace" in meta["versions"] and meta["f_star"] <= meta["f_ref"]
                assert (finished / "logs" / "runs" / b / m / f"{s}.log").stat().st_size > 0
    traj = pd.read_parquet(res / "trajectories.parquet")
    n_methods = len(cfg["methods"])
    assert len(traj) == len(cfg["benchmarks"]) * n_methods * len(cfg["seeds"]) * cfg["n_trials"]
    summary = pd.read_csv(res / "summary.csv")
    assert set(summary["budget"]) == {5, 10, 12}
    assert (summary["n_seeds"] == len(cfg["seeds"])).all()
    assert (summary["q25"] <= summary["median"]).all() and (summary["median"] <= summary["q75"]).all()
    status = pd.read_csv(res / "run_status.csv")
    assert (status["status"] == "complete").all()
    for suffix in ("png", "pdf"):
        assert (res / "figures" / f"anytime_regret.{suffix}").stat().st_size > 1000
    with Image.open(res / "figures" / "anytime_regret.png") as im:
        assert im.size[0] > 400 and im.size[1] > 200


def test_second_invocation_has_nothing_to_do(finished: Path) -> None:
    proc = snakemake(finished, "--configfile", TEST_CONFIG, "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


BAD = [
    (["benchmarks=[mlp-nope]"], "benchmarks: unknown benchmark 'mlp-nope'; allowed: mlp-australian"),
    (["n_trials=0"], "n_trials: 0 is less than the minimum of 1"),
    (["n_trials=-3"], "n_trials: -3 is less than the minimum of 1"),
    (["bogus_key=1"], "'bogus_key' was unexpected); allowed keys: anonymize, benchmarks"),
    (["methods={'rs': {'kind': 'nope'}}"], "methods.rs.kind: 'nope' is not one of ['random_search'"),
    (
        ["methods={'rf': {'kind': 'smac_rf', 'params': {'n_trees': 'ten'}}}"],
        "methods.rf.params.n_trees: 'ten' is not of type 'integer' (kind smac_rf takes: n_trees",
    ),
    (["methods={'rf': {'kind': 'smac_rf', 'params': {'trees': 3}}}"], "unknown key 'trees'; did you mean 'n_trees'?"),
    (["n_init=50", "n_trials=20"], "n_init: 50 exceeds n_trials=20"),
]


@pytest.mark.parametrize(("override", "message"), BAD)
def test_bad_input_stops_before_any_job_and_touches_nothing(finished: Path, override: list[str], message: str) -> None:
    before = {p: p.stat().st_mtime_ns for p in (finished / "results").rglob("*")}
    proc = snakemake(finished, "--configfile", TEST_CONFIG, "--config", *override, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    lines = [ln for ln in out.splitlines() if message in ln]
    assert lines, out[-2000:]
    assert lines[0].startswith("config error: ")
    assert "Execute" not in out and "rule run" not in out
    after = {p: p.stat().st_mtime_ns for p in (finished / "results").rglob("*")}
    assert after == before


def test_default_study_small_version_runs(tmp_path: Path) -> None:
    """The README's study command itself (scripts/study.sh: setup + snakemake on config/config.yaml), shrunk with
    --config and pointed at a temporary working directory."""
    import os
    import subprocess

    args = ["-d", str(tmp_path), "--config", "n_trials=11", "seeds=[0]", "benchmarks=[nb201-cifar10]"]
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "study.sh"), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "CORES": "2"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    traj = pd.read_parquet(tmp_path / "results" / "trajectories.parquet")
    import yaml

    methods = yaml.safe_load(open(ROOT / "config" / "config.yaml"))["methods"]
    status = pd.read_csv(tmp_path / "results" / "run_status.csv").set_index("method")["status"]
    assert set(status.index) == set(methods)
    ran = {m for m in methods if status[m] != "skipped"}
    assert set(traj["method"]) == ran and "llm" in ran  # the text LLM runs against the embedded model
    # without a vision endpoint the multimodal methods are skipped, visibly
    assert {m for m in methods if status[m] == "skipped"} == {"mm_llm", "mm_llm_blank"}
    assert (tmp_path / "results" / "figures" / "anytime_regret.png").exists()
    # the insight measurement: ground truth, the LLM's stated importance (prior + budgets), scores, figure, report
    res = tmp_path / "results"
    truth = json.loads((res / "importance" / "nb201-cifar10.json").read_text())
    assert truth["method"] == "exact_grid" and set(truth["transforms"]) == {"rank", "raw"}
    stated = json.loads((res / "runs" / "nb201-cifar10" / "llm" / "0_insight.json").read_text())
    assert [st["budget"] for st in stated["statements"]] == [0, 10, 11]
    for st in stated["statements"]:
        assert set(st["weights"]) == set(stated["hyperparameters"])
        assert abs(sum(st["weights"].values()) - 1) < 1e-9
    scores = pd.read_csv(res / "stats" / "insight.csv")
    llm_rows = scores[scores["method"] == "llm"]
    assert set(llm_rows["source"]) >= {"model", "prior", "chance", "image_echo", "data_fanova", "prior_data"}
    assert llm_rows["kendall_tau"].between(-1, 1).all() and llm_rows["ndcg"].between(0, 1).all()
    assert (res / "figures" / "insight.png").stat().st_size > 1000
    report = (res / "report.md").read_text()
    assert "## Do the models understand the problem?" in report
    for question in ("Better than chance?", "Better than the data analysis?"):  # one benchmark: n = 1, no interval
        assert f"**{question}**" in report and "n = 1 benchmark" in report
    assert "**Does seeing images help beyond echoing them?** not answerable: no multimodal" in report


def test_load_results_returns_the_studys_tables(finished: Path) -> None:
    """``hpo.load_results`` reads what the report shows: every table as a data frame, nothing recomputed."""
    import hpo

    res = hpo.load_results(finished / "results")
    assert res.missing == [] or set(res.missing) <= {"importance/importance.csv"}
    assert res.trajectories is not None and res.runs is not None and res.summary is not None
    assert res.trajectories.equals(pd.read_parquet(finished / "results" / "trajectories.parquet"))
    assert len(res.runs) == len(res.trajectories) and {"benchmark", "method", "seed", "trial"} <= set(res.runs)
    assert {"ranks", "friedman", "wilcoxon"} <= set(res.stats)
    assert res.stats["ranks"].equals(pd.read_csv(finished / "results" / "stats" / "ranks.csv"))
    assert (res.run_status["status"] == "complete").all()
    with pytest.raises(FileNotFoundError, match="no study results here"):
        hpo.load_results(finished / "logs")
