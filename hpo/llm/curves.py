"""The learning-curve image ``mm_llm_mf`` sends: loss against fidelity, one line per configuration, labelled by id.

It shows exactly the configurations of the history table in the text part
(:func:`~hpo.llm.fidelity_history.shown_configurations`), under the same ids, so the image adds the *shape* of the
curves (which configurations improve with fidelity, which cross) and nothing the text does not name. Rendered like
the other history plots (:mod:`hpo.llm.images`: Agg, 640 x 480, no metadata), so one history gives one PNG byte for
byte and cached replies stay valid. Colours come from an 18-colour palette in drawing order (``tab20`` without its
greys), so up to 18 configurations each get their own colour; beyond (the default window shows 10 + 10) the
palette repeats and the id labels tell the lines apart.
"""

from __future__ import annotations

from hpo.llm.fidelity_history import History, shown_configurations
from hpo.llm.images import DPI, FIGSIZE, _png
from hpo.util.plotting import pyplot

PALETTE = "tab20"
GREYS = (14, 15)  # tab20's greys: too close to the axes and antialiased text to tell a line by


def colours() -> list[tuple[float, float, float]]:
    """The line colours in drawing order: ``tab20`` without its greys (18 colours)."""
    plt = pyplot()
    return [c for i, c in enumerate(plt.get_cmap(PALETTE).colors) if i not in GREYS]


def learning_curves(history: History, best_k: int, recent_m: int, levels: list[float], fidelity_name: str) -> bytes:
    """One PNG: each shown configuration's loss at every fidelity it reached (markers joined by a line), its id
    written at its highest point; x is the fidelity on a log axis with the ``levels`` as ticks (the ladder is
    geometric, so the levels are evenly spaced)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    keys = list(history)
    shown, _ = shown_configurations(history, best_k, recent_m)
    palette = colours()
    for n, i in enumerate(shown):
        points = sorted(history[keys[i]].items())
        xs, ys = [f for f, _ in points], [loss for _, loss in points]
        colour = palette[n % len(palette)]
        ax.plot(xs, ys, marker="o", markersize=8, linewidth=2.5, color=colour)
        ax.annotate(str(i + 1), (xs[-1], ys[-1]), xytext=(4, 2), textcoords="offset points", fontsize=8, color=colour)
    ax.set_xscale("log")
    ax.set_xticks(levels, [f"{f:.4g}" for f in levels])
    ax.minorticks_off()
    ax.set_xlabel(f"fidelity ({fidelity_name})")
    ax.set_ylabel("loss (lower is better)")
    ax.set_title("Loss vs. fidelity, one line per configuration (label = id in the history table)", fontsize=9)
    return _png(fig)
