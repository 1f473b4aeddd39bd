"""``anonymize: true``: LLM methods see x1..xk, the harness, trajectories and insight files the real names.

The renaming is checked on ConfigSpace objects (types, bounds, scales, choices, conditions, forbidden clauses), on
fingerprints (unchanged when the option is off, and for classical kinds), and end to end against the local test
server (tests/fake_openai.py), which records every request body: with the option on no body names a real
hyperparameter, the text differs from the real-name run's text exactly by the names, the images only in their labels.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ConfigSpace import (
    Categorical,
    ConfigurationSpace,
    EqualsCondition,
    Float,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    ForbiddenLessThanRelation,
    Integer,
    OrdinalHyperparameter,
)
from fake_openai import FakeOpenAI, first_valid_config, vision_endpoint
from PIL import Image

import hpo.benchmarks as B
from hpo.core.trajectory import read, read_meta
from hpo.insight.ask import insight_to_file
from hpo.run.anonymize import Anonymized, name_map, rename_space
from hpo.run.harness import RunSpec, make_optimizer, run_to_file
from hpo.run.provenance import build_spec
from hpo.study.config import StudyConfigError, validate_study

N_TRIALS, N_INIT = 7, 4
MLP = ["alpha", "batch_size", "depth", "learning_rate_init", "width"]  # mlp-car, in the space's order


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, table_dir: Path) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _toy() -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=1)
    opt, lr, mom = Categorical("opt", ["sgd", "adam"]), Float("lr", (1e-5, 1), log=True), Float("mom", (0.0, 0.9))
    n, m, w = Integer("n", (1, 10)), Integer("m", (1, 10), log=True), OrdinalHyperparameter("w", [16, 32, 64])
    cs.add([opt, lr, mom, n, m, w])
    cs.add(EqualsCondition(mom, opt, "sgd"))
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(opt, "adam"), ForbiddenEqualsClause(n, 3)))
    cs.add(ForbiddenLessThanRelation(n, m))
    return cs


def test_the_renamed_space_differs_only_in_names_and_samples_the_same() -> None:
    cs = _toy()
    mapping = name_map(cs)
    assert mapping == {"x1": "lr", "x2": "m", "x3": "n", "x4": "opt", "x5": "w", "x6": "mom"}  # the space's order
    anon = rename_space(cs, mapping)
    assert list(anon) == list(mapping)
    back = rename_space(anon, {real: x for x, real in mapping.items()})
    assert back.to_serialized_dict() == cs.to_serialized_dict()  # types, bounds, log, choices, defaults, rules
    assert [str(c) for c in anon.conditions] == ["x6 | x4 == 'sgd'"]
    assert sorted(str(f) for f in anon.forbidden_clauses) == [
        "(Forbidden: x4 == 'adam' && Forbidden: x3 == 3)",
        "Forbidden: x3 < x2",
    ]
    real = [dict(c) for c in cs.sample_configuration(20)]
    renamed = [{mapping[k]: v for k, v in dict(c).items()} for c in anon.sample_configuration(20)]
    assert renamed == real  # the original's random state: the same draws, the same inactive hyperparameters


def test_ten_or_more_are_zero_padded_so_the_order_is_kept() -> None:
    cs = ConfigurationSpace()
    cs.add([Float(f"h{c}", (0, 1)) for c in "abcdefghijkl"])
    mapping = name_map(cs)
    assert list(mapping) == [f"x{i:02d}" for i in range(1, 13)] and list(mapping.values()) == list(cs)
    assert list(rename_space(cs, mapping)) == list(mapping)


@pytest.mark.parametrize("benchmark", ["mlp-car", "fcnet-naval_propulsion", "nb201-cifar10", "synth-hartmann3"])
def test_benchmark_spaces_round_trip(benchmark: str) -> None:
    space = B.make(benchmark).space
    mapping = name_map(space)
    anon = rename_space(space, mapping)
    assert not set(anon) & (set(space) - set(mapping))  # no real name left (synthetic x0.. overlap is a rename)
    assert rename_space(anon, {r: x for x, r in mapping.items()}).to_serialized_dict() == space.to_serialized_dict()


def _endpoint(url: str) -> dict[str, Any]:
    return vision_endpoint(url)


def _spec(kind: str, url: str, anonymize: bool = False) -> RunSpec:
    params = {"endpoint": "fake", "endpoint_config": _endpoint(url), "cache": "off"}
    return build_spec(
        benchmark="mlp-car",
        method=kind,
        kind=kind,
        seed=0,
        n_trials=N_TRIALS,
        n_init=N_INIT,
        params=params if kind != "random_search" else None,
        anonymize=anonymize,
    )


@pytest.mark.parametrize("kind", ["llm", "mm_llm", "random_search"])
def test_the_option_enters_a_fingerprint_only_when_true_and_only_for_llm_kinds(kind: str) -> None:
    url = "http://127.0.0.1:9/v1"
    off, unset, on = _spec(kind, url, False), _spec(kind, url), _spec(kind, url, True)
    assert off == unset and "anonymize" not in off.as_dict() and not off.anonymize
    assert set(off.as_dict()) == set(vars(off)) - {"anonymize"}
    if kind == "random_search":  # names do not matter to it: the option is dropped
        assert on == off
    else:
        assert on.anonymize and on.as_dict()["anonymize"] is True
        assert on.provenance["params"] != off.provenance["params"] and on.fingerprint != off.fingerprint
        assert {k: v for k, v in on.provenance.items() if k != "params"} == {
            k: v for k, v in off.provenance.items() if k != "params"
        }


def test_study_option_is_a_boolean_defaulting_to_false(tmp_path: Path) -> None:
    cfg = {
        "benchmarks": ["mlp-car"],
        "methods": {"rs": {"kind": "random_search"}},
        "seeds": [0],
        "n_trials": 3,
        "n_init": 1,
        "results": str(tmp_path / "results"),
        "logs": str(tmp_path / "logs"),
    }
    assert validate_study(cfg)["anonymize"] is False
    with pytest.raises(StudyConfigError, match=r"^config error: anonymize: 'yes' is not of type 'boolean'$"):
        validate_study({**cfg, "anonymize": "yes"})


def _without_images(body: dict[str, Any]) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "<png>", json.dumps(body))


def _text(request: dict[str, Any]) -> str:
    content = request["messages"][1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def _pngs(request: dict[str, Any]) -> list[bytes]:
    content = request["messages"][1]["content"]
    return [] if isinstance(content, str) else [base64.b64decode(p["image_url"]["url"][22:]) for p in content[1:]]


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.size == (640, 480)
        return np.asarray(im.convert("L"), dtype=int)


# What the scripted model states in an anonymized run: x4 is learning_rate_init, x2 batch_size, x3 depth.
ANON_REPLY = {
    "weights": {"x1": 0.1, "x2": 0.15, "x3": 0.05, "x4": 0.6, "x5": 0.1},
    "best_region": {"hyperparameter": "x3", "values": [1, 2]},
    "top_interaction": ["x4", "x2"],
}


def _script(request: dict[str, Any]) -> str:
    if "weights" in request["response_format"]["json_schema"]["schema"]["properties"]:
        return json.dumps(ANON_REPLY)
    return first_valid_config(request)


def test_an_anonymized_run_names_no_real_hyperparameter_and_maps_everything_back(tmp_path: Path) -> None:
    sent: dict[str, list[dict[str, Any]]] = {}
    with FakeOpenAI(_script) as fake:
        for label, anonymize in (("real", False), ("anon", True)):
            spec = _spec("mm_llm", fake.url, anonymize)
            before = len(fake.requests)
            run_to_file(spec, tmp_path / label / "0.parquet")
            if anonymize:
                insight_to_file(spec, tmp_path / label / "0.parquet", tmp_path / label / "0_insight.json", [4, 6])
            sent[label] = fake.requests[before:]
    mapping = dict(zip([f"x{i}" for i in range(1, 6)], MLP))
    assert name_map(B.make("mlp-car").space) == mapping

    # no request body (text, schema, re-asks) contains a real name; the insight requests are asked over x1..x5
    # (insight: the prior, then each budget with and without images)
    assert len(sent["anon"]) == (N_TRIALS - N_INIT) + 5 and len(sent["real"]) == N_TRIALS - N_INIT
    for body in sent["anon"]:
        dumped = _without_images(body)
        assert not [name for name in MLP if name in dumped], dumped[:300]
    # the text is the real-name run's text with x1..x5 in place of the names, and the images differ in labels only
    rename = {real: x for x, real in mapping.items()}
    for real, anon in zip(sent["real"], sent["anon"]):
        assert re.sub(r"\b(" + "|".join(MLP) + r")\b", lambda m: rename[m.group(1)], _text(real)) == _text(anon)
        shown, hidden = _pngs(real), _pngs(anon)
        assert len(shown) == len(hidden) == 3
        assert shown[1] == hidden[1]  # best so far: no hyperparameter on it
        for a, b in ((shown[0], hidden[0]), (shown[2], hidden[2])):
            differ = _pixels(a) != _pixels(b)
            assert 0 < differ.mean() < 0.03  # titles and axis labels only: the plotted data are the same

    # the trajectory keeps the real names and the same configurations; the mapping is in its metadata
    meta = read_meta(tmp_path / "anon" / "0.parquet")
    assert meta["name_map"] == mapping and meta["spec"]["anonymize"] is True
    assert "name_map" not in read_meta(tmp_path / "real" / "0.parquet")
    configs = {label: read(tmp_path / label / "0.parquet").column("config").to_pylist() for label in sent}
    assert configs["anon"] == configs["real"] and all(set(json.loads(c)) == set(MLP) for c in configs["anon"])

    # the insight file states under the real names
    doc = json.loads((tmp_path / "anon" / "0_insight.json").read_text())
    assert doc["anonymized"] is True and doc["name_map"] == mapping and doc["hyperparameters"] == MLP
    for s in doc["statements"]:
        assert s["weights"] == {
            "alpha": 0.1,
            "batch_size": 0.15,
            "depth": 0.05,
            "learning_rate_init": 0.6,
            "width": 0.1,
        }
        assert s["best_region"] == {"hyperparameter": "depth", "values": [1, 2]}
        assert s["top_interaction"] == ["learning_rate_init", "batch_size"]
        assert s["raw_reply"] == json.dumps(ANON_REPLY) and not s["fallback"]


def test_classical_kinds_ignore_the_option(tmp_path: Path) -> None:
    spec = RunSpec(benchmark="mlp-car", method="rs", kind="random_search", seed=0, n_trials=5, n_init=2, anonymize=True)
    bench = B.make("mlp-car")
    opt = make_optimizer(spec, bench)
    assert not isinstance(opt, Anonymized) and list(opt.space) == MLP
    run_to_file(spec, tmp_path / "0.parquet")
    assert "name_map" not in read_meta(tmp_path / "0.parquet")


def _any_kind(request: dict[str, Any]) -> str:
    """Proposals and insight questions from the schema; LLAMBO's surrogate gets one loss per candidate. The
    published llambo sends no schema: its sampler gets the allowed values the prompt lists (a new one each call)."""
    if "response_format" not in request:
        text = request["messages"][-1]["content"]
        if "Recommend a configuration" not in text:
            return "## 0.700000 ##"
        grids = re.findall(r"^- (\w+):  \(ordinal, must take value in (\[.*\])\)$", text, flags=re.M)
        k = len(text) % 3  # not an evaluated point every time: the sampler resamples until enough are new
        return "## " + ", ".join(f"{n}: {json.loads(v)[k + i % 2]}" for i, (n, v) in enumerate(grids)) + " ##"
    props = request["response_format"]["json_schema"]["schema"]["properties"]
    if "losses" in props:  # llambo_lite: one batched request per variant
        return json.dumps({"losses": [0.3 + 0.01 * i for i in range(props["losses"].get("minItems", 1))]})
    if "loss" in props:  # llambo: one prediction per (candidate, template) and sample
        return json.dumps({"loss": 0.3})
    return first_valid_config(request)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("llm", {}),
        ("llm_tpe", {"mix": "alternate", "llm_every": 1}),
        ("llambo", {}),
        ("llambo_lite", {}),
        ("mm_llm_blank", {}),
    ],
)
def test_every_llm_kind_is_anonymized_at_the_harness(tmp_path: Path, kind: str, params: dict[str, Any]) -> None:
    with FakeOpenAI(_any_kind) as fake:
        p = {"endpoint": "fake", "endpoint_config": _endpoint(fake.url), "cache": "off", **params}
        spec = build_spec(
            benchmark="mlp-car",
            method=kind,
            kind=kind,
            seed=0,
            n_trials=N_TRIALS,
            n_init=N_INIT,
            params=p,
            anonymize=True,
        )
        run_to_file(spec, tmp_path / "0.parquet")
        bodies = [_without_images(b) for b in fake.requests]
    assert bodies and all("x4" in b for b in bodies)  # every request names the hyperparameters, as x1..x5
    assert not {name for b in bodies for name in MLP if name in b}
    table = read(tmp_path / "0.parquet")
    assert all(set(json.loads(c)) == set(MLP) for c in table.column("config").to_pylist())
    assert "llm" in table.column("origin").to_pylist()  # the model's proposals were translated back and evaluated
    assert read_meta(tmp_path / "0.parquet")["name_map"] == name_map(B.make("mlp-car").space)


def test_a_multi_fidelity_proposal_keeps_its_fidelity_and_continuation_through_the_renaming() -> None:
    """The wrapper renames the configuration only: the fidelity and ``continues`` the inner kind set go through."""
    from types import SimpleNamespace

    from hpo.optimizers.base import Proposal

    space = _toy()
    mapping = name_map(space)
    anon_space = rename_space(space, mapping)
    anon_config = anon_space.sample_configuration()
    asked = Proposal(anon_config, "llm", {"llm_calls": 1}, fidelity=3.0, continues=True)
    inner = SimpleNamespace(context=None, seed=0, n_trials=4, params={}, ask=lambda: asked)
    proposal = Anonymized(inner, space, mapping).ask()  # type: ignore[arg-type]
    assert (proposal.fidelity, proposal.continues, proposal.origin, proposal.extras) == (
        3.0,
        True,
        "llm",
        {"llm_calls": 1},
    )
    assert dict(proposal.config) == {mapping[k]: v for k, v in dict(anon_config).items()}
