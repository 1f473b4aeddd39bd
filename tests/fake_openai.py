"""A local OpenAI-compatible chat server for the tests that no real offline server can serve (vision input,
scripted faults). It records every request so tests check what the client really sent, and how many were in flight
at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def envelope(text: str | None, model: str = "fake") -> dict[str, Any]:
    """A well-formed chat-completion body whose message content is ``text``."""
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


class FakeOpenAI:
    """``with FakeOpenAI(reply_fn) as fake:`` serves ``fake.url``; ``reply_fn(request)`` returns one of

    * ``str``: HTTP 200, a chat completion with that content;
    * ``(status, message)``: an OpenAI-style error body with that status (or a completion if status is 200);
    * ``("sleep", s)``: wait ``s`` seconds, then answer ``{}``;
    * ``("raw", status, content_type, body)``: exactly these bytes (HTML pages, truncated JSON, ...);
    * ``("envelope", dict)``: HTTP 200 with this JSON body (missing ``choices``, ``content: null``, ...);
    * ``("drip", interval)``: headers at once, then a valid completion one byte every ``interval`` seconds;
    * ``("echo", status, make_body)``: ``status`` with the JSON body ``make_body(headers)`` of this request's own
      headers (lower-case names): an endpoint that echoes the ``Authorization`` header it received.

    ``port`` binds a given port (a second server at the same URL as an earlier one); ``max_in_flight`` is the most
    requests that were being answered at the same moment. A request without ``model`` and ``messages`` gets 400.
    """

    def __init__(self, reply_fn: Callable[[dict[str, Any]], Any], port: int = 0) -> None:
        self.reply_fn = reply_fn
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (its deadline): nothing to answer
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
                    return self._send(400, "application/json", b'{"error": {"message": "model and messages"}}')
                out = fake.reply_fn(body)
                if isinstance(out, tuple) and out[0] == "sleep":
                    time.sleep(out[1])
                    out = "{}"
                if isinstance(out, tuple) and out[0] == "raw":
                    _, status, content_type, raw = out
                    return self._send(status, content_type, raw.encode() if isinstance(raw, str) else raw)
                if isinstance(out, tuple) and out[0] == "envelope":
                    return self._send(200, "application/json", json.dumps(out[1]).encode())
                if isinstance(out, tuple) and out[0] == "echo":
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    return self._send(out[1], "application/json", out[2](headers).encode())
                if isinstance(out, tuple) and out[0] == "drip":
                    return self._drip(json.dumps(envelope("{}", body["model"])).encode(), out[1])
                status, text = out if isinstance(out, tuple) else (200, out)
                if status != 200:
                    payload = json.dumps({"error": {"message": text, "type": "server_error"}}).encode()
                else:
                    payload = json.dumps(envelope(text, body.get("model", "fake"))).encode()
                self._send(status, "application/json", payload)

            def _send(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _drip(self, payload: bytes, interval: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.flush()
                for i in range(len(payload)):
                    if fake._closing.wait(interval):
                        break
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


def vision_endpoint(url: str, **extra: Any) -> dict[str, Any]:
    """The endpoint config the tests point at a fake server: vision on, strict JSON schema, no retries, a short
    timeout, the key from HPO_TEST_KEY (set by the tests, never a real key); ``extra`` adds or overrides fields."""
    return {
        "base_url": url,
        "model": "fake-vision",
        "vision": True,
        "structured_output": "json_schema",
        "retries": 0,
        "timeout": 5.0,
        "api_key_env": "HPO_TEST_KEY",
        **extra,
    }


def first_valid_config(request: dict[str, Any]) -> str:
    """A valid reply read from the request's schema. Proposals: for every hyperparameter the allowed value at index
    (number of history rows in the prompt), i.e. the first values before any trial and a new configuration at every
    later trial, so the LLM methods' repetition guard (re-ask on an evaluated configuration) is not triggered.
    Importance questions (schema with ``weights``): equal weights. The preflight's image question (``digit``): the
    digit its image shows, read as a model that sees images would (tests/fake_endpoints.py)."""
    import re

    schema = request["response_format"]["json_schema"]["schema"]
    if "digit" in schema["properties"]:
        from fake_endpoints import good

        return good(request)
    if "weights" in schema["properties"]:
        names = list(schema["properties"]["weights"]["properties"])
        return json.dumps({"weights": {n: 1 / len(names) for n in names}})
    props = schema["properties"]["config"]["properties"]
    content = request["messages"][-1]["content"]
    text = content if isinstance(content, str) else content[0]["text"]
    i = sum(1 for line in text.splitlines() if re.match(r"^\d+,", line))
    config = {k: v["enum"][i % len(v["enum"])] for k, v in props.items()}
    return json.dumps({"rationale": "first values", "config": config})
