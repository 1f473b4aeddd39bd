"""Every model call goes through here: the ``openai`` client (its own retries and timeout), the three
structured-output dialects, token/latency/cost accounting, and the reply cache."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from hpo.llm.cache import ReplyCache, request_key
from hpo.llm.endpoint import EndpointConfig

log = logging.getLogger(__name__)


@dataclass
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    cost: float
    cached: bool


class EndpointError(RuntimeError):
    """The endpoint failed after the client's retries (down, timing out, HTTP errors)."""


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI takes ``json_schema``; llama-cpp-python's server takes ``json_object`` + ``schema``; ``none`` = parse."""
    if dialect == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "proposal", "schema": schema, "strict": False}}
    if dialect == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


class LLMClient:
    """Chat completions against one endpoint; the embedded server is started lazily on the first cache miss."""

    def __init__(self, endpoint: EndpointConfig, cache: ReplyCache, seed: int, server_log: str | None = None) -> None:
        self.endpoint, self.cache, self.seed = endpoint, cache, seed
        self.server_log = server_log
        self._client: Any = None
        self._server: Any = None
        self.calls = 0  # real model calls (cache misses)

    def _connect(self) -> Any:
        if self._client is None:
            import openai

            base_url = self.endpoint.base_url
            if self.endpoint.embedded:
                from hpo.llm.server import EmbeddedServer

                self._server = EmbeddedServer(log_path=self.server_log)
                base_url = self._server.__enter__()
            self._client = openai.OpenAI(
                base_url=base_url,
                api_key=self.endpoint.api_key(),
                timeout=self.endpoint.timeout,
                max_retries=self.endpoint.retries,
            )
        return self._client

    def complete(self, messages: list[dict[str, Any]], schema: dict[str, Any]) -> Reply:
        ep = self.endpoint
        if not ep.embedded:
            ep.api_key()  # fail with one line before any call if the key variable is missing
        request = {
            "model": ep.model,
            "messages": messages,
            "temperature": ep.temperature,
            "max_tokens": ep.max_tokens,
            "seed": self.seed,
            "response_format": response_format(ep.structured_output, schema),
        }
        key = request_key(request)
        hit = self.cache.get(key)
        if hit is not None:
            return Reply(
                hit["text"],
                hit["prompt_tokens"],
                hit["completion_tokens"],
                0.0,
                ep.cost(hit["prompt_tokens"], hit["completion_tokens"]),
                cached=True,
            )
        client = self._connect()
        kwargs = {k: v for k, v in request.items() if v is not None}
        t0 = time.perf_counter()
        try:
            resp = client.chat.completions.create(**kwargs)
        except Exception as exc:  # openai raises APIConnectionError, APITimeoutError, APIStatusError, ...
            raise EndpointError(
                f"endpoint {ep.name!r} ({ep.model}) failed after {ep.retries} retries: "
                f"{type(exc).__name__}: {str(exc)[:200]}"
            ) from None
        latency = time.perf_counter() - t0
        self.calls += 1
        text = (resp.choices[0].message.content or "") if resp.choices else ""
        usage = resp.usage
        pt = int(getattr(usage, "prompt_tokens", 0) or 0)
        ct = int(getattr(usage, "completion_tokens", 0) or 0)
        self.cache.put(key, {"text": text, "prompt_tokens": pt, "completion_tokens": ct, "latency": latency})
        return Reply(text, pt, ct, latency, ep.cost(pt, ct), cached=False)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._client is not None:
            self._client.close()
            self._client = None
