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

Why the ledger is checked at every read: its sum decides whether a call is sent, so a line that lowers it lifts
the cap for every later job. Each line must be a JSON object with ``what`` (``reserve`` or ``settle``), a finite
``usd`` and a ``key``; a reservation is >= 0, and a settlement may lower only what its key reserved (the running sum
per key never goes below 0: a settle replaces the upper bound by the reported cost, which is >= 0). A line that
breaks this (a hand edit, a foreign write, a torn write) stops every capped call with one :class:`LedgerError` line
naming the file and the line number: the bill is unknown, so nothing is sent until a person fixes that line.

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


class LedgerError(SpendingCapReached):
    """The ledger holds a line that is no charge (corrupt, negative, non-finite), so what was spent is unknown and
    nothing is sent. A :class:`SpendingCapReached`: every caller that stops on the cap stops on this, with one line."""


SUM_TOLERANCE = 1e-9  # USD: float rounding of reserve + settle, far below any call's price


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

    def _sum(self, f: Any) -> float:
        """The ledger's total, every line checked (see the module docstring); :class:`LedgerError` on the first bad
        one."""
        f.seek(0)
        total, per_key = 0.0, {}
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            what, usd, key = self._parse(line, number)
            if what == "reserve" and usd < 0:
                raise self._bad(number, f"a reserve of ${usd:.6g} (a reservation is >= 0)")
            per_key[key] = per_key.get(key, 0.0) + usd
            if per_key[key] < -SUM_TOLERANCE:
                why = "a settle lowers only what its key reserved"
                raise self._bad(number, f"a settle of ${usd:.6g} takes key {key!r} below $0 ({why})")
            total += usd
        return total

    def _parse(self, line: str, number: int) -> tuple[str, float, str]:
        """One line -> (what, usd, key), or :class:`LedgerError` naming the line."""
        try:
            record = json.loads(line)
        except ValueError as err:
            raise self._bad(number, f"not JSON ({err})") from None
        if not isinstance(record, dict):
            raise self._bad(number, "not a JSON object")
        what, usd, key = record.get("what"), record.get("usd"), record.get("key")
        if what not in ("reserve", "settle"):
            raise self._bad(number, f"`what` is {what!r}, not 'reserve' or 'settle'")
        if isinstance(usd, bool) or not isinstance(usd, (int, float)) or not math.isfinite(usd):
            raise self._bad(number, f"`usd` is {usd!r}, not a finite number")
        if not isinstance(key, str):
            raise self._bad(number, f"`key` is {key!r}, not a string")
        return what, float(usd), key

    def _bad(self, number: int, why: str) -> LedgerError:
        return LedgerError(
            f"endpoint {self.name!r}: spending ledger {self.path} line {number}: {why}; what was spent is unknown, "
            "so no call is sent: correct or delete that line (the jobs write only reserve >= 0 and settle lines), "
            "then rerun"
        )

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
        _check_usd("reservation", usd)
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
        _check_usd("reported cost", actual)
        if not math.isclose(reserved, actual, rel_tol=1e-12, abs_tol=1e-15):
            with self._locked() as f:
                self._append(f, "settle", actual - reserved, key)


def _check_usd(what: str, usd: float) -> None:
    """A charge is a finite number >= 0: anything else would lower the ledger and lift the cap (a bug upstream:
    prices and usage are checked before they get here)."""
    if isinstance(usd, bool) or not isinstance(usd, (int, float)) or not 0 <= usd < math.inf:
        raise ValueError(f"spending ledger: a {what} must be a finite number of USD >= 0, got {usd!r}")


def _job() -> str:
    """Who charged: host and process, so a surprising bill can be traced to its jobs."""
    return f"{socket.gethostname()}:{os.getpid()}"
