"""``llm_hb``: Hyperband decides every fidelity, the model proposes new configurations (bounded calls).

Scripted endpoint (tests/fake_openai.py) where the right answer must be known: the configurations it proposes are
evaluated at exactly the schedule's fidelities, promotions follow Hyperband, calls stay under the cap, and a replayed
trajectory (the insight job) rebuilds the run's prompt. One tiny run against the real embedded SmolLM2 server.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, vision_endpoint

import hpo.benchmarks as B
from hpo.core.space import space_config
from hpo.optimizers import params_schema
from hpo.optimizers.hb_schedule import HyperbandSchedule
from hpo.run.harness import RunSpec, make_optimizer, run
from hpo.study.config import fill_defaults

BENCH = "mfh3-good"  # fidelity z in [1, 100]: Hyperband levels 100/81 .. 100


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _spec(url: str | None, n_trials: int = 4, **params: Any) -> RunSpec:
    given = {"cache": "off", **params}
    if url is not None:
        given |= {"endpoint": "fake", "endpoint_config": vision_endpoint(url)}
    p = fill_defaults(params_schema("llm_hb"), given)
    return RunSpec(benchmark=BENCH, method="llm_hb", kind="llm_hb", seed=0, n_trials=n_trials, n_init=1, params=p)


def known(i: int) -> dict[str, float]:
    """The i-th configuration the scripted model proposes (distinct, inside [0, 1]^3)."""
    return {"x0": round(0.05 + 0.09 * i, 4), "x1": round(0.9 - 0.07 * i, 4), "x2": 0.5}


def _scripted() -> tuple[FakeOpenAI, list[dict[str, float]]]:
    proposed: list[dict[str, float]] = []

    def reply(request: dict[str, Any]) -> str:
        proposed.append(known(len(proposed)))
        return json.dumps({"rationale": f"point {len(proposed)}", "config": proposed[-1]})

    return FakeOpenAI(reply), proposed


def test_proposals_are_evaluated_exactly_at_the_schedules_fidelities() -> None:
    fake, proposed = _scripted()
    with fake:
        table, _ = run(_spec(fake.url, n_trials=12, max_llm_calls=6), B.make(BENCH))
        requests = fake.requests
    rows = table.to_pylist()
    # replay: every trial is the schedule's next step, the model's configurations where it proposed them
    sched, llm_rows = HyperbandSchedule(1.0, 100.0, 3), []
    for row in rows:
        step = sched.next_step()
        assert row["fidelity"] == pytest.approx(step.fidelity, rel=1e-12)
        if step.action == "promote":
            assert row["config"] == step.key and row["origin"] == "optimizer" and row["attempts"] is None
        elif row["origin"] == "llm":
            llm_rows.append(row)
            assert sched.filled() < 2  # the first llm_per_bracket new configurations of a bracket
        else:
            assert row["origin"] == "optimizer" and row["config"] not in sched.history()
        sched.record(row["config"], row["fidelity"], row["loss"])
    assert len(requests) == len(proposed) == 6 and len(llm_rows) == 6  # the cap: 6 requests, 3 brackets x 2
    assert [json.loads(r["config"]) for r in llm_rows] == proposed
    assert [r["rationale"] for r in llm_rows] == [f"point {i}" for i in range(1, 7)]
    assert all(r["attempts"] == 1 and r["prompt_tokens"] == 100 for r in llm_rows)
    brackets = [sched.s_max - round(math.log(r["fidelity"] * 81 / 100, 3)) for r in llm_rows]
    assert brackets == [4, 4, 3, 3, 2, 2]  # each bracket's first two, at its lowest fidelity
    # Hyperband promoted: the top rung of bracket 4 is the best of rung 3 (its loss at 33.3)
    full = [r for r in rows if r["fidelity"] == 100.0]
    at_33 = {r["config"]: r["loss"] for r in rows[: rows.index(full[0])] if r["fidelity"] == pytest.approx(100 / 3)}
    assert full[0]["config"] == min(at_33, key=at_33.__getitem__)
    # each prompt shows every configuration with its loss at every fidelity reached, and where the new one starts
    last = requests[-1]["messages"][-1]["content"]
    assert "loss@1.235,loss@3.704,loss@11.11,loss@33.33,loss@100" in last
    assert "The new configuration starts at fidelity 11.11." in last
    assert re.search(r"^\d+,0\.05,0\.9,0\.5,[-\d.e]+,[-\d.e]+,", last, re.M)  # proposal 1 reached at least 3.7


def test_restart_pays_every_rung_continue_pays_the_increment() -> None:
    bench = B.make(BENCH)
    paid = {}
    for promotion in ("restart", "continue"):
        table, _ = run(_spec(None, n_trials=5, max_llm_calls=0, promotion=promotion), bench)
        paid[promotion] = table.to_pandas()
    restart, cont = paid["restart"], paid["continue"]
    # same schedule, same draws; continuing is cheaper, so the same budget lasts longer
    assert len(cont) > len(restart) and list(cont["config"][: len(restart)]) == list(restart["config"])
    first_promotion = 81  # bracket 4: 81 new configurations, then promotions to 3.7
    r, c = restart.iloc[first_promotion], cont.iloc[first_promotion]
    cost = lambda z: 0.05 + 0.95 * (z / 100) ** 2  # noqa: E731 - mfh3's cost model (info["fidelity"]["cost"])
    assert r["eval_cost"] == pytest.approx(cost(100 / 27))
    assert c["eval_cost"] == pytest.approx(cost(100 / 27) - cost(100 / 81))
    assert set(restart["origin"]) == {"optimizer"} and restart["attempts"].isna().all()


def test_calls_stay_under_the_cap_with_reasks() -> None:
    with FakeOpenAI(lambda request: "no JSON here") as fake:
        table, _ = run(_spec(fake.url, n_trials=2, max_llm_calls=5, max_reasks=1, llm_per_bracket=9), B.make(BENCH))
        n = len(fake.requests)
    df = table.to_pandas()
    # each conversation may take 2 requests: two fit in 5 (the third would need requests 5 and 6)
    assert n == 4 and df["attempts"].sum() == 4
    assert list(df.loc[df["attempts"].notna(), "origin"]) == ["fallback", "fallback"]


def test_calls_per_run_is_what_the_estimate_counts() -> None:
    from hpo.optimizers import get_class

    cls = get_class("llm_hb")
    assert cls.calls_per_run(fill_defaults(params_schema("llm_hb"), {})) == 8
    assert cls.calls_per_run({"max_llm_calls": 2}) == 2
    assert cls.calls_per_trial({}) == 1.0


def test_a_replayed_trajectory_rebuilds_the_runs_prompt() -> None:
    """The insight job tells an optimizer the trajectory without asking: it must reach the run's own prompt."""
    fake, _ = _scripted()
    bench = B.make(BENCH)
    with fake:
        spec = _spec(fake.url, n_trials=12, max_llm_calls=4)
        table, _ = run(spec, bench)
        sent = [r["messages"][-1]["content"] for r in fake.requests]
        rows = table.to_pylist()
        opt = make_optimizer(spec, bench)
        llm_trials = [r["trial"] for r in rows if r["origin"] == "llm"]
        told = 0
        for trial, text in zip(llm_trials, sent):
            for r in rows[told : trial - 1]:
                opt.tell(space_config(bench.space, json.loads(r["config"])), r["loss"], r["eval_cost"])
            told = trial - 1
            assert opt.prompt_text(opt.design_size()) == text
        opt.close()
    assert len(llm_trials) == 4


def test_needs_a_multi_fidelity_benchmark() -> None:
    spec = RunSpec(
        benchmark="synth-branin",
        method="llm_hb",
        kind="llm_hb",
        seed=0,
        n_trials=3,
        n_init=1,
        params=fill_defaults(
            params_schema("llm_hb"), {"endpoint": "fake", "endpoint_config": vision_endpoint("http://127.0.0.1:9")}
        ),
    )
    with pytest.raises(ValueError, match="kind llm_hb needs a multi-fidelity benchmark; synth-branin has no fidelity"):
        run(spec, B.make("synth-branin"))


@pytest.mark.slow
def test_tiny_run_with_the_real_embedded_model(tmp_path: Path) -> None:
    """Two decisions of SmolLM2-135M (llama.cpp on loopback): rows carry tokens, latency, origin; reruns are cached."""
    pytest.importorskip("llama_cpp")
    spec = _spec(None, n_trials=1, max_llm_calls=2, cache="readwrite")
    tables = [run(spec, B.make(BENCH), cache_dir=tmp_path)[0].to_pandas() for _ in range(2)]
    first, again = tables
    asked = first[first["attempts"].notna()]
    assert len(asked) == 2 and asked["attempts"].sum() == 2
    assert set(asked["origin"]) <= {"llm", "repaired", "fallback"}
    assert (asked["prompt_tokens"] > 100).all() and (asked["llm_latency"] > 0).all()
    assert list(first["fidelity"].unique()) == [pytest.approx(100 / 81)]
    assert (again[again["attempts"].notna()]["cache_hits"] == 1).all()
    assert list(again["config"]) == list(first["config"])


def test_budgets_are_smacs_hyperband_evaluation_for_evaluation() -> None:
    """Without model calls llm_hb is Hyperband: the fidelity of every evaluation equals the study's ``hyperband``
    (SMAC's HyperbandFacade) at the same budget, so llm_hb vs hyperband differs only in who proposes."""
    bench, fidelities = B.make(BENCH), {}
    for kind, params in (("hyperband", {}), ("llm_hb", {"max_llm_calls": 0, "cache": "off"})):
        p = fill_defaults(params_schema(kind), params)
        spec = RunSpec(benchmark=BENCH, method=kind, kind=kind, seed=0, n_trials=30, n_init=1, params=p)
        fidelities[kind] = [round(f, 9) for f in run(spec, bench)[0].column("fidelity").to_pylist()]
    assert len(fidelities["llm_hb"]) > 300  # more than a whole round of brackets (206 evaluations)
    assert fidelities["llm_hb"] == fidelities["hyperband"]


def test_a_pair_two_groups_share_is_tested_once() -> None:
    """The multi-fidelity study's groups share llm_mf and the reference hyperband: llm_mf vs hyperband is one row."""
    from hpo.stats.arm_contrasts import planned

    groups = {
        "mf_images": {"arms": ["mm_llm_mf", "llm_mf"], "reference": "hyperband", "primary": None},
        "budgets": {
            "arms": ["llm_mf", "llm_hb"],
            "reference": "hyperband",
            "primary": {"arm": "llm_mf", "versus": "llm_hb", "budget": 10},
        },
    }
    rows = [(r["group"], r["arm_a"], r["arm_b"], r["family"]) for r in planned(groups, [10])]
    assert rows == [
        ("mf_images", "mm_llm_mf", "llm_mf", "secondary"),
        ("mf_images", "mm_llm_mf", "hyperband", "secondary"),
        ("mf_images", "llm_mf", "hyperband", "secondary"),
        ("budgets", "llm_mf", "llm_hb", "primary"),
        ("budgets", "llm_hb", "hyperband", "secondary"),
    ]


def test_the_estimate_counts_the_cap_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from hpo.llm.ledger import SPEND_ENV
    from hpo.study.cli import load_study
    from hpo.study.estimate import estimate

    monkeypatch.setenv(SPEND_ENV, "{}")  # load_study installs the study's caps
    study = {"benchmarks": [BENCH, "mfh3-bad"], "seeds": [0, 1], "n_trials": 30, "n_init": 5, "budgets": [10]}
    study |= {"methods": {"llm_hb": {"kind": "llm_hb", "params": {"max_llm_calls": 3}}}}
    study |= {"results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    (row,) = estimate(load_study(tmp_path / "study.yaml"))
    # 4 runs x 3 requests, + 4 insight jobs x 3 statements (the prior, budget 10, n_trials 30)
    assert (row.run_jobs, row.insight_jobs) == (4, 4) and row.calls == pytest.approx(4 * 3 + 4 * 3)
