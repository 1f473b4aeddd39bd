"""The statistics stage: trajectories + run status -> CSV, Markdown and HTML tables under ``results/stats/``.

Every table that names a method carries a ``flag`` column (partial, missing or skipped runs, from
:mod:`hpo.stats.coverage`), and every test carries the number of blocks it used and dropped. When the input
cannot support a test (empty table, one method, one block, all tied), the row holds NaN and a ``note`` explaining why:
the stage always finishes, so the report can show what is there and say what is not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from hpo.stats import comparison as stats
from hpo.stats.arm_contrasts import arm_contrasts
from hpo.stats.coverage import expected_blocks, method_flags, read_status
from hpo.stats.llm_usage import NO_LLM_NOTE, llm_usage

TABLES = (
    "regret_at_budget",
    "ranks",
    "average_rank_trials",
    "friedman",
    "nemenyi",
    "wilcoxon",
    "llm",
    "arm_contrasts",
)
TITLES = {
    "regret_at_budget": "Normalized regret at each budget (benchmark x method x seed)",
    "ranks": "Average rank and median normalized regret at each budget",
    "average_rank_trials": "Average rank after every trial",
    "friedman": "Friedman test and Nemenyi critical difference at each budget",
    "nemenyi": "Nemenyi post-hoc p-values at each budget",
    "wilcoxon": "Paired two-sided Wilcoxon signed-rank tests (Holm-adjusted) at each budget",
    "llm": "LLM proposals: validity, tokens, latency and cost",
    "arm_contrasts": "Arm contrasts: each group's arms vs each other and vs the reference, paired by benchmark",
}
REQUIRED = ["benchmark", "method", "seed", "trial", "normalized_regret"]


def load_trajectories(
    path: str | Path | pd.DataFrame, columns: Sequence[str] = REQUIRED, stage: str = "statistics"
) -> tuple[pd.DataFrame, str]:
    """The trajectories table (``columns`` at least) and a one-line note (empty if fine); an unusable table becomes
    an empty frame, so the stage still writes its tables and says why they are empty."""
    columns = list(columns)
    if isinstance(path, pd.DataFrame):
        df = path
    else:
        try:
            df = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            return pd.DataFrame(columns=columns), f"trajectories {path} unreadable ({exc}); no {stage}"
    missing = [c for c in columns if c not in df.columns]
    if missing:
        return pd.DataFrame(columns=columns), f"trajectories lack columns {missing}; no {stage}"
    if df.empty:
        return df, f"trajectories table is empty: no run finished; no {stage}"
    return df, ""


def _flag(df: pd.DataFrame, flags: dict[str, str], col: str = "method") -> pd.Series:
    return df[col].map(lambda m: flags.get(m, "")) if len(df) else pd.Series(dtype=str)


def _pair_flag(df: pd.DataFrame, flags: dict[str, str]) -> list[str]:
    """For tables of method pairs: the flags of either method, named."""
    if df.empty:
        return []
    pairs = zip(df["method_a"], df["method_b"])
    return ["; ".join(f"{m}: {flags[m]}" for m in pair if flags.get(m)) for pair in pairs]


def compute(
    df: pd.DataFrame,
    status: pd.DataFrame,
    budgets: Sequence[int],
    methods: Sequence[str],
    alpha: float = stats.ALPHA,
    roles: Mapping[str, str] | None = None,
    groups: Mapping[str, Mapping[str, object]] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """All tables, keyed by :data:`TABLES`, and per table the notes that explain missing values.

    ``groups`` are the study's resolved arm groups (:func:`hpo.study.groups.resolve_groups`; none: an empty
    ``arm_contrasts`` table that says so)."""
    methods = list(dict.fromkeys([*methods, *(df["method"].unique() if len(df) else [])]))
    flags = method_flags(status, methods)
    n_expected = expected_blocks(status)
    notes: dict[str, list[str]] = {name: [] for name in TABLES}
    flagged = [f"{m}: {f}" for m, f in flags.items() if f]

    at = stats.regret_at_budgets(df, budgets)
    at["flag"] = _flag(at, flags)

    rank_rows, fried_rows, nem_rows, wil_frames = [], [], [], []
    for budget in budgets:
        blocks = stats.complete_blocks(at, budget, methods, n_expected)
        for m, why in blocks.excluded.items():
            blocks.excluded[m] = flags.get(m) or why
        coverage = blocks.coverage_note()
        for name in ("ranks", "friedman", "wilcoxon", "nemenyi"):
            notes[name].append(f"budget {budget}: {coverage}")
        avg = stats.average_ranks(blocks.matrix) if blocks.n_blocks else pd.Series(dtype=float)
        best = stats.best_method(blocks)
        for m in methods:
            col = blocks.matrix[m] if m in blocks.matrix.columns else pd.Series(dtype=float)
            rank_rows.append(
                {
                    "budget": budget,
                    "method": m,
                    "avg_rank": float(avg.get(m, float("nan"))),
                    "median_regret": float(col.median()) if len(col) else float("nan"),
                    "n_blocks": int(col.size),
                    "is_best": m == best,
                    "flag": flags.get(m, ""),
                }
            )
        fr = stats.friedman(blocks)
        cd = float("nan")
        if not fr["note"]:
            cd = stats.critical_difference(len(blocks.methods), blocks.n_blocks, alpha)
            p = stats.nemenyi(blocks)
            for i, a in enumerate(blocks.methods):
                for b in blocks.methods[i + 1 :]:
                    nem_rows.append({"budget": budget, "method_a": a, "method_b": b, "p_value": float(p.loc[a, b])})
        else:
            notes["nemenyi"].append(f"budget {budget}: no Nemenyi test ({fr['note']})")
        fried_rows.append(
            {
                "budget": budget,
                "n_methods": len(blocks.methods),
                "methods": " ".join(blocks.methods),
                "n_blocks": blocks.n_blocks,
                "n_blocks_expected": blocks.n_expected,
                "n_blocks_dropped": blocks.n_dropped,
                "excluded": "; ".join(f"{m} ({w})" for m, w in blocks.excluded.items()),
                "statistic": fr["statistic"],
                "p_value": fr["p_value"],
                "alpha": alpha,
                "critical_difference": cd,
                "best": best or "",
                "note": fr["note"],
            }
        )
        pairs = stats.comparison_pairs(blocks.methods, best, roles)
        if not pairs:
            notes["wilcoxon"].append(
                f"budget {budget}: no pair to test ({len(blocks.methods)} method(s) with complete blocks)"
            )
        w = stats.wilcoxon_pairs(blocks, pairs, alpha)
        w.insert(0, "budget", budget)
        wil_frames.append(w)

    tables = {
        "regret_at_budget": at,
        "ranks": pd.DataFrame(rank_rows),
        "average_rank_trials": stats.average_rank_over_trials(df, methods),
        "friedman": pd.DataFrame(fried_rows),
        "nemenyi": pd.DataFrame(nem_rows, columns=["budget", "method_a", "method_b", "p_value"]),
        "wilcoxon": pd.concat(wil_frames, ignore_index=True) if wil_frames else pd.DataFrame(),
        "llm": llm_usage(df, methods),
    }
    tables["arm_contrasts"], notes["arm_contrasts"] = arm_contrasts(at, groups or {}, budgets, flags, alpha)
    tables["average_rank_trials"]["flag"] = _flag(tables["average_rank_trials"], flags)
    tables["llm"]["flag"] = _flag(tables["llm"], flags)
    for name in ("wilcoxon", "nemenyi"):
        tables[name]["flag"] = _pair_flag(tables[name], flags)
    tables["friedman"]["flagged"] = "; ".join(flagged)
    if tables["llm"].empty:
        notes["llm"].append(NO_LLM_NOTE)
    notes["wilcoxon"].append(
        f"two-sided, paired on (benchmark, seed), zero differences dropped (zero_method='wilcox'); "
        f"Holm-adjusted over each budget's family; rank_biserial > 0 means method_a has lower regret; alpha={alpha:g}"
    )
    notes["ranks"].append("rank 1 = lowest normalized regret within a (benchmark, seed) block; ties share ranks")
    for name in TABLES:
        notes[name].extend(f"flagged {f}" for f in flagged)
    return tables, notes


def write_stats(
    trajectories: str | Path | pd.DataFrame,
    status_path: str | Path | None,
    out_dir: str | Path,
    budgets: Sequence[int],
    methods: Sequence[str] = (),
    alpha: float = stats.ALPHA,
    roles: Mapping[str, str] | None = None,
    groups: Mapping[str, Mapping[str, object]] | None = None,
) -> dict[str, pd.DataFrame]:
    """Compute every table and write ``<name>.csv``, ``.md`` and ``.html`` for each of :data:`TABLES`, atomically."""
    df, traj_note = load_trajectories(trajectories)
    status, status_note = read_status(status_path)
    tables, notes = compute(df, status, list(budgets), list(methods), alpha, roles, groups)
    write_tables(out_dir, tables, TITLES, notes, [n for n in (traj_note, status_note) if n])
    return tables


def write_tables(
    out_dir: str | Path,
    tables: Mapping[str, pd.DataFrame],
    titles: Mapping[str, str],
    notes: Mapping[str, list[str]],
    general: Sequence[str] = (),
) -> None:
    """Each table as ``<name>.csv``, ``.md`` and ``.html`` (title, ``general`` notes + its own notes), atomically."""
    from hpo.util.atomic import atomic_path
    from hpo.util.htmlpage import page
    from hpo.util.markdown import document

    for name, table in tables.items():
        lines = [*general, *notes.get(name, [])]
        with atomic_path(Path(out_dir) / f"{name}.csv") as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g")
        with atomic_path(Path(out_dir) / f"{name}.md") as tmp:
            tmp.write_text(document(titles[name], lines, table))
        with atomic_path(Path(out_dir) / f"{name}.html") as tmp:
            tmp.write_text(page(titles[name], lines, [("", table)]))
