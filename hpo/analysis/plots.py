"""Figures. Matplotlib is imported lazily with the Agg backend so plots are headless and deterministic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

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
