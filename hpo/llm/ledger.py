"""Spending cap: an append-only ledger of what every job of a study pays one endpoint.

Why a ledger and not a counter per job: a study runs hundreds of LLM jobs at once (SLURM nodes on a shared file
system), and the cap (``max_cost`` of an endpoint, USD) is for the study. Each job appends one line per uncached call
to ``<results>/spend/<endpoint>.jsonl`` and never rewrites one, so the file is the study's bill, readable with
``cat``.

Why reserve before the call: the price of a call is known only from the reply's usage, and a call that would cross
the cap must not be sent. So before each uncached call the client *reserves* an upper bound of its cost (the
prompt's tokens estimated from its characters, plus ``max_tokens`` completion tokens) under an exclusive lock on
the ledger: it sums the ledger, and if the sum plus the reservation exceeds the cap it refuses with one line (cap,
spent, ledger path) and sends nothing. After the reply it *settles* the difference to the cost the endpoint
reported. A failed call keeps its reservation (the provider may have billed it). Cached replies cost nothing and
are never charged, so raising the cap and rerunning resumes where the study stopped, without paying twice.

The lock is ``fcntl.lockf`` (POSIX record locks, which NFS v3 with lockd and v4 honour; ``flock`` is emulated with
them on Linux NFS) plus a thread lock, because POSIX locks do not exclude threads of one process (a job sends up to
``concurrency`` requests at once).

The study's caps reach the jobs through the environment variable :data:`SPEND_ENV` (set by ``rules/common.smk``,
which every Snakemake job process loads, locally or on a cluster node), not through the run spec: a cap is a spend
policy, not something that changes what the model answers, so raising it must not rerun finished jobs.
"""

from __future__ import annotations

import json
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SPEND_ENV = "HPO_LLM_SPEND"
CHARS_PER_TOKEN = 3.0  # fewer than the ~4 of English prose: JSON and numbers tokenize densely; errs high
IMAGE_TOKENS = 765  # an upper bound per image (OpenAI's 512-px tiles of a 640x480 image at high detail)
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


class SpendingCapReached(RuntimeError):
    """The next call would cross an endpoint's ``max_cost``; nothing was sent. The message is one line."""


def spend_env(ledger_dir: str | Path, caps: dict[str, float]) -> str:
    """The value of :data:`SPEND_ENV` for a study: where its ledgers are and each capped endpoint's cap."""
    return json.dumps({"dir": str(ledger_dir), "caps": caps}, sort_keys=True)


def prompt_tokens_bound(messages: list[dict[str, Any]]) -> int:
    """An upper estimate of a request's prompt tokens from its text (characters / 3) and its images."""
    chars, images = 0, 0
    for message in messages:
        content = message.get("content")
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for part in parts:
            if part.get("type") == "image_url":
                images += 1
            else:
                chars += len(str(part.get("text", "")))
    return math.ceil(chars / CHARS_PER_TOKEN) + images * IMAGE_TOKENS + 8 * len(messages)


class Ledger:
    """One endpoint's ledger: ``path`` (JSON lines), the endpoint ``name`` and its ``cap`` in USD."""

    def __init__(self, path: str | Path, name: str, cap: float) -> None:
        self.path, self.name, self.cap = Path(path), name, float(cap)
        with _THREAD_LOCKS_GUARD:
            self._thread_lock = _THREAD_LOCKS.setdefault(str(self.path.resolve()), threading.Lock())

    @classmethod
    def for_endpoint(cls, name: str, cap: float | None = None, ledger_dir: str | Path | None = None) -> Ledger | None:
        """The ledger of endpoint ``name``: the study's (from :data:`SPEND_ENV`) if it caps ``name``, else one at
        ``ledger_dir`` with ``cap`` (library use); None when nothing caps the endpoint."""
        raw = os.environ.get(SPEND_ENV)
        if raw:
            study = json.loads(raw)
            if name in study["caps"]:
                cap, ledger_dir = study["caps"][name], study["dir"]
        if cap is None or ledger_dir is None:
            return None
        return cls(Path(ledger_dir) / f"{name}.jsonl", name, cap)

    @contextmanager
    def _locked(self) -> Iterator[Any]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.path, "a+", encoding="utf-8") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            try:
                yield f
            finally:
                fcntl.lockf(f, fcntl.LOCK_UN)

    @staticmethod
    def _sum(f: Any) -> float:
        f.seek(0)
        return sum(json.loads(line)["usd"] for line in f if line.strip())

    def _append(self, f: Any, what: str, usd: float, key: str) -> None:
        record = {"t": round(time.time(), 3), "what": what, "usd": usd, "key": key[:16], "job": _job()}
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())  # on disk before the lock is released: the next job's sum includes it

    def spent(self) -> float:
        """What the ledger holds now (USD; reservations of calls in flight included)."""
        if not self.path.exists():
            return 0.0
        with self._locked() as f:
            return self._sum(f)

    def reserve(self, usd: float, key: str) -> None:
        """Charge ``usd`` before a call, or raise :class:`SpendingCapReached` (and charge nothing)."""
        with self._locked() as f:
            spent = self._sum(f)
            if spent + usd > self.cap * (1 + 1e-9) + 1e-12:
                raise SpendingCapReached(
                    f"endpoint {self.name!r}: spending cap max_cost ${self.cap:.4f} reached: spent ${spent:.4f}, "
                    f"the next call may cost up to ${usd:.4f}; ledger {self.path} (raise max_cost and rerun: "
                    "replies already paid for come from the cache)"
                )
            self._append(f, "reserve", usd, key)

    def settle(self, reserved: float, actual: float, key: str) -> None:
        """Replace a reservation by the cost the endpoint reported (one correcting line; none if they agree)."""
        if not math.isclose(reserved, actual, rel_tol=1e-12, abs_tol=1e-15):
            with self._locked() as f:
                self._append(f, "settle", actual - reserved, key)


def _job() -> str:
    """Who charged: host and process, so a surprising bill can be traced to its jobs."""
    return f"{socket.gethostname()}:{os.getpid()}"
