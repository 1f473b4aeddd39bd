"""One redaction for every text that can reach a log, a file or the terminal: the study's API keys never do.

Why here and not at each writer: an endpoint may echo the request's ``Authorization`` header in an error body (a 401
or a 500 that dumps the request), and that body is quoted by the transport error, which reaches the job log, the
traceback Snakemake prints, ``logs/run_status.csv`` and the CLI's ``error:`` line. Redacting at the writers would
need every writer to remember; instead the texts pass :func:`redact` where they are made (the endpoint error, the
reply text the transport returns) and where they leave the process (the job log's streams, the CLI's error line).

What is redacted (each replaced by :data:`REDACTED`):

* the value of every API-key variable an endpoint names (``api_key_env``), read from the environment at each call,
  so a key set after import is covered. The variables are registered by :class:`hpo.llm.endpoint.EndpointConfig`
  when it is built or reads its key: a process can only leak a key it has read. Its plain, URL-encoded and
  JSON-escaped forms, and any run of :data:`MIN_FRAGMENT` or more consecutive characters of them (an error quotes
  only the first bytes of a body, so an echoed key is often cut);
* whatever follows an ``Authorization`` / ``Proxy-Authorization`` / ``api-key`` / ``x-api-key`` header name, and
  any ``Bearer <token>``, whatever the key (a key from a variable this process never registered).

Values shorter than :data:`MIN_FRAGMENT` characters are not treated as keys (they would redact ordinary words; no
provider issues such keys).
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_FRAGMENT = 8  # characters of a key that count as a leak of it

_KEY_ENVS: set[str] = set()
_KEY_ENVS_LOCK = threading.Lock()

_QUOTE = r"""(?:\\?["'])?"""  # an optional quote, JSON-escaped or not: "name": "value", \"name\": \"value\"
_HEADER = re.compile(
    rf"""(?ix)
    (\b(?:proxy-)?authorization|\bx-api-key|\bapi[-_]key)  # the header (or field) name
    ({_QUOTE}\s*[:=]\s*{_QUOTE}\s*)                          # the separator
    ((?:bearer|basic|token)\s+)?                             # the scheme, kept
    (?!\[redacted\]|(?:bearer|basic|token)\s)([^\s"'\\,;}}&]+)  # the value (not the scheme: no backtracking)
    """
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\[redacted\])([A-Za-z0-9\-._~+/]{8,}=*)")


def register_key_env(name: str | None) -> None:
    """Redact the value of environment variable ``name`` from now on (an endpoint's ``api_key_env``)."""
    if name:
        with _KEY_ENVS_LOCK:
            _KEY_ENVS.add(name)


def _secrets() -> list[str]:
    """The registered keys' current values, in every form a text may carry them, longest first."""
    with _KEY_ENVS_LOCK:
        names = sorted(_KEY_ENVS)
    forms: set[str] = set()
    for name in names:
        value = os.environ.get(name) or ""
        if len(value) >= MIN_FRAGMENT:
            forms |= {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def _fragments(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are runs of >= MIN_FRAGMENT consecutive characters of ``secret`` (longest match)."""
    n = MIN_FRAGMENT
    grams: dict[str, list[int]] = {}
    for i in range(len(secret) - n + 1):
        grams.setdefault(secret[i : i + n], []).append(i)
    spans, p = [], 0
    while p <= len(text) - n:
        starts = grams.get(text[p : p + n])
        if starts is None:
            p += 1
            continue
        best = n
        for s in starts:
            length = n
            while p + length < len(text) and s + length < len(secret) and text[p + length] == secret[s + length]:
                length += 1
            best = max(best, length)
        spans.append((p, p + best))
        p += best
    return spans


def redact(text: str) -> str:
    """``text`` with every key (see the module docstring) replaced by ``[redacted]``."""
    if not text or len(text) < MIN_FRAGMENT:
        return text
    for secret in _secrets():
        spans = _fragments(text, secret)
        for start, end in reversed(spans):
            text = text[:start] + REDACTED + text[end:]
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m[1]}{REDACTED}", text)


def redact_exception(exc: BaseException) -> BaseException:
    """``exc`` (and the exceptions chained to it) with keys redacted from their string arguments, so the traceback
    Python prints when the exception leaves the process holds none; an exception whose text keeps a key after that
    (a ``__str__`` of its own) is replaced by a ``RuntimeError`` carrying its redacted text."""
    seen: set[int] = set()
    chained: BaseException | None = exc
    while chained is not None and id(chained) not in seen:
        seen.add(id(chained))
        try:
            chained.args = tuple(redact(a) if isinstance(a, str) else a for a in chained.args)
        except (AttributeError, TypeError):
            pass
        chained = chained.__cause__ or chained.__context__
    text = str(exc)
    if redact(text) != text:
        clean = RuntimeError(f"{type(exc).__name__}: {redact(text)}")
        clean.__suppress_context__ = True
        return clean
    return exc


class RedactingWriter(io.TextIOBase):
    """A text stream that writes whole lines to ``target``, each passed through :func:`redact`.

    Whole lines, because ``print`` and ``logging`` write a line in pieces and a key split across two writes would
    pass a per-write redaction; a line without its newline is held until the newline or :meth:`close`.
    """

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        with self._lock:
            self._pending += s
            if "\n" in self._pending:
                lines, _, self._pending = self._pending.rpartition("\n")
                self.target.write(redact(lines + "\n"))
        return len(s)

    def flush(self) -> None:
        self.target.flush()

    def close(self) -> None:
        """Write the held partial line (redacted) and flush; ``target`` stays open (its owner closes it)."""
        with self._lock:
            if self._pending:
                self.target.write(redact(self._pending))
                self._pending = ""
        self.target.flush()
        super().close()

    def fileno(self) -> Any:
        return self.target.fileno()
