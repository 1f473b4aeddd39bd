"""Figure conventions shared by every plot: one colour per method (matplotlib's headless setup: hpo.util.plotting).

Colours are assigned from the study's method order, so a method looks the same in every figure.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpo.util.plotting import pyplot

__all__ = ["method_colors", "pyplot"]

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
