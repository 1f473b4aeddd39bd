"""One request to an endpoint: a wall-clock deadline per attempt, retries, and one line when it all fails.

Why not the ``openai`` client's own ``timeout`` and ``max_retries`` alone: its timeout bounds each socket read, not
the request, so a server that sends one byte every 1.5 s keeps a request with ``timeout: 2`` alive indefinitely.
Here each attempt runs under a :class:`_Watchdog`: ``timeout`` seconds after the attempt starts it shuts down the
attempt's socket, which aborts the request whatever the server's pace (the connect itself is bounded by the client's
``timeout``; DNS resolution is not). Retries are this module's own loop (the client's ``max_retries=0``), so each
attempt gets a fresh deadline and the final error can say what the endpoint returned.

Every failure ends in one :class:`EndpointError` line naming the endpoint and what it returned (HTTP status,
content type, the first bytes of the body), or the deadline it missed. Split from :mod:`hpo.llm.client`, which
builds the request, owns the cache and the accounting, and hands each uncached request to :func:`send`.

Everything the endpoint returns passes :func:`hpo.util.redact.redact` here, before any of it reaches a log, a cache
entry
or an error: an endpoint may echo the request's ``Authorization`` header in its body. The usage it reports is
checked here too (:func:`_usage`): it is what the spending ledger settles, so a negative, non-finite or impossible
count would be a credit that lifts the cap; such a reply is an endpoint fault, never charged as reported.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from hpo.util.redact import redact

if TYPE_CHECKING:
    from hpo.llm.endpoint import EndpointConfig

log = logging.getLogger(__name__)

BODY_HEAD = 120  # bytes of an unusable body quoted in an error
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx: the statuses the openai client itself retries
MAX_BACKOFF = 8.0  # seconds between attempts after a connection error or a retryable status
# Reported usage above these is no count of this call: 10 million prompt tokens is 5x the largest context window
# offered today (2M); completion tokens may exceed the request's max_tokens by a server's stop and template tokens,
# and by no more: beyond that the endpoint ignored max_tokens, so the reservation was no upper bound of the bill.
MAX_PROMPT_TOKENS = 10_000_000
COMPLETION_SLACK = 64

# The watchdog of the attempt running in this thread; read by the HTTP request hook.
_WATCHDOG: contextvars.ContextVar[_Watchdog | None] = contextvars.ContextVar("hpo_llm_watchdog", default=None)


class EndpointError(RuntimeError):
    """The endpoint failed after the retries (down, past the deadline, HTTP errors, unusable bodies)."""


class _AttemptFailed(Exception):
    """One attempt failed: ``detail`` says what the endpoint returned, ``retry`` whether another try may help,
    ``backoff`` whether to wait before it (not after a missed deadline: that attempt already waited), ``wait`` the
    server's own ``Retry-After``."""

    def __init__(self, detail: str, retry: bool, backoff: bool = True, wait: float | None = None) -> None:
        super().__init__(detail)
        self.detail, self.retry, self.backoff, self.wait = detail, retry, backoff, wait


def describe_response(status: int, content_type: str | None, body: bytes) -> str:
    """``HTTP 200, content-type text/html, body b'<html>...'`` (the first bytes only, one line, keys redacted: a
    body may echo the request's ``Authorization`` header, and the cut may leave only the start of the key)."""
    head = body[:BODY_HEAD]
    more = f"... ({len(body)} bytes)" if len(body) > BODY_HEAD else ""
    return redact(f"HTTP {status}, content-type {content_type or 'none'}, body {head!r}{more}")


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


def arm_watchdog(request: Any) -> None:
    """httpx request hook: hand this thread's attempt watchdog every connection the request opens."""
    watchdog = _WATCHDOG.get()
    if watchdog is not None:
        request.extensions["trace"] = watchdog.trace


def send(
    client: Any, kwargs: dict[str, Any], ep: EndpointConfig, server: Any = None
) -> tuple[str, int, int, list[dict[str, float]] | None]:
    """One request: attempts under a deadline each, retries with backoff, one :class:`EndpointError` line at the end.

    ``server`` is the embedded server behind ``client`` (if any): when it died, no retry is made and its last
    words are the error. Usage that is no token count (:func:`check_usage`) fails the call without a retry: an
    endpoint that misreports once will again, and every retry may be billed.
    """
    attempts = ep.retries + 1
    for attempt in range(1, attempts + 1):
        watchdog = _Watchdog(ep.timeout)
        token = _WATCHDOG.set(watchdog)
        try:
            with watchdog:
                text, pt, ct, logprobs = _attempt(client, kwargs, watchdog, ep.timeout, server)
                check_usage(pt, ct, kwargs.get("max_tokens"))
                return redact(text), int(pt or 0), int(ct or 0), logprobs
        except _AttemptFailed as failure:
            detail = redact(failure.detail)
            if not failure.retry or attempt == attempts:
                raise EndpointError(
                    redact(
                        f"{ep.label()} failed after {attempt} attempt{'s' if attempt > 1 else ''} "
                        f"(retries: {ep.retries}): {detail}"
                    )
                ) from None
            log.info("%s attempt %d/%d failed (%s); retrying", ep.label(), attempt, attempts, detail)
            if failure.backoff:
                time.sleep(failure.wait if failure.wait is not None else min(0.5 * 2 ** (attempt - 1), MAX_BACKOFF))
        finally:
            _WATCHDOG.reset(token)
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt(
    client: Any, kwargs: dict[str, Any], watchdog: _Watchdog, timeout: float, server: Any
) -> tuple[str, Any, Any, list[dict[str, float]] | None]:
    """One request under ``watchdog`` -> (text, prompt tokens, completion tokens, token log-probabilities); the
    token counts as the endpoint reported them (unchecked)."""
    import openai

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
        dead = server.death_message() if server is not None else None
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


def _retry_after(value: str | None) -> float | None:
    """Seconds from a numeric ``Retry-After`` header (capped at MAX_BACKOFF); None if absent or a date."""
    try:
        return min(max(float(value), 0.0), MAX_BACKOFF) if value else None
    except ValueError:
        return None


def _parse_envelope(
    status: int, content_type: str | None, body: bytes
) -> tuple[str, Any, Any, list[dict[str, float]] | None]:
    """A chat-completion body -> (text, prompt tokens, completion tokens, token log-probabilities or None); anything
    that is not one (HTML, non-JSON, no ``choices``) fails the attempt with what was returned. Empty content is
    returned as ``""``; the token counts as reported (``None`` when absent), for :func:`check_usage`."""

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
    return content or "", usage.get("prompt_tokens"), usage.get("completion_tokens"), logprobs  # checked by send


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


def check_usage(prompt_tokens: Any, completion_tokens: Any, max_tokens: Any) -> None:
    """Fail the attempt (no retry) unless each reported count is absent (``None``: the client then keeps the
    reservation) or a whole number from 0 to its bound: :data:`MAX_PROMPT_TOKENS` prompt tokens, ``max_tokens`` +
    :data:`COMPLETION_SLACK` completion tokens. The ledger settles what is reported, so a negative count would be a
    credit that lifts the spending cap for every later job, and NaN or a huge count would poison the bill."""
    completion_bound = max_tokens + COMPLETION_SLACK if isinstance(max_tokens, int) else MAX_PROMPT_TOKENS
    for field, value, bound in (
        ("prompt_tokens", prompt_tokens, MAX_PROMPT_TOKENS),
        ("completion_tokens", completion_tokens, completion_bound),
    ):
        if value is None:
            continue
        whole = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not (whole and value == int(value) and 0 <= value <= bound):
            why = f"max_tokens {max_tokens} + {COMPLETION_SLACK}" if field == "completion_tokens" else f"{bound:,}"
            raise _AttemptFailed(
                f"the reply's usage.{field} is {value!r}, not a token count of one call (a whole number from 0 to "
                f"{why}); the spending ledger keeps the call's reservation and settles nothing: fix or replace "
                "the endpoint",
                retry=False,
            )
