"""Content-addressed, on-disk reply cache shared by every job of a study.

Key = SHA-256 of the canonical JSON of :func:`reply_key_material`: the key version, the endpoint's identity (its
normalized base URL, or ``embedded:<model>``), the model, every sampling parameter (temperature, max_tokens, seed,
structured-output dialect and ``response_format``), the messages with image bytes as data URIs, and the schema.
Only what the model said is stored: the client never caches transport failures (empty content, no ``choices``,
non-JSON or HTML bodies), but it does cache valid model text that later fails to parse.

``CACHE_VERSION`` is part of the key material, so entries written under an older key layout (version 1: no endpoint
identity) are never found, hence never reused; they stay on disk, unread, until the cache directory is deleted.

One JSON file per entry, written to a temp file and renamed into place, so many Snakemake jobs (or SLURM nodes on a
shared filesystem) can write at once: readers see a whole entry or none. Each entry stores the hash of its own
content; a corrupt entry is reported with its path and never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MODES = ("off", "read", "readwrite")
CACHE_VERSION = 2


class CorruptCacheEntry(RuntimeError):
    """A cache file that exists but does not hold a valid entry."""


def request_key(request: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``request`` (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def reply_key_material(
    endpoint_identity: str, request: dict[str, Any], dialect: str, schema: dict[str, Any] | None
) -> dict[str, Any]:
    """Everything that decides what the model answers: who answers, what was sent (model, messages, sampling
    parameters, ``response_format``), the dialect and the schema (also when the ``none`` dialect does not send it).
    Transport settings (timeout, retries, concurrency) and prices are left out: they do not change the answer."""
    return {
        "cache_version": CACHE_VERSION,
        "endpoint": endpoint_identity,
        "request": request,
        "structured_output": dialect,
        "schema": schema,
    }


def reply_key(endpoint_identity: str, request: dict[str, Any], dialect: str, schema: dict[str, Any] | None) -> str:
    """The cache key of one chat request to one endpoint."""
    return request_key(reply_key_material(endpoint_identity, request, dialect, schema))


class ReplyCache:
    def __init__(self, root: str | Path | None, mode: str = "readwrite") -> None:
        if mode not in MODES:
            raise ValueError(f"cache mode must be one of {MODES}, got {mode!r}")
        self.mode = mode if root else "off"
        self.root = Path(root) if root else None

    def path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached reply for ``key`` or None; raises :class:`CorruptCacheEntry` naming the file if it is bad."""
        if self.mode == "off":
            return None
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(raw)
            body = entry["reply"]
            ok = entry["key"] == key and entry["sha256"] == request_key(body)
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptCacheEntry(f"corrupt LLM cache entry {path}: {exc}") from exc
        if not ok:
            raise CorruptCacheEntry(f"corrupt LLM cache entry {path}: checksum mismatch")
        return body

    def put(self, key: str, reply: dict[str, Any]) -> None:
        if self.mode != "readwrite":
            return
        from hpo.util.atomic import atomic_path

        entry = {"cache_version": CACHE_VERSION, "key": key, "sha256": request_key(reply), "reply": reply}
        with atomic_path(self.path(key)) as tmp:
            tmp.write_text(json.dumps(entry))
