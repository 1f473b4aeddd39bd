"""Endpoint reliability (issue 12): replies never come from another endpoint, no request outlives its deadline,
every failure is one line naming the endpoint and what it returned, transport garbage is never cached, and one
client bounds its concurrent requests. The real ``openai`` client, through hpo.llm.client, against loopback servers
(tests/fake_openai.py) scripted to fail in each way."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, envelope

from hpo.llm.cache import ReplyCache, request_key
from hpo.llm.client import EndpointError, LLMClient, response_format
from hpo.llm.endpoint import EMBEDDED_OVERRIDES, EndpointConfig, normalize_url

MODEL = "llama-3-8b"  # both fake endpoints serve "the same model"
SCHEMA = {"type": "object", "properties": {"config": {"type": "object"}}}


def _messages(text: str = "propose a configuration") -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You tune hyperparameters."}, {"role": "user", "content": text}]


def _endpoint(url: str, name: str = "fake", **values: Any) -> EndpointConfig:
    return EndpointConfig.from_dict(name, {"base_url": url, "model": MODEL, "retries": 0, "timeout": 5.0, **values})


def _client(endpoint: EndpointConfig, cache_dir: Path | None = None) -> LLMClient:
    return LLMClient(endpoint, ReplyCache(cache_dir, "readwrite" if cache_dir else "off"), seed=0)


def _ask(endpoint: EndpointConfig, cache_dir: Path | None = None, text: str = "propose a configuration") -> Any:
    client = _client(endpoint, cache_dir)
    try:
        return client.complete(_messages(text), SCHEMA)
    finally:
        client.close()


# -- cache identity -------------------------------------------------------------------------------------------------
def test_two_endpoints_with_one_model_name_never_share_replies(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with FakeOpenAI(lambda req: "answer from A") as a, FakeOpenAI(lambda req: "answer from B") as b:
        for rerun in (False, True):
            ra, rb = _ask(_endpoint(a.url, "a"), cache), _ask(_endpoint(b.url, "b"), cache)
            assert (ra.text, ra.cached) == ("answer from A", rerun)
            assert (rb.text, rb.cached) == ("answer from B", rerun)
            assert len(a.requests) == len(b.requests) == 1  # each paid once, each rerun from its own entry
        assert a.requests[0]["model"] == b.requests[0]["model"] == MODEL
        # The same endpoint written differently (scheme case, trailing slash) is the same endpoint.
        same_a = a.url.replace("http://", "HTTP://") + "/"
        assert _ask(_endpoint(same_a, "a-again"), cache).text == "answer from A" and len(a.requests) == 1


def test_method_at_a_failing_endpoint_fails_instead_of_replaying_another(tmp_path: Path) -> None:
    """The issue's case at the run level: a study's llm method against a server answering HTTP 500 to everything
    reported `complete` with the other endpoint's trajectory. Now it fails, naming the endpoint."""
    import hpo.benchmarks as B
    from hpo.run.harness import run
    from hpo.run.provenance import build_spec

    def spec(url: str, name: str) -> Any:
        endpoint = {"base_url": url, "model": MODEL, "structured_output": "json_schema", "retries": 0, "timeout": 5.0}
        params = {"endpoint": name, "endpoint_config": endpoint, "cache": "readwrite"}
        return build_spec(
            benchmark="synth-branin", method="llm", kind="llm", seed=0, n_trials=5, n_init=4, params=params
        )

    cache = tmp_path / "cache"
    reply = json.dumps({"rationale": "good endpoint", "config": {"x0": 1.0, "x1": 2.0}})
    with FakeOpenAI(lambda req: reply) as good:
        table, _ = run(spec(good.url, "good"), B.make("synth-branin"), cache_dir=cache)
        assert good.requests and table.num_rows == 5
    with FakeOpenAI(lambda req: (500, "overloaded")) as broken:
        with pytest.raises(EndpointError) as err:
            run(spec(broken.url, "broken"), B.make("synth-branin"), cache_dir=cache)
        assert len(broken.requests) == 1  # it was asked (retries: 0) instead of being replayed from the cache
    line = str(err.value)
    assert "\n" not in line and "endpoint 'broken'" in line and normalize_url(broken.url) in line
    assert "HTTP 500" in line and "content-type application/json" in line and "overloaded" in line


def test_entries_under_the_old_key_are_never_reused(tmp_path: Path) -> None:
    """Cache version 1 keyed a reply by the request alone; such an entry must not answer a version-2 lookup."""
    with FakeOpenAI(lambda req: "fresh answer") as fake:
        endpoint = _endpoint(fake.url)
        old_request = {
            "model": MODEL,
            "messages": _messages(),
            "temperature": endpoint.temperature,
            "max_tokens": endpoint.max_tokens,
            "seed": 0,
            "response_format": response_format(endpoint.structured_output, SCHEMA),
        }
        ReplyCache(tmp_path, "readwrite").put(
            request_key(old_request), {"text": "stale", "prompt_tokens": 1, "completion_tokens": 1, "latency": 0.1}
        )
        reply = _ask(endpoint, tmp_path)
        assert (reply.text, reply.cached, len(fake.requests)) == ("fresh answer", False, 1)


@pytest.mark.parametrize(
    "change",
    [{"temperature": 0.2}, {"max_tokens": 64}, {"structured_output": "json_object"}, {"structured_output": "none"}],
)
def test_every_sampling_parameter_is_part_of_the_key(tmp_path: Path, change: dict[str, Any]) -> None:
    with FakeOpenAI(
        lambda req: f"t={req['temperature']} n={req['max_tokens']} rf={req.get('response_format')}"
    ) as fake:
        first = _ask(_endpoint(fake.url), tmp_path)
        second = _ask(_endpoint(fake.url, **change), tmp_path)
        assert not second.cached and len(fake.requests) == 2 and first.text != second.text
        assert _ask(_endpoint(fake.url, **change), tmp_path).cached  # and the changed request has its own entry


def test_embedded_identity_has_no_port() -> None:
    embedded = EndpointConfig.from_dict("embedded", {"embedded": True})
    assert embedded.identity == "embedded:SmolLM2-135M-Instruct"
    assert normalize_url("HTTPS://User:pw@API.Example.com:443/v1/") == "https://api.example.com/v1"
    assert normalize_url("http://[::1]:8000/v1") == "http://[::1]:8000/v1"


# -- deadline -------------------------------------------------------------------------------------------------------
def test_a_dripping_server_cannot_outlive_the_deadline() -> None:
    """Headers at once, then one byte every 1.5 s: each read returns in time, the request must not."""
    timeout, retries = 2.0, 1
    outcome: dict[str, Any] = {}

    def call(endpoint: EndpointConfig) -> None:
        t0 = time.perf_counter()
        try:
            outcome["reply"] = _ask(endpoint)
        except EndpointError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.perf_counter() - t0

    with FakeOpenAI(lambda req: ("drip", 1.5)) as fake:
        worker = threading.Thread(
            target=call, args=(_endpoint(fake.url, timeout=timeout, retries=retries),), daemon=True
        )
        worker.start()
        worker.join(timeout * (retries + 1) + 3.0)
        assert not worker.is_alive(), "the request outlived deadline x attempts"
        assert len(fake.requests) == retries + 1  # the retries applied
    assert "error" in outcome, outcome
    assert timeout * (retries + 1) - 0.5 < outcome["seconds"] < timeout * (retries + 1) + 2.0
    line = str(outcome["error"])
    assert "\n" not in line and "endpoint 'fake'" in line and "2 s deadline" in line
    assert "failed after 2 attempts" in line


def test_a_silent_server_fails_at_the_deadline() -> None:
    with FakeOpenAI(lambda req: ("sleep", 5)) as fake:
        t0 = time.perf_counter()
        with pytest.raises(EndpointError, match=r"endpoint 'fake' .*0\.5 s deadline"):
            _ask(_endpoint(fake.url, timeout=0.5))
        assert time.perf_counter() - t0 < 2.5


# -- one line for every failure; transport garbage never cached ---------------------------------------------------
HTML = "<!DOCTYPE html><html><head><title>Sign in to the proxy</title></head><body>" + "x" * 500 + "</body></html>"


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (("raw", 200, "text/html; charset=utf-8", HTML), "HTTP 200, content-type text/html; charset=utf-8, body b'<!D"),
        (("raw", 200, "application/json", '{"choices": [{"mess'), "not a JSON chat completion: HTTP 200"),
        (("envelope", {"object": "error", "message": "no model"}), "no `choices` in the reply: HTTP 200"),
        (("raw", 502, "text/html", "<html>Bad Gateway</html>"), "HTTP 502, content-type text/html, body b'<html>Bad"),
    ],
)
def test_unusable_bodies_fail_with_one_line(reply: Any, says: str) -> None:
    with FakeOpenAI(lambda req: reply) as fake:
        with pytest.raises(EndpointError) as err:
            _ask(_endpoint(fake.url, "proxy", retries=1))
        assert len(fake.requests) == 2  # retried once
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"endpoint 'proxy' ({normalize_url(fake.url)}, model {MODEL})")
    assert says in line
    assert len(line) < 500 and "x" * 200 not in line  # the first bytes, not the whole page


@pytest.mark.parametrize(
    "garbage",
    [("envelope", {"id": "x", "object": "chat.completion"}), ("raw", 200, "text/html", HTML)],
    ids=["missing-choices", "html"],
)
def test_transport_failures_are_not_cached(tmp_path: Path, garbage: Any) -> None:
    fixed = {"on": False}
    with FakeOpenAI(lambda req: "the real answer" if fixed["on"] else garbage) as fake:
        with pytest.raises(EndpointError):
            _ask(_endpoint(fake.url), tmp_path)
        fixed["on"] = True
        reply = _ask(_endpoint(fake.url), tmp_path)
        assert (reply.text, reply.cached, len(fake.requests)) == ("the real answer", False, 2)  # reached the server
        assert _ask(_endpoint(fake.url), tmp_path).cached


@pytest.mark.parametrize("content", [None, ""], ids=["null", "empty"])
def test_empty_content_is_returned_but_not_cached(tmp_path: Path, content: str | None) -> None:
    fixed = {"on": False}
    with FakeOpenAI(lambda req: "the real answer" if fixed["on"] else ("envelope", envelope(content))) as fake:
        empty = _ask(_endpoint(fake.url), tmp_path)
        assert (empty.text, empty.cached) == ("", False)  # the optimizer re-asks or falls back, and counts it
        fixed["on"] = True
        reply = _ask(_endpoint(fake.url), tmp_path)
        assert (reply.text, reply.cached, len(fake.requests)) == ("the real answer", False, 2)


def test_model_text_that_does_not_parse_is_cached(tmp_path: Path) -> None:
    """Unparsable text is what the model said: replayed on a rerun (the optimizer counts it as a re-ask)."""
    with FakeOpenAI(lambda req: "Sure! I would try a small learning rate.") as fake:
        assert not _ask(_endpoint(fake.url), tmp_path).cached
        again = _ask(_endpoint(fake.url), tmp_path)
        assert again.cached and again.text.startswith("Sure!") and len(fake.requests) == 1


# -- concurrency ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_concurrent_calls_respect_the_endpoint_concurrency(
    concurrency: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import openai

    made: list[Any] = []

    class CountingOpenAI(openai.OpenAI):
        def __init__(self, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(**kwargs)

    monkeypatch.setattr(openai, "OpenAI", CountingOpenAI)

    def echo(req: dict[str, Any]) -> str:
        time.sleep(0.5)  # long enough that the calls a client lets through overlap on a busy machine
        return "echo: " + req["messages"][-1]["content"]

    with FakeOpenAI(echo) as fake:
        client = _client(_endpoint(fake.url, concurrency=concurrency), tmp_path)
        start = threading.Barrier(4)

        def call(i: int) -> str:
            start.wait()  # all four threads hit the lazy connect at once
            return client.complete(_messages(f"question {i}"), SCHEMA).text

        try:
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(call, range(4)))
        finally:
            client.close()
        assert answers == [f"echo: question {i}" for i in range(4)]  # each thread got its own reply
        assert len(fake.requests) == 4 and client.calls == 4
        assert fake.max_in_flight == concurrency
        assert len(made) == 1  # one connection setup, however many threads raced to it


# -- defaults -------------------------------------------------------------------------------------------------------
def test_endpoint_defaults_are_written_once() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(EndpointConfig) if f.name != "name"}
    remote = EndpointConfig.from_dict("remote", {"base_url": "http://127.0.0.1:1/v1"}).as_dict()
    assert {k: remote[k] for k in defaults if k != "base_url"} == {k: v for k, v in defaults.items() if k != "base_url"}
    assert remote["concurrency"] == 4 and remote["structured_output"] == "json_schema"
    embedded = EndpointConfig.from_dict("embedded", {"embedded": True}).as_dict()
    for key, value in defaults.items():
        assert embedded[key] == EMBEDDED_OVERRIDES.get(key, value)
    assert all(EMBEDDED_OVERRIDES[k] != defaults[k] for k in EMBEDDED_OVERRIDES)  # an override that differs
    assert embedded["concurrency"] == 1 and embedded["structured_output"] == "json_object"
    # A user's value wins over both; None means "the default".
    assert EndpointConfig.from_dict("embedded", {"embedded": True, "max_tokens": 64, "timeout": None}).timeout == 120


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"concurrency": 0}, "concurrency must be an integer >= 1"),
        ({"concurrency": 2.0}, "concurrency must be an integer >= 1"),
        ({"retries": True}, "retries must be an integer >= 0"),
        ({"timeout": 0}, "timeout must be a number of seconds > 0"),
        ({"base_url": "ftp://x/v1"}, "base_url must start with http:// or https://"),
        ({"max_token": 5}, "unknown keys ['max_token']"),
    ],
)
def test_bad_endpoint_values_are_one_line_errors(values: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=r"^endpoint 'e': ") as err:
        EndpointConfig.from_dict("e", {"base_url": "http://127.0.0.1:1/v1", **values})
    assert says in str(err.value) and "\n" not in str(err.value)
