"""Figures. Matplotlib is imported lazily with the Agg backend so plots are headless and deterministic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# Normalized regret reaches exactly 0 when the optimum is found; on a log axis we floor it here (stated on the axis).
REGRET_FLOOR = 1e-3
# x-axis of the anytime figures. On a multi-fidelity benchmark aggregation puts every run on the cost axis
# (hpo.analysis.cost_axis): "trial" k is then the state after k full-fidelity evaluations' worth of cost.
X_TRIALS, X_COST = "trials", "cost (full-fidelity evaluations)"
X_MIXED = "trials; cost (full-fidelity evaluations) where marked"


def on_cost_axis(df: pd.DataFrame) -> bool:
    """Whether these aggregated rows are on the cost axis: they come from a multi-fidelity benchmark."""
    return "fidelity" in df.columns and bool(df["fidelity"].notna().any())


def x_label(df: pd.DataFrame, benchmarks: Sequence[str]) -> str:
    """The common x label of panels for ``benchmarks``: trials, cost, or both with the cost panels marked."""
    cost = {b for b in benchmarks if on_cost_axis(df[df["benchmark"] == b])}
    return X_COST if cost and len(cost) == len(benchmarks) else X_MIXED if cost else X_TRIALS


def initial_design_end(df: pd.DataFrame) -> int | None:
    """The last trial of the shared initial design in these rows (identical for every method that uses it)."""
    if "origin" not in df.columns:
        return None
    init = df.loc[df["origin"] == "initial_design", "trial"]
    return int(init.max()) if len(init) else None


def save(fig, outputs: Sequence[str | Path]) -> None:
    """Save a figure to every output (format from the suffix), atomically, without timestamps (reproducible)."""
    from hpo.util.atomic import atomic_path

    for out in outputs:
        suffix = Path(out).suffix.lstrip(".")
        metadata = {"CreationDate": None} if suffix == "pdf" else {}
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=suffix, dpi=120, bbox_inches="tight", metadata=metadata)


def plot_anytime_regret(
    trajectories: str | Path | pd.DataFrame, outputs: Sequence[str | Path], methods: Sequence[str] | None = None
) -> None:
    """Anytime normalized regret: median over seeds with the IQR as a band, one panel per benchmark."""
    from hpo.util.style import method_colors, pyplot

    plt = pyplot()
    df = trajectories if isinstance(trajectories, pd.DataFrame) else pd.read_parquet(trajectories)
    benchmarks = list(dict.fromkeys(df["benchmark"]))
    methods = list(methods or dict.fromkeys(df["method"]))
    colors = method_colors(methods)
    ncols = min(4, len(benchmarks))
    nrows = math.ceil(len(benchmarks) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, sharex=True)
    xlabel = x_label(df, benchmarks)
    for ax, bench in zip(axes.flat, benchmarks):
        sub = df[df["benchmark"] == bench]
        n0 = initial_design_end(sub)
        if n0 is not None:  # where the shared initial design ends and the methods start to differ
            ax.axvline(n0 + 0.5, color="0.4", ls=":", lw=1, label="end of shared initial design")
        for method in methods:
            m = sub[sub["method"] == method]
            if m.empty:
                continue
            q = m.groupby("trial")["normalized_regret"].quantile([0.25, 0.5, 0.75]).unstack()
            q = q.clip(lower=REGRET_FLOOR)
            ax.plot(q.index, q[0.5], color=colors[method], label=method, lw=1.6)
            ax.fill_between(q.index, q[0.25], q[0.75], color=colors[method], alpha=0.2, lw=0)
        cost = xlabel == X_MIXED and on_cost_axis(sub)
        ax.set_title(bench + (" (x: cost)" if cost else ""), fontsize=10)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both", lw=0.5)
    for ax in axes.flat[len(benchmarks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"normalized regret\n(median, IQR; floor {REGRET_FLOOR:g})")
    for ax in axes[-1, :]:
        ax.set_xlabel(xlabel)
    legend: dict[str, object] = {}
    for ax in axes.flat:  # the union over panels: a method absent from the first panel still gets its entry
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    handles, labels = list(legend.values()), list(legend)
    fig.tight_layout()
    # below the panels, outside them (savefig's tight bounding box keeps it): it never covers a curve or a label
    fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 6), bbox_to_anchor=(0.5, 0), frameon=False)
    save(fig, outputs)
    plt.close(fig)


def dollar_grid_regret(run: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
    """One run's normalized regret after spending each amount of ``grid`` on model calls (a step function).

    Before the first row the run has no incumbent, so the first row's regret stands in (the shared initial design
    costs no model call); afterwards it is the regret of the last row whose cumulative spend is within the amount.
    """
    run = run.sort_values("trial")
    spent = run["cum_llm_cost"].to_numpy(dtype=float)
    regret = run["normalized_regret"].to_numpy(dtype=float)
    idx = np.searchsorted(spent, grid + 1e-12, side="right") - 1
    return regret[np.clip(idx, 0, len(regret) - 1)]


def plot_regret_vs_llm_cost(
    trajectories: str | Path | pd.DataFrame,
    outputs: Sequence[str | Path],
    llm_methods: Sequence[str],
    references: Sequence[str] = (),
) -> None:
    """Normalized regret against the dollars spent on model calls, one panel per benchmark (issue 25).

    The anytime figure's x axis is evaluation cost; this one is what an LLM method's calls cost, median over seeds
    with the IQR band on a grid of 60 amounts up to the panel's largest spend. A classical ``reference`` spends $0, so
    its final median regret is a horizontal line: the amount where an LLM curve crosses it is what the model's
    advantage (if any) cost.
    """
    from hpo.util.style import method_colors, pyplot

    plt = pyplot()
    df = trajectories if isinstance(trajectories, pd.DataFrame) else pd.read_parquet(trajectories)
    benchmarks = list(dict.fromkeys(df["benchmark"]))
    colors = method_colors([*llm_methods, *references])
    ncols = min(4, len(benchmarks))
    nrows = math.ceil(len(benchmarks) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False)
    for ax, bench in zip(axes.flat, benchmarks):
        sub = df[df["benchmark"] == bench]
        llm = sub[sub["method"].isin(llm_methods)]
        grid = np.linspace(0.0, max(float(llm["cum_llm_cost"].max()), 1e-9) if not llm.empty else 1e-9, 60)
        for method in llm_methods:
            runs = [dollar_grid_regret(run, grid) for _, run in llm[llm["method"] == method].groupby("seed")]
            if not runs:
                continue
            q = np.clip(np.quantile(np.vstack(runs), [0.25, 0.5, 0.75], axis=0), REGRET_FLOOR, None)
            ax.plot(grid, q[1], color=colors[method], label=method, lw=1.6, drawstyle="steps-post")
            ax.fill_between(grid, q[0], q[2], color=colors[method], alpha=0.2, lw=0, step="post")
        for method in references:
            ref = sub[sub["method"] == method]
            if ref.empty:
                continue
            final = ref[ref["trial"] == ref["trial"].max()]["normalized_regret"].median()
            ax.axhline(max(final, REGRET_FLOOR), color=colors[method], ls="--", lw=1.2, label=f"{method} ($0, final)")
        ax.set_title(bench, fontsize=10)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both", lw=0.5)
    for ax in axes.flat[len(benchmarks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"normalized regret\n(median, IQR; floor {REGRET_FLOOR:g})")
    for ax in axes[-1, :]:
        ax.set_xlabel("model calls' cost so far (endpoint currency)")
    legend: dict[str, object] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    fig.tight_layout()
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="upper center",
        ncol=min(len(legend), 5),
        bbox_to_anchor=(0.5, 0),
        frameon=False,
    )
    save(fig, outputs)
    plt.close(fig)
