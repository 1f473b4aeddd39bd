"""Every model call goes through here: the ``openai`` client, the three structured-output dialects, a bound on
concurrent requests, token/latency/cost accounting, the spending ledger, and the reply cache.

Each uncached request goes to :func:`hpo.llm.transport.send`: a wall-clock deadline per attempt, retries, and one
:class:`EndpointError` line naming the endpoint and what it returned when all attempts fail. Only model text is
cached; transport failures never are.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from hpo.llm.cache import ReplyCache, reply_key
from hpo.llm.endpoint import EndpointConfig
from hpo.llm.ledger import Ledger, prompt_tokens_bound
from hpo.llm.transport import EndpointError, arm_watchdog, send

__all__ = ["EndpointError", "LLMClient", "Reply", "response_format"]

log = logging.getLogger(__name__)


@dataclass
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    cost: float
    cached: bool
    # Per generated token, its top alternatives as {token: log-probability}; only when the request asked for
    # ``logprobs`` and the endpoint returned them (LLAMBO's generative surrogate reads P("1") from them).
    logprobs: list[dict[str, float]] | None = None
    paid_latency: float = 0.0  # seconds the call that paid for this text took (a hit: from its cache entry)


def response_format(dialect: str, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """OpenAI takes ``json_schema``; llama-cpp-python's server takes ``json_object`` + ``schema``; ``none`` = parse.
    No schema (a free-text answer, e.g. LLAMBO's ``## ... ##`` markers): no response format."""
    if schema is None:
        return None
    if dialect == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "proposal", "schema": schema, "strict": False}}
    if dialect == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


class LLMClient:
    """Chat completions against one endpoint; the embedded server is started lazily on the first cache miss.

    Safe to call from several threads at once: the lazy connect (and embedded-server start) happens once, under a
    lock; at most ``endpoint.concurrency`` requests are in flight; cache writes are atomic renames. An endpoint with
    a spending cap charges its :class:`~hpo.llm.ledger.Ledger` before each uncached call (``ledger`` or the study's).
    """

    def __init__(
        self,
        endpoint: EndpointConfig,
        cache: ReplyCache,
        seed: int,
        server_log: str | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.endpoint, self.cache, self.seed = endpoint, cache, seed
        spend_dir = cache.root / "spend" if cache.root else None  # library use; a study's ledger is <results>/spend
        self.ledger = ledger or Ledger.for_endpoint(endpoint.name, endpoint.max_cost, spend_dir)
        self.server_log = server_log
        self._client: Any = None
        self._server: Any = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(endpoint.concurrency)
        self.calls = 0  # real model calls: cache misses the endpoint answered

    def _connect(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx2
                import openai

                base_url = self.endpoint.base_url
                if self.endpoint.embedded:
                    from hpo.llm.server import EmbeddedServer

                    server = EmbeddedServer(log_path=self.server_log)
                    base_url = server.__enter__()
                    self._server = server
                self._client = openai.OpenAI(
                    base_url=base_url,
                    api_key=self.endpoint.api_key(),
                    timeout=self.endpoint.timeout,
                    max_retries=0,  # retries are ours: each attempt under its own deadline, each failure described
                    http_client=openai.DefaultHttpxClient(
                        event_hooks={"request": [arm_watchdog]},
                        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=0),  # see _Watchdog
                    ),
                )
            return self._client

    def complete(
        self, messages: list[dict[str, Any]], schema: dict[str, Any] | None, sampling: dict[str, Any] | None = None
    ) -> Reply:
        """One chat completion (or its cached reply). ``sampling`` overrides request fields for this call: a
        per-sample ``seed`` (independent samples of one prompt must differ in the request, else the cache and the
        endpoint's own seeding return one reply twice), ``temperature``, ``top_p``, ``logprobs``/``top_logprobs``."""
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
            **(sampling or {}),
        }
        key = reply_key(ep.identity, request, ep.structured_output, schema)
        hit = self.cache.get(key)
        if hit is not None:
            return Reply(
                hit["text"],
                hit["prompt_tokens"],
                hit["completion_tokens"],
                0.0,
                ep.cost(hit["prompt_tokens"], hit["completion_tokens"]),
                cached=True,
                logprobs=hit.get("logprobs"),
                paid_latency=hit.get("latency", 0.0),
            )
        reserved = ep.cost(prompt_tokens_bound(messages), ep.max_tokens)
        if self.ledger is not None:  # refuses (one line, nothing sent) a call that could cross the cap
            self.ledger.reserve(reserved, key)
        client = self._connect()
        kwargs = {k: v for k, v in request.items() if v is not None}
        with self._slots:
            t0 = time.perf_counter()
            text, pt, ct, lp = send(client, kwargs, ep, self._server)
            latency = time.perf_counter() - t0
        if self.ledger is not None:  # the reported cost; no usage reported: keep the upper bound
            self.ledger.settle(reserved, ep.cost(pt, ct) if pt or ct else reserved, key)
        with self._lock:
            self.calls += 1
        if text:
            entry = {"text": text, "prompt_tokens": pt, "completion_tokens": ct, "latency": latency}
            self.cache.put(key, {**entry, "logprobs": lp} if lp is not None else entry)
        else:  # the model said nothing: not an answer to replay on the next run
            log.warning("%s returned empty content; not cached", ep.label())
        return Reply(text, pt, ct, latency, ep.cost(pt, ct), cached=False, logprobs=lp, paid_latency=latency)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._client is not None:
                self._client.close()
                self._client = None
