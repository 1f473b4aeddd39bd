"""The insight call (hpo.insight.ask, rule ``insight``): after an LLM run, the model states an importance weight per
hyperparameter at budget 0 (the prior) and at each reporting budget, from exactly the prompt (and images) of the run.

Scripted replies, repairs and the multimodal request contents run against the local test server
(tests/fake_openai.py), which records what it receives; the rule itself runs end to end against the real llama.cpp
server with the real SmolLM2 model (skipped when llama-cpp-python is not installed).
"""

from __future__ import annotations

import base64
import io
import json
import math
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import jsonschema
import pytest
import yaml
from conftest import snakemake
from fake_openai import FakeOpenAI, vision_endpoint
from PIL import Image

import hpo.benchmarks as B
from hpo.core.trajectory import read_meta
from hpo.insight.ask import insight_to_file
from hpo.llm.images import IMAGE_NAMES
from hpo.llm.insight_prompt import (
    WEIGHTS_LINE,
    close_cut_off,
    insight_schema,
    parse_insight,
    request_text,
    uniform,
)
from hpo.llm.space_text import allowed_values
from hpo.run.harness import RunSpec, run_to_file
from hpo.run.provenance import build_spec

N_TRIALS, N_INIT = 7, 4
PRICES = {"price_prompt_per_1k": 0.01, "price_completion_per_1k": 0.03}  # the fake reports 100 + 20 tokens a call
STATEMENT_KEYS = [
    "budget",
    "source",
    "weights",
    "best_region",
    "top_interaction",
    "repaired",
    "repairs",
    "fallback",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "llm_latency",
    "llm_cost",
    "cache_hits",
    "raw_reply",
]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, table_dir: Path) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _spec(kind: str, url: str) -> RunSpec:
    endpoint = vision_endpoint(url, **PRICES)
    return build_spec(
        benchmark="mlp-car",
        method=kind,
        kind=kind,
        seed=0,
        n_trials=N_TRIALS,
        n_init=N_INIT,
        params={"endpoint": "fake", "endpoint_config": endpoint},
    )


def _is_insight(request: dict[str, Any]) -> bool:
    return "weights" in request["response_format"]["json_schema"]["schema"]["properties"]


def _random_config(request: dict[str, Any]) -> str:
    """A valid proposal with values drawn at random from the request's schema (distinct across trials, so the
    repetition guard never re-asks and each trial is one request)."""
    props = request["response_format"]["json_schema"]["schema"]["properties"]["config"]["properties"]
    return json.dumps({"rationale": "random", "config": {k: random.choice(v["enum"]) for k, v in props.items()}})


class Script:
    """The fake server's replies: proposals for the run, ``insight(request)`` for insight requests."""

    def __init__(self) -> None:
        self.insight: Any = None

    def __call__(self, request: dict[str, Any]) -> str:
        return self.insight(request) if _is_insight(request) else _random_config(request)


def _text(request: dict[str, Any]) -> str:
    content = request["messages"][1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def _pngs(request: dict[str, Any]) -> list[bytes]:
    content = request["messages"][1]["content"]
    if isinstance(content, str):
        return []
    out = []
    for part in content[1:]:
        url = part["image_url"]["url"]
        assert part["type"] == "image_url" and url.startswith("data:image/png;base64,")
        out.append(base64.b64decode(url.split(",", 1)[1]))
    return out


# Two allowed values of mlp-car's learning_rate_init (a grid from 1e-5 to 1, 10 points, log-spaced).
REGION = {"hyperparameter": "learning_rate_init", "values": [0.0016681006, 0.0059948424]}
PAIR = ["learning_rate_init", "batch_size"]


def _reply(weights: Any, region: dict[str, Any] = REGION, pair: Any = PAIR) -> str:
    return json.dumps({"weights": weights, "best_region": region, "top_interaction": pair})


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory, table_dir: Path) -> Any:
    """One finished ``llm`` run against the fake server, which stays up for the insight calls (its URL is part of
    the run's spec, hence of its fingerprint)."""
    random.seed(0)
    out = tmp_path_factory.mktemp("llm_run") / "0.parquet"
    script = Script()
    with pytest.MonkeyPatch.context() as mp, FakeOpenAI(script) as fake:
        mp.setenv("HPO_TEST_KEY", "sk-test-not-secret")
        spec = _spec("llm", fake.url)
        run_to_file(spec, out)
        run_requests = list(fake.requests)
        assert len(run_requests) == N_TRIALS - N_INIT  # one request per model-proposed trial, no re-asks
        yield {"fake": fake, "script": script, "spec": spec, "path": out, "run_requests": run_requests}


def _ask(llm_run: dict[str, Any], tmp_path: Path, insight: Any, budgets: list[int]) -> tuple[dict, list[dict]]:
    """Run the insight job with ``insight`` as the server's script; the document and the insight requests."""
    fake = llm_run["fake"]
    llm_run["script"].insight = insight
    before = len(fake.requests)
    out = insight_to_file(llm_run["spec"], llm_run["path"], tmp_path / "0_insight.json", budgets, cache_dir=tmp_path)
    return json.loads(out.read_text()), fake.requests[before:]


def test_request_is_the_runs_prompt_plus_the_question_and_is_cached(llm_run: dict, tmp_path: Path) -> None:
    space = B.make("mlp-car").space
    good = _reply({"alpha": 0.1, "batch_size": 0.2, "depth": 0.1, "learning_rate_init": 0.5, "width": 0.1})
    doc, sent = _ask(llm_run, tmp_path, lambda r: good, [4, 6])
    spec = llm_run["spec"]
    assert list(doc) == [
        "benchmark",
        "method",
        "kind",
        "seed",
        "fingerprint",
        "hyperparameters",
        "anonymized",
        "statements",
    ]
    assert doc["anonymized"] is False
    assert (doc["benchmark"], doc["method"], doc["kind"], doc["seed"]) == ("mlp-car", "llm", "llm", 0)
    assert doc["fingerprint"] == spec.fingerprint == read_meta(llm_run["path"])["spec"]["fingerprint"]
    assert doc["hyperparameters"] == list(space)
    assert [(s["budget"], s["source"]) for s in doc["statements"]] == [(0, "prior"), (4, "model"), (6, "model")]

    # The run asked for trials 5..7 after 4..6 trials; budgets 4 and 6 send exactly those prompts + the question.
    run = llm_run["run_requests"]
    assert len(sent) == 3
    for req, run_req in ((sent[1], run[0]), (sent[2], run[2])):
        assert req["messages"][0] == run_req["messages"][0]  # the same system message
        assert _text(req) == f"{_text(run_req)}\n\n{request_text(space)}"
        assert req["seed"] == run_req["seed"] and req["model"] == run_req["model"]
    assert "History: no configurations evaluated yet." in _text(sent[0])
    assert _text(sent[0]).endswith(request_text(space))
    for req in sent:
        assert req["response_format"]["json_schema"]["schema"] == insight_schema(space)
    # weights first (a cut-off reply keeps them), the pair last; the pair is two of the space's names
    schema = insight_schema(space)
    assert list(schema["properties"]) == schema["required"] == ["weights", "best_region", "top_interaction"]
    assert schema["properties"]["top_interaction"] == {
        "type": "array",
        "items": {"enum": list(space)},
        "minItems": 2,
        "maxItems": 2,
    }

    for s in doc["statements"]:
        assert list(s) == STATEMENT_KEYS
        assert s["weights"] == {"alpha": 0.1, "batch_size": 0.2, "depth": 0.1, "learning_rate_init": 0.5, "width": 0.1}
        assert s["best_region"] == json.loads(good)["best_region"] and s["top_interaction"] == PAIR
        assert not s["repaired"] and s["repairs"] == [] and not s["fallback"]
        assert (s["attempts"], s["prompt_tokens"], s["completion_tokens"], s["cache_hits"]) == (1, 100, 20, 0)
        assert s["llm_latency"] > 0 and s["raw_reply"] == good
        assert math.isclose(s["llm_cost"], (100 * 0.01 + 20 * 0.03) / 1000, rel_tol=1e-12)

    # A rerun is answered from the reply cache: no request reaches the server, the same statements come back.
    (tmp_path / "0_insight.json").unlink()
    again, sent_again = _ask(llm_run, tmp_path, lambda r: pytest.fail("the cache must answer"), [4, 6])
    assert sent_again == []
    for a, b in zip(doc["statements"], again["statements"]):
        assert b["cache_hits"] == b["attempts"] == 1 and b["llm_latency"] == 0
        assert {k: v for k, v in a.items() if k not in ("cache_hits", "llm_latency")} == {
            k: v for k, v in b.items() if k not in ("cache_hits", "llm_latency")
        }


ALL = {"alpha": 0.2, "batch_size": 0.2, "depth": 0.2, "learning_rate_init": 0.2, "width": 0.2}
CASES = {
    "omitted": (
        _reply({"alpha": 0.5, "learning_rate_init": 0.5}),
        {"omitted": 3},
        {"alpha": 0.5, "learning_rate_init": 0.5},
    ),
    "invented": (_reply({**ALL, "dropout": 0.5}), {"invented": 1}, ALL),
    "negative": (
        _reply({**{k: 0.25 for k in ALL}, "alpha": -0.5}),
        {"negative": 1},
        {**{k: 0.25 for k in ALL}, "alpha": 0.0},
    ),
    "non_numeric": (
        _reply({"alpha": "high", "batch_size": "0.25", "depth": None, "learning_rate_init": 0.5, "width": 0.25}),
        {"non_numeric": 3},
        {"batch_size": 0.25, "learning_rate_init": 0.5, "width": 0.25},
    ),
    "unnormalized": (
        _reply({"alpha": 40, "batch_size": 30, "depth": 20, "learning_rate_init": 5, "width": 5}),
        {"unnormalized": 1},
        {"alpha": 0.4, "batch_size": 0.3, "depth": 0.2, "learning_rate_init": 0.05, "width": 0.05},
    ),
    "percent_strings": (
        _reply({k: "20%" for k in ALL}),
        {"non_numeric": 5},
        ALL,
    ),
    "top_level_and_no_region": (json.dumps(ALL), {"layout": 1, "region": 1, "interaction": 1}, ALL),
    "cut_off_in_region": (  # max_tokens hit inside best_region: its last complete member is kept
        _reply(ALL)[: _reply(ALL).index('"values"') + 5],
        {"layout": 1, "region": 1, "interaction": 1},
        ALL,
    ),
    "cut_off_in_pair": (  # the pair comes last: a cut there keeps the weights and the region
        _reply(ALL)[: _reply(ALL).index('"top_interaction"') + 25],
        {"layout": 1, "interaction": 1},
        ALL,
    ),
    "cut_off_in_weights": (
        _reply(ALL)[: _reply(ALL).index('"width"') + 7],
        {"layout": 1, "omitted": 1, "unnormalized": 1, "region": 1, "interaction": 1},
        {k: 0.25 for k in ALL if k != "width"},
    ),
    "pair_missing_only": (json.dumps({"weights": ALL, "best_region": REGION}), {"interaction": 1}, ALL),
    "pair_of_one_name": (_reply(ALL, pair=["depth", "DEPTH"]), {"interaction": 2}, ALL),
    "pair_renamed_and_invented": (_reply(ALL, pair=["Width", "momentum", "alpha"]), {"interaction": 2}, ALL),
    "wrapped_in_prose": ("Here you go:\n```json\n" + _reply(ALL) + "\n```", {"layout": 1}, ALL),
    "renamed_and_bad_region": (
        _reply({k.upper(): v for k, v in ALL.items()}, {"hyperparameter": "momentum", "values": [0.9]}),
        {"renamed": 5, "region": 1},
        ALL,
    ),
}

# The pair each case keeps: PAIR unless it was missing, cut off or unusable.
NO_PAIR = {"top_level_and_no_region", "cut_off_in_region", "cut_off_in_pair", "cut_off_in_weights"}
PAIRS = {**{c: None for c in NO_PAIR}, "pair_missing_only": None, "pair_of_one_name": None}
PAIRS["pair_renamed_and_invented"] = ["width", "alpha"]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_replies_are_repaired_counted_and_normalized(llm_run: dict, tmp_path: Path, case: str) -> None:
    text, kinds, expected = CASES[case]
    doc, sent = _ask(llm_run, tmp_path, lambda r: text, [5])
    assert len(sent) == 2  # the prior and budget 5: one call each, repaired without re-asking
    for s in doc["statements"]:
        assert s["repaired"] and not s["fallback"] and s["attempts"] == 1 and s["raw_reply"] == text
        assert Counter(note.split(":", 1)[0] for note in s["repairs"]) == kinds, s["repairs"]
        assert s["top_interaction"] == PAIRS.get(case, PAIR)
        assert set(s["weights"]) == set(doc["hyperparameters"])
        assert all(w >= 0 for w in s["weights"].values()) and math.isclose(sum(s["weights"].values()), 1.0)
        for name, w in s["weights"].items():
            assert math.isclose(w, expected.get(name, 0.0), abs_tol=1e-12), (name, w)


def test_unusable_replies_are_reasked_then_fall_back_to_uniform(llm_run: dict, tmp_path: Path) -> None:
    replies = {  # by conversation length: first ask, first re-ask, second re-ask
        2: "I think the learning rate matters most.",
        4: _reply({k: 0 for k in ALL}),
        6: json.dumps({"weights": "learning rate"}),
    }
    doc, sent = _ask(llm_run, tmp_path, lambda r: replies[len(r["messages"])], [5])
    assert len(sent) == 2 * 3  # two statements, 1 + max_reasks (2) calls each
    for s in doc["statements"]:
        assert s["fallback"] and not s["repaired"] and s["attempts"] == 3
        assert s["weights"] == uniform(B.make("mlp-car").space) and s["best_region"] is s["top_interaction"] is None
        assert s["repairs"] == [
            "reask: reply contains no JSON object",
            "reask: no hyperparameter has a positive weight",
            'reask: reply has no "weights" object with the hyperparameters',
        ]
        assert (s["prompt_tokens"], s["completion_tokens"]) == (300, 60)
    # each re-ask carries the model's reply and the error, after the unchanged original prompt
    second, third = sent[1]["messages"], sent[2]["messages"]
    assert second[:2] == sent[0]["messages"] and second[2] == {"role": "assistant", "content": replies[2]}
    assert second[3]["role"] == "user" and "could not be used: reply contains no JSON object" in second[3]["content"]
    assert "no hyperparameter has a positive weight" in third[5]["content"]

    # one bad reply, then a good one: two attempts, no fallback, the re-ask recorded
    good = _reply(ALL)
    doc, _ = _ask(llm_run, tmp_path / "recover", lambda r: good if len(r["messages"]) == 4 else "nope", [5])
    for s in doc["statements"]:
        assert s["attempts"] == 2 and not s["fallback"] and s["weights"] == ALL
        assert s["repairs"] == ["reask: reply contains no JSON object"] and not s["repaired"]


def test_bad_budgets_kinds_and_trajectories_fail_with_one_line(llm_run: dict, tmp_path: Path) -> None:
    spec, path = llm_run["spec"], llm_run["path"]
    with pytest.raises(ValueError, match=r"budgets \[8\] are outside 1..n_trials=7"):
        insight_to_file(spec, path, tmp_path / "x.json", [4, 8])
    with pytest.raises(ValueError, match=r"0.parquet: seed is 0 but the job at this path has 1"):
        insight_to_file(replace(spec, seed=1), path, tmp_path / "x.json", [4])
    rs = build_spec(benchmark="mlp-car", method="rs", kind="random_search", seed=0, n_trials=7, n_init=4)
    with pytest.raises(ValueError, match="method 'rs' \\(kind random_search\\) asks no LLM"):
        insight_to_file(rs, path, tmp_path / "x.json", [4])
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize("kind", ["mm_llm", "mm_llm_blank"])
def test_multimodal_insight_sends_the_runs_images(tmp_path: Path, kind: str) -> None:
    random.seed(1)
    good = _reply(ALL)
    script = Script()
    script.insight = lambda r: good
    run_file = tmp_path / "run" / "0.parquet"
    with FakeOpenAI(script) as fake:
        spec = _spec(kind, fake.url)
        run_to_file(spec, run_file)
        run_requests = list(fake.requests)
        kept = {p.name: p.read_bytes() for p in (tmp_path / "run" / "0_images").iterdir()}
        doc = json.loads(insight_to_file(spec, run_file, tmp_path / "0_insight.json", [4, 6]).read_text())
        sent = fake.requests[len(run_requests) :]
    assert [(s["budget"], s["source"]) for s in doc["statements"]] == [
        (0, "prior"),
        (4, "model"),
        (4, "model_text"),
        (6, "model"),
        (6, "model_text"),
    ]
    assert not any(s["fallback"] for s in doc["statements"])
    assert _pngs(sent[0]) == []  # the prior: nothing to plot yet, so no image
    # each budget is asked twice about one history: with the run's images, then the same text alone (a plain string,
    # exactly the llm kind's message), of the same model
    for with_images, text_only in ((sent[1], sent[2]), (sent[3], sent[4])):
        assert text_only["messages"][1]["content"] == _text(with_images) and _pngs(text_only) == []
        assert text_only["model"] == with_images["model"] and text_only["messages"][0] == with_images["messages"][0]
    for req, run_req, trial in ((sent[1], run_requests[0], 5), (sent[3], run_requests[2], 7)):
        pngs = _pngs(req)
        # the images the run sent (and kept) when it proposed that trial, in the same order, byte for byte
        assert pngs == _pngs(run_req) == [kept[f"trial_{trial:03d}_{name}.png"] for name in IMAGE_NAMES]
        for png in pngs:
            im = Image.open(io.BytesIO(png))
            im.load()
            assert im.format == "PNG" and im.size == (640, 480)
        assert (
            _text(req).startswith(_text(run_req))
            and req["messages"][1]["content"][1:] == (run_req["messages"][1]["content"][1:])
        )
    # asking wrote no image: the run's folder is exactly what the run kept
    assert {p.name: p.read_bytes() for p in (tmp_path / "run" / "0_images").iterdir()} == kept


def test_the_weights_question_asks_for_the_primary_estimand_main_effects() -> None:
    """The weights are scored first against main effects (``kendall_tau`` etc.) and only secondarily against
    total-order shares (``*_total_norm``), so the question must ask for the main effect, not "how much the loss
    depends on" a hyperparameter (closer to the total; issue 22)."""
    from hpo.insight.table import TOTAL_SUFFIX, score_columns

    space = CS.ConfigurationSpace()
    space.add(CS.UniformFloatHyperparameter("x", 0.0, 1.0), CS.UniformFloatHyperparameter("y", 0.0, 1.0))
    text = request_text(space)
    assert WEIGHTS_LINE in text and "explains on its own" in text and "averaged over the other" in text
    assert "depends on each" not in text
    assert "kendall_tau_norm" in score_columns() and f"kendall_tau{TOTAL_SUFFIX}" in score_columns()


def test_one_hyperparameter_ranges_and_a_schema_that_validates_its_replies() -> None:
    space = CS.ConfigurationSpace()
    space.add(CS.UniformFloatHyperparameter("x", 0.0, 10.0))
    parsed = parse_insight(
        space, '{"weights": {"x": 0.3}, "best_region": {"hyperparameter": "x", "low": 12, "high": 3}}'
    )
    assert parsed.error is None and parsed.weights == {"x": 1.0}
    assert parsed.best_region == {"hyperparameter": "x", "low": 3.0, "high": 10.0}  # clipped, ends in order
    assert [n.split(":")[0] for n in parsed.repairs] == ["unnormalized", "region"]  # no pair to ask for, none missed
    assert parsed.top_interaction is None and "top_interaction" not in request_text(space)
    assert list(insight_schema(space)["properties"]) == ["weights", "best_region"]
    assert uniform(space) == {"x": 1.0}

    # a reply cut off by max_tokens keeps every complete value, escaped quotes included
    cut = '{"weights": {"x": 0.3, "y\\"z": 1}, "best_region": {"hyperparameter": "x", "low": 2, "high": 7.'
    assert close_cut_off(cut) == '{"weights": {"x": 0.3, "y\\"z": 1}, "best_region": {"hyperparameter": "x", "low": 2}}'
    parsed = parse_insight(space, cut)
    assert parsed.weights == {"x": 1.0} and parsed.best_region == {"hyperparameter": "x", "low": 2.0, "high": 2.0}
    assert [n.split(":")[0] for n in parsed.repairs] == ["layout", "invented", "unnormalized"]
    assert close_cut_off('{"x": 1} and more') is None and close_cut_off("no json") is None
    assert parse_insight(space, '{"weights": {"x": 0}}').error == "no hyperparameter has a positive weight"

    # an ordinal region given by its ends means every value in between
    mlp = B.make("mlp-car").space
    depths = allowed_values(mlp["depth"])
    parsed = parse_insight(mlp, _reply(ALL, {"hyperparameter": "depth", "low": depths[-1], "high": depths[0]}))
    assert parsed.best_region == {"hyperparameter": "depth", "values": depths}

    # the schema is valid JSON Schema, accepts a well-formed reply of either region form and rejects a bad one
    for sp, region in ((space, {"hyperparameter": "x", "low": 1.0, "high": 2.0}), (mlp, json.loads(_reply(ALL)))):
        schema = insight_schema(sp)
        jsonschema.Draft202012Validator.check_schema(schema)
        reply = region if "weights" in region else {"weights": {"x": 1.0}, "best_region": region}
        jsonschema.validate(reply, schema)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**reply, "best_region": {"hyperparameter": "nope", "values": [1]}}, schema)


# -- the rule, end to end, with the real embedded model ---------------------------------------------------------------


@pytest.mark.slow
def test_rule_insight_with_the_real_embedded_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    wd = tmp_path / "study"
    wd.mkdir()
    cfg = {
        "benchmarks": ["nb201-cifar10"],
        "methods": {"llm": {"kind": "llm"}},
        "seeds": [0],
        "n_trials": 6,
        "n_init": 3,
        "budgets": [3],
    }
    (wd / "study.yaml").write_text(yaml.safe_dump(cfg))
    target = "results/runs/nb201-cifar10/llm/0_insight.json"
    snakemake(wd, target, "--configfile", str(wd / "study.yaml"))
    doc = json.loads((wd / target).read_text())
    hps = list(B.make("nb201-cifar10").space)
    assert doc["hyperparameters"] == hps and doc["kind"] == "llm"
    assert doc["fingerprint"] == read_meta(wd / "results/runs/nb201-cifar10/llm/0.parquet")["spec"]["fingerprint"]
    assert [(s["budget"], s["source"]) for s in doc["statements"]] == [(0, "prior"), (3, "model"), (6, "model")]
    for s in doc["statements"]:
        assert list(s) == STATEMENT_KEYS
        assert set(s["weights"]) == set(hps)  # every hyperparameter weighted, whatever the model wrote
        assert all(w >= 0 for w in s["weights"].values()) and abs(math.fsum(s["weights"].values()) - 1) < 1e-9
        assert s["attempts"] >= 1 and s["prompt_tokens"] > 100 * s["attempts"] and s["completion_tokens"] > 0
        assert s["cache_hits"] == 0 and s["llm_latency"] > 0 and s["raw_reply"]
    server_log = wd / "logs/insight/nb201-cifar10/llm/0.llama_server.log"
    assert server_log.stat().st_size > 0  # the job started its own server

    # A forced rerun is answered from the reply cache: no model call, so the server never even starts.
    server_log.unlink()
    out = snakemake(wd, target, "--forcerun", "insight", "--configfile", str(wd / "study.yaml")).stdout
    assert "rule insight:" in out and "rule run:" not in out
    again = json.loads((wd / target).read_text())
    assert server_log.stat().st_size == 0  # the server never started (Snakemake creates a missing log empty)
    for a, b in zip(doc["statements"], again["statements"]):
        assert b["cache_hits"] == b["attempts"] and b["llm_latency"] == 0
        assert (b["weights"], b["best_region"], b["raw_reply"]) == (a["weights"], a["best_region"], a["raw_reply"])

    # Other reporting budgets rerun only the insight job (the run is untouched), and the prior comes from the cache.
    (wd / "study.yaml").write_text(yaml.safe_dump({**cfg, "budgets": [2]}))
    out = snakemake(wd, target, "--configfile", str(wd / "study.yaml")).stdout
    assert "rule insight:" in out and "rule run:" not in out
    third = json.loads((wd / target).read_text())
    assert [s["budget"] for s in third["statements"]] == [0, 2, 6]
    assert third["statements"][0]["weights"] == doc["statements"][0]["weights"]
    assert third["statements"][0]["cache_hits"] == third["statements"][0]["attempts"]
