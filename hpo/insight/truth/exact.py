"""Exact ground truth of a tabular benchmark: every configuration's loss is in the table.

* Main effects and pairwise terms: with uniform weight on every grid point the functional ANOVA decomposition is
  exact. The main effect of hyperparameter *i* is the variance of its marginal means, ``Var_x_i(E[f | x_i])``, over
  the total variance; the pairwise term of (*i*, *j*) is the variance of ``E[f | x_i, x_j] - f_i - f_j - mu`` over
  the total variance (Hooker 2007, Hutter et al. 2014). Computed by averaging the grid over axes. The total-order
  share of *i* (every term *i* takes part in) is the mean over the other axes of the variance along axis *i*.
* Local importance (PED-ANOVA's quantity, Watanabe et al. 2023): how much the top-gamma configurations prefer some
  levels of a hyperparameter. Per hyperparameter, the Pearson divergence between the marginal of the top-gamma set
  and the marginal of the whole grid, ``D_i = sum_l q(l) (p_top(l) / q(l) - 1)^2``; on a product grid q is uniform
  over the K_i levels, so ``D_i = K_i sum_l p_top(l)^2 - 1``. Shares are ``D_i / sum_j D_j`` (Optuna normalizes the
  same way). Optuna's evaluator estimates the two marginals from trials with Parzen estimators and a prior; here
  they are counted on the full grid, so nothing is estimated. The top set is rank-invariant, so ``local`` is the
  same for both transforms.
* Uncertainty: the table holds several training seeds per configuration; the "true" loss is their mean. Each
  bootstrap resample redraws every configuration's seeds with replacement among those it has (NAS-Bench-201 has 2
  for some cells and 3 for others), averages them, and recomputes the exact decomposition and the local importance;
  percentile intervals over :data:`N_BOOTSTRAP` resamples, re-centred on the estimate (:func:`centred_ci`), of
  every share and of every pair's difference of main (and of total) shares: a pair whose difference interval
  excludes 0 is ordered by the truth (:func:`hpo.insight.truth.importance.unresolved_pairs`). With n
  seeds per cell the bootstrap variance of a mean is (n - 1) / n of the plug-in one, so the intervals are, if
  anything, narrow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hpo.insight.truth.importance import (
    CI_LEVEL,
    GAMMA,
    TRANSFORMS,
    pair_differences,
    pair_key,
    percentile_ci,
    rank_transform,
    summarize,
)
from hpo.insight.truth.region import grid_region, top_mask

N_BOOTSTRAP = 200


def functional_anova(values: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Exact main effects and pairwise terms of ``values`` (one axis per hyperparameter, uniform weights).

    Returns ``main`` {name: share}, ``total`` {name: total-order share}, ``pairs`` {"a|b": share},
    ``total_variance``, ``sum_main``, ``sum_pairs``; shares are fractions of the total variance (NaN when the
    function is constant). The total-order share of *i* is the sum of the variance terms of every subset containing
    *i*, which is what is left of the variance when everything but *i* is fixed, averaged:
    ``E_x~i[Var_x_i(f | x_~i)] / Var(f)`` (the mean of the grid's variance along axis *i*; Sobol's ``ST_i``).
    """
    f = np.asarray(values, dtype=float)
    if f.ndim != len(names):
        raise ValueError(f"grid has {f.ndim} axes but {len(names)} hyperparameter names were given")
    if not np.isfinite(f).all():
        raise ValueError("grid values must be finite (a table point has no loss)")
    d = f.ndim
    mu = float(f.mean())
    total = float(np.mean((f - mu) ** 2))

    def marginal(keep: tuple[int, ...]) -> np.ndarray:
        return f.mean(axis=tuple(k for k in range(d) if k not in keep)) - mu

    mains = [marginal((i,)) for i in range(d)]
    main_var = [float(np.mean(m**2)) for m in mains]
    pair_var = {}
    for i, j in itertools.combinations(range(d), 2):
        term = marginal((i, j)) - mains[i][:, None] - mains[j][None, :]
        pair_var[pair_key(names[i], names[j])] = float(np.mean(term**2))
    share = (lambda v: v / total) if total > 0 else (lambda v: math.nan)
    main = {n: share(v) for n, v in zip(names, main_var)}
    total_order = {n: share(float(np.mean(f.var(axis=i)))) for i, n in enumerate(names)}
    pairs = {k: share(v) for k, v in pair_var.items()}
    return {
        "main": main,
        "total": total_order,
        "pairs": pairs,
        "total_variance": total,
        "sum_main": float(sum(main.values())),
        "sum_pairs": float(sum(pairs.values())),
    }


def local_importance(values: np.ndarray, names: Sequence[str], gamma: float = GAMMA) -> dict[str, float]:
    """Exact top-gamma (PED-ANOVA) importance of a full grid: normalized Pearson divergences (module docstring).

    When the top set is spread uniformly over every hyperparameter's levels (every divergence 0), each share is
    1 / d, as in Optuna.
    """
    top = top_mask(values, gamma)
    d = top.ndim
    if d != len(names):
        raise ValueError(f"grid has {d} axes but {len(names)} hyperparameter names were given")
    div = []
    for i in range(d):
        counts = top.sum(axis=tuple(k for k in range(d) if k != i)).astype(float)
        p = counts / counts.sum()
        div.append(float(p.size * np.sum(p**2) - 1.0))
    total = sum(div)
    if total <= 1e-15:
        return {n: 1.0 / d for n in names}
    return {n: v / total for n, v in zip(names, div)}


def grid_of(benchmark_id: str) -> tuple[list[str], list[list[Any]]]:
    """Hyperparameter names and choices of a tabular benchmark, in the table's axis order (its family's grid)."""
    from hpo.benchmarks import family_of

    family, _ = family_of(benchmark_id)
    grid = family.bench_cls().search_space
    return list(grid), [list(v) for v in grid.values()]


def table_losses(npz: str | Path, sizes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The converted table's per-seed losses (configurations x seeds, NaN-padded, C order of the grid) and the
    number of seeds each configuration has."""
    with np.load(npz) as data:
        loss, counts, stored = data["loss"], data["counts"], [int(s) for s in data["sizes"]]
    if stored != list(sizes):
        raise ValueError(f"{npz}: table grid {stored} does not match the family's grid {list(sizes)}; reconvert it")
    return loss, counts.astype(int)


def table_mean_loss(npz: str | Path, sizes: Sequence[int]) -> np.ndarray:
    """The table's mean loss over its seeds, reshaped to the grid (what regret and the true loss use)."""
    loss, _ = table_losses(npz, sizes)
    return np.nanmean(loss, axis=1).reshape(sizes)


def resampled_mean(loss: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One bootstrap replicate of the per-configuration mean: each configuration's seeds redrawn with replacement
    among the ``counts[i]`` it has (stored first in its row)."""
    n_conf, width = loss.shape
    idx = np.floor(rng.random((n_conf, width)) * counts[:, None]).astype(int)
    drawn = np.take_along_axis(loss, idx, axis=1)
    drawn[np.arange(width)[None, :] >= counts[:, None]] = np.nan
    return np.nanmean(drawn, axis=1)


def centred_ci(point: Sequence[float], samples: Sequence[Sequence[float]]) -> list[list[float]]:
    """Percentile intervals of the resamples, shifted by the bootstrap's bias estimate (resample mean - estimate).

    Redrawing seeds adds noise to every cell, which inflates the total variance and so shrinks every share: the raw
    percentile interval of mlp-car's largest share lies wholly below the estimate. The shift keeps the interval's
    width (what decides ties) and centres it on the estimate.
    """
    arr = np.asarray(samples, dtype=float)
    bias = arr.mean(axis=0) - np.asarray(point, dtype=float)
    return [[float(lo - b), float(hi - b)] for (lo, hi), b in zip(percentile_ci(arr), bias)]


def _decompose(f: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {"rank": functional_anova(rank_transform(f), names), "raw": functional_anova(f, names)}


def exact_importance(
    benchmark_id: str, npz: str | Path, *, gamma: float = GAMMA, n_bootstrap: int = N_BOOTSTRAP
) -> dict[str, Any]:
    """Exact functional ANOVA, local importance and region data of a tabular benchmark, with seed-bootstrap CIs."""
    from hpo.core.space import stable_seed

    names, choices = grid_of(benchmark_id)
    sizes = [len(c) for c in choices]
    loss, counts = table_losses(npz, sizes)
    f = np.nanmean(loss, axis=1).reshape(sizes)
    point = _decompose(f, names)
    local = local_importance(f, names, gamma)
    rng = np.random.default_rng(stable_seed("importance", benchmark_id))
    keys = {t: (list(point[t]["main"]), list(point[t]["pairs"])) for t in TRANSFORMS}
    parts = ("main", "total", "pairs")
    boots: dict[str, list[list[float]]] = {f"{t}_{part}": [] for t in TRANSFORMS for part in parts}
    boots["local"] = []
    for _ in range(n_bootstrap if counts.max() > 1 else 0):
        fb = resampled_mean(loss, counts, rng).reshape(sizes)
        res = _decompose(fb, names)
        for t in TRANSFORMS:
            for part in parts:
                boots[f"{t}_{part}"].append([res[t][part][k] for k in keys[t][part == "pairs"]])
        lb = local_importance(fb, names, gamma)
        boots["local"].append([lb[n] for n in names])
    local_ci = dict(zip(names, centred_ci([local[n] for n in names], boots["local"]))) if boots["local"] else {}
    transforms = {}
    for t in TRANSFORMS:
        result = {**point[t], "local": local, "local_ci": local_ci}
        if boots[f"{t}_main"]:
            for part in parts:
                labels, shares = keys[t][part == "pairs"], point[t][part]
                if labels:
                    result[f"{part}_ci"] = dict(
                        zip(labels, centred_ci([shares[k] for k in labels], boots[f"{t}_{part}"]))
                    )
            for part in ("main", "total"):  # the pairwise differences: which orders the seeds establish
                diff_keys, diffs = pair_differences(names, np.array(boots[f"{t}_{part}"]))
                _, at_point = pair_differences(names, np.array([[point[t][part][n] for n in names]]))
                result[f"{part}_diff_ci"] = dict(zip(diff_keys, centred_ci(at_point[0], diffs)))
        transforms[t] = summarize(result)
    n_seeds = int(loss.shape[1])
    seeds = f"{n_seeds}" if counts.min() == n_seeds else f"{int(counts.min())}-{n_seeds}"
    if counts.max() > 1:
        uncertainty = f"{CI_LEVEL:.0%} intervals from {n_bootstrap} resamples of each configuration's {seeds} seeds"
    else:
        uncertainty = "one training seed per configuration: no seed uncertainty, no intervals"
    return {
        "method": "exact_grid",
        "estimator": (
            f"exact functional ANOVA on the full grid ({f.size} configurations, mean over {seeds} training seeds) "
            f"and exact top-{gamma:g} local importance (PED-ANOVA's Pearson divergence); {uncertainty}"
        ),
        "n_points": int(f.size),
        "n_table_seeds": {"min": int(counts.min()), "max": n_seeds},
        "bootstrap": {"n": n_bootstrap if counts.max() > 1 else 0, "level": CI_LEVEL, "unit": "training seeds"},
        "transforms": transforms,
        "hyperparameters": names,
        "region": grid_region(f, names, choices, gamma),
        "note": "",
    }
