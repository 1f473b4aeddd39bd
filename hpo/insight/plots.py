"""Figure ``results/figures/insight``: stated vs. true hyperparameter importance, and scores vs. budget.

Top rows, one panel per benchmark: the true main effects (primary, rank transform; rescaled to sum to 1 so they sit
on the same axis as stated weights) next to the mean stated weights over seeds of each LLM method's model at the
last budget, its prior (budget 0), and the data_fanova rung at the last budget. Bottom rows, one panel per LLM
method: the chance-normalized primary score (0 = chance, 1 = the truth's ranking) of its model and of every rung of
the baseline ladder vs. budget, the mean over benchmarks with its bootstrap interval over benchmarks. It reads only
the insight tables and the importance files, so it never shows a number the tables do not.
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
    legend: bool = True,
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
    if legend:
        ax.legend(fontsize=6, loc="best", framealpha=0.7)


RUNG_STYLE = {
    "chance": ("0.75", ":", "x"),
    "prior": ("0.1", "--", "s"),
    "image_echo": ("tab:purple", "-.", "v"),
    "data_fanova": ("0.35", "--", "o"),
    "data_fanova_random": ("0.55", ":", "o"),
    "prior_data": ("tab:brown", "-.", "D"),
}


def rung_lines(ax: Any, summary: pd.DataFrame, method: str, metric: str, color: str, legend: bool = True) -> None:
    """One LLM method: its model's and every rung's chance-normalized ``metric`` (mean over benchmarks, family
    "all") vs. budget, with the bootstrap interval over benchmarks as error bars; 0 = chance, 1 = the truth."""
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
        ax.errorbar(x, y, yerr=np.nan_to_num(err), color=c, ls=ls, marker=marker, ms=3, lw=lw, capsize=2, label=source)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axhline(1, color="0.85", lw=0.8)
    ax.set_xlabel("budget (trials seen)", fontsize=8)
    ax.set_ylabel(f"{metric}, chance-normalized", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, lw=0.5)
    if legend:
        ax.legend(fontsize=6, ncol=2, loc="best", framealpha=0.7)


def plot_insight(
    scores: str | Path | pd.DataFrame,
    summary: str | Path | pd.DataFrame,
    importance_paths: Sequence[str | Path],
    outputs: Sequence[str | Path],
    methods: Sequence[str] = (),
    metric: str = "kendall_tau",
) -> list[str]:
    """Draw the figure to every output; returns the panel titles. A note figure when there is nothing to show.

    Every LLM method with a statement gets a score panel (llambo and llm_tpe included: scored by method, not role).
    """
    from hpo.insight.truth.importance import load_importance

    df, summ = _frame(scores), _frame(summary)
    records = [load_importance(p) for p in importance_paths]
    title = "Do the models understand the problem?"
    if not records:
        return note_figure(title, ["No benchmark has a ground-truth importance file."], outputs)
    present = list(dict.fromkeys(df["method"])) if len(df) else []
    order = _method_order(methods, present)
    llm_methods = [m for m in order if m in present]
    colors = method_colors(order)
    plt = pyplot()
    ncols = min(3, max(len(records), len(llm_methods), 1))
    bar_rows, score_rows = math.ceil(len(records) / ncols), max(1, math.ceil(len(llm_methods) / ncols))
    fig = plt.figure(figsize=(4.6 * ncols, 3.0 * (bar_rows + score_rows)))
    grid = fig.add_gridspec(bar_rows + score_rows, ncols, hspace=0.8, wspace=0.35)
    titles = []
    for i, rec in enumerate(records):
        ax = fig.add_subplot(grid[divmod(i, ncols)])
        importance_bars(ax, rec, df, llm_methods, colors, legend=i == 0)
        titles.append(ax.get_title())
    for i, m in enumerate(llm_methods):
        r, c = divmod(i, ncols)
        ax = fig.add_subplot(grid[bar_rows + r, c])
        rung_lines(ax, summ, m, metric, colors.get(m, "C0"), legend=i == 0)
        ax.set_title(f"{m}: {metric} vs. budget and rung", fontsize=9)
        titles.append(ax.get_title())
    if not llm_methods:
        ax = fig.add_subplot(grid[bar_rows, :])
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no LLM method stated an importance", ha="center", va="center", transform=ax.transAxes)
    sub = "true: rank-transform main effects; scores: mean over benchmarks, bootstrap intervals over benchmarks"
    fig.suptitle(f"{title}\n({sub})", fontsize=10)
    save(fig, outputs)
    plt.close(fig)
    return titles
