"""Headless matplotlib, shared by the analysis figures and the history images a multimodal model is shown.

A bottom-layer helper: the LLM package must not import analysis code (and vice versa), yet both draw with the same
deterministic setup. Because it shapes the images an ``mm_llm`` run sends, it is part of those runs' fingerprint.
"""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (headless, deterministic), imported only when a figure is drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "hpo"
    return plt
