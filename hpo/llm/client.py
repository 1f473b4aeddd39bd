"""Every model call goes through here: the ``openai`` client, the three structured-output dialects, a wall-clock
deadline per attempt, retries, a bound on concurrent requests, token/latency/cost accounting, and the reply cache.

Why not the ``openai`` client's own ``timeout`` and ``max_retries`` alone: its timeout bounds each socket read, not
the request, so a server that sends one byte every 1.5 s keeps a request with ``timeout: 2`` alive indefinitely.
Here each attempt runs under a :class:`_Watchdog`: ``timeout`` seconds after the attempt starts it shuts down the
attempt's socket, which aborts the request whatever the server's pace (the connect itself is bounded by the client's
``timeout``; DNS resolution is not). Retries are this module's own loop (the client's ``max_retries=0``), so each
attempt gets a fresh deadline and the final error can say what the endpoint returned.

Every failure ends in one :class:`EndpointError` line naming the endpoint and what it returned (HTTP status,
content type, the first bytes of the body), or the deadline it missed. Only model text is cached; transport
failures never are.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from hpo.llm.cache import ReplyCache, reply_key
from hpo.llm.endpoint import EndpointConfig
from hpo.llm.ledger import Ledger, prompt_tokens_bound

log = logging.getLogger(__name__)

BODY_HEAD = 120  # bytes of an unusable body quoted in an error
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx: the statuses the openai client itself retries
MAX_BACKOFF = 8.0  # seconds between attempts after a connection error or a retryable status

# The watchdog of the attempt running in this thread; read by the HTTP request hook.
_WATCHDOG: contextvars.ContextVar[_Watchdog | None] = contextvars.ContextVar("hpo_llm_watchdog", default=None)


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


class EndpointError(RuntimeError):
    """The endpoint failed after the retries (down, past the deadline, HTTP errors, unusable bodies)."""


class _AttemptFailed(Exception):
    """One attempt failed: ``detail`` says what the endpoint returned, ``retry`` whether another try may help,
    ``backoff`` whether to wait before it (not after a missed deadline: that attempt already waited), ``wait`` the
    server's own ``Retry-After``."""

    def __init__(self, detail: str, retry: bool, backoff: bool = True, wait: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.retry, self.backoff, self.wait = detail, retry, backoff, wait


def response_format(dialect: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI takes ``json_schema``; llama-cpp-python's server takes ``json_object`` + ``schema``; ``none`` = parse."""
    if dialect == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "proposal", "schema": schema, "strict": False}}
    if dialect == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def describe_response(status: int, content_type: str | None, body: bytes) -> str:
    """``HTTP 200, content-type text/html, body b'<html>...'`` (the first bytes only, one line)."""
    head = body[:BODY_HEAD]
    more = f"... ({len(body)} bytes)" if len(body) > BODY_HEAD else ""
    return f"HTTP {status}, content-type {content_type or 'none'}, body {head!r}{more}"


class _Watchdog:
    """Aborts one attempt at its deadline by shutting down the sockets it opened.

    The attempt's requests carry :meth:`trace` as httpcore's ``trace`` extension, which hands over every network
    stream the moment its connection (or TLS layer) is up; at the deadline a timer shuts those sockets down, which
    wakes the blocked read in the calling thread at once, whatever the server's pace. Connections are never reused
    (no keep-alive), so every attempt's socket passes through here.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._streams: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        stream = info.get("return_value")
        if not event.endswith(".complete") or not hasattr(stream, "get_extra_info"):
            return
        with self._lock:
            self._streams.append(stream)
            late = self.fired
        if late:  # the connection came up after the deadline (a slow connect)
            _shutdown(stream)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            streams = list(self._streams)
        for stream in streams:
            _shutdown(stream)


def _shutdown(stream: Any) -> None:
    """Shut the socket down (not just close it: ``close`` does not wake a read blocked in another thread)."""
    import socket

    sock = stream.get_extra_info("socket")
    if sock is not None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain-socket method, also under TLS
        except OSError:
            pass  # already closed


def _arm_watchdog(request: Any) -> None:
    """httpx request hook: hand this thread's attempt watchdog every connection the request opens."""
    watchdog = _WATCHDOG.get()
    if watchdog is not None:
        request.extensions["trace"] = watchdog.trace


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
                        event_hooks={"request": [_arm_watchdog]},
                        limits=httpx2.Limits(max_connections=None, max_keepalive_connections=0),  # see _Watchdog
                    ),
                )
            return self._client

    def complete(
        self, messages: list[dict[str, Any]], schema: dict[str, Any], sampling: dict[str, Any] | None = None
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
            text, pt, ct, lp = self._send(client, kwargs)
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

    # -- one request: attempts under a deadline, retries, one-line failure -----------------------------------------
    def _send(self, client: Any, kwargs: dict[str, Any]) -> tuple[str, int, int, list[dict[str, float]] | None]:
        ep = self.endpoint
        attempts = ep.retries + 1
        for attempt in range(1, attempts + 1):
            watchdog = _Watchdog(ep.timeout)
            token = _WATCHDOG.set(watchdog)
            try:
                with watchdog:
                    return self._attempt(client, kwargs, watchdog)
            except _AttemptFailed as failure:
                if not failure.retry or attempt == attempts:
                    raise EndpointError(
                        f"{ep.label()} failed after {attempt} attempt{'s' if attempt > 1 else ''} "
                        f"(retries: {ep.retries}): {failure.detail}"
                    ) from None
                log.info("%s attempt %d/%d failed (%s); retrying", ep.label(), attempt, attempts, failure.detail)
                if failure.backoff:
                    time.sleep(failure.wait if failure.wait is not None else min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))
            finally:
                _WATCHDOG.reset(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, client: Any, kwargs: dict[str, Any], watchdog: _Watchdog
    ) -> tuple[str, int, int, list[dict[str, float]] | None]:
        """One request under ``watchdog`` -> (text, prompt tokens, completion tokens, token log-probabilities)."""
        import openai

        timeout = self.endpoint.timeout
        try:
            raw = client.chat.completions.with_raw_response.create(**kwargs)
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            if watchdog.fired or isinstance(exc, openai.APITimeoutError):
                raise _AttemptFailed(
                    f"no complete reply within the {timeout:g} s deadline (timeout, per attempt; APITimeoutError)",
                    retry=True,
                    backoff=False,
                ) from None
            cause = exc.__cause__ or exc
            dead = self._server.death_message() if self._server is not None else None
            if dead is not None:  # no retry can help: say why, and where the server wrote its last words
                raise _AttemptFailed(dead, retry=False) from None
            raise _AttemptFailed(f"APIConnectionError: {type(cause).__name__}: {cause}", retry=True) from None
        except openai.APIStatusError as exc:
            resp = exc.response
            status = resp.status_code
            raise _AttemptFailed(
                f"{type(exc).__name__}: {describe_response(status, resp.headers.get('content-type'), resp.content)}",
                retry=status in RETRY_STATUSES or status >= 500,
                wait=_retry_after(resp.headers.get("retry-after")),
            ) from None
        except openai.OpenAIError as exc:
            raise _AttemptFailed(f"{type(exc).__name__}: {str(exc)[:200]}", retry=False) from None
        http = raw.http_response
        return _parse_envelope(http.status_code, http.headers.get("content-type"), http.content)

    def close(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None
            if self._client is not None:
                self._client.close()
                self._client = None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a numeric ``Retry-After`` header (capped at MAX_BACKOFF); None if absent or a date."""
    try:
        return min(max(float(value), 0.0), MAX_BACKOFF) if value else None
    except ValueError:
        return None


def _parse_envelope(
    status: int, content_type: str | None, body: bytes
) -> tuple[str, int, int, list[dict[str, float]] | None]:
    """A chat-completion body -> (text, prompt tokens, completion tokens, token log-probabilities or None); anything
    that is not one (HTML, non-JSON, no ``choices``) fails the attempt with what was returned. Empty content is
    returned as ``""``."""

    def bad(why: str) -> _AttemptFailed:
        return _AttemptFailed(f"{why}: {describe_response(status, content_type, body)}", retry=True)

    try:
        data = json.loads(body)
    except ValueError:
        raise bad("not a JSON chat completion") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise bad("no `choices` in the reply")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if content is not None and not isinstance(content, str):
        raise bad("`choices[0].message.content` is not a string")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    logprobs = _token_logprobs(choices[0].get("logprobs"))
    return content or "", _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")), logprobs


def _token_logprobs(block: Any) -> list[dict[str, float]] | None:
    """OpenAI's ``choices[0].logprobs.content`` -> per token ``{token: logprob}``: the sampled token first, then its
    top alternatives; None when the endpoint returned none or something else."""
    content = block.get("content") if isinstance(block, dict) else None
    if not isinstance(content, list):
        return None
    out = []
    for item in content:
        if not isinstance(item, dict):
            return None
        alts = {item.get("token"): item.get("logprob")}
        for a in item.get("top_logprobs") or []:
            if isinstance(a, dict):
                alts.setdefault(a.get("token"), a.get("logprob"))
        out.append({str(t): float(v) for t, v in alts.items() if t is not None and isinstance(v, (int, float))})
    return out


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
