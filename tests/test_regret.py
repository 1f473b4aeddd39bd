"""Normalized regret (hpo.analysis.regret) and the column aggregation derives from it, in-process: the end-to-end
studies check it through the workflow, this keeps it in the fast loop (``pytest -m "not slow"``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from hpo.analysis.aggregate import with_normalized_regret
from hpo.analysis.regret import normalized_regret


def test_zero_at_the_optimum_one_at_the_median_clipped_below_and_vectorized() -> None:
    assert normalized_regret(0.2, 0.2, 0.6) == 0.0
    assert normalized_regret(0.6, 0.2, 0.6) == pytest.approx(1.0)
    losses = np.array([0.2 - 1e-15, 0.3, 0.6, 1.0])  # round-off below f* is clipped to 0; worse than f_ref exceeds 1
    assert np.allclose(normalized_regret(losses, 0.2, 0.6), [0.0, 0.25, 1.0, 2.0])


@pytest.mark.parametrize("f_ref", [0.2, 0.1, float("nan")])
def test_a_reference_not_above_the_optimum_is_refused(f_ref: float) -> None:
    with pytest.raises(ValueError, match="must exceed the optimum"):
        normalized_regret(0.3, 0.2, f_ref)


def test_aggregation_adds_the_column_from_the_stored_regret() -> None:
    table = pa.table({"trial": [1, 2, 3], "regret": [0.4, 0.1, 0.0]})  # regret = f(incumbent) - f*
    out = with_normalized_regret(table, {"f_star": 0.2, "f_ref": 0.6})
    assert out.column_names == ["trial", "regret", "normalized_regret"]
    assert out["normalized_regret"].type == pa.float64()
    assert np.allclose(out["normalized_regret"].to_numpy(), [1.0, 0.25, 0.0])
