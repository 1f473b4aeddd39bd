"""Figures of the statistics stage: average rank over trials, critical-difference diagrams, LLM usage.

They read the tables written by :mod:`hpo.stats.tables`, so a figure never shows a number that the tables
do not. Colours come from :func:`hpo.util.style.method_colors` over the study's method order. When a figure has
nothing to show (no complete blocks, no LLM method) it becomes a *note figure* that says so: the report then still
has an entry explaining the gap. Each function returns the titles of its panels (for checks and captions).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hpo.analysis.plots import save
from hpo.util.style import pyplot

ORIGIN_STYLE = {"llm": (1.0, ""), "repaired": (0.55, "//"), "fallback": (0.25, "xx")}


def _frame(table: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    try:
        return pd.read_csv(table, keep_default_na=True)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _method_order(methods: Sequence[str] | None, present: Sequence[str]) -> list[str]:
    order = list(methods or [])
    return order + [m for m in dict.fromkeys(present) if m not in order]


def note_figure(title: str, lines: Sequence[str], outputs: Sequence[str | Path]) -> list[str]:
    """A figure that only says why there is nothing to plot (one panel, the title and wrapped text)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.4))
    ax.set_axis_off()
    ax.set_title(title, fontsize=11)
    text = "\n".join(textwrap.fill(line, 90) for line in lines)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=9, transform=ax.transAxes)
    save(fig, outputs)
    plt.close(fig)
    return [title]


def plot_average_rank(
    table: str | Path | pd.DataFrame,
    outputs: Sequence[str | Path],
    methods: Sequence[str] | None = None,
    budgets: Sequence[int] = (),
) -> list[str]:
    """Average rank (1 = best) of each method after every trial; dotted lines mark the study's budgets."""
    from hpo.util.style import method_colors

    df = _frame(table)
    title = "Average rank over trials"
    if df.empty:
        return note_figure(
            title, ["No (benchmark, seed) block has a result for every method: nothing to rank."], outputs
        )
    order = _method_order(methods, df["method"])
    colors = method_colors(order)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for method in order:
        m = df[df["method"] == method].sort_values("trial")
        if not m.empty:
            ax.plot(m["trial"], m["avg_rank"], color=colors[method], label=method, lw=1.8)
    for b in budgets:
        ax.axvline(b, color="0.5", ls=":", lw=1)
    n_blocks = int(df["n_blocks"].max())
    ax.set_title(f"{title} ({n_blocks} (benchmark, seed) blocks)", fontsize=10)
    ax.set_xlabel("trials")
    ax.set_ylabel("average rank (1 = best)")
    ax.invert_yaxis()
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=8)
    fig.tight_layout()
    save(fig, outputs)
    plt.close(fig)
    return [ax.get_title()]


def plot_cd_diagram(
    ranks: str | Path | pd.DataFrame,
    nemenyi: str | Path | pd.DataFrame,
    friedman: str | Path | pd.DataFrame,
    budget: int,
    outputs: Sequence[str | Path],
    methods: Sequence[str] | None = None,
) -> list[str]:
    """Critical-difference diagram at ``budget``: average ranks, Nemenyi CD bar, bars joining tied groups."""
    import scikit_posthocs as sp

    from hpo.util.style import method_colors

    title = f"Critical difference diagram, budget {budget}"
    fr = _frame(friedman)
    fr = fr[fr["budget"] == budget] if "budget" in fr.columns else fr.iloc[0:0]
    if fr.empty:
        return note_figure(title, [f"No statistics for budget {budget}."], outputs)
    row = fr.iloc[0]
    note = row["note"] if isinstance(row["note"], str) else ""
    if note:
        return note_figure(title, [f"No Friedman/Nemenyi test: {note}."], outputs)
    rk = _frame(ranks)
    rk = rk[(rk["budget"] == budget) & rk["avg_rank"].notna()]
    present = rk["method"].tolist()
    nem = _frame(nemenyi)
    nem = nem[nem["budget"] == budget]
    sig = pd.DataFrame(1.0, index=present, columns=present)
    for a, b, p in nem[["method_a", "method_b", "p_value"]].itertuples(False):
        sig.loc[a, b] = sig.loc[b, a] = p
    colors = method_colors(_method_order(methods, present))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.9 + 0.35 * len(present)))
    sp.critical_difference_diagram(
        rk.set_index("method")["avg_rank"],
        sig,
        cd=float(row["critical_difference"]),
        alpha=float(row["alpha"]),
        ax=ax,
        color_palette={m: colors[m] for m in present},
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
    )
    ax.set_title(
        f"{title}: Friedman χ²={row['statistic']:.2f}, p={row['p_value']:.3g}, "
        f"{int(row['n_blocks'])} blocks ({int(row['n_blocks_dropped'])} dropped)",
        fontsize=9,
        pad=28,
    )
    save(fig, outputs)
    plt.close(fig)
    return [title]


def plot_llm_usage(
    table: str | Path | pd.DataFrame, outputs: Sequence[str | Path], methods: Sequence[str] | None = None
) -> list[str]:
    """Panels per LLM method: proposal validity shares, tokens per trial, latency, and cost per trial where any
    method's calls cost something (a free model's cost panel would be an empty axis around 0, so it is left out and
    the figure's last title says why)."""
    from hpo.util.style import method_colors

    df = _frame(table)
    if df.empty:
        from hpo.stats.llm_usage import NO_LLM_NOTE

        return note_figure("LLM validity and cost", [NO_LLM_NOTE + "."], outputs)
    colors = method_colors(_method_order(methods, df["method"]))
    names = df["method"].tolist()
    y = list(range(len(names)))
    plt = pyplot()
    priced = bool((df["cost_per_trial"].fillna(0) > 0).any())
    n_panels = 4 if priced else 3
    fig, axes = plt.subplots(
        1, n_panels, figsize=(3.25 * n_panels, 1.4 + 0.45 * len(names)), sharey=True, squeeze=False
    )
    ax_valid, ax_tok, ax_lat = axes[0][:3]
    left = [0.0] * len(names)
    for origin, (alpha, hatch) in ORIGIN_STYLE.items():
        share = df[f"share_{origin}"].fillna(0).tolist()
        ax_valid.barh(y, share, left=left, color=[colors[m] for m in names], alpha=alpha, hatch=hatch, label=origin)
        left = [a + b for a, b in zip(left, share)]
    ax_valid.set_xlim(0, 1)
    ax_valid.set_title("proposals: valid / repaired / fallback", fontsize=9)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="0.35", alpha=a, hatch=h, label=o) for o, (a, h) in ORIGIN_STYLE.items()]
    ax_valid.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3)
    h = 0.38
    ax_tok.barh([i - h / 2 for i in y], df["prompt_tokens_per_trial"], h, color=[colors[m] for m in names])
    ax_tok.barh(
        [i + h / 2 for i in y], df["completion_tokens_per_trial"], h, color=[colors[m] for m in names], alpha=0.5
    )
    ax_tok.set_title("tokens per trial: prompt (solid), completion (light)", fontsize=9)
    ax_lat.barh(y, df["latency_mean_s"], color=[colors[m] for m in names])
    ax_lat.set_title("model latency per trial (s, mean)", fontsize=9)
    if priced:
        ax_cost = axes[0][3]
        ax_cost.barh(y, df["cost_per_trial"].fillna(0), color=[colors[m] for m in names])
        ax_cost.set_title("cost per trial (endpoint currency)", fontsize=9)
    else:
        ax_lat.set_title("model latency per trial (s, mean); no cost: no endpoint has prices", fontsize=9)
    ax_valid.set_yticks(y, names)
    ax_valid.invert_yaxis()
    for ax in axes[0]:
        ax.grid(alpha=0.3, lw=0.5, axis="x")
    fig.tight_layout()
    save(fig, outputs)
    plt.close(fig)
    return [ax.get_title() for ax in axes[0]]
