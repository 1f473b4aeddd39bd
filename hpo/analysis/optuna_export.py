"""Run histories as Optuna RDB storage (SQLite), so ``optuna-dashboard sqlite:///results/optuna.db`` opens them.

Why: HPO users already read histories in Optuna's dashboard (history plot, parallel coordinates, importance, timeline
per study); the Parquet trajectories and the aggregate figures do not give them that view of one run.

One Optuna study per run, named ``{benchmark}/{method}/{seed}``, in the dashboard's own terms:

- parameters: the values as evaluated, under the distribution the ConfigSpace defines (:func:`distributions`):
  categorical -> ``CategoricalDistribution`` of its choices; uniform float / integer -> ``FloatDistribution`` /
  ``IntDistribution`` over its range with its log scale; a constant -> a one-choice ``CategoricalDistribution``. Optuna
  has no ordinal distribution, so an ordinal grid of numbers is an ``IntDistribution`` / ``FloatDistribution`` with
  the grid's ``step`` where the grid is an evenly spaced range, else a ``CategoricalDistribution`` of its values in
  grid order (a log-spaced learning-rate grid reads ``learning_rate_init: 0.0016681006``, not a grid index);
- the observed loss as the value, the metric named after the benchmark's loss (``benchmark_info["loss"]``, e.g.
  ``1 - validation balanced accuracy``; ``loss`` if the run file names none); a trial whose loss is not finite is
  stored as failed;
- trial times from the recorded wall times: a trial starts at the previous row's ``wall_time`` (the first at the
  job's start) and completes at its own, counted from :data:`EPOCH` (the run files store no calendar time, so every
  run starts at this fixed origin and the Timeline panel shows real durations);
- trial user attributes: ``trial`` (the run's trial number), ``origin``, ``true_loss``, ``regret``, ``fidelity`` (when
  present), ``rationale``, ``prompt_tokens``, ``completion_tokens``, ``llm_cost``, ``config`` (the configuration as
  evaluated, JSON);
- study user attributes: ``benchmark``, ``method``, ``seed``, ``kind``, ``n_trials``, ``n_init``, ``fingerprint``.

The database is written to a temp file and renamed (never half-written).
"""

from __future__ import annotations

import datetime
import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Optional trial columns stored as user attributes when not null (and, for numbers, not NaN).
USER_ATTRS = (
    "origin",
    "true_loss",
    "regret",
    "fidelity",
    "rationale",
    "prompt_tokens",
    "completion_tokens",
    "llm_cost",
    "config",
)
STUDY_ATTRS = ("benchmark", "method", "seed", "kind", "n_trials", "n_init", "fingerprint")
# The origin of every run's trial times: run files store seconds since the job started, no calendar time.
EPOCH = datetime.datetime(2000, 1, 1)


def study_name(benchmark: str, method: str, seed: int) -> str:
    return f"{benchmark}/{method}/{seed}"


def _plain(value: Any) -> Any:
    """A Python scalar (Optuna's categorical choices must be None, bool, int, float or str, not NumPy scalars)."""
    return value.item() if hasattr(value, "item") else value


def _grid_distribution(values: list[Any]) -> Any:
    """An ordinal grid: an evenly spaced numeric range keeps its step, anything else is categorical of its values."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric and len(values) >= 2 and values == sorted(values):
        low, high = values[0], values[-1]
        step = (high - low) / (len(values) - 1)
        if step > 0 and all(math.isclose(v, low + k * step, rel_tol=1e-9) for k, v in enumerate(values)):
            if all(isinstance(v, int) for v in values) and float(step).is_integer():
                return IntDistribution(low, high, step=int(step))
            # Optuna's own checks (decimal divisibility, 1e-8 containment) decide whether the floats are a range.
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    dist = FloatDistribution(float(low), float(high), step=float(step))
            except (Warning, ValueError):
                dist = None
            if dist is not None and all(dist._contains(float(v)) for v in values):
                return dist
    return CategoricalDistribution(values)


def distributions(space: Any) -> dict[str, Any]:
    """One Optuna distribution per hyperparameter of the ConfigSpace ``space``, over the real values (module doc)."""
    import ConfigSpace as CS
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for hp in space.values():
        if isinstance(hp, CS.OrdinalHyperparameter):
            out[hp.name] = _grid_distribution([_plain(v) for v in hp.sequence])
        elif isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = CategoricalDistribution([_plain(v) for v in hp.choices])
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            out[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            out[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.Constant):
            out[hp.name] = CategoricalDistribution([_plain(hp.value)])
        else:
            raise TypeError(f"hyperparameter {hp.name}: type {type(hp).__name__} has no Optuna distribution here")
    return out


def params(dists: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """The values of ``config`` under ``dists`` (inactive hyperparameters left out); a categorical's value is its
    matching choice itself (floats matched with ``isclose``, as the tables match them)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    out = {}
    for name, dist in dists.items():
        if name not in config:
            continue
        value = config[name]
        if isinstance(dist, CategoricalDistribution):
            hits = [
                c
                for c in dist.choices
                if c == value
                or (isinstance(c, float) and isinstance(value, (int, float)) and math.isclose(c, value, rel_tol=1e-6))
            ]
            if not hits:
                raise ValueError(f"hyperparameter {name}: value {value!r} is not one of {list(dist.choices)}")
            value = hits[0]
        elif isinstance(dist, IntDistribution):
            value = int(round(value))
        else:
            value = float(value)
        out[name] = value
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _trials(space: Any, rows: list[dict[str, Any]]) -> list[Any]:
    import optuna

    dists = distributions(space)
    out = []
    previous_end = 0.0
    for row in rows:
        attrs = {"trial": row["trial"]}
        for key in USER_ATTRS:
            value = row.get(key)
            if value is not None and not (_number(value) and not math.isfinite(value)):
                attrs[key] = value
        trial_params = params(dists, json.loads(row["config"]))
        loss = row["loss"]
        finite = loss is not None and math.isfinite(loss)
        trial = optuna.trial.create_trial(
            params=trial_params,
            distributions={k: dists[k] for k in trial_params},
            value=float(loss) if finite else None,
            state=optuna.trial.TrialState.COMPLETE if finite else optuna.trial.TrialState.FAIL,
            user_attrs=attrs,
        )
        end = row.get("wall_time")
        end = float(end) if _number(end) and math.isfinite(end) and end >= previous_end else previous_end
        trial.datetime_start = EPOCH + datetime.timedelta(seconds=previous_end)
        trial.datetime_complete = EPOCH + datetime.timedelta(seconds=end)
        previous_end = end
        out.append(trial)
    return out


def export(runs: Sequence[str | Path], out: str | Path, tables: dict[str, str] | None = None) -> int:
    """Write every run file of ``runs`` as one study into the SQLite database ``out``; the number of trials.

    ``tables``: benchmark id -> converted table (the spaces of tabular benchmarks come from them).
    """
    import optuna

    from hpo import benchmarks
    from hpo.core import trajectory
    from hpo.util.atomic import atomic_path

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tables = tables or {}
    spaces: dict[str, Any] = {}
    total = 0
    with atomic_path(Path(out)) as tmp:
        storage = optuna.storages.RDBStorage(f"sqlite:///{tmp}")
        for path in runs:
            meta = trajectory.read_meta(path)
            spec = meta["spec"]
            bench_id = spec["benchmark"]
            if bench_id not in spaces:
                bench = benchmarks.make(bench_id, table_path=tables.get(bench_id), definition=spec.get("benchmark_def"))
                spaces[bench_id] = bench.space
            columns = ["trial", "config", "loss", "wall_time", *USER_ATTRS[:-1]]
            rows = trajectory.read(path).select(columns).sort_by("trial").to_pylist()
            study = optuna.create_study(
                storage=storage, study_name=study_name(bench_id, spec["method"], spec["seed"]), direction="minimize"
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                study.set_metric_names([meta.get("benchmark_info", {}).get("loss") or "loss"])
            for key in STUDY_ATTRS:
                study.set_user_attr(key, spec[key])
            study.add_trials(_trials(spaces[bench_id], rows))
            total += len(rows)
        storage.engine.dispose()  # close the file before it is renamed into place
    return total
