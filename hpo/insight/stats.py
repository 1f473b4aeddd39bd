"""Do the models understand the problem? Stated hyperparameter importance scored against the ground truth.

The stage behind rule ``insight_stats``; each concern has its own module:

* who states what: the models' statements and the baseline ladder (:mod:`hpo.insight.sources`);
* the score table, every score raw / chance / normalized (:mod:`hpo.insight.table`, scores from
  :mod:`hpo.insight.scores`, truth from the importance records);
* inference across benchmarks, the primary contrast at full alpha, the gated secondary family (Holm), the
  per-family breakdown and the multimodal contrasts (:mod:`hpo.insight.inference`).

This module joins them and writes the tables (:data:`TABLES`) with their notes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hpo.insight import inference
from hpo.insight.sources import LADDER, SOURCES, ladder_rows, load_insight, model_rows
from hpo.insight.table import dropped_notes, score_table, truth_of
from hpo.insight.truth.importance import load_importance
from hpo.stats import comparison as stats
from hpo.stats.paired import CI_LEVEL, t_interval

__all__ = ["LADDER", "SOURCES", "TABLES", "TITLES", "compute", "load_insight", "write_insight"]

TABLES = ("insight", "insight_summary", "insight_tests", "insight_pairs")
TITLES = {
    "insight": "Stated vs. true hyperparameter importance: every score raw, at chance and chance-normalized, per "
    "benchmark x seed x budget x method x source",
    "insight_summary": "Normalized scores per family, budget, method and source (seeds averaged within a benchmark, "
    "then the mean over benchmarks, with a Student t interval over benchmarks)",
    "insight_tests": "Contrasts across benchmarks: paired two-sided Wilcoxon on benchmark means, Student t "
    "intervals; the primary contrast first (full alpha), then the secondary family (Holm, behind the primary's "
    "gate), then the primary's per-family breakdown",
    "insight_pairs": "Echo: how often a method's stated top two are the pair the images plot, and how often the "
    "plotted pair is the true top pair; each role's gain over its own prior",
}
TRAJECTORY_COLUMNS = ["benchmark", "method", "seed", "trial", "config", "loss"]
PAIRS_COLUMNS = ["budget", "method", "kind", "role", "n_runs", "n_runs_echo", "echo_rate", "plotted_is_true_top_pair"]
PAIRS_COLUMNS += ["gain_over_prior", "gain_ci_low", "gain_ci_high", "n_benchmarks"]


def pairs_table(
    scores: pd.DataFrame, means: pd.DataFrame, importance: dict[str, dict[str, Any]], metric: str
) -> pd.DataFrame:
    """Per budget and LLM method: the model's echo rate (mean over benchmarks of the per-benchmark rate), the share
    of runs whose plotted pair is the true top pair, and the gain of the model over its own prior (normalized
    ``metric``, mean over benchmarks, interval over benchmarks)."""
    from hpo.insight.truth.importance import pair_key

    echo = scores[(scores["source"] == "image_echo")]
    if echo.empty:
        return pd.DataFrame(columns=PAIRS_COLUMNS)
    rows = []
    for (budget, method, kind, role), g in echo.groupby(["budget", "method", "kind", "role"], sort=True):
        model = scores[(scores["source"] == "model") & (scores["method"] == method) & (scores["budget"] == budget)]
        true_pairs = {b: truth_of(importance.get(b)) for b in g["benchmark"]}
        hits = [
            (p == pair_key(*true_pairs[b]["top_pair"]))
            if true_pairs[b] and len(true_pairs[b]["top_pair"]) == 2
            else None
            for b, p in zip(g["benchmark"], g["plotted_pair"])
        ]
        hits = [h for h in hits if h is not None]
        gain = inference.gains(means, method, budget, metric).dropna()
        low, high = t_interval(gain.to_numpy(float))
        rows.append(
            {
                "budget": budget,
                "method": method,
                "kind": kind,
                "role": role,
                "n_runs": len(model),
                "n_runs_echo": int(model["echo"].notna().sum()),  # runs whose plotted pair is not the true top pair
                "echo_rate": inference.echo_rates(means, method, budget).mean(),  # seeds first, then benchmarks
                "plotted_is_true_top_pair": sum(hits) / len(hits) if hits else math.nan,
                "gain_over_prior": gain.mean() if len(gain) else math.nan,
                "gain_ci_low": low,
                "gain_ci_high": high,
                "n_benchmarks": len(gain),
            }
        )
    return pd.DataFrame(rows, columns=PAIRS_COLUMNS)


def compute(
    df: pd.DataFrame,
    importance: dict[str, dict[str, Any]],
    insight: Sequence[dict[str, Any]],
    budgets: Sequence[int],
    roles: dict[str, str],
    *,
    kinds: dict[str, str] | None = None,
    llm_methods: Sequence[str] = (),
    status: pd.DataFrame | None = None,
    alpha: float = stats.ALPHA,
    settings: dict[str, Any] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """All insight tables keyed by :data:`TABLES`, and per table the notes that explain missing values.

    ``roles``: LLM method -> image / text / blank; ``kinds``: method -> optimizer kind (labels the rows, finds the
    random-search run); ``llm_methods``: the study's runnable LLM methods in study order (those without a statement
    are named in a note); ``settings``: the study's ``insight`` section (``primary_contrast``).
    """
    from hpo.stats.coverage import STATUS_COLUMNS, method_flags

    settings = settings or {}
    kinds = {**{r["method"]: r.get("kind", r["method"]) for r in insight}, **(kinds or {})}
    status = status if status is not None else pd.DataFrame(columns=STATUS_COLUMNS)
    methods = list(dict.fromkeys([*(df["method"].unique() if len(df) else []), *roles, *kinds]))
    flags = method_flags(status, methods)
    notes: dict[str, list[str]] = {name: [] for name in TABLES}
    general: list[str] = []
    budgets = sorted({int(b) for b in budgets})
    unknown = sorted({r["benchmark"] for r in insight} - set(importance))
    if unknown:
        general.append(f"no ground truth for {', '.join(unknown)}: their statements are not scored")
    for bench, rec in importance.items():
        if rec.get("note"):
            notes["insight"].append(f"{bench} ground truth ({rec['method']}): {rec['note']}")
    with_statements = {r["method"] for r in insight}
    for m in llm_methods:
        if m not in with_statements:
            general.append(f"{m}: no stated-importance file (insight JSON) found: model and prior sources absent")
    for m, role in roles.items():
        if m not in llm_methods and flags.get(m, "").startswith("skipped"):
            general.append(f"{m} ({role}): {flags[m]}")
    scored = [r for r in insight if r["benchmark"] in importance]
    stated = model_rows(scored, roles)
    ladder, ladder_notes = ladder_rows(df, importance, budgets, stated, roles, kinds) if len(stated) else (None, [])
    notes["insight"] += ladder_notes
    statements = pd.concat([stated, ladder], ignore_index=True) if ladder is not None else stated
    scores = score_table(statements, importance, flags)
    if scores.empty:
        general.append("no statement to score (no LLM method stated an importance)")
    order = [m for m in dict.fromkeys([*llm_methods, *sorted(with_statements)]) if m in set(scores["method"])]
    primary = inference.resolve_primary(settings.get("primary_contrast"), order, budgets)
    if order and primary["method"] not in order:
        notes["insight_tests"].append(
            f"primary contrast: {primary['method']} has no scored statement (not an LLM method of this study, "
            "skipped, or no ground truth): no primary contrast"
        )
    means = inference.benchmark_means(scores, budgets)
    tests = inference.contrasts(means, budgets, order, roles, primary, flags, alpha)
    notes["insight"].insert(
        0,
        "scores against the primary (rank-transform) main effects; m_chance = the exact expectation of a uniformly "
        "random statement, m_norm = (m - m_chance) / (1 - m_chance) (js_distance: (chance - d) / chance), so 0 = "
        "chance and 1 = the truth's ranking; chance rows state nothing: their scores are the chance levels",
    )
    notes["insight_tests"].append(
        f"primary contrast: {primary['method']} model vs {primary['versus']} at budget {primary['budget']} on "
        f"normalized {primary['metric']}, pre-registered and tested at full alpha; unit = benchmark (seeds averaged "
        f"first); the other {max(int(tests['p_value'].notna().sum()) - 1, 0) if len(tests) else 0} tested contrasts "
        f"are Holm-adjusted among themselves and count only if the primary is significant (fixed-sequence gate); "
        f"{CI_LEVEL:.0%} Student t intervals over benchmarks; alpha={alpha:g}"
    )
    dropped = dropped_notes(importance)  # no benchmark leaves a test silently (issue 22)
    notes["insight"] += dropped
    notes["insight_tests"] += dropped
    for name in TABLES:
        notes[name] = general + notes[name]
    tables = {
        "insight": scores,
        "insight_summary": inference.summary(means, primary["metric"]),
        "insight_tests": tests,
        "insight_pairs": pairs_table(scores, means, importance, primary["metric"]),
    }
    return tables, notes


def write_insight(
    trajectories: str | Path | pd.DataFrame,
    importance_paths: Sequence[str | Path],
    insight_paths: Sequence[str | Path],
    out_dir: str | Path,
    budgets: Sequence[int],
    roles: dict[str, str],
    *,
    kinds: dict[str, str] | None = None,
    llm_methods: Sequence[str] = (),
    status_path: str | Path | None = None,
    alpha: float = stats.ALPHA,
    settings: dict[str, Any] | None = None,
) -> dict[str, pd.DataFrame]:
    """Compute every table and write ``<name>.csv``, ``.md`` and ``.html`` of each of :data:`TABLES`, atomically.

    Missing insight files are skipped (with a note naming the method); unreadable ones stop with their path.
    """
    from hpo.stats.coverage import read_status
    from hpo.stats.tables import load_trajectories, write_tables

    df, traj_note = load_trajectories(trajectories, TRAJECTORY_COLUMNS, "data analysis")
    status, status_note = read_status(status_path)
    importance = {}
    for p in importance_paths:
        rec = load_importance(p)
        importance[rec["benchmark"]] = rec
    insight = [load_insight(p) for p in insight_paths if Path(p).exists()]
    tables, notes = compute(
        df,
        importance,
        insight,
        budgets,
        roles,
        kinds=kinds,
        llm_methods=llm_methods,
        status=status,
        alpha=alpha,
        settings=settings,
    )
    write_tables(out_dir, tables, TITLES, notes, [n for n in (traj_note, status_note) if n])
    return tables
