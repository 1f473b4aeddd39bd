"""Aggregation: every run file -> one trajectories table, and the budget summary.

The summary reports, per benchmark x method, the median and interquartile range over seeds of normalized regret
(:mod:`hpo.analysis.regret`) after ``budget`` trials, for each budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def concat_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Read and stack trajectories; a corrupt file fails with its path, never silently skipped."""
    import pyarrow as pa

    from hpo.trajectory import read

    tables = [read(p) for p in paths]
    if not tables:
        raise ValueError("no run files to aggregate")
    return pa.concat_tables(tables, promote_options="default").to_pandas()


def summarize(df: pd.DataFrame, budgets: Sequence[int]) -> pd.DataFrame:
    """Median and IQR over seeds of normalized regret at each budget, per benchmark x method."""
    rows = []
    for (bench, method), g in df.groupby(["benchmark", "method"], sort=False):
        for budget in budgets:
            at = g[g["trial"] == budget]["normalized_regret"]
            q25, med, q75 = (at.quantile(q) for q in (0.25, 0.5, 0.75)) if len(at) else (float("nan"),) * 3
            rows.append(
                {
                    "benchmark": bench,
                    "method": method,
                    "budget": budget,
                    "n_seeds": int(at.size),
                    "median": med,
                    "q25": q25,
                    "q75": q75,
                    "iqr": q75 - q25,
                }
            )
    return pd.DataFrame(rows)


def run_status(df: pd.DataFrame, expected: dict[str, list], skipped: dict[str, str]) -> pd.DataFrame:
    """Per benchmark x method: seeds expected vs. done, and ``complete``/``partial``/``missing``/``skipped``."""
    done = df.groupby(["benchmark", "method"])["seed"].nunique() if len(df) else pd.Series(dtype=int)
    rows = []
    for bench in expected["benchmarks"]:
        for method in expected["methods"]:
            n_done = int(done.get((bench, method), 0))
            n_exp = len(expected["seeds"])
            if method in skipped:
                status, reason = "skipped", skipped[method]
            elif n_done == n_exp:
                status, reason = "complete", ""
            else:
                status, reason = ("partial" if n_done else "missing"), f"{n_exp - n_done} of {n_exp} seeds missing"
            rows.append(
                {
                    "benchmark": bench,
                    "method": method,
                    "n_seeds_expected": n_exp,
                    "n_seeds_done": n_done,
                    "status": status,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows)


def aggregate(
    paths: Sequence[str | Path],
    trajectories_out: str | Path,
    summary_out: str | Path,
    budgets: Sequence[int],
    status_out: str | Path | None = None,
    expected: dict[str, list] | None = None,
    skipped: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Write ``trajectories.parquet``, ``summary.csv`` and ``run_status.csv`` atomically; returns the summary."""
    from hpo.atomic import atomic_path

    df = concat_runs(paths)
    if status_out is not None:
        status = run_status(df, expected or {"benchmarks": [], "methods": [], "seeds": []}, skipped or {})
        with atomic_path(status_out) as tmp:
            status.to_csv(tmp, index=False)
    with atomic_path(trajectories_out) as tmp:
        df.to_parquet(tmp, index=False)
    summary = summarize(df, budgets)
    with atomic_path(summary_out) as tmp:
        summary.to_csv(tmp, index=False, float_format="%.6g")
    return summary
