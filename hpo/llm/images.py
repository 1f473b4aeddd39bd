"""Plots of the search history that the multimodal optimizer sends to the model.

Rendered with matplotlib's Agg backend at a fixed size and without timestamps or version strings, so the same
history gives byte-for-byte the same PNGs (and therefore the same cache keys). Titles are drawn inside each image,
so the text part of the prompt stays identical to the text-only method's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from hpo.core.influence import coords, influence
from hpo.core.space import is_log_scale
from hpo.llm.prompt import Observation
from hpo.util.plotting import pyplot

FIGSIZE, DPI = (6.4, 4.8), 100  # 640 x 480 px
_PNG_META = {"Software": None}


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata=_PNG_META)
    pyplot().close(fig)
    return buf.getvalue()


def per_hyperparameter(space: Any, history: list[Observation]) -> bytes:
    """Each hyperparameter's value vs. loss; colour = trial order; log axes where the scale is log."""
    plt = pyplot()
    names = list(space)
    ncols = min(3, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=FIGSIZE, squeeze=False)
    trials = np.array([o.trial for o in history])
    losses = np.array([o.loss for o in history])
    for ax, name in zip(axes.flat, names):
        hp = space[name]
        x, labels = coords(hp, [o.config[name] for o in history])
        sc = ax.scatter(x, losses, c=trials, cmap="viridis", s=14, vmin=1, vmax=max(trials.max(), 2))
        if is_log_scale(hp):
            ax.set_xscale("log")
        if labels is not None:
            ax.set_xticks(range(len(labels)), [str(v)[:8] for v in labels], fontsize=6, rotation=30)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.suptitle("Loss (y, lower is better) vs. each hyperparameter; colour = trial number", fontsize=9)
    fig.subplots_adjust(hspace=0.5, wspace=0.3, right=0.78)
    fig.colorbar(sc, ax=axes.ravel().tolist(), shrink=0.8).ax.tick_params(labelsize=6)
    return _png(fig)


def best_so_far(history: list[Observation]) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    trials = [o.trial for o in history]
    losses = [o.loss for o in history]
    ax.scatter(trials, losses, s=14, color="#8C8C8C", label="observed loss")
    ax.step(trials, np.minimum.accumulate(losses), where="post", color="#C44E52", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss (lower is better)")
    ax.set_title("Best loss so far")
    ax.legend()
    return _png(fig)


def top_two(space: Any, history: list[Observation]) -> bytes:
    """2-D view of the two most influential hyperparameters, colour = loss, best point marked."""
    plt = pyplot()
    order = influence(space, [o.config for o in history], [o.loss for o in history])
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if len(order) < 2:
        ax.set_title("Only one hyperparameter")
        return _png(fig)
    a, b = order[:2]
    xa, la = coords(space[a], [o.config[a] for o in history])
    xb, lb = coords(space[b], [o.config[b] for o in history])
    losses = np.array([o.loss for o in history])
    sc = ax.scatter(xa, xb, c=losses, cmap="viridis_r", s=30)
    best = int(np.argmin(losses))
    ax.scatter([xa[best]], [xb[best]], marker="*", s=200, facecolor="none", edgecolor="red", label="best")
    for axis, hp, labels, setter in ((ax.xaxis, space[a], la, ax.set_xscale), (ax.yaxis, space[b], lb, ax.set_yscale)):
        if is_log_scale(hp):
            setter("log")
        if labels is not None:
            axis.set_ticks(range(len(labels)), [str(v)[:10] for v in labels], fontsize=7)
    ax.set_xlabel(a)
    ax.set_ylabel(b)
    ax.set_title(f"Two most influential hyperparameters\n{a} vs. {b} (colour = loss)", fontsize=10)
    ax.legend(loc="best")
    fig.colorbar(sc, ax=ax, label="loss")
    return _png(fig)


# The plots a multimodal kind can send (its ``images`` parameter names them), in the order they are sent, and the
# name each is kept under next to the trajectory (``trial_NNN_<name>.png``; unchanged since before the parameter).
PLOTS = {"per_hyperparameter": "hyperparameters", "best_so_far": "best_so_far", "top_two": "top_two"}
IMAGE_NAMES = tuple(PLOTS.values())


def render(space: Any, history: list[Observation], which: Sequence[str] = tuple(PLOTS)) -> list[bytes]:
    """The selected history images (``which``: keys of :data:`PLOTS`), always in :data:`PLOTS` order.

    A fixed order whatever order the study lists them in: the same selection always sends the same request.
    """
    unknown = set(which) - set(PLOTS)
    if unknown:
        raise ValueError(f"unknown images {sorted(unknown)}; allowed: {', '.join(PLOTS)}")
    draw = {
        "per_hyperparameter": lambda: per_hyperparameter(space, history),
        "best_so_far": lambda: best_so_far(history),
        "top_two": lambda: top_two(space, history),
    }
    return [draw[name]() for name in PLOTS if name in which]


def blank_like(png: bytes) -> bytes:
    """A white PNG of the same pixel size (the ``mm_llm_blank`` control)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        size = im.size
    buf = io.BytesIO()
    Image.new("RGB", size, (255, 255, 255)).save(buf, format="PNG")
    return buf.getvalue()
