"""Aggregation: every run file -> one trajectories table, and the budget summary.

The summary reports, per benchmark x method, the median and interquartile range over seeds of normalized regret
(:mod:`hpo.analysis.regret`) after ``budget`` trials, for each budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def concat_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Read and stack trajectories; corrupt files fail with their paths (all of them), never silently skipped."""
    import pyarrow as pa

    from hpo.trajectory import read

    tables, bad = [], []
    for p in paths:
        try:
            tables.append(read(p))
        except ValueError as exc:  # read() names the file and the cause
            bad.append(str(exc))
    if bad:
        raise ValueError(f"{len(bad)} unreadable run file(s), delete and rerun to recompute: {'; '.join(bad)}")
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
            rows.append(_status_row(bench, method, n_exp, n_done, status, reason))
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


# -- run status from disk, for a run that did not finish --------------------------------------------------------------
# Rule ``aggregate`` needs every run file, so after a ``--keep-going`` run in which some run jobs failed it never
# runs. The workflow's ``onerror`` hook (rules/aggregate.smk) then calls :func:`report_incomplete`, which reads what
# is on disk (files are written atomically, so a file is either complete or absent; a truncated one is caught here)
# and writes ``run_status.csv`` saying which runs finished, failed (with the error from the job's log) or are corrupt.


def _last_error(log: Path) -> str:
    """The exception line a failed job left at the end of its log (hpo.logs.job_log), or "" if there is none."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    if not any(line.startswith("Traceback (most recent call last)") for line in lines):
        return ""
    return lines[-1][:300]


def check_run(path: str | Path, log: str | Path) -> tuple[str, str]:
    """One expected run: ``("done", "")``, ``("corrupt", why)``, ``("failed", error)`` or ``("missing", "")``."""
    from hpo.trajectory import read_meta

    path = Path(path)
    if path.exists():
        try:
            read_meta(path)  # the footer: a truncated or foreign file fails here
        except ValueError as exc:
            return "corrupt", str(exc)
        return "done", ""
    error = _last_error(Path(log))
    return ("failed", f"{error} (log: {log})") if error else ("missing", "")


def status_from_disk(expected: dict[str, list], skipped: dict[str, str], run_path: str, log_path: str) -> pd.DataFrame:
    """``run_status.csv`` rows (same columns as :func:`run_status`) from the run files and job logs on disk.

    ``run_path`` and ``log_path`` are templates with ``{benchmark}``, ``{method}`` and ``{seed}``. ``status`` is
    ``complete``, ``partial`` (some seeds done), ``failed`` (none done, at least one failed or corrupt), ``missing``
    (none done, none failed: never run) or ``skipped``; ``reason`` counts the others and quotes the first error.
    """
    rows = []
    for bench in expected["benchmarks"]:
        for method in expected["methods"]:
            n_exp = len(expected["seeds"])
            if method in skipped:
                rows.append(_status_row(bench, method, n_exp, 0, "skipped", skipped[method]))
                continue
            found: dict[str, list[str]] = {"done": [], "failed": [], "corrupt": [], "missing": []}
            for seed in expected["seeds"]:
                where = {"benchmark": bench, "method": method, "seed": seed}
                state, why = check_run(run_path.format(**where), log_path.format(**where))
                found[state].append(why or f"seed {seed}")
            n_done = len(found["done"])
            if n_done == n_exp:
                status = "complete"
            elif n_done:
                status = "partial"
            else:
                status = "failed" if found["failed"] or found["corrupt"] else "missing"
            reason = "; ".join(
                f"{len(found[k])} of {n_exp} seeds {k}" + (f": {found[k][0]}" if k != "missing" else "")
                for k in ("failed", "corrupt", "missing")
                if found[k]
            )
            rows.append(_status_row(bench, method, n_exp, n_done, status, reason))
    return pd.DataFrame(rows)


def _status_row(bench: str, method: str, n_exp: int, n_done: int, status: str, reason: str) -> dict[str, object]:
    return {
        "benchmark": bench,
        "method": method,
        "n_seeds_expected": n_exp,
        "n_seeds_done": n_done,
        "status": status,
        "reason": reason,
    }


def report_incomplete(
    expected: dict[str, list], skipped: dict[str, str], run_path: str, log_path: str, status_out: str | Path
) -> list[str]:
    """After a failed workflow run: write ``status_out`` from disk if any run is not done; return summary lines.

    Leaves ``status_out`` alone (and returns no lines) when every run is done, so that a failure elsewhere (a figure,
    say) does not touch a correct status file and rerun what depends on it.

    The file written here is dated 1970-01-01: it is also an output of rule ``aggregate``, and with a current date
    Snakemake would take ``snakemake results/run_status.csv`` as up to date (an existing output with missing inputs
    is not rerun); older than every run file, it is always out of date, so the next run recomputes the failed runs
    and replaces it.
    """
    import os

    from hpo.atomic import atomic_path

    status = status_from_disk(expected, skipped, run_path, log_path)
    bad = status[~status["status"].isin(["complete", "skipped"])]
    if bad.empty:
        return []
    with atomic_path(status_out) as tmp:
        status.to_csv(tmp, index=False)
        os.utime(tmp, (0, 0))
    lines = [f"{b} / {m}: {s}, {d} of {e} seeds done; {r}" for b, m, e, d, s, r in bad[list(status.columns)].values]
    return [f"run status written to {status_out} ({len(bad)} benchmark x method pairs not complete):", *lines]
