"""Every artifact says what it is, and every reader checks that before it uses it.

A results tree is addressed by path, and a path proves nothing: a file copied over another (an older or newer
mtime), edited by hand or left from an earlier study reads like the right one. So each artifact records the job
that wrote it, and each reader compares that record with the job it expects, through :func:`mismatch` here:

* converted table ``tables/<b>.npz``: ``benchmark`` and its source data (``package``, ``version``, ``file``,
  ``sha256``); checked by every table reader (run job, ``python -m hpo run --table``, insight job, importance) in
  :class:`hpo.benchmarks.tabular.TabularBenchmark`;
* trajectory ``runs/<b>/<m>/<s>.parquet``: ``spec`` (benchmark, method, seed, n_trials, fingerprint); checked by
  aggregation, the failure report and the insight job (:func:`hpo.core.trajectory.check_meta`);
* insight file ``runs/<b>/<m>/<s>_insight.json``: benchmark, method, seed and the fingerprint of the run file beside
  it; checked by insight scoring (:func:`check_insight`, called by ``hpo.insight.stats.load_insight``);
* importance file ``importance/<b>.json``: benchmark; checked by the importance table and insight scoring
  (:func:`check_importance`, called by ``hpo.insight.truth.importance.load_importance``).

A mismatch is one line naming the file, the field, what was found and what was expected, and the fix: the file is
an output of the workflow, so deleting it makes the next run recreate it from its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FIX = "delete it; the rerun recreates it"
# Stated weights are normalized by the parser; JSON keeps 17 digits, so a sum further off was edited or corrupted.
WEIGHT_SUM_TOLERANCE = 1e-6


class IdentityError(ValueError):
    """An artifact that is not what its reader expects (one line: file, field, found vs. expected, the fix)."""


def _shown(value: Any) -> str:
    return "missing" if value is None else repr(value)


def mismatch(path: str | Path, record: Any, expected: Mapping[str, Any]) -> str | None:
    """None if ``record`` has every field of ``expected`` with the expected value, else the one-line complaint."""
    found = record if isinstance(record, Mapping) else {}
    for key, want in expected.items():
        got = found.get(key)
        if got != want:
            return (
                f"{path}: {key} is {_shown(got)} but the job at this path has {_shown(want)}; the file was not "
                f"written by this job (copied, edited or stale): {FIX}"
            )
    return None


def check(record: Any, expected: Mapping[str, Any], path: str | Path) -> None:
    """Raise :class:`IdentityError` unless ``record`` matches ``expected`` (see :func:`mismatch`)."""
    problem = mismatch(path, record, expected)
    if problem:
        raise IdentityError(problem)


def expected_from_path(path: str | Path) -> dict[str, Any]:
    """The job that a file's place in the results tree names; {} for a path outside the layout (library use).

    ``runs/<benchmark>/<method>/<seed>.parquet`` and ``.../<seed>_insight.json`` name a run job;
    ``importance/<benchmark>.json`` and ``tables/<benchmark>.npz`` a benchmark. The rules write exactly these paths
    (rules/run.smk, insight.smk, importance.smk, tables.smk).
    """
    p = Path(path)
    parts = p.parts
    if len(parts) >= 4 and parts[-4] == "runs":
        seed = p.name.removesuffix("_insight.json").removesuffix(".parquet")
        if seed.isdigit() and seed != p.name:
            return {"benchmark": parts[-3], "method": parts[-2], "seed": int(seed)}
    if len(parts) >= 2 and (parts[-2], p.suffix) in (("importance", ".json"), ("tables", ".npz")):
        return {"benchmark": p.stem}
    return {}


def _fail(path: str | Path, field: str, problem: str) -> None:
    raise IdentityError(f"{path}: {field} {problem}; {FIX}")


def insight_run_file(path: str | Path) -> Path | None:
    """The run file beside an insight file (``<s>_insight.json`` -> ``<s>.parquet``), or None if its path names
    no run job."""
    seed = expected_from_path(path).get("seed")
    return None if seed is None else Path(path).with_name(f"{seed}.parquet")


def check_insight(record: Mapping[str, Any], path: str | Path, run_fingerprint: str | None = None) -> None:
    """An insight file belongs to the run job its path names (and, given ``run_fingerprint``, the fingerprint of
    the run file beside it, :func:`insight_run_file`), and each statement's weights sum to 1.

    The caller reads that fingerprint: this module sits below the trajectory format and imports no reader."""
    check(record, expected_from_path(path), path)
    if run_fingerprint is not None:
        # Same benchmark, method and seed from another study (other params or code) is still another run.
        check(record, {"fingerprint": run_fingerprint}, path)
    for i, statement in enumerate(record.get("statements") or []):
        weights = statement.get("weights") if isinstance(statement, Mapping) else None
        if not isinstance(weights, Mapping):
            continue  # the reader's schema check names a missing or malformed weights object
        values = [v for v in weights.values() if isinstance(v, int | float) and not isinstance(v, bool)]
        total = math.fsum(values)
        if len(values) == len(weights) and abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
            _fail(path, f"statements.{i}.weights", f"sum to {total:.6g}, not 1 (the writer normalizes them)")


def check_importance(record: Mapping[str, Any], path: str | Path) -> None:
    """An importance file belongs to the benchmark its path names, main effects are non-negative shares, and it has
    the pairwise ties and total-order truth that scoring reads (a file from before them, with transitive tie groups
    and no totals on tables, is refused: issue 22)."""
    check(record, expected_from_path(path), path)
    for transform, result in (record.get("transforms") or {}).items():
        for key in ("unresolved_pairs", "total_unresolved_pairs"):
            if isinstance(result, Mapping) and key not in result:
                _fail(path, f"transforms.{transform}.{key}", "is missing (written by an older version)")
        main = result.get("main") if isinstance(result, Mapping) else None
        for name, share in (main or {}).items():
            # NaN (null on disk) is a constant function's share: no variance to attribute, not an error.
            if isinstance(share, int | float) and not isinstance(share, bool) and share < 0:
                _fail(path, f"transforms.{transform}.main.{name}", f"is {share!r}: a share of variance is >= 0")
