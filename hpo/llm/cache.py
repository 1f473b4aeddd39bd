"""Content-addressed, on-disk reply cache shared by every job of a study.

Key = SHA-256 of the canonical JSON of (model, messages with image bytes as data URIs, sampling parameters,
structured-output schema). One JSON file per entry, written to a temp file and renamed into place, so many
Snakemake jobs (or SLURM nodes on a shared filesystem) can write at once: readers see a whole entry or none.
Each entry stores the hash of its own content; a corrupt entry is reported with its path and never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
MODES = ("off", "read", "readwrite")


class CorruptCacheEntry(RuntimeError):
    """A cache file that exists but does not hold a valid entry."""


def request_key(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


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
        from hpo.atomic import atomic_path

        entry = {"key": key, "sha256": request_key(reply), "reply": reply}
        with atomic_path(self.path(key)) as tmp:
            tmp.write_text(json.dumps(entry))
