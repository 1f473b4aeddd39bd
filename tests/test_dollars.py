"""Regret against LLM dollars (issue 25, report): the spend is summed over every call, the figure reads it, and the
workflow plans the figure only where a model's calls have prices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hpo.analysis.aggregate import with_cumulative_llm_cost
from hpo.analysis.cost_axis import on_cost_axis
from hpo.analysis.plots import dollar_grid_regret, plot_regret_vs_llm_cost


def test_the_spend_counts_every_call_also_those_the_cost_axis_drops() -> None:
    # a multi-fidelity run: four cheap evaluations (0.25 each) with a priced call each, classical rows cost nothing
    table = pa.table(
        {
            "trial": [1, 2, 3, 4, 5],
            "llm_cost": [None, 0.01, 0.02, 0.03, 0.04],
            "cum_eval_cost": [0.25, 0.5, 0.75, 1.0, 2.0],
        }
    )
    spent = with_cumulative_llm_cost(table)["cum_llm_cost"].to_pylist()
    assert spent == pytest.approx([0.0, 0.01, 0.03, 0.06, 0.10])
    kept = on_cost_axis(with_cumulative_llm_cost(table), 2)
    # checkpoint 1 is the fourth evaluation: it carries the first four calls, though three rows were dropped
    assert kept["cum_llm_cost"].to_pylist() == pytest.approx([0.06, 0.10])


def test_regret_on_the_dollar_grid_is_the_last_row_within_each_amount() -> None:
    run = pd.DataFrame({"trial": [1, 2, 3], "cum_llm_cost": [0.0, 0.5, 1.0], "normalized_regret": [0.9, 0.4, 0.1]})
    got = dollar_grid_regret(run, np.array([0.0, 0.25, 0.5, 0.99, 1.0, 2.0]))
    assert got.tolist() == [0.9, 0.9, 0.4, 0.4, 0.1, 0.1]


def test_the_figure_draws_each_llm_method_and_the_reference_line(tmp_path: Path) -> None:
    rows = []
    for bench in ("b1", "b2"):
        for seed in (0, 1):
            for t in range(1, 6):
                rows.append(("llm", bench, seed, t, 0.01 * t, 1.0 / t))
                rows.append(("rs", bench, seed, t, 0.0, 0.5))
    df = pd.DataFrame(rows, columns=["method", "benchmark", "seed", "trial", "cum_llm_cost", "normalized_regret"])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = [tmp_path / "d.png", tmp_path / "d.pdf"]
    captured = {}
    orig = plt.close
    plt.close = lambda fig=None: captured.setdefault("fig", fig) and orig(fig)  # keep the figure to inspect it
    try:
        plot_regret_vs_llm_cost(df, out, ["llm"], references=["rs"])
    finally:
        plt.close = orig
    assert all(p.stat().st_size > 1000 for p in out)
    axes = [ax for ax in captured["fig"].axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["b1", "b2"]
    for ax in axes:
        (curve,) = [ln for ln in ax.get_lines() if ln.get_label() == "llm"]
        assert max(curve.get_xdata()) == pytest.approx(0.05)  # the panel's largest spend
        assert curve.get_ydata()[-1] == pytest.approx(0.2)  # regret 1/5 after $0.05
        (ref,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("rs")]
        assert list(ref.get_ydata()) == [0.5, 0.5]
