"""Figures of the statistics stage: average rank over trials, critical-difference diagrams, LLM usage.

They read the tables written by :mod:`hpo.stats.tables`, so a figure never shows a number that the tables
do not. Colours come from :func:`hpo.util.style.method_colors` over the study's method order. A figure that cannot
apply to a study is not planned at all (the LLM usage figure without an LLM method: ``OPTIONAL_FIGURES`` in
rules/common.smk, and report.md says why); one whose data turn out empty (no complete blocks, no model-driven trial)
becomes a *note figure* that says so. Each function returns the titles of its panels (for checks and captions).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    heading = (
        f"{title}: Friedman χ²={row['statistic']:.2f}, p={row['p_value']:.3g}, "
        f"{int(row['n_blocks'])} blocks ({int(row['n_blocks_dropped'])} dropped)"
    )
    cd_diagram(
        ax,
        rk.set_index("method")["avg_rank"],
        sig,
        float(row["critical_difference"]),
        float(row["alpha"]),
        {m: colors[m] for m in present},
        heading,
    )
    save(fig, outputs)
    plt.close(fig)
    return [title]


TIE_SPREAD_PT = 3.0  # horizontal distance between the connectors of methods with equal average ranks


def cd_diagram(
    ax: Any,
    avg_ranks: pd.Series,
    sig: pd.DataFrame,
    cd: float,
    alpha: float,
    colors: dict[str, str],
    title: str = "",
) -> dict[str, Any]:
    """Draw a critical-difference diagram on ``ax`` (scikit-posthocs) and return its artists, ``"cd"`` included.

    Two changes to scikit-posthocs' drawing, for a readable figure: the CD bar and its label sit above the rank tick
    labels (scikit-posthocs draws them at a fixed height, on the tick labels), and methods with equal average ranks
    get their connectors spread a few points apart (drawn on one x, the last one hid the others).
    """
    import scikit_posthocs as sp

    artists = sp.critical_difference_diagram(
        avg_ranks,
        sig,
        cd=None,
        alpha=alpha,
        ax=ax,
        color_palette=colors,
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
    )
    lo = float(avg_ranks.min())
    ax.set_xlim(min(ax.get_xlim()[0], lo - 0.05 * max(cd, 1.0)), max(ax.get_xlim()[1], lo + cd * 1.05))
    ax.autoscale(False)  # the positions measured below (points per rank, the axis line) must stay where they are
    _spread_ties(ax, artists)
    artists["cd"] = _cd_bar(ax, lo, cd)
    if title:
        renderer = ax.figure.canvas.get_renderer()
        above = artists["cd"][1].get_window_extent(renderer).y1 - ax.get_window_extent(renderer).y1
        ax.set_title(title, fontsize=9, pad=max(8.0, above * 72 / ax.figure.dpi + 8))
    return artists


def _spread_ties(ax: Any, artists: dict[str, list[Any]]) -> None:
    """Shift the connector (elbow), marker and crossbar ends of methods with equal average ranks apart by
    :data:`TIE_SPREAD_PT`, ordered so that no connector crosses another's horizontal leg: on the left side the upper
    leg is leftmost, on the right side the upper leg is rightmost."""
    px_per_rank = ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0]
    to_data = TIE_SPREAD_PT / 72 * ax.figure.dpi / px_per_rank
    members: dict[float, list[tuple[tuple[int, float], int]]] = {}
    for i, (elbow, label) in enumerate(zip(artists["elbows"], artists["labels"])):
        left = label.get_horizontalalignment() == "right"
        y = float(elbow.get_ydata()[0])
        members.setdefault(round(float(elbow.get_xdata()[1]), 9), []).append(((0, -y) if left else (1, y), i))
    spread: dict[float, tuple[float, float]] = {}
    for rank, group in members.items():
        if len(group) < 2:
            continue
        shifts = [(k - (len(group) - 1) / 2) * to_data for k in range(len(group))]
        for (_, i), dx in zip(sorted(group), shifts):
            elbow, marker = artists["elbows"][i], artists["markers"][i]
            x = list(elbow.get_xdata())
            elbow.set_xdata([x[0], x[1] + dx, x[2] + dx])
            marker.set_offsets([[rank + dx, 0.0]])
        spread[rank] = (shifts[0], shifts[-1])
    for (bar,) in artists["crossbars"]:
        xs = [round(float(x), 9) for x in bar.get_xdata()]
        a, b = min(xs), max(xs)
        bar.set_data([a + spread.get(a, (0.0, 0.0))[0], b + spread.get(b, (0.0, 0.0))[1]], [bar.get_ydata()[0]] * 2)


def _cd_bar(ax: Any, start: float, cd: float) -> tuple[Any, Any]:
    """The CD bar from the best rank and its label, placed a few points above the top of the rank tick labels (which
    stand above the axis line at y = 0)."""
    from matplotlib.transforms import ScaledTranslation

    fig = ax.figure
    fig.canvas.draw()  # tick labels get their text and size at draw time
    renderer = fig.canvas.get_renderer()
    tops = [t.get_window_extent(renderer).y1 for t in ax.get_xticklabels() if t.get_text()]
    axis_y = ax.transData.transform((0, 0))[1]
    lift = ((max(tops) - axis_y) if tops else 0.0) * 72 / fig.dpi + 5  # points above the axis line
    up = ax.transData + ScaledTranslation(0, lift / 72, fig.dpi_scale_trans)
    (bar,) = ax.plot([start, start + cd], [0, 0], color="k", lw=2, transform=up, clip_on=False)
    label = ax.text(start + cd / 2, 0, f"CD = {cd:.2g}", ha="center", va="bottom", fontsize=9, clip_on=False)
    label.set_transform(up + ScaledTranslation(0, 2 / 72, fig.dpi_scale_trans))
    return bar, label


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
