"""Compute a benchmark's ground-truth importance record with the estimator its family allows.

Exact functional ANOVA on a table's full grid (:mod:`hpo.insight.truth.exact`), Sobol indices of the true loss
elsewhere (:mod:`hpo.insight.truth.sobol`). The record's layout, reading and writing are
:mod:`hpo.insight.truth.importance`, which both estimators build on; this module sits above all three, so none of them
imports another back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo.insight.truth.exact import exact_importance
from hpo.insight.truth.importance import GAMMA, ONE_HP_NOTE, PRIMARY
from hpo.insight.truth.sobol import sobol_importance

if TYPE_CHECKING:
    from hpo.benchmarks.base import Benchmark


def importance_json(
    benchmark_id: str,
    *,
    table: str | Path | None = None,
    bench: Benchmark | None = None,
    n_sample: int | None = None,
    n_bootstrap: int | None = None,
    gamma: float = GAMMA,
) -> dict[str, Any]:
    """The ground-truth record of one benchmark: exact on a table, else Sobol indices of ``bench``'s true loss.

    Also stores the benchmark's ConfigSpace (serialized), so later stages can build Optuna trials and the images'
    influence ordering without rebuilding the benchmark. ``n_sample`` (Sobol base sample size, a power of 2) and
    ``n_bootstrap`` override the estimators' defaults (tests use small ones).
    """
    from hpo import benchmarks

    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    t0 = time.perf_counter()
    boot = {} if n_bootstrap is None else {"n_bootstrap": n_bootstrap}
    if benchmarks.needs_table(benchmark_id):
        if table is None:
            raise ValueError(f"{benchmark_id}: a tabular benchmark needs its converted table (.npz)")
        bench = bench or benchmarks.make(benchmark_id, table_path=table)
        result = exact_importance(benchmark_id, table, gamma=gamma, **boot)
    else:
        bench = bench or benchmarks.make(benchmark_id, table_path=table)  # a learning-curve table, if any
        result = sobol_importance(bench, n=n_sample, gamma=gamma, **boot)
    n_hp = len(result["hyperparameters"])
    if n_hp == 1:
        result["note"] = "; ".join(filter(None, [ONE_HP_NOTE, result["note"]]))
    return {
        "benchmark": benchmark_id,
        **result,
        "gamma": gamma,
        "n_hyperparameters": n_hp,
        "primary_transform": PRIMARY,
        "loss": bench.info.get("loss", ""),
        "space": bench.space.to_serialized_dict(),
        "seconds": time.perf_counter() - t0,
    }
