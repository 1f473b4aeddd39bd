"""The reply cache under concurrent writers, and corrupt entries."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from hpo.llm.cache import CorruptCacheEntry, ReplyCache, request_key


def _writer(root: str, worker: int, n: int) -> None:
    cache = ReplyCache(root, "readwrite")
    for i in range(n):
        # Overlapping keys: every worker writes every key (same content, as two jobs asking the same question).
        key = request_key({"i": i})
        cache.put(key, {"text": f"reply {i}" + "x" * 5000, "prompt_tokens": i, "completion_tokens": 1})
        assert cache.get(key) is not None


def test_many_processes_write_at_once(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = ReplyCache(tmp_path, "read")
    for i in range(60):
        entry = cache.get(request_key({"i": i}))
        assert entry is not None and entry["prompt_tokens"] == i and entry["text"].startswith(f"reply {i}")
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".json"]  # no temp files left


def test_corrupt_entry_is_reported_with_its_path(tmp_path: Path) -> None:
    cache = ReplyCache(tmp_path, "readwrite")
    key = request_key({"q": 1})
    cache.put(key, {"text": "ok", "prompt_tokens": 1, "completion_tokens": 1})
    path = cache.path(key)
    path.write_text(path.read_text()[:-10])
    with pytest.raises(CorruptCacheEntry, match=str(path)):
        cache.get(key)
    path.write_text(path.read_text().replace("ok", "ko") if path.read_text().endswith("}") else '{"key": 1}')
    with pytest.raises(CorruptCacheEntry, match=str(path)):
        cache.get(key)


def test_modes(tmp_path: Path) -> None:
    key = request_key({"q": 2})
    ReplyCache(tmp_path, "read").put(key, {"text": "x"})
    assert ReplyCache(tmp_path, "readwrite").get(key) is None  # read mode never writes
    ReplyCache(tmp_path, "readwrite").put(key, {"text": "x"})
    assert ReplyCache(tmp_path, "off").get(key) is None
    assert ReplyCache(tmp_path, "read").get(key) == {"text": "x"}
    with pytest.raises(ValueError, match="cache mode must be one of"):
        ReplyCache(tmp_path, "sometimes")
