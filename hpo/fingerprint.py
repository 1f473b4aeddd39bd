"""Fingerprint of a method: its resolved parameters plus the source code of the modules that implement it.

Snakemake compares ``params`` by value but only looks at a script's mtime for code; by passing this fingerprint as
a run-rule param, editing one method's parameters or module reruns exactly that method's jobs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# Code that every run job shares; a change here legitimately reruns everything.
_SHARED = ("runner.py", "space.py", "trajectory.py")


def method_fingerprint(kind: str, params: dict[str, Any]) -> str:
    from hpo.optimizers import module_files

    root = Path(__file__).parent
    h = hashlib.sha256()
    h.update(json.dumps({"kind": kind, "params": params}, sort_keys=True).encode())
    for path in [*module_files(kind), *(root / f for f in _SHARED)]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
