"""Figures. Matplotlib is imported lazily with the Agg backend so plots are headless and deterministic."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

# Normalized regret reaches exactly 0 when the optimum is found; on a log axis we floor it here (stated on the axis).
REGRET_FLOOR = 1e-3


def save(fig, outputs: Sequence[str | Path]) -> None:
    """Save a figure to every output (format from the suffix), atomically, without timestamps (reproducible)."""
    from hpo.atomic import atomic_path

    for out in outputs:
        suffix = Path(out).suffix.lstrip(".")
        metadata = {"CreationDate": None} if suffix == "pdf" else {}
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=suffix, dpi=120, bbox_inches="tight", metadata=metadata)


def plot_anytime_regret(
    trajectories: str | Path | pd.DataFrame, outputs: Sequence[str | Path], methods: Sequence[str] | None = None
) -> None:
    """Anytime normalized regret: median over seeds with the IQR as a band, one panel per benchmark."""
    from hpo.analysis.style import method_colors, pyplot

    plt = pyplot()
    df = trajectories if isinstance(trajectories, pd.DataFrame) else pd.read_parquet(trajectories)
    benchmarks = list(dict.fromkeys(df["benchmark"]))
    methods = list(methods or dict.fromkeys(df["method"]))
    colors = method_colors(methods)
    ncols = min(4, len(benchmarks))
    nrows = math.ceil(len(benchmarks) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), squeeze=False, sharex=True)
    for ax, bench in zip(axes.flat, benchmarks):
        sub = df[df["benchmark"] == bench]
        for method in methods:
            m = sub[sub["method"] == method]
            if m.empty:
                continue
            q = m.groupby("trial")["normalized_regret"].quantile([0.25, 0.5, 0.75]).unstack()
            q = q.clip(lower=REGRET_FLOOR)
            ax.plot(q.index, q[0.5], color=colors[method], label=method, lw=1.6)
            ax.fill_between(q.index, q[0.25], q[0.75], color=colors[method], alpha=0.2, lw=0)
        ax.set_title(bench, fontsize=10)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both", lw=0.5)
    for ax in axes.flat[len(benchmarks) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"normalized regret\n(median, IQR; floor {REGRET_FLOOR:g})")
    for ax in axes[-1, :]:
        ax.set_xlabel("trials")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(methods), 6), bbox_to_anchor=(0.5, -0.02), frameon=False
    )
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    save(fig, outputs)
    plt.close(fig)
