"""The resolved study, handed from the Snakemake process that plans to the job processes that parse the workflow again.

Under SLURM every job is a Snakemake process of its own (``--mode remote``, and ``--mode subprocess`` for the steps
inside it; locally, too, for a job Snakemake spawns), and each parses the Snakefile again. Re-validating the study
there repeats what the planning process already did (the schema, each kind's parameters, the endpoints, a write
probe of every output folder): about 0.3 s of the ~1 s each job process spends parsing. So the planning process
writes the study it resolved, and the config as Snakemake's own ``validate`` left it, to
``.snakemake/hpo/study-<key>.json`` in the working directory, where ``<key>`` is a digest of the config as given and
of the code and schema that resolve it; a job process whose config has the same key reads that file instead of
validating (rules/common.smk).

Only a shortcut, never another answer: a job process that finds no file for its key (a study file edited after
submission, a node without the shared working directory, a different ``hpo``) validates as before, and a study whose
JSON round trip would change it (a tuple, a non-string key) is not handed off at all.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hpo.util.codebase import PACKAGE_ROOT, digest

__all__ = ["HANDOFF_DIR", "load_resolved", "save_resolved", "study_key"]

HANDOFF_DIR = Path(".snakemake") / "hpo"  # relative: Snakemake parses the workflow inside the working directory


def study_key(config: dict[str, Any]) -> str:
    """Digest of the config as Snakemake gave it (before any resolution) and of every ``hpo`` source file and the
    schema: any edit to what resolves a study gives another key."""
    code = digest([*PACKAGE_ROOT.rglob("*.py"), PACKAGE_ROOT / "config.schema.yaml"])
    given = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(f"{code}\0{given}".encode()).hexdigest()[:24]


def _path(key: str) -> Path:
    return HANDOFF_DIR / f"study-{key}.json"


def save_resolved(key: str, config: dict[str, Any], study: dict[str, Any]) -> bool:
    """Write the planning process's resolved ``config`` and ``study`` under ``key`` (atomically); False when their
    JSON round trip would change them, so job processes validate instead."""
    from hpo.util.atomic import atomic_path

    record = {"config": config, "study": study}
    try:
        text = json.dumps(record, sort_keys=True)
    except (TypeError, ValueError):
        return False
    if json.loads(text) != record:
        return False
    path = _path(key)
    try:
        if path.is_file() and path.read_text() == text:
            return True
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    except OSError:  # a working directory Snakemake itself could not use; jobs then validate
        return False
    return True


def load_resolved(key: str) -> dict[str, Any] | None:
    """The ``{"config", "study"}`` the planning process resolved for ``key``, or None (then: validate)."""
    try:
        record = json.loads(_path(key).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not {"config", "study"} <= set(record):
        return None
    return record
