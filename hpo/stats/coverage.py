"""Which runs the statistics rest on: per-method flags from ``run_status.csv`` and the expected number of blocks.

A method with fewer seeds than the study asked for, or skipped altogether (e.g. no LLM endpoint), must stay visible
in every table instead of silently vanishing from a ranking; these flags are the text shown next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

STATUS_COLUMNS = ["benchmark", "method", "n_seeds_expected", "n_seeds_done", "status", "reason"]


def read_status(path: str | Path | None) -> tuple[pd.DataFrame, str]:
    """``run_status.csv`` as a frame, and a one-line note (empty if fine) when it is absent or malformed."""
    empty = pd.DataFrame(columns=STATUS_COLUMNS)
    if path is None or not Path(path).exists():
        return empty, f"no run status file ({path}): methods cannot be flagged for missing runs"
    try:
        status = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return empty, f"run status file {path} unreadable ({exc}); methods are not flagged"
    missing = [c for c in STATUS_COLUMNS if c not in status.columns]
    if missing:
        return empty, f"run status file {path} lacks columns {missing}; methods are not flagged"
    for col in ("n_seeds_expected", "n_seeds_done"):
        status[col] = pd.to_numeric(status[col], errors="coerce").fillna(0).astype(int)
    return status, ""


def method_flags(status: pd.DataFrame, methods: Sequence[str]) -> dict[str, str]:
    """Per method: "" when every expected run finished, else ``skipped: why``, ``missing`` or ``partial: i of n``."""
    flags = {}
    for method in methods:
        rows = status[status["method"] == method]
        if rows.empty:
            flags[method] = ""
            continue
        done, expected = int(rows["n_seeds_done"].sum()), int(rows["n_seeds_expected"].sum())
        if (rows["status"] == "skipped").all():
            reasons = "; ".join(dict.fromkeys(r for r in rows["reason"] if r)) or "not run"
            flags[method] = f"skipped: {reasons}"
        elif done == 0:
            flags[method] = f"missing: 0 of {expected} runs done"
        elif done < expected or (rows["status"] != "complete").any():
            short = [
                f"{b} {d}/{e}" for b, d, e in rows[["benchmark", "n_seeds_done", "n_seeds_expected"]].values if d < e
            ]
            flags[method] = f"partial: {done} of {expected} runs done ({', '.join(short)})"
        else:
            flags[method] = ""
    return flags


def expected_blocks(status: pd.DataFrame) -> int | None:
    """Number of (benchmark, seed) blocks the study asked for, from the status table; None if it is empty."""
    if status.empty:
        return None
    return int(status.groupby("benchmark")["n_seeds_expected"].max().sum())
