"""A ConfigSpace configuration in Optuna's terms: distributions, parameters and an in-memory study of given trials.

Used by the data-analysis baseline of the insight ladder (Optuna's fANOVA on a run's own trials,
:mod:`hpo.insight.sources`): grid positions, so fANOVA's trees split an ordinal in its order. The Optuna
export for the dashboard (:mod:`hpo.analysis.optuna_export`) stores real values instead. Split from
:mod:`hpo.insight.truth.importance`, whose ground truth does not use Optuna.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

FANOVA_SEED = 0  # Optuna's fANOVA forest seed, used by the data-analysis baseline (hpo.insight.sources)


def optuna_distributions(space: ConfigurationSpace) -> dict[str, Any]:
    """One Optuna distribution per hyperparameter.

    Ordinal grids become ``IntDistribution`` over their *indices*: the grid points then get equal measure, as in
    the exact ground truth (uniform weight per grid point), and log-spaced grids (learning rates) are not squashed
    into their largest values, which a ``FloatDistribution`` over the raw values would do. This is also how the
    project's ``optuna_tpe`` sees ordinals. Categoricals stay categorical; numeric ranges keep their log scale.
    """
    import ConfigSpace as CS
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for hp in space.values():
        if isinstance(hp, CS.OrdinalHyperparameter):
            out[hp.name] = IntDistribution(0, len(hp.sequence) - 1)
        elif isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            out[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            out[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.Constant):
            continue  # no variance to attribute
        else:
            raise TypeError(f"hyperparameter {hp.name}: type {type(hp).__name__} has no Optuna distribution here")
    return out


def optuna_params(space: ConfigurationSpace, config: dict[str, Any]) -> dict[str, Any]:
    """A configuration in the encoding of :func:`optuna_distributions` (ordinal values -> their index)."""
    import ConfigSpace as CS

    out = {}
    for hp in space.values():
        if isinstance(hp, CS.Constant):
            continue
        value = config[hp.name]
        if isinstance(hp, CS.OrdinalHyperparameter):
            seq = list(hp.sequence)
            hits = [i for i, c in enumerate(seq) if c == value or (not isinstance(c, str) and np.isclose(c, value))]
            if not hits:
                raise ValueError(f"hyperparameter {hp.name}: value {value!r} is not in its grid {seq}")
            value = hits[0]
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            value = int(value)
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            value = float(value)
        out[hp.name] = value
    return out


def optuna_study(space: ConfigurationSpace, configs: Sequence[dict[str, Any]], values: Sequence[float]) -> Any:
    """An in-memory Optuna study holding exactly these (configuration, value) trials, built with ``create_trial``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = optuna_distributions(space)
    study = optuna.create_study(direction="minimize")
    study.add_trials(
        [
            optuna.trial.create_trial(params=optuna_params(space, c), distributions=dists, value=float(v))
            for c, v in zip(configs, values)
        ]
    )
    return study
