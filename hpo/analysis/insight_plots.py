"""Figure ``results/figures/insight``: stated vs. true hyperparameter importance, and scores vs. budget.

Top rows, one panel per benchmark: the true main effects (primary, rank transform; rescaled to sum to 1 so they sit
on the same axis as stated weights) next to the mean stated weights over seeds of each LLM method's model at the
last budget, its prior (budget 0), and Optuna's fANOVA of all methods' histories at the last budget. Bottom row:
mean Kendall τ and NDCG over blocks vs. budget per source (data analyses pooled over every method's history).
It reads only the insight table and the importance files, so it never shows a number the tables do not.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo.analysis.importance import PRIMARY
from hpo.analysis.plots import save
from hpo.analysis.stats_plots import _frame, _method_order, note_figure
from hpo.analysis.style import method_colors, pyplot

DATA_STYLE = {"data_fanova": ("0.35", "--"), "data_pedanova": ("0.65", ":")}


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


def score_lines(ax: Any, scores: pd.DataFrame, metric: str, llm_methods: Sequence[str], colors: dict[str, str]) -> None:
    """Mean ``metric`` over blocks vs. budget: LLM models (solid), priors (marker at budget 0), data analyses."""
    for source, (color, ls) in DATA_STYLE.items():
        g = scores[scores["source"] == source].groupby("budget")[metric].mean()
        if len(g):
            ax.plot(g.index, g.values, color=color, ls=ls, marker="o", ms=3, label=f"{source} (all histories)")
    for m in llm_methods:
        own = scores[scores["method"] == m]
        g = own[own["source"] == "model"].groupby("budget")[metric].mean()
        if len(g):
            ax.plot(g.index, g.values, color=colors.get(m, "C0"), marker="o", ms=3, label=f"{m} model")
        p = own[own["source"] == "prior"][metric].mean()
        if not math.isnan(p):
            ax.plot([0], [p], color=colors.get(m, "C0"), marker="s", ls="", label=f"{m} prior")
    if metric == "kendall_tau":
        ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xlabel("budget (trials seen; 0 = prior)", fontsize=8)
    ax.set_ylabel(f"mean {metric}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=6)


def plot_insight(
    scores: str | Path | pd.DataFrame,
    importance_paths: Sequence[str | Path],
    outputs: Sequence[str | Path],
    methods: Sequence[str] = (),
    roles: dict[str, str] | None = None,
) -> list[str]:
    """Draw the figure to every output; returns the panel titles. A note figure when there is nothing to show."""
    from hpo.analysis.importance import load_importance

    df = _frame(scores)
    records = [load_importance(p) for p in importance_paths]
    title = "Do the models understand the problem?"
    if not records:
        return note_figure(title, ["No benchmark has a ground-truth importance file."], outputs)
    roles = roles or {}
    present = list(dict.fromkeys(df["method"])) if len(df) else []
    order = _method_order(methods, present)
    llm_methods = [m for m in order if roles.get(m) and m in present]
    colors = method_colors(order)
    plt = pyplot()
    ncols = min(3, len(records))
    nrows = math.ceil(len(records) / ncols) + 1
    fig = plt.figure(figsize=(4.6 * ncols, 3.0 * nrows))
    grid = fig.add_gridspec(nrows, 2 * ncols, hspace=0.75, wspace=0.6)
    titles = []
    for i, rec in enumerate(records):
        r, c = divmod(i, ncols)
        ax = fig.add_subplot(grid[r, 2 * c : 2 * c + 2])
        importance_bars(ax, rec, df, llm_methods, colors, legend=i == 0)
        titles.append(ax.get_title())
    half = ncols
    for k, metric in enumerate(("kendall_tau", "ndcg")):
        ax = fig.add_subplot(grid[nrows - 1, k * half : (k + 1) * half])
        if df.empty:
            ax.set_axis_off()
            ax.text(0.5, 0.5, "no statements scored", ha="center", va="center", transform=ax.transAxes)
        else:
            score_lines(ax, df, metric, llm_methods, colors)
        ax.set_title(f"{metric} vs. budget", fontsize=9)
        titles.append(ax.get_title())
    fig.suptitle(title + " (true: rank-transform main effects)", fontsize=11)
    save(fig, outputs)
    plt.close(fig)
    return titles
