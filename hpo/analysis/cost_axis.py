"""Multi-fidelity runs on the cost axis: one row per full-fidelity evaluation's worth of budget spent.

A multi-fidelity run (a trajectory with a ``fidelity`` column) has a row per evaluation, and its evaluations cost
different amounts (``eval_cost`` in full-fidelity evaluations, :mod:`hpo.benchmarks.multi_fidelity`). Every
analysis downstream compares methods "after ``budget`` trials"; for such runs that must mean *at equal cost*. So
aggregation puts them on the cost axis: checkpoint ``k`` (1 .. ``n_trials``) is the run's state after its last
evaluation whose cumulative cost is at most ``k`` (its incumbent, regret and best loss), and that row becomes
``trial = k``. A full-fidelity method on the same benchmark pays 1.0 per evaluation, so its rows are unchanged;
the ranks, Friedman and paired tests, the budget summary and the anytime plots then compare every method at equal
cost without knowing about fidelities. The evaluations themselves stay in the run files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

TOL = 1e-9  # a cumulative cost of 3.0000000001 still counts as spent within budget 3


def is_multi_fidelity_run(table: pa.Table) -> bool:
    return "fidelity" in table.column_names and table["fidelity"].null_count < table.num_rows


def on_cost_axis(table: pa.Table, budget: int) -> pa.Table:
    """The rows at checkpoints 1..``budget`` (see the module docstring), ``trial`` renumbered to the checkpoint.

    Checkpoints before the first evaluation completes are left out (cannot happen when every evaluation costs at
    most one full-fidelity evaluation)."""
    import pyarrow as pa

    spent = np.asarray(table["cum_eval_cost"].to_numpy(zero_copy_only=False), dtype=float)
    picks, trials = [], []
    for k in range(1, budget + 1):
        last = int(np.searchsorted(spent, k + TOL, side="right")) - 1
        if last >= 0:
            picks.append(last)
            trials.append(k)
    out = table.take(pa.array(picks, type=pa.int64()))
    idx = out.column_names.index("trial")
    return out.set_column(idx, "trial", pa.array(trials, type=pa.int64()))
