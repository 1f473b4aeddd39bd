"""Atomic file writes for results: write a temp file in the target directory, fsync, then rename over the target.

A full disk (or quota) leaves no partial file either way; it is reported as :class:`DiskFullError`, one line naming
the file and the space left, instead of the writer's traceback (pyarrow, numpy and pandas each word it their own way).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(OSError):
    """No space (or quota) left to write a result file; the message is one line."""


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def disk_full(path: Path, err: OSError) -> DiskFullError:
    """The one-line error for ``err`` (ENOSPC / EDQUOT) while writing ``path``."""
    try:
        free = f"{_size(shutil.disk_usage(path.parent).free)} free"
    except OSError:
        free = "free space unknown"
    reason = "disk quota exceeded" if err.errno == errno.EDQUOT else "no space left on device"
    full = DiskFullError(f"cannot write {path}: {reason} ({free} in {path.parent}); free space there, then rerun")
    full.errno = err.errno  # still an OSError with its errno for callers that branch on it
    return full


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix + ".tmp")
        os.close(fd)
        tmp = Path(name)
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if err.errno in DISK_FULL and not isinstance(err, DiskFullError):
            raise disk_full(path, err) from None
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
