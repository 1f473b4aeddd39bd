"""``llambo`` follows the published protocol: a scripted OpenAI-compatible server (tests/fake_openai.py, which records
every request) drives whole trials through the harness, and the test recomputes by hand what the paper prescribes
(the target, the few-shot orders, the sample counts, the expected improvement, the choice) and compares it with
the requests the server received and the trajectory row."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from fake_openai import FakeOpenAI, envelope
from scipy.stats import norm
from test_llambo import BENCH, N_INIT, _init, _key, _pool, _prompt, _schema, _spec, published_target  # noqa: F401 (_key: the API key fixture)

import hpo.benchmarks as B
from hpo.runner import run
from hpo.space import config_json, stable_seed

# OpenML's card of the `car` dataset, written out here (not read from the code under test).
CAR_CARD = ("multilayer perceptron (MLP)", "classification with 4 classes", "1728 samples, 6 features")


def _fewshot(text: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the few-shot table: the lines after 'Evaluated configurations ...:' up to a blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Evaluated configurations"))
    header = lines[start + 1].split(",")
    rows = []
    for line in lines[start + 2 :]:
        if not line:
            break
        rows.append(line.split(","))
    return header, rows


def _candidate(text: str) -> dict[str, Any]:
    """The one configuration a surrogate request asks about (the two lines after the question)."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(("Predict the loss", "Label this")))
    return {k: json.loads(v) for k, v in zip(lines[i + 1].split(","), lines[i + 2].split(","))}


def _goal(req: dict[str, Any]) -> float:
    return float(re.search(r"reach a loss of (\S+)\. ", _prompt(req)).group(1))


def _is_sampler(req: dict[str, Any]) -> bool:
    return "config" in _schema(req)


def test_one_trial_follows_the_published_protocol() -> None:
    """Defaults: 2 templates x 5 samples -> 10 new candidates in one round; each scored by 2 templates x 10 samples;
    EI over the 20 predictions picks the winner."""
    pool = _pool()
    init = _init()

    def prediction(c: int, template: int, sample: int) -> float:
        # Candidate c's 20 predictions: mean 0.30 - 0.01 c, spread growing with c (so EI differs from the mean order)
        return 0.30 - 0.01 * c + (0.002 * c) * (1 if (template * 10 + sample) % 2 else -1) * (1 + sample % 3)

    state = {"sampler": 0}
    seen: dict[tuple[int, int], int] = {}
    orders: dict[str, int] = {}

    def reply(req: dict[str, Any]) -> str:
        if _is_sampler(req):
            state["sampler"] += 1
            return json.dumps({"rationale": f"r{state['sampler']}", "config": pool[state["sampler"] - 1]})
        c = next(i for i in range(10) if config_json(pool[i]) == config_json(_candidate(_prompt(req))))
        template = orders.setdefault(json.dumps(_fewshot(_prompt(req))[1]), len(orders))
        sample = seen.setdefault((c, template), 0)
        seen[(c, template)] += 1
        return json.dumps({"loss": prediction(c, template, sample)})

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llambo", fake.url, N_INIT + 1), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    row, losses = df.iloc[-1], list(df["loss"].iloc[:N_INIT])
    sampler = [r for r in requests if _is_sampler(r)]
    surrogate = [r for r in requests if not _is_sampler(r)]
    # Counts: 10 sampler samples (one round), 10 candidates x 2 templates x 10 samples; every sample its own seed.
    assert len(sampler) == 10 and len(surrogate) == 200 and row["attempts"] == 210
    assert len({r["seed"] for r in requests}) == 210
    assert all((r["temperature"], r["top_p"]) == (0.8, 0.95) for r in sampler)
    assert all((r["temperature"], r["top_p"]) == (0.7, 0.95) for r in surrogate)
    assert (row["sampler_rounds"], row["n_candidates"], row["scored"], row["surrogate_samples"]) == (1, 10, 10, 20)
    # The target in every sampler prompt, recomputed from the history.
    goal = published_target(min(losses), max(losses))
    assert [_goal(r) for r in sampler] == pytest.approx([goal] * 10, abs=1e-6)
    assert row["target_loss"] == pytest.approx(goal)
    # Few-shot: every observation in each prompt, in one order per template, the two templates' orders different.
    by_loss = {f"{x:.6g}": i for i, x in enumerate(losses)}
    sampler_orders = {tuple(by_loss[r[0]] for r in _fewshot(_prompt(q))[1]) for q in sampler}
    assert len(sampler_orders) == 2 and all(sorted(o) == list(range(N_INIT)) for o in sampler_orders)
    for q in sampler:  # each row shows the configuration evaluated with that loss
        for cells in _fewshot(_prompt(q))[1]:
            header = _fewshot(_prompt(q))[0][1:]
            assert {k: json.loads(v) for k, v in zip(header, cells[1:])} == init[by_loss[cells[0]]]
    assert len(orders) == 2  # the surrogate's prompts use two few-shot orders as well
    # The data card.
    text = _prompt(sampler[0])
    assert all(part in text for part in CAR_CARD) and "Metric: balanced accuracy." in text
    # EI from the scripted predictions (population std over the 20, floored at 1e-5) and the winner.
    preds = np.array([[prediction(c, t, s) for t in range(2) for s in range(10)] for c in range(10)])
    mean, std = preds.mean(axis=1), np.maximum(preds.std(axis=1), 1e-5)
    best = min(losses)
    ei = (best - mean) * norm.cdf((best - mean) / std) + std * norm.pdf((best - mean) / std)
    win = int(np.argmax(ei))
    assert row["candidate"] == win + 1 and row["config"] == config_json(pool[win]) and row["ei_ties"] == 1
    assert row["acquisition"] == pytest.approx(ei[win], rel=1e-6)
    assert row["predicted_loss"] == pytest.approx(mean[win]) and row["predicted_std"] == pytest.approx(std[win])
    assert row["rationale"] == f"r{win + 1}" and row["origin"] == "llm"


SMALL = {"n_samples": 2, "min_candidates": 3, "surrogate_samples": 2}


def test_tied_acquisition_is_counted_and_broken_by_the_seeded_rule() -> None:
    """Equal predictions for every candidate: every EI is equal, ``ei_ties`` counts them and the winner is the
    documented draw (a generator seeded by run seed and trial picks uniformly among the tied)."""
    pool = _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if _is_sampler(req):
            state["sampler"] += 1
            return json.dumps({"config": pool[state["sampler"] - 1]})
        return json.dumps({"loss": 0.9})

    with FakeOpenAI(reply) as fake:
        row = run(_spec("llambo", fake.url, N_INIT + 1, **SMALL), B.make(BENCH))[0].to_pandas().iloc[-1]
    n = 2 * SMALL["n_samples"]
    rng = np.random.default_rng(stable_seed("llambo-tie", 0, N_INIT + 1))
    assert row["n_candidates"] == n and row["ei_ties"] == n
    assert row["candidate"] == int(rng.integers(n)) + 1


def test_noisy_benchmark_candidates_never_repeat_the_history_and_rounds_resample() -> None:
    """On a noisy benchmark too, a candidate equal to an evaluated configuration is dropped before the surrogate;
    a round without enough new candidates is followed by another one (counted)."""
    init, pool = _init(), _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if _is_sampler(req):
            state["sampler"] += 1
            k = state["sampler"]
            return json.dumps({"config": init[k % N_INIT] if k <= 4 else pool[k]})  # round 1: repeats only
        return json.dumps({"loss": 0.5})

    with FakeOpenAI(reply) as fake:
        spec = _spec("llambo", fake.url, N_INIT + 1, noisy=True, **SMALL)
        df = run(spec, B.make(BENCH, noisy=True))[0].to_pandas()
        requests = fake.requests
    row = df.iloc[-1]
    evaluated = {config_json(c) for c in init}
    scored = {config_json(_candidate(_prompt(r))) for r in requests if not _is_sampler(r)}
    assert scored and not scored & evaluated
    assert (row["sampler_rounds"], row["duplicates"], row["n_candidates"]) == (2, 4, 4)
    assert row["config"] not in evaluated


def test_generative_surrogate_reads_p1_from_logprobs_or_counts_labels() -> None:
    """Generative mode: the history labelled 1 below the 25th percentile; P("1") from the token log-probabilities
    when the endpoint returns them (the row says so), else the share of "1" labels."""
    import math

    pool = _pool()

    def run_with(logprobs: bool) -> tuple[Any, list[dict[str, Any]]]:
        state = {"sampler": 0}

        def reply(req: dict[str, Any]) -> Any:
            if _is_sampler(req):
                state["sampler"] += 1
                return json.dumps({"config": pool[state["sampler"] - 1]})
            c = next(i for i in range(10) if config_json(pool[i]) == config_json(_candidate(_prompt(req))))
            p1 = 0.2 + 0.15 * c  # candidate 4 (index 3) is the most probable
            body = envelope(json.dumps({"label": int(p1 > 0.5)}))
            if logprobs:
                top = [{"token": "1", "logprob": math.log(p1)}, {"token": "0", "logprob": math.log(1 - p1)}]
                sampled = {**top[0 if p1 > 0.5 else 1], "top_logprobs": top}  # the sampled token is one of the top
                body["choices"][0]["logprobs"] = {"content": [{"token": '{"', "logprob": 0.0}, sampled]}
            return ("envelope", body)

        with FakeOpenAI(reply) as fake:
            spec = _spec("llambo", fake.url, N_INIT + 1, surrogate="generative", **SMALL)
            row = run(spec, B.make(BENCH))[0].to_pandas().iloc[-1]
            return row, fake.requests

    row, requests = run_with(logprobs=True)
    surrogate = [r for r in requests if not _is_sampler(r)]
    assert all(r["logprobs"] is True and r["top_logprobs"] == 5 for r in surrogate)
    assert len(surrogate) == 4 * 2 * 3  # generative: max(2 // 2, 3) = 3 samples per (candidate, template)
    assert row["p_top_from"] == "logprobs" and row["candidate"] == 4
    assert row["acquisition"] == pytest.approx(0.2 + 0.15 * 3)
    header, rows = _fewshot(_prompt(surrogate[0]))
    assert header[-1] == "label" and sum(int(r[-1]) for r in rows) == 1  # 4 losses: only the best is below q25
    row, _ = run_with(logprobs=False)
    assert row["p_top_from"] == "labels" and row["acquisition"] == 1.0 and row["ei_ties"] == 1
    assert row["candidate"] == 4


def test_request_seed_is_part_of_the_reply_cache_key() -> None:
    """Independent samples differ in their seed, so the reply cache never serves one reply for two samples."""
    from hpo.llm.cache import reply_key

    request = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0.8}
    keys = {reply_key("e", {**request, "seed": s}, "json_schema", {}) for s in (1, 2)}
    assert len(keys) == 2


def test_planning_warns_with_the_expected_model_calls() -> None:
    """A study that would keep the embedded model busy for days warns at planning time, naming the calls."""
    from hpo.optimizers.llambo import LLAMBOOptimizer
    from hpo.study import validate_study

    cfg = {
        "benchmarks": ["mlp-car", "mlp-kc1"],
        "methods": {"lam": {"kind": "llambo"}, "lite": {"kind": "llambo_lite"}},
        "seeds": [0, 1, 2],
        "n_trials": 100,
        "n_init": 10,
        "results": "/tmp/hpo-test-i16/results",
        "logs": "/tmp/hpo-test-i16/logs",
    }
    out = validate_study(cfg)
    per_trial = 2 * 5 + 2 * 5 * 2 * 10  # sampler samples + candidates x templates x predictions
    calls = 2 * 3 * 90 * per_trial
    assert LLAMBOOptimizer.calls_per_trial(out["methods"]["lam"]["params"]) == per_trial
    assert len(out["call_warnings"]) == 1 and f"~{calls:,} model calls" in out["call_warnings"][0]
    assert out["call_warnings"][0].startswith("methods.lam (llambo)")


def test_old_patience_name_is_one_line_error() -> None:
    from hpo.study import StudyConfigError, validate_study

    cfg = {
        "benchmarks": ["mlp-car"],
        "methods": {"h": {"kind": "llm_tpe", "params": {"patience": 3}}},
        "seeds": [0],
        "n_trials": 10,
        "n_init": 2,
        "results": "/tmp/hpo-test-i16/results",
        "logs": "/tmp/hpo-test-i16/logs",
    }
    with pytest.raises(StudyConfigError, match=r"^config error: methods\.h\.params\.patience: renamed to llm_after"):
        validate_study(cfg)


def test_target_hand_cases() -> None:
    """The issue's example and the edges of the published alpha schedule, computed by hand."""
    from hpo.llm.llambo_fewshot import target

    assert target([0.05, 0.5], 0.1) == pytest.approx((0.005, 0.1))  # no clamp: 0.05 - 0.1 * 0.45
    assert target([0.03, 0.75], 0.1) == pytest.approx((0.03 - 0.01 * 0.72, 0.01))  # 0.1 would give -0.042
    assert target([0.2, 0.2], 0.1) == pytest.approx((0.2 - 0.1 * 0.02, 0.1))  # equal losses: span 0.1 * |worst|
    assert target([-3.0, -1.0], 0.1) == pytest.approx((-3.2, 0.1))  # losses that may be negative: no shrink
    assert target([0.0, 0.0], 0.1)[0] == 0.0  # nothing to shrink towards: the schedule ends, no endless loop


def test_p_one_reads_the_first_label_token() -> None:
    import math

    from hpo.llm.llambo_fewshot import p_one, parse_label

    lp = [{'{"': 0.0}, {"label": 0.0}, {"1": math.log(0.7), "0": math.log(0.2), "2": math.log(0.1)}]
    assert p_one(lp) == pytest.approx(0.7 / 0.9)
    assert p_one([{"0": math.log(0.6)}]) == 0.0 and p_one(None) is None and p_one([{"x": 0.0}]) is None
    assert parse_label('{"label": 1}') == 1 and parse_label('{"label": "0"}') == 0
    assert parse_label('{"label": 0.5}') is None and parse_label("no") is None


def test_data_cards_of_the_families() -> None:
    """The card fields each family knows (written out by hand: sklearn's breast cancer data, OpenML's car)."""
    live = B.make("svm-breast_cancer").data_card()
    assert (live["task"], live["n_samples"], live["n_features"], live["n_classes"]) == ("classification", 569, 30, 2)
    assert live["metric"] == "balanced accuracy" and live["model"]
    car = B.make("mlp-car").data_card()
    assert (car["n_samples"], car["n_features"], car["n_classes"], car["task"]) == (1728, 6, 4, "classification")
    nb = B.make("nb201-cifar100").data_card()
    assert nb["n_classes"] == 100 and "n_samples" not in nb  # unknown fields are absent, never guessed
    assert B.make("synth-branin").data_card()["task"] == "function minimization"
