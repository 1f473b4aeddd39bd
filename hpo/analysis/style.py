"""Figure conventions shared by every plot: one colour per method, and matplotlib set up headless.

Colours are assigned from the study's method order, so a method looks the same in every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_PALETTE = [
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
]


def method_colors(methods: Sequence[str]) -> dict[str, str]:
    """Stable colours: the i-th method of the study gets the i-th palette colour (cycled)."""
    return {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(methods)}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (headless, deterministic), imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "hpo"
    return plt
