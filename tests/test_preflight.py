"""Endpoint preflight (issue 17): against scripted endpoints (tests/fake_endpoints.py) each fault stops the workflow
with one line before any run job, nothing under results/runs/; a working endpoint yields its preflight document,
and the run's first proposal is then a cache hit (the preflight sent the run's real first prompt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fake_endpoints as fe
import pytest
import yaml
from conftest import snakemake
from fake_openai import FakeOpenAI

from hpo.__main__ import main
from hpo.llm.ledger import SPEND_ENV


def _study(tmp: Path, url: str, kind: str = "llm", **endpoint: Any) -> Path:
    study = {
        "benchmarks": ["synth-branin"],
        "methods": {kind: {"kind": kind, "params": {"endpoint": "fake"}}},
        "seeds": [0],
        "n_trials": 3,
        "n_init": 2,
        "budgets": [3],
        "results": str(tmp / "results"),
        "logs": str(tmp / "logs"),
        "endpoints": {
            "fake": {"base_url": url, "model": fe.MODEL, "api_key_env": "HPO_FAKE_KEY", "retries": 0}
            | {"timeout": 20.0, "vision": kind == "mm_llm", **endpoint}
        },
    }
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_FAKE_KEY", fe.KEY)
    monkeypatch.setenv(SPEND_ENV, "{}")  # check-endpoint installs the study's caps; undone after each test


def test_a_working_vision_endpoint_passes_and_its_first_prompt_is_the_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI(fe.good) as fake:
        study = _study(tmp_path, fake.url, kind="mm_llm", price_prompt_per_1k=0.15, price_completion_per_1k=0.6)
        assert main(["check-endpoint", "--configfile", str(study)]) == 0
        assert len(fake.requests) == 3  # proposal, insight, digit
        doc = json.loads((tmp_path / "results" / "endpoints" / "fake.json").read_text())
        assert (doc["model"], doc["dialect"], doc["vision_verified"]) == (fe.MODEL, "json_schema", True)
        assert doc["calls"]["proposal"]["usable"] and doc["calls"]["insight"]["usable"]
        assert doc["prompt_tokens_per_call"] == 100 and doc["cost_per_call"] == pytest.approx(0.027)
        assert doc["latency_s"] > 0
        line = capsys.readouterr().out.strip()
        assert line.startswith("fake: ok, model served-model, dialect json_schema, vision verified, latency")
        # Rerun: cached by endpoint identity, no call.
        assert main(["check-endpoint", "--configfile", str(study)]) == 0 and len(fake.requests) == 3
        assert "fake: ok (cached)" in capsys.readouterr().out
        # The run's first proposal (trial n_init + 1) is the preflight's request: a cache hit, no new call.
        from hpo.run.harness import run_to_file
        from hpo.study.cli import load_study
        from hpo.study.preflight import endpoint_spec

        spec = endpoint_spec(load_study(study), "fake")
        run_to_file(spec, tmp_path / "run.parquet", cache_dir=tmp_path / "results" / "llm_cache")
        assert len(fake.requests) == 3


def _rejects_key(fake_box: list[FakeOpenAI]) -> Any:
    def reply(request: dict[str, Any]) -> Any:
        if fake_box[0].headers[-1].get("authorization") != f"Bearer {fe.KEY}":
            return (401, "Incorrect API key provided: sk-wrong***")
        return fe.good(request)

    return reply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "says"),
    [
        (
            "wrong-dialect",
            "structured_output json_schema fails (the server rejects it: ",
        ),
        ("unknown-model", 'HTTP 404, content-type application/json, body b\'{"error": {"message": "The model'),
        ("bad-key", 'HTTP 401, content-type application/json, body b\'{"error": {"message": "Incorrect API key'),
        ("ignores-images", "the endpoint does not read images: asked which digit a test image shows"),
    ],
)
def test_a_broken_endpoint_stops_the_workflow_before_any_run_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, says: str
) -> None:
    box: list[FakeOpenAI] = []
    reply = {
        "wrong-dialect": fe.json_object_only,
        "unknown-model": fe.unknown_model,
        "bad-key": _rejects_key(box),
        "ignores-images": fe.ignores_images,
    }[case]
    extra: dict[str, Any] = {"model": "gpt-typo"} if case == "unknown-model" else {}
    if case == "bad-key":
        monkeypatch.setenv("HPO_FAKE_KEY", "sk-wrong-key")
    with FakeOpenAI(reply) as fake:
        box.append(fake)
        kind = "mm_llm" if case == "ignores-images" else "llm"
        study = _study(tmp_path, fake.url, kind=kind, **extra)
        target = f"{tmp_path}/results/runs/synth-branin/{kind}/0.parquet"  # its first dependency is the preflight
        proc = snakemake(tmp_path, target, "--configfile", str(study), check=False)
    assert proc.returncode != 0
    lines = [x for x in proc.stdout.splitlines() if "endpoint 'fake'" in x and says in x]
    assert lines, proc.stdout[-4000:]
    if case == "wrong-dialect":
        assert "structured_output json_object works: set `structured_output: json_object`" in lines[0]
    assert not (tmp_path / "results" / "runs").exists()
    assert fake.requests and all(r["model"] == extra.get("model", fe.MODEL) for r in fake.requests)


@pytest.mark.slow
def test_the_embedded_model_passes_the_preflight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real llama.cpp server with SmolLM2 (started by the preflight itself): both replies parse under its
    dialect (json_object), and latency and tokens are measured."""
    pytest.importorskip("llama_cpp")
    study = {"benchmarks": ["synth-branin"], "methods": {"llm": {"kind": "llm"}}, "seeds": [0], "n_trials": 3}
    study |= {"n_init": 2, "results": str(tmp_path / "results"), "llm_cache": str(tmp_path / "cache")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    assert main(["check-endpoint", "--configfile", str(tmp_path / "study.yaml"), "embedded"]) == 0
    doc = json.loads((tmp_path / "results" / "endpoints" / "embedded.json").read_text())
    assert (doc["model"], doc["dialect"], doc["vision_verified"]) == ("SmolLM2-135M-Instruct", "json_object", None)
    assert set(doc["calls"]) == {"proposal", "insight"} and doc["latency_s"] > 0
    assert all(c["prompt_tokens"] > 100 and c["completion_tokens"] > 0 for c in doc["calls"].values())
    assert "embedded: ok, model SmolLM2-135M-Instruct, dialect json_object, vision off" in capsys.readouterr().out
