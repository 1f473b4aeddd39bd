"""Run histories as Optuna RDB storage (SQLite), so ``optuna-dashboard sqlite:///results/optuna.db`` opens them.

Why: HPO users already read histories in Optuna's dashboard (history plot, parallel coordinates, importance per
study); the Parquet trajectories and the aggregate figures do not give them that view of one run.

One Optuna study per run, named ``{benchmark}/{method}/{seed}``; each trial has its parameters under the
distributions of :func:`hpo.analysis.optuna_encoding.optuna_distributions` (log scales and categoricals kept;
ordinal grids as the *index* into the grid, how the project's ``optuna_tpe`` and the importance analysis see them,
so the dashboard spaces grid points evenly), its observed loss as the value, and user attributes: ``origin``,
``rationale``, ``prompt_tokens``, ``completion_tokens``, ``llm_cost`` and ``config`` (the configuration as evaluated,
JSON, with the grid values themselves). A trial whose loss is not finite is stored as failed. The study's user
attributes hold the run's kind and fingerprint. The database is written to a temp file and renamed (never half-written).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

USER_ATTRS = ("origin", "rationale", "prompt_tokens", "completion_tokens", "llm_cost", "config")


def study_name(benchmark: str, method: str, seed: int) -> str:
    return f"{benchmark}/{method}/{seed}"


def _trials(space: Any, rows: list[dict[str, Any]]) -> list[Any]:
    import optuna

    from hpo.analysis.optuna_encoding import optuna_distributions, optuna_params

    dists = optuna_distributions(space)
    out = []
    for row in rows:
        attrs = {k: row[k] for k in USER_ATTRS if row.get(k) is not None}
        params = optuna_params(space, json.loads(row["config"]))
        loss = row["loss"]
        finite = loss is not None and math.isfinite(loss)
        out.append(
            optuna.trial.create_trial(
                params=params,
                distributions=dists,
                value=float(loss) if finite else None,
                state=optuna.trial.TrialState.COMPLETE if finite else optuna.trial.TrialState.FAIL,
                user_attrs=attrs,
            )
        )
    return out


def export(runs: Sequence[str | Path], out: str | Path, tables: dict[str, str] | None = None) -> int:
    """Write every run file of ``runs`` as one study into the SQLite database ``out``; the number of trials.

    ``tables``: benchmark id -> converted table (the spaces of tabular benchmarks come from them).
    """
    import optuna

    from hpo import benchmarks, trajectory
    from hpo.atomic import atomic_path

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tables = tables or {}
    spaces: dict[str, Any] = {}
    total = 0
    with atomic_path(Path(out)) as tmp:
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}")
        for path in runs:
            spec = trajectory.read_meta(path)["spec"]
            bench_id = spec["benchmark"]
            if bench_id not in spaces:
                bench = benchmarks.make(bench_id, table_path=tables.get(bench_id), definition=spec.get("benchmark_def"))
                spaces[bench_id] = bench.space
            columns = ["trial", "config", "loss", *USER_ATTRS[:-1]]
            rows = trajectory.read(path).select(columns).sort_by("trial").to_pylist()
            study = optuna.create_study(
                storage=storage, study_name=study_name(bench_id, spec["method"], spec["seed"]), direction="minimize"
            )
            for key in ("kind", "fingerprint", "n_trials", "n_init"):
                study.set_user_attr(key, spec[key])
            study.add_trials(_trials(spaces[bench_id], rows))
            total += len(rows)
        storage.engine.dispose()  # close the file before it is renamed into place
    return total
