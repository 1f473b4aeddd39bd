"""``llm_mf`` / ``mm_llm_mf``: the model decides each evaluation and its fidelity level; Hyperband where it cannot.

A scripted endpoint (tests/fake_openai.py) answers known decisions, so the right rows are known: the evaluated
fidelities follow its decisions exactly, refused decisions (a level that does not exist, an overspend, an unknown
id, no JSON) fall back to Hyperband's next step and say why, the image shows the curves of the history the request
was about (decoded from the PNG the server received), and two processes write identical trajectories. Everything
else is real: the harness, the Parquet file, the mfh3 benchmark and its cost model.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI, vision_endpoint

import hpo.benchmarks as B
from hpo.benchmarks.mf_synthetic import fidelity_cost
from hpo.core.space import space_config
from hpo.core.trajectory import read
from hpo.optimizers import params_schema
from hpo.optimizers.hb_schedule import fidelity_levels
from hpo.run.harness import RunSpec, make_optimizer, run, run_to_file
from hpo.study.config import fill_defaults

BENCH = "mfh3-good"  # z in [1, 100], cost 0.05 + 0.95 (z/100)^2; levels 100/81, 100/27, 100/9, 100/3, 100
LEVELS = fidelity_levels(1.0, 100.0, 3)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _spec(url: str, kind: str = "llm_mf", n_trials: int = 3, **params: Any) -> RunSpec:
    given = {"cache": "off", "endpoint": "fake", "endpoint_config": vision_endpoint(url), **params}
    p = fill_defaults(params_schema(kind), given)
    return RunSpec(benchmark=BENCH, method=kind, kind=kind, seed=0, n_trials=n_trials, n_init=1, params=p)


def known(i: int) -> dict[str, float]:
    """The i-th new configuration the scripted model proposes (distinct, inside [0, 1]^3)."""
    return {"x0": round(0.05 + 0.09 * i, 4), "x1": round(0.9 - 0.07 * i, 4), "x2": 0.5}


def new(level: int, i: int) -> dict[str, Any]:
    return {"rationale": f"new {i} at {level}", "action": "new", "level": level, "config": known(i)}


def promote(i: int) -> dict[str, Any]:
    return {"rationale": f"promote {i}", "action": "promote", "id": i}


class Script:
    """A fake model that answers the scripted replies in order (a dict as JSON, a str verbatim)."""

    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.n = 0

    def __call__(self, request: dict[str, Any]) -> str:
        reply = self.replies[self.n]
        self.n += 1
        return reply if isinstance(reply, str) else json.dumps(reply)


def text_of(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


PROMOTING = [new(2, 0), new(1, 1), promote(1), promote(2), promote(1), new(5, 2)]
# what each decision evaluates: (configuration, level index)
FOLLOWED = [(0, 1), (1, 0), (0, 2), (1, 1), (0, 3), (2, 4)]


@pytest.mark.parametrize("promotion", ["restart", "continue"])
def test_the_evaluated_fidelities_follow_the_models_decisions(tmp_path: Path, promotion: str) -> None:
    script = Script(PROMOTING)
    with FakeOpenAI(script) as fake:
        out = run_to_file(_spec(fake.url, max_llm_calls=6, promotion=promotion), tmp_path / "0.parquet")
        requests = fake.requests
    rows = read(out).to_pylist()
    assert len(requests) == 6
    for row, (i, level) in zip(rows, FOLLOWED):
        assert json.loads(row["config"]) == known(i)
        assert row["fidelity"] == pytest.approx(LEVELS[level], rel=1e-12)
        assert row["origin"] == "llm" and row["attempts"] == 1 and row["fallback_reason"] is None
    # who pays what: restart pays the level's full cost, continue the increment over the previous evaluation
    paid = [fidelity_cost(LEVELS[level]) for _, level in FOLLOWED]
    if promotion == "continue":
        paid[2] -= fidelity_cost(LEVELS[1])  # configuration 1 went from level 2 to 3
        paid[3] -= fidelity_cost(LEVELS[0])
        paid[4] -= fidelity_cost(LEVELS[2])
    assert [r["eval_cost"] for r in rows[:6]] == pytest.approx(paid)
    # then Hyperband (origin optimizer, no call) until the budget is spent
    assert {r["origin"] for r in rows[6:]} == {"optimizer"} and all(r["attempts"] is None for r in rows[6:])
    assert rows[-1]["cum_eval_cost"] >= 3 - 1e-9 > rows[-2]["cum_eval_cost"]
    # the prompt: the ladder with its costs, the budget left, each configuration's loss at each level it reached
    third = text_of(requests[2])
    assert "1: fidelity 1.235, cost 0.05014" in third and "5: fidelity 100, cost 1" in third
    left = 3 - fidelity_cost(LEVELS[1]) - fidelity_cost(LEVELS[0])
    assert f"Budget left: {left:.4g} of 3 (spent {3 - left:.4g})" in third
    assert "id,x0,x1,x2,loss@1.235,loss@3.704" in third
    assert f"\n1,0.05,0.9,0.5,,{rows[0]['loss']:.6g}" in third and f"\n2,0.14,0.83,0.5,{rows[1]['loss']:.6g}," in third
    pays = "only what the higher level costs" if promotion == "continue" else "the full cost of the higher level"
    assert f"A promotion pays {pays}" in third
    assert "Hyperband would evaluate a random new configuration at level 1 next" in third
    assert '"config": {<every hyperparameter>: <allowed value>}, "id": <id in the history>}' in third
    assert "Propose the next configuration" not in third and "Budget: 3 full evaluations' worth of cost." in third
    # the reply schema: every field required; only "new" before any evaluation, ids up to the history's size
    schemas = [r["response_format"]["json_schema"]["schema"] for r in requests]
    assert schemas[0]["properties"]["action"]["enum"] == ["new"] and "id" not in schemas[0]["properties"]
    assert schemas[2]["required"] == ["rationale", "action", "level", "config", "id"]
    assert schemas[2]["properties"]["id"]["maximum"] == 2 and schemas[2]["properties"]["level"]["maximum"] == 5


def test_refused_decisions_fall_back_to_hyperband_and_say_why() -> None:
    replies = [
        new(9, 0),  # no level 9
        new(1, 0),
        new(5, 1),  # costs 1.0; 1 - 0.0501 - 0.0501 is left
        promote(7),  # no id 7
        "I would rather not say",
        {"rationale": "done", "action": "stop"},
        new(1, 0),  # evaluated already (deterministic benchmark)
    ]
    with FakeOpenAI(Script(replies)) as fake:
        table, _ = run(_spec(fake.url, n_trials=1, max_llm_calls=7), B.make(BENCH))
    rows = table.to_pylist()
    reasons = [r["fallback_reason"] for r in rows[:7]]
    assert [r["origin"] for r in rows[:7]] == [
        "fallback",
        "llm",
        "fallback",
        "fallback",
        "fallback",
        "fallback",
        "fallback",
    ]
    assert reasons[0] == "level 9 does not exist (levels 1 to 5)" and reasons[1] is None
    assert reasons[2] == "it costs 1, more than the budget left (0.8997)"
    assert reasons[3] == "configuration id 7 does not exist (ids 1 to 3)"
    assert reasons[4] == "reply contains no JSON object"
    assert reasons[5] == '"action" must be "new" or "promote", not "stop"'
    assert reasons[6].startswith("that configuration was already evaluated (id 2)")
    assert rows[6]["duplicates"] == 1 and rows[1]["duplicates"] == 0
    # a fallback is Hyperband's next step: a seeded random new configuration at the first rung's fidelity
    fallbacks = [r for r in rows[:7] if r["origin"] == "fallback"]
    assert all(r["fidelity"] == pytest.approx(LEVELS[0]) and r["attempts"] == 1 for r in fallbacks)
    assert len({r["config"] for r in rows[:7]}) == 7
    assert all(r["raw_reply"] is not None for r in rows[:7])
    # the decisions the model made never exceed the budget
    assert all(r["cum_eval_cost"] <= 1 for r in rows if r["origin"] == "llm")


def test_a_refusal_is_re_asked_with_its_reason() -> None:
    with FakeOpenAI(Script([new(9, 0), new(3, 0)])) as fake:
        table, _ = run(_spec(fake.url, n_trials=1, max_llm_calls=2, max_reasks=1), B.make(BENCH))
        requests = fake.requests
    first = table.to_pylist()[0]
    assert len(requests) == 2 and first["attempts"] == 2 and first["origin"] == "llm"
    assert first["fidelity"] == pytest.approx(LEVELS[2])
    assert "Your decision could not be followed: level 9 does not exist" in requests[1]["messages"][-1]["content"]


def _pngs(request: dict[str, Any]) -> list[Any]:
    """The images a request carried, decoded (each must be a valid PNG)."""
    from PIL import Image

    out = []
    for part in request["messages"][-1]["content"][1:]:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        raw = base64.b64decode(url.split(",", 1)[1])
        assert raw[:8] == b"\x89PNG\r\n\x1a\n"
        image = Image.open(io.BytesIO(raw))
        image.load()
        out.append(image.convert("RGB"))
    return out


def _palette_colours(image: Any) -> list[int]:
    """Which line colours of the curves (by index) the image holds, counting only colours with many pixels."""
    import numpy as np

    from hpo.llm.curves import colours

    pixels = np.asarray(image)
    return [
        i for i, rgb in enumerate(colours()) if np.all(pixels == [round(255 * c) for c in rgb], axis=-1).sum() >= 20
    ]


def test_the_image_shows_the_curves_of_the_history_it_was_asked_about(tmp_path: Path) -> None:
    decisions = [new(1, 0), new(1, 1), new(2, 2), promote(1), promote(1), new(1, 3)]
    sent: dict[str, list[dict[str, Any]]] = {}
    for kind in ("llm_mf", "mm_llm_mf", "mm_llm_mf_blank"):
        with FakeOpenAI(Script(list(decisions))) as fake:
            out = run_to_file(_spec(fake.url, kind, max_llm_calls=6), tmp_path / kind / "0.parquet")
            sent[kind] = fake.requests
        assert [r["origin"] for r in read(out).to_pylist()[:6]] == ["llm"] * 6
    # the text part is llm_mf's prompt byte for byte; only the image differs
    assert [text_of(r) for r in sent["mm_llm_mf"]] == [r["messages"][-1]["content"] for r in sent["llm_mf"]]
    assert [text_of(r) for r in sent["mm_llm_mf_blank"]] == [text_of(r) for r in sent["mm_llm_mf"]]
    assert len(sent["mm_llm_mf"][0]["messages"][-1]["content"]) == 1  # no image: nothing to draw before trial 1
    for n, request in enumerate(sent["mm_llm_mf"][1:], start=1):
        (image,) = _pngs(request)
        assert image.size == (640, 480)
        configurations = min(n, 3) if n < 5 else 3  # requests 4 and 5 follow promotions: still 3 configurations
        assert _palette_colours(image) == list(range(configurations)), f"request {n + 1}"
    for request in sent["mm_llm_mf_blank"][1:]:
        (image,) = _pngs(request)
        assert image.size == (640, 480) and image.getextrema() == ((255, 255), (255, 255), (255, 255))
    kept = sorted(p.name for p in (tmp_path / "mm_llm_mf" / "0_images").iterdir())
    assert kept == [f"trial_{t:03d}_curves.png" for t in range(2, 7)]


def test_the_line_of_a_promoted_configuration_spans_its_levels() -> None:
    """The curves are the history's: a configuration evaluated at 3 levels draws pixels across 3 level ticks."""
    import numpy as np
    from PIL import Image

    from hpo.llm.curves import colours, learning_curves

    history = {"a": {LEVELS[0]: 0.9, LEVELS[1]: 0.5, LEVELS[2]: 0.2}, "b": {LEVELS[0]: 0.7}}
    image = np.asarray(Image.open(io.BytesIO(learning_curves(history, 10, 10, LEVELS, "z"))).convert("RGB"))
    first, second = (np.all(image == [round(255 * c) for c in rgb], axis=-1).nonzero()[1] for rgb in colours()[:2])
    assert first.max() - first.min() > 200 and second.max() - second.min() < 20  # a line vs a single marker
    assert learning_curves(history, 10, 10, LEVELS, "z") == learning_curves(history, 10, 10, LEVELS, "z")


def test_a_replayed_trajectory_rebuilds_the_runs_prompts() -> None:
    """The insight job tells the trajectory without asking: each trial is placed at the level its cost paid."""
    bench = B.make(BENCH)
    with FakeOpenAI(Script(list(PROMOTING))) as fake:
        spec = _spec(fake.url, max_llm_calls=6)
        rows = run(spec, bench)[0].to_pylist()
        sent = [r["messages"][-1]["content"] for r in fake.requests]
        opt = make_optimizer(spec, bench)
        for n, text in enumerate(sent):
            assert opt.prompt_text(opt.design_size()) == text, f"request {n + 1}"
            opt.tell(space_config(bench.space, json.loads(rows[n]["config"])), rows[n]["loss"], rows[n]["eval_cost"])
        opt.close()


def test_identical_in_two_processes(tmp_path: Path) -> None:
    script = Script([])
    outs = []
    with FakeOpenAI(script) as fake:
        for hash_seed in ("0", "4242"):
            script.replies, script.n = list(PROMOTING), 0
            spec = _spec(fake.url, max_llm_calls=6)
            out = tmp_path / f"{hash_seed}.parquet"
            code = (
                "import json, sys; from hpo.run.harness import RunSpec, run_to_file; "
                "run_to_file(RunSpec(**json.loads(sys.argv[1])), sys.argv[2])"
            )
            env = {**os.environ, "PYTHONHASHSEED": hash_seed}
            cmd = [sys.executable, "-c", code, json.dumps(spec.as_dict()), str(out)]
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
            assert proc.returncode == 0, proc.stderr[-2000:]
            outs.append(read(out))
    a, b = outs
    assert a.num_rows == b.num_rows > 6
    for name in a.column_names:
        if name not in {"optimizer_time", "wall_time", "llm_latency"}:
            assert a.column(name).equals(b.column(name)), name


def test_calls_per_run_and_the_registry() -> None:
    from hpo.optimizers import LLM_KINDS, VISION_KINDS, get_class
    from hpo.optimizers.registry import get

    assert get_class("llm_mf").calls_per_run(fill_defaults(params_schema("llm_mf"), {})) == 8
    assert get_class("mm_llm_mf").calls_per_run({"max_llm_calls": 2}) == 2
    assert {"llm_mf", "mm_llm_mf", "mm_llm_mf_blank"} <= set(LLM_KINDS)
    assert {"mm_llm_mf", "mm_llm_mf_blank"} <= set(VISION_KINDS) and "llm_mf" not in VISION_KINDS
    assert [get(k).role for k in ("mm_llm_mf", "mm_llm_mf_blank", "llm_mf")] == ["image", "blank", "text"]
    assert "llm_per_bracket" not in params_schema("llm_mf")["properties"]


def test_needs_a_multi_fidelity_benchmark() -> None:
    spec = RunSpec(
        benchmark="synth-branin",
        method="llm_mf",
        kind="llm_mf",
        seed=0,
        n_trials=3,
        n_init=1,
        params=fill_defaults(
            params_schema("llm_mf"), {"endpoint": "fake", "endpoint_config": vision_endpoint("http://127.0.0.1:9")}
        ),
    )
    with pytest.raises(ValueError, match="kind llm_mf needs a multi-fidelity benchmark; synth-branin has no fidelity"):
        run(spec, B.make("synth-branin"))
