"""Aggregation: every run file -> one trajectories table, and the budget summary.

The summary reports, per benchmark x method, the median and interquartile range over seeds of normalized regret
(:mod:`hpo.analysis.regret`) after ``budget`` trials, for each budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa


def with_normalized_regret(table: pa.Table, meta: dict[str, Any]) -> pa.Table:
    """Add ``normalized_regret`` from the stored regret and the run's reference values (:mod:`hpo.analysis.regret`).

    Derived here, not stored by run jobs, so a change to the normalization reruns aggregation, never the study.
    """
    import pyarrow as pa

    from hpo.analysis.regret import normalized_regret

    f_star = meta["f_star"]
    values = normalized_regret(np.asarray(table["regret"]) + f_star, f_star, meta["f_ref"])
    return table.append_column("normalized_regret", pa.array(values, type=pa.float64()))


def with_cumulative_llm_cost(table: pa.Table) -> pa.Table:
    """Add ``cum_llm_cost``: the run's model spend so far (endpoint currency; 0 for classical methods and free models).

    Summed over every evaluation of the run file, so on the cost axis of a multi-fidelity run (which keeps one row per
    full-fidelity evaluation's worth) a checkpoint still carries every call made before it: regret against dollars.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    spent = pc.cumulative_sum(pc.fill_null(table["llm_cost"], 0.0))
    return table.append_column("cum_llm_cost", pa.array(spent, type=pa.float64()))


def concat_runs(paths: Sequence[str | Path], expected_runs: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """Read, check and stack trajectories; corrupt or misplaced files fail with their paths, never silently used.

    ``expected_runs`` maps a run file's path to the fields of the job that writes it
    (:data:`hpo.core.trajectory.CHECKED_FIELDS`).
    """
    import pyarrow as pa

    from hpo.analysis.cost_axis import is_multi_fidelity_run, on_cost_axis
    from hpo.core.trajectory import check_meta, meta_of, read

    tables, bad = [], []
    for p in paths:
        try:
            table = read(p)
            meta = meta_of(table.schema, p)
        except ValueError as exc:  # read() names the file and the cause
            bad.append(str(exc))
            continue
        mismatch = check_meta(p, meta, (expected_runs or {}).get(str(p)))
        if mismatch:
            bad.append(mismatch)
            continue
        table = with_normalized_regret(table, meta)
        table = with_cumulative_llm_cost(table)  # before the cost axis drops rows: every call is counted
        if is_multi_fidelity_run(table):  # at equal cost: one row per full-fidelity evaluation's worth spent
            table = on_cost_axis(table, int(meta["spec"]["n_trials"]))
        tables.append(table)
    if bad:
        raise ValueError(f"{len(bad)} unusable run file(s), delete and rerun to recompute: {'; '.join(bad)}")
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
    expected_runs: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Write ``trajectories.parquet``, ``summary.csv`` and ``run_status.csv`` atomically; returns the summary."""
    from hpo.util.atomic import atomic_path

    df = concat_runs(paths, expected_runs)
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


def missing_runs_note(run_files: Sequence[str | Path], aggregated: str | Path) -> str | None:
    """One line naming the expected run files that are gone while the aggregate built from them is still there.

    Snakemake does not recreate a missing intermediate file when everything it feeds is up to date, so a deleted
    trajectory would never rerun and the summary, figures and report would keep showing the deleted run. The
    workflow prints this line at planning (rules/aggregate.smk); ``--forcerun aggregate`` reruns the missing runs
    first (they are its inputs), and their insight files then rerun because they are older than the new run.
    """
    if not Path(aggregated).exists():
        return None
    missing = [str(p) for p in run_files if not Path(p).exists()]
    if not missing:
        return None
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    return (
        f"warning: {missing[0]}{more} missing, but {aggregated} still holds the old run(s) (Snakemake does not "
        "recreate a missing intermediate on its own): rerun it with --forcerun aggregate"
    )


# -- run status from disk, for a run that did not finish --------------------------------------------------------------
# Rule ``aggregate`` needs every run file, so after a ``--keep-going`` run in which some run jobs failed it never
# runs. The workflow's ``onerror`` hook (rules/aggregate.smk) then calls :func:`report_incomplete`, which reads what
# is on disk (files are written atomically, so a file is either complete or absent; a truncated one is caught here)
# and writes a status file (same columns as ``run_status.csv``) saying which runs finished, failed (with the error
# from the job's log), are corrupt or were not written by their job (``mismatch``).

STATES = ("done", "failed", "corrupt", "mismatch", "missing")


def _last_error(log: Path) -> str:
    """The exception line a failed job left at the end of its log (hpo.util.logs.job_log), or "" if there is none."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    if not any(line.startswith("Traceback (most recent call last)") for line in lines):
        return ""
    return lines[-1][:300]


def check_run(path: str | Path, log: str | Path, expected: dict[str, Any] | None = None) -> tuple[str, str]:
    """One expected run: ``done``, ``corrupt``, ``mismatch``, ``failed`` (with the error) or ``missing``."""
    from hpo.core.trajectory import check_meta, read_meta

    path = Path(path)
    if path.exists():
        try:
            meta = read_meta(path)  # the footer: a truncated or foreign file fails here
        except ValueError as exc:
            return "corrupt", str(exc)
        mismatch = check_meta(path, meta, expected)
        return ("mismatch", mismatch) if mismatch else ("done", "")
    error = _last_error(Path(log))
    return ("failed", f"{error} (log: {log})") if error else ("missing", "")


def status_from_disk(
    expected: dict[str, list],
    skipped: dict[str, str],
    expected_runs: dict[str, dict[str, Any]],
    log_path: str,
) -> pd.DataFrame:
    """Status rows (same columns as :func:`run_status`) from the run files and job logs on disk.

    ``expected_runs`` maps each run file's path to its job's fields; ``log_path`` is a template with
    ``{benchmark}``, ``{method}`` and ``{seed}``. ``status`` is ``complete``, ``partial`` (some seeds done),
    ``failed`` (none done, at least one failed, corrupt or mismatched), ``missing`` (none done, none failed: never
    run) or ``skipped``; ``reason`` counts the others and quotes the first error.
    """
    by_job = {(e["benchmark"], e["method"], e["seed"]): (p, e) for p, e in expected_runs.items()}
    rows = []
    for bench in expected["benchmarks"]:
        for method in expected["methods"]:
            n_exp = len(expected["seeds"])
            if method in skipped:
                rows.append(_status_row(bench, method, n_exp, 0, "skipped", skipped[method]))
                continue
            found: dict[str, list[str]] = {k: [] for k in STATES}
            for seed in expected["seeds"]:
                path, fields = by_job[(bench, method, seed)]
                log = log_path.format(benchmark=bench, method=method, seed=seed)
                state, why = check_run(path, log, fields)
                found[state].append(why or f"seed {seed}")
            n_done = len(found["done"])
            if n_done == n_exp:
                status = "complete"
            elif n_done:
                status = "partial"
            else:
                status = "failed" if any(found[k] for k in ("failed", "corrupt", "mismatch")) else "missing"
            reason = "; ".join(
                f"{len(found[k])} of {n_exp} seeds {k}" + (f": {found[k][0]}" if k != "missing" else "")
                for k in STATES[1:]
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
    expected: dict[str, list],
    skipped: dict[str, str],
    expected_runs: dict[str, dict[str, Any]],
    log_path: str,
    status_out: str | Path,
) -> list[str]:
    """After a failed workflow run: write ``status_out`` from disk if any run is not done; return summary lines.

    ``status_out`` is not ``run_status.csv`` (rule ``aggregate`` is that file's only writer) but a report in the
    logs folder; it is left alone (and no lines are returned) when every run is done, so that a failure elsewhere
    (a figure, say) raises no false alarm.
    """
    from hpo.util.atomic import atomic_path

    status = status_from_disk(expected, skipped, expected_runs, log_path)
    bad = status[~status["status"].isin(["complete", "skipped"])]
    if bad.empty:
        return []
    with atomic_path(status_out) as tmp:
        status.to_csv(tmp, index=False)
    lines = [f"{b} / {m}: {s}, {d} of {e} seeds done; {r}" for b, m, e, d, s, r in bad[list(status.columns)].values]
    return [f"run status written to {status_out} ({len(bad)} benchmark x method pairs not complete):", *lines]
