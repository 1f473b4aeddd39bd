"""LLM optimizers against a local OpenAI-compatible test server (tests/fake_openai.py): the multimodal request
contents, repair / re-ask / fallback, and endpoint faults. The real-model path is in test_llm_embedded.py."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, first_valid_config, vision_endpoint
from PIL import Image

import hpo.benchmarks as B
from hpo.llm.client import EndpointError
from hpo.optimizers import params_schema
from hpo.run.harness import RunSpec, run, run_to_file
from hpo.study.config import fill_defaults


def _spec(kind: str, url: str, n_trials: int = 7, **params: Any) -> RunSpec:
    endpoint = vision_endpoint(url)
    endpoint.update(params.pop("endpoint_overrides", {}))
    p = fill_defaults(params_schema(kind), {"endpoint": "fake", "endpoint_config": endpoint, "cache": "off", **params})
    return RunSpec(benchmark="mlp-car", method=kind, kind=kind, seed=0, n_trials=n_trials, n_init=4, params=p)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, table_dir: Path) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _text(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def _images(request: dict[str, Any]) -> list[Image.Image]:
    import base64

    parts = [p for p in request["messages"][-1]["content"] if p["type"] == "image_url"]
    out = []
    for part in parts:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,") and part["image_url"]["detail"] == "low"
        png = base64.b64decode(url.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        im = Image.open(io.BytesIO(png))
        im.load()
        out.append(im)
    return out


def test_multimodal_requests_images_controls_and_identical_text(tmp_path: Path) -> None:
    sent: dict[str, list[dict[str, Any]]] = {}
    for kind in ("llm", "mm_llm", "mm_llm_blank"):
        with FakeOpenAI(first_valid_config) as fake:
            out = tmp_path / kind / "0.parquet"
            run_to_file(_spec(kind, fake.url), out)
            sent[kind] = fake.requests
    assert len(sent["llm"]) == len(sent["mm_llm"]) == len(sent["mm_llm_blank"]) == 3
    for a, b, c in zip(sent["llm"], sent["mm_llm"], sent["mm_llm_blank"]):
        assert isinstance(a["messages"][-1]["content"], str)  # text-only method sends no image parts
        assert _text(a) == _text(b) == _text(c)
        assert a["messages"][0] == b["messages"][0] == c["messages"][0]
        seen, blank = _images(b), _images(c)
        assert len(seen) == len(blank) == 3
        for im_seen, im_blank in zip(seen, blank):
            assert im_seen.size == im_blank.size == (640, 480)
            assert set(im_blank.convert("L").getextrema()) == {255}  # blank: all white
            assert im_seen.convert("L").getextrema()[0] < 128  # real plot: has dark pixels
    # The images of each trial are kept next to the trajectory, byte-identical to what was sent.
    kept = sorted((tmp_path / "mm_llm" / "0_images").glob("trial_005_*.png"))
    assert [p.name for p in kept] == [
        "trial_005_best_so_far.png",
        "trial_005_hyperparameters.png",
        "trial_005_top_two.png",
    ]
    first = sent["mm_llm"][0]["messages"][-1]["content"][1]["image_url"]["url"]
    import base64

    assert (tmp_path / "mm_llm" / "0_images" / "trial_005_hyperparameters.png").read_bytes() == base64.b64decode(
        first.split(",", 1)[1]
    )


def test_images_are_byte_for_byte_deterministic(table_dir: Path) -> None:
    from hpo.llm import images
    from hpo.llm.prompt import Observation

    space = B.make("fcnet-naval_propulsion").space
    hist = [Observation(i + 1, dict(c), float(i % 3)) for i, c in enumerate(space.sample_configuration(6))]
    assert images.render(space, hist) == images.render(space, hist)


def test_vision_required_before_any_call() -> None:
    with FakeOpenAI(first_valid_config) as fake:
        spec = _spec("mm_llm", fake.url, endpoint_overrides={"vision": False})
        with pytest.raises(ValueError, match="sends images, but endpoint 'fake' .* has no `vision: true`"):
            run(spec, B.make("mlp-car"))
        assert fake.requests == []


def test_repair_reask_and_fallback_are_counted() -> None:
    script = iter(
        [
            "Sure! I think a small learning rate is best.",  # trial 5: non-JSON -> re-ask
            json.dumps({"config": {"alpha": "abc", "batch_size": 4, "depth": 1, "learning_rate_init": 1, "width": 16}}),
            json.dumps({"config": {"alpha": 1e-8}}),  # missing keys -> fallback after 3 attempts
            # trial 6: out of range (snapped), numeric string (coerced), unknown key (dropped) -> repaired
            json.dumps(
                {
                    "rationale": "try big",
                    "config": {
                        "alpha": 5.0,
                        "batch_size": "16",
                        "depth": 2,
                        "learning_rate_init": 0.0011,
                        "width": 1000,
                        "extra": 1,
                    },
                }
            ),
            # trial 7: clean
            json.dumps(
                {
                    "rationale": "clean",
                    "config": {"alpha": 1e-08, "batch_size": 4, "depth": 3, "learning_rate_init": 1e-05, "width": 16},
                }
            ),
        ]
    )
    with FakeOpenAI(lambda req: next(script)) as fake:
        table, _ = run(_spec("llm", fake.url), B.make("mlp-car"))
        requests = fake.requests
    df = table.to_pandas().set_index("trial")
    assert list(df.loc[5:7, "origin"]) == ["fallback", "repaired", "llm"]
    assert list(df.loc[5:7, "attempts"]) == [3, 1, 1]
    assert df.loc[5, "prompt_tokens"] == 300 and df.loc[5, "completion_tokens"] == 60
    assert json.loads(df.loc[6, "config"]) == {
        "alpha": 1.0,
        "batch_size": 16,
        "depth": 2,
        "learning_rate_init": 0.0016681006,
        "width": 1024,
    }
    assert df.loc[6, "rationale"] == "try big" and "extra" in df.loc[6, "raw_reply"]
    # the re-asks fed the error back to the model
    assert "no JSON object" in requests[1]["messages"][-1]["content"]
    assert "alpha: 'abc' is not a number" in requests[2]["messages"][-1]["content"]
    assert requests[1]["messages"][-2] == {
        "role": "assistant",
        "content": "Sure! I think a small learning rate is best.",
    }


def test_zero_shot_initial_design_from_the_model() -> None:
    def reply(req: dict[str, Any]) -> str:
        schema = req["response_format"]["json_schema"]["schema"]
        if "configs" in schema["properties"]:
            props = schema["properties"]["configs"]["items"]["properties"]
            cfgs = [{k: v["enum"][i % len(v["enum"])] for k, v in props.items()} for i in range(4)]
            return json.dumps({"rationale": "spread", "configs": cfgs})
        return first_valid_config(req)

    with FakeOpenAI(reply) as fake:
        df = run(_spec("llm", fake.url, init="zero_shot"), B.make("mlp-car"))[0].to_pandas()
    assert "initial_design" not in set(df["origin"])
    assert list(df["attempts"].iloc[:4]) == [1, 0, 0, 0]  # one call proposed the whole initial design
    assert df["config"].iloc[:4].nunique() == 4


@pytest.mark.parametrize(
    ("reply", "overrides", "match"),
    [
        (lambda req: (500, "boom"), {}, "InternalServerError"),
        (lambda req: ("sleep", 3), {"timeout": 0.5}, "APITimeoutError"),
    ],
)
def test_endpoint_faults_give_clear_errors_quickly(reply: Any, overrides: dict, match: str) -> None:
    with FakeOpenAI(reply) as fake:
        t0 = time.perf_counter()
        with pytest.raises(EndpointError, match=f"endpoint 'fake' .*{match}"):
            run(_spec("llm", fake.url, endpoint_overrides=overrides), B.make("mlp-car"))
        assert time.perf_counter() - t0 < 30


def test_endpoint_down_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpo.llm.server import free_port

    with pytest.raises(EndpointError, match="APIConnectionError"):
        run(_spec("llm", f"http://127.0.0.1:{free_port()}/v1"), B.make("mlp-car"))
    monkeypatch.delenv("HPO_TEST_KEY")
    with FakeOpenAI(first_valid_config) as fake:
        with pytest.raises(RuntimeError, match="environment variable HPO_TEST_KEY is not set"):
            run(_spec("llm", fake.url), B.make("mlp-car"))
        assert fake.requests == []


@pytest.mark.slow
def test_killed_llm_run_resumes_without_paying_again(tmp_path: Path) -> None:
    """SIGKILL in the middle of the LLM trials: no readable partial file; the rerun re-asks only what was not
    answered before (the answered calls come from the reply cache)."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    out, cache = tmp_path / "run.parquet", tmp_path / "cache"
    hang = {"on": True}

    def reply(req: dict[str, Any]) -> Any:
        if hang["on"] and len(first.requests) >= 3:
            return ("sleep", 60)
        return first_valid_config(req)

    def cmd(url: str) -> list[str]:
        params = _spec("llm", url, n_trials=10).params | {"cache": "readwrite"}
        return [
            sys.executable,
            "-m",
            "hpo",
            "run",
            "mlp-car",
            "llm",
            "--n-trials",
            "10",
            "--n-init",
            "4",
            "--params",
            json.dumps(params),
            "--cache",
            str(cache),
            "--out",
            str(out),
        ]

    with FakeOpenAI(reply) as first:
        proc = subprocess.Popen(cmd(first.url), cwd=ROOT, env={**os.environ, "HPO_TEST_KEY": "k"})
        deadline = time.time() + 120
        while len(first.requests) < 3 and time.time() < deadline:
            time.sleep(0.1)
        assert len(first.requests) == 3  # two trials answered, the third call hangs
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        hang["on"] = False
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".parquet"]
    # Same URL as the first server: the cache key holds the endpoint's identity (its normalized base URL).
    with FakeOpenAI(first_valid_config, port=first.port) as second:
        subprocess.run(cmd(second.url), cwd=ROOT, env={**os.environ, "HPO_TEST_KEY": "k"}, check=True, timeout=120)
        assert len(second.requests) == 6 - 2  # 6 LLM trials, 2 already paid for
    import pyarrow.parquet as pq

    df = pq.read_table(out).to_pandas()
    assert list(df["cache_hits"].iloc[4:6]) == [1, 1] and list(df["cache_hits"].iloc[6:]) == [0] * 4
