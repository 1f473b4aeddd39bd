"""Figure ``results/figures/insight``: stated vs. true hyperparameter importance, and scores vs. budget.

First one panel per benchmark: the true main effects (primary, rank transform; rescaled to sum to 1 so they sit on
the same axis as stated weights) next to the mean stated weights over seeds of each LLM method's model at the last
budget, its prior (budget 0), and the data_fanova rung at the last budget. Then one panel per LLM method with scores:
the chance-normalized primary score (0 = chance, 1 = the truth's ranking) of its model and of every rung of the
baseline ladder vs. budget, the mean over benchmarks with its 95% t interval over benchmarks. Panels fill as few
grid slots as they need and the legends stand outside them (issue 26: five of nine slots were empty and a legend
covered bars). It reads only the insight tables and the importance files, so it never shows a number the tables do
not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo.analysis.plots import save
from hpo.insight.truth.importance import PRIMARY
from hpo.stats.plots import _frame, _method_order, note_figure
from hpo.util.style import method_colors, pyplot


def _mean_weights(rows: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    w = np.array([[json.loads(s).get(n, math.nan) for n in names] for s in rows["weights"]], dtype=float)
    return np.nanmean(w, axis=0) if len(w) else np.full(len(names), math.nan)


def importance_bars(
    ax: Any,
    record: dict[str, Any],
    scores: pd.DataFrame,
    llm_methods: Sequence[str],
    colors: dict[str, str],
) -> None:
    """Grouped bars on ``ax``: true shares, then the mean stated weights of each source, per hyperparameter."""
    names = list(record["hyperparameters"])
    main = record["transforms"][record.get("primary_transform", PRIMARY)]["main"]
    true = np.array([main[n] for n in names], dtype=float)
    total = np.nansum(true)
    series: list[tuple[str, np.ndarray, str, str]] = [("true", true / total if total > 0 else true, "black", "")]
    sub = scores[scores["benchmark"] == record["benchmark"]]
    last = int(sub["budget"].max()) if len(sub) else 0
    data = sub[(sub["source"] == "data_fanova") & (sub["budget"] == last)]
    if len(data):
        series.append((f"data fANOVA @{last}", _mean_weights(data, names), "0.55", ""))
    for m in llm_methods:
        model = sub[(sub["method"] == m) & (sub["source"] == "model") & (sub["budget"] == last)]
        prior = sub[(sub["method"] == m) & (sub["source"] == "prior")]
        if len(model):
            series.append((f"{m} @{last}", _mean_weights(model, names), colors.get(m, "C0"), ""))
        if len(prior):
            series.append((f"{m} prior", _mean_weights(prior, names), colors.get(m, "C0"), "//"))
    width = 0.8 / len(series)
    x = np.arange(len(names))
    for k, (label, values, color, hatch) in enumerate(series):
        fill = "white" if hatch else color
        ax.bar(
            x + (k - (len(series) - 1) / 2) * width,
            values,
            width,
            label=label,
            color=fill,
            edgecolor=color,
            hatch=hatch,
            lw=0.8,
        )
    ax.set_xticks(x, [n[:18] for n in names], rotation=35, ha="right", fontsize=7)
    ax.set_title(f"{record['benchmark']} ({record['method']})", fontsize=9)
    ax.set_ylabel("share (sums to 1)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)


RUNG_STYLE = {
    "chance": ("0.75", ":", "x"),
    "prior": ("0.1", "--", "s"),
    "image_echo": ("tab:purple", "-.", "v"),
    "data_fanova": ("0.35", "--", "o"),
    "data_fanova_random": ("0.55", ":", "o"),
    "prior_data": ("tab:brown", "-.", "D"),
}

_LABEL = {"model": "model (the method's colour)"}  # the legend is shared by every method's panel


def has_scores(summary: pd.DataFrame, method: str, metric: str) -> bool:
    """Whether ``method`` has any finite chance-normalized ``metric`` to draw (else its panel would be empty)."""
    col = f"{metric}_norm"
    if summary.empty or col not in summary.columns:
        return False
    own = summary[(summary["method"] == method) & (summary["family"] == "all")]
    return bool(pd.to_numeric(own[col], errors="coerce").notna().any())


def rung_lines(ax: Any, summary: pd.DataFrame, method: str, metric: str, color: str) -> None:
    """One LLM method: its model's and every rung's chance-normalized ``metric`` (mean over benchmarks, family
    "all") vs. budget, with the 95% t interval over benchmarks as error bars; 0 = chance, 1 = the truth."""
    col, low, high = f"{metric}_norm", f"{metric}_norm_ci_low", f"{metric}_norm_ci_high"
    own = summary[(summary["method"] == method) & (summary["family"] == "all")]
    for k, source in enumerate(["model", *RUNG_STYLE]):
        g = own[own["source"] == source].sort_values("budget")
        if g.empty or g[col].isna().all():
            continue
        c, ls, marker = (color, "-", "o") if source == "model" else RUNG_STYLE[source]
        x = g["budget"].to_numpy(float) + (k - 3) * 0.08 * max(1.0, float(g["budget"].max()) / 10)  # dodge
        y = g[col].to_numpy(float)
        err = np.abs(np.vstack([y - g[low].to_numpy(float), g[high].to_numpy(float) - y]))
        lw = 1.4 if source == "model" else 0.9
        ax.errorbar(
            x,
            y,
            yerr=np.nan_to_num(err),
            color=c,
            ls=ls,
            marker=marker,
            ms=3,
            lw=lw,
            capsize=2,
            label=_LABEL.get(source, source),
        )
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axhline(1, color="0.85", lw=0.8)
    ax.set_xlabel("budget (trials seen)", fontsize=8)
    ax.set_ylabel(f"{metric}, chance-normalized", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, lw=0.5)


def grid_shape(n: int, most: int = 3) -> tuple[int, int]:
    """(rows, columns) for ``n`` panels, at most ``most`` columns, with the fewest unused slots (ties: more columns),
    so a figure never shows a grid of mostly empty places."""
    if n <= 1:
        return 1, 1
    cols = min(range(2, min(most, n) + 1), key=lambda c: (math.ceil(n / c) * c - n, -c))
    return math.ceil(n / cols), cols


def _legend(fig: Any, groups: dict[str, Sequence[Any]]) -> None:
    """One figure legend below the panels (it covers no data), one column per group of axes: the group's title, then
    each label of its artists once. Shorter columns are padded with blank rows so each group stays in its column."""
    from matplotlib.patches import Patch

    columns = []
    for title, axes in groups.items():
        seen: dict[str, Any] = {}
        for ax in axes:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(label, handle)
        if seen:
            columns.append([(Patch(visible=False), title), *((h, f"  {lab}") for lab, h in seen.items())])
    if not columns:
        return
    depth = max(len(c) for c in columns)
    rows = [entry for c in columns for entry in c + [(Patch(visible=False), "")] * (depth - len(c))]
    handles, labels = zip(*rows)
    fig.legend(handles, labels, loc="outside lower center", ncols=len(columns), fontsize=7, frameon=False)


def insight_figure(
    df: pd.DataFrame,
    summ: pd.DataFrame,
    records: Sequence[dict[str, Any]],
    methods: Sequence[str] = (),
    metric: str = "kendall_tau",
) -> tuple[Any, list[str]]:
    """The figure and its panel titles: one panel per benchmark (stated vs. true weights), then one per LLM method
    that has scores (its score vs. budget), laid out in as few slots as they need; the legends stand outside the
    panels, below them, so they cover no data. A method without any score gets no panel (it would be empty)."""
    present = list(dict.fromkeys(df["method"])) if len(df) else []
    order = _method_order(methods, present)
    llm_methods = [m for m in order if m in present]
    scored = [m for m in llm_methods if has_scores(summ, m, metric)]
    colors = method_colors(order)
    plt = pyplot()
    rows, cols = grid_shape(len(records) + len(scored))
    fig = plt.figure(figsize=(4.6 * cols, 3.0 * rows + 1.4), layout="constrained")
    grid = fig.add_gridspec(rows, cols)
    bars, lines = [], []
    for i, rec in enumerate(records):
        bars.append(fig.add_subplot(grid[divmod(i, cols)]))
        importance_bars(bars[-1], rec, df, llm_methods, colors)
    for i, m in enumerate(scored, start=len(records)):
        lines.append(fig.add_subplot(grid[divmod(i, cols)]))
        rung_lines(lines[-1], summ, m, metric, colors.get(m, "C0"))
        lines[-1].set_title(f"{m}: {metric} vs. budget and rung", fontsize=9)
    _legend(fig, {"bars: share per hyperparameter": bars, "lines: score vs. budget": lines})
    sub = "true: rank-transform main effects; scores: mean over benchmarks, 95% t intervals over benchmarks"
    if not scored:
        sub += "; no LLM method stated an importance" if not llm_methods else "; no LLM statement could be scored"
    fig.suptitle(f"Do the models understand the problem?\n({sub})", fontsize=10)
    return fig, [ax.get_title() for ax in [*bars, *lines]]


def plot_insight(
    scores: str | Path | pd.DataFrame,
    summary: str | Path | pd.DataFrame,
    importance_paths: Sequence[str | Path],
    outputs: Sequence[str | Path],
    methods: Sequence[str] = (),
    metric: str = "kendall_tau",
) -> list[str]:
    """Draw the figure (:func:`insight_figure`) to every output; returns the panel titles. A note figure when no
    benchmark has a ground truth.

    Every LLM method with a statement gets a score panel (llambo and llm_tpe included: scored by method, not role).
    """
    from hpo.insight.truth.importance import load_importance

    records = [load_importance(p) for p in importance_paths]
    if not records:
        return note_figure(
            "Do the models understand the problem?", ["No benchmark has a ground-truth importance file."], outputs
        )
    fig, titles = insight_figure(_frame(scores), _frame(summary), records, methods, metric)
    save(fig, outputs)
    pyplot().close(fig)
    return titles
