"""A local OpenAI-compatible chat server for the tests that no real offline server can serve (vision input,
scripted faults). It records every request so tests check what the client really sent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    """``with FakeOpenAI(reply_fn) as url:``; ``reply_fn(request) -> str | (status, body) | ('sleep', s)``."""

    def __init__(self, reply_fn: Callable[[dict[str, Any]], Any]) -> None:
        self.reply_fn = reply_fn
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                out = fake.reply_fn(body)
                if isinstance(out, tuple) and out[0] == "sleep":
                    time.sleep(out[1])
                    out = "{}"
                status, text = out if isinstance(out, tuple) else (200, out)
                if status != 200:
                    payload = json.dumps({"error": {"message": text, "type": "server_error"}}).encode()
                else:
                    payload = json.dumps(
                        {
                            "id": "x",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body.get("model", "fake"),
                            "choices": [
                                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                            ],
                            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                        }
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def first_valid_config(request: dict[str, Any]) -> str:
    """A reply proposing the first allowed value of every hyperparameter, read from the request's schema."""
    schema = request["response_format"]["json_schema"]["schema"]
    props = schema["properties"]["config"]["properties"]
    return json.dumps({"rationale": "first values", "config": {k: v["enum"][0] for k, v in props.items()}})
