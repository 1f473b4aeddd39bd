"""The measure of the Sobol ground truth (:mod:`hpo.insight.truth.sobol`): unit-cube design rows to configurations.

Why a module of its own: the truth must integrate over exactly the distribution random search draws from, and that
is ConfigSpace's sampling transform, reached partly through private attributes; keeping it here keeps the estimator
readable and this dependency in one place (a test compares the frequencies with ConfigSpace's sampler).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace


def _names(space: ConfigurationSpace) -> list[str]:
    import ConfigSpace as CS

    if list(space.conditions) or list(space.forbidden_clauses):
        raise ValueError("Sobol ground truth needs a space without conditions or forbidden clauses")
    return [hp.name for hp in space.values() if not isinstance(hp, CS.Constant)]


def unit_to_values(space: ConfigurationSpace, unit: np.ndarray) -> dict[str, np.ndarray]:
    """Map unit-cube rows (one column per non-constant hyperparameter) to values under the space's sampling measure.

    Numeric hyperparameters: ConfigSpace's vector distribution (its ``rv`` quantile, then its quantization of
    integer steps, a private method that ``sample_configuration`` itself uses), then ``to_value``; a uniform ``unit``
    therefore yields exactly ConfigSpace's sampling distribution. Categoricals and ordinals: equal weight per level.
    """
    import ConfigSpace as CS

    out = {}
    for j, name in enumerate(_names(space)):
        hp = space[name]
        u = np.clip(unit[:, j], 0.0, np.nextafter(1.0, 0.0))
        if isinstance(hp, CS.CategoricalHyperparameter | CS.OrdinalHyperparameter):
            n_levels = len(hp.choices) if isinstance(hp, CS.CategoricalHyperparameter) else len(hp.sequence)
            vector = np.floor(u * n_levels)
        else:
            vector = _numeric_vector(hp._vector_dist, u)
        out[name] = np.asarray(hp.to_value(vector))
    return out


def _numeric_vector(dist: Any, u: np.ndarray) -> np.ndarray:
    """ConfigSpace's vector of a numeric hyperparameter at quantile ``u`` of its vector distribution."""
    from ConfigSpace.hyperparameters import distributions as D

    if isinstance(dist, D.UnitUniformContinuousDistribution):
        return dist.lower_vectorized + u * (dist.upper_vectorized - dist.lower_vectorized)
    if isinstance(dist, D.UniformIntegerNormalizedDistribution):  # `size` equal bins on [0, 1]
        return np.floor(u * dist.size) / max(dist.size - 1, 1)
    if isinstance(dist, D.DiscretizedContinuousScipyDistribution):  # integer steps (log scale included)
        return dist._quantize(dist.rv.ppf(u))
    if isinstance(dist, D.ScipyContinuousDistribution):
        return dist.rv.ppf(u)
    raise TypeError(f"no quantile transform for ConfigSpace's {type(dist).__name__}")


def _configs(space: ConfigurationSpace, values: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Plain configuration dicts (Python scalars; constants included) of the value columns."""
    import ConfigSpace as CS

    from hpo.core.space import to_builtin

    consts = {hp.name: hp.value for hp in space.values() if isinstance(hp, CS.Constant)}
    n = len(next(iter(values.values())))
    return [{**consts, **{h: to_builtin(col[i]) for h, col in values.items()}} for i in range(n)]
