"""Cost and time preview (issue 17): against a finished small study with the real embedded model, the estimate's
calls and tokens are within +-30 % of what the study recorded; a resumed study's estimate shrinks by what is done
(cached); and the dollars and hours follow from the endpoint's prices and the preflight's latency."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import snakemake

from hpo.llm.ledger import SPEND_ENV
from hpo.optimizers import get_class
from hpo.study.cli import load_study
from hpo.study.estimate import INSIGHT_CALLS_PER_STATEMENT, estimate


@pytest.fixture(autouse=True)
def _restore_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SPEND_ENV, "{}")  # load_study installs the study's caps; undone after each test


def _write(tmp: Path, study: dict) -> Path:
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


@pytest.mark.slow
def test_estimate_is_within_30_percent_of_a_finished_embedded_study(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    study = {"benchmarks": ["mlp-car"], "methods": {"llm": {"kind": "llm"}}, "seeds": [0], "n_trials": 7}
    study |= {"n_init": 3, "budgets": [7], "results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    path = _write(tmp_path, study)
    (before,) = estimate(load_study(path))
    assert (before.run_jobs, before.insight_jobs) == (1, 1)
    run = tmp_path / "results" / "runs" / "mlp-car" / "llm"
    snakemake(tmp_path, str(run / "0_insight.json"), "--configfile", str(path), timeout=1200)
    df = pd.read_parquet(run / "0.parquet")
    statements = json.loads((run / "0_insight.json").read_text())["statements"]
    recorded = {
        key: df[key].fillna(0).sum() + sum(s[key] for s in statements)
        for key in ("attempts", "prompt_tokens", "completion_tokens")
    }
    errors = {
        "calls": before.calls / recorded["attempts"] - 1,
        "prompt_tokens": before.prompt_tokens / recorded["prompt_tokens"] - 1,
        "completion_tokens": before.completion_tokens / recorded["completion_tokens"] - 1,
    }
    print(f"estimate vs recorded: {recorded} -> relative errors {errors}")
    assert all(abs(e) <= 0.30 for e in errors.values()), errors
    # Resumed: the finished run costs nothing; without its insight file only the insight job is left.
    (after,) = estimate(load_study(path))
    assert (after.run_jobs, after.insight_jobs, after.calls, after.prompt_tokens) == (0, 0, 0, 0)
    (run / "0_insight.json").unlink()
    (insight_left,) = estimate(load_study(path))
    assert (insight_left.run_jobs, insight_left.insight_jobs) == (0, 1)
    assert insight_left.calls == INSIGHT_CALLS_PER_STATEMENT * (len(study["budgets"]) + 1) < before.calls


def test_dollars_and_hours_follow_prices_latency_and_concurrency(tmp_path: Path) -> None:
    """Hand-checked: cost = prices x tokens; hours = calls x the preflight's latency / (llm_slots x overlap)."""
    endpoint = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "concurrency": 4, "max_tokens": 50}
    endpoint |= {"price_prompt_per_1k": 0.15, "price_completion_per_1k": 0.6}
    study = {"benchmarks": ["synth-branin"], "seeds": [0, 1], "n_trials": 12, "n_init": 2, "budgets": [6]}
    study |= {"methods": {"llm": {"kind": "llm", "params": {"endpoint": "paid"}}}, "endpoints": {"paid": endpoint}}
    study |= {"results": str(tmp_path / "results")}
    path = _write(tmp_path, study)
    (unmeasured,) = estimate(load_study(path), llm_slots=3)
    assert not unmeasured.latency_measured
    (tmp_path / "results" / "endpoints").mkdir(parents=True)
    (tmp_path / "results" / "endpoints" / "paid.json").write_text(json.dumps({"latency_s": 2.0}))
    (row,) = estimate(load_study(path), llm_slots=3)
    runs, statements = 2 * 10, 2 * 3  # 10 proposals per run; the prior and budgets 6 and 12 per insight job
    per_trial = get_class("llm").calls_per_trial({})  # 1: one proposal request per trial
    assert row.calls == pytest.approx(per_trial * runs + INSIGHT_CALLS_PER_STATEMENT * statements)
    assert row.completion_tokens == pytest.approx(row.calls * 50)  # both profiles exceed max_tokens: capped
    assert row.usd == pytest.approx((row.prompt_tokens * 0.15 + row.completion_tokens * 0.6) / 1000)
    assert row.hours == pytest.approx(row.calls * 2.0 / (3 * 1) / 3600)  # llm calls do not overlap within a job
    assert row.model_hours == pytest.approx(row.calls * 2.0 / 3600)  # one model thread's time
    assert row.latency_measured and row.prompt_tokens > 0


def test_the_rule_writes_the_same_table(tmp_path: Path) -> None:
    """``snakemake results/estimate.md`` writes the table the command prints (llm_slots from the profile: 4)."""
    from hpo.study.estimate import table

    endpoint = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "price_prompt_per_1k": 0.15}
    study = {"benchmarks": ["synth-branin"], "seeds": [0], "n_trials": 6, "n_init": 2, "budgets": [6]}
    study |= {"methods": {"llm": {"kind": "llm", "params": {"endpoint": "paid"}}}, "endpoints": {"paid": endpoint}}
    study |= {"results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    path = _write(tmp_path, study)
    snakemake(tmp_path, str(tmp_path / "results" / "estimate.md"), "--configfile", str(path))
    expected = table(estimate(load_study(path), llm_slots=4, cores=2))
    assert (tmp_path / "results" / "estimate.md").read_text() == expected + "\n"


@pytest.mark.parametrize(("best_k", "recent_m"), [(10, 10), (3, 5), (0, 4), (5, 1)])
def test_history_lengths_equal_the_prompt_text_at_every_trial(best_k: int, recent_m: int) -> None:
    """The estimate's linear-time sizes are exactly the lengths of the history block the run sends (issue 28: the
    quadratic version took minutes at n_trials 100000); ties in loss and a long run cross many epochs."""
    import numpy as np

    from hpo.llm.prompt import Observation, history_text, history_text_lengths

    rng = np.random.default_rng(3)
    losses = np.round(rng.uniform(0, 1, 157), 2)  # rounded: equal losses, broken by trial number
    history = [
        Observation(i + 1, {"b": int(rng.integers(1, 999)), "a": "x" * (i % 3)}, float(x)) for i, x in enumerate(losses)
    ]
    exact = [len(history_text(history[:n], best_k, recent_m)) for n in range(len(history) + 1)]
    assert history_text_lengths(history, best_k, recent_m) == exact


def test_an_unpriced_endpoint_costs_unknown_not_zero(tmp_path: Path) -> None:
    from hpo.study.estimate import table

    endpoint = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}
    study = {"benchmarks": ["synth-branin"], "seeds": [0], "n_trials": 6, "n_init": 2, "budgets": [6]}
    study |= {"methods": {"llm": {"kind": "llm", "params": {"endpoint": "unpriced"}}, "emb": {"kind": "llm"}}}
    study |= {"endpoints": {"unpriced": endpoint}, "results": str(tmp_path / "results")}
    rows = estimate(load_study(_write(tmp_path, study)))
    assert sorted((r.method, r.usd) for r in rows) == [("emb", 0.0), ("llm", None)]
    lines = {line.split(" | ")[0]: line for line in table(rows).splitlines()}
    assert "| unknown (no prices) |" in lines["| llm"] and "| 0.0000 |" in lines["| emb"]
    assert "| unknown (no prices) |" in lines["| total"]


def test_image_kinds_count_two_insight_statements_per_budget(tmp_path: Path) -> None:
    """An image kind's insight job asks each budget twice (with and without its images): 1 + 2 x budgets calls."""
    endpoint = {"base_url": "http://127.0.0.1:9/v1", "model": "m", "vision": True}
    study = {"benchmarks": ["synth-branin"], "seeds": [0], "n_trials": 6, "n_init": 6, "budgets": [3]}
    study |= {"methods": {"mm": {"kind": "mm_llm"}, "text": {"kind": "llm"}}, "endpoints": {"v": endpoint}}
    study |= {"results": str(tmp_path / "results")}
    rows = {r.method: r for r in estimate(load_study(_write(tmp_path, study)))}
    assert rows["text"].calls == INSIGHT_CALLS_PER_STATEMENT * 3  # n_init = n_trials: no proposal, prior + 3 + 6
    assert rows["mm"].calls == INSIGHT_CALLS_PER_STATEMENT * 5  # the prior, then budgets 3 and 6 twice each


@pytest.mark.slow  # plans config/paper.yaml's full-scale study
def test_the_planning_warning_and_the_table_name_the_same_calls_and_hours(tmp_path: Path) -> None:
    """config/paper.yaml (issue 26): the warning once said "~60 h of model time at 7 s per call" where the table said
    113.64 h. Both now come from hpo.study.model_calls and hpo.study.latency: each warned method's calls and model
    hours are its table row's."""
    from hpo.study.estimate import table

    raw = yaml.safe_load((Path(__file__).parent.parent / "config" / "paper.yaml").read_text())
    raw |= {"results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    study = load_study(_write(tmp_path, raw))
    rows = {r.method: r for r in estimate(study)}
    warned = 0
    for line in study["call_warnings"]:
        found = re.match(r"methods\.(\S+) \(\S+\): ~([\d,]+) model calls .*?~([\d,]+) h of model time", line)
        if not found:
            continue
        method, calls, hours = found.group(1), *(int(found.group(i).replace(",", "")) for i in (2, 3))
        assert (calls, hours) == (round(rows[method].calls), round(rows[method].model_hours)), line
        assert f"| {rows[method].model_hours:,.2f}*" in table(list(rows.values()))
        warned += 1
    assert warned >= 3  # llm, llm_zero_shot, llambo_lite, llm_tpe on the embedded model
