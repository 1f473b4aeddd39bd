"""Sobol-index ground truth of a benchmark without a table (synthetic, live ML, custom).

Why Sobol indices: the first-order index ``S_i = Var(E[f | x_i]) / Var(f)`` is exactly the functional-ANOVA main
effect share that the tabular truth computes on its grid, so both families state the same quantity (``main``); the
total-order index ``ST_i`` (everything ``x_i`` takes part in, interactions included) is stored as ``total``. They
are estimated from true evaluations on a scrambled Sobol (quasi-Monte Carlo) design, with nothing fitted: no
surrogate, so the truth shares no estimator with the data-analysis baseline (Optuna's fANOVA forest).

* Measure: the space's own sampling measure, the one random search draws from. Each coordinate of the unit-cube
  design goes through ConfigSpace's own sampling transform (the hyperparameter's vector distribution, its
  quantization of integer steps on a log scale, then ``to_value``), so log-scale ranges are integrated uniformly in
  log and integers on their levels exactly as ``sample_configuration`` weights them. Categorical and ordinal
  hyperparameters take their levels equally often (:mod:`hpo.insight.truth.sobol_measure`).
* Estimators: ``scipy.stats.sobol_indices`` on the design's evaluations (A, B and the d mixed matrices, n (d + 2)
  evaluations; Saltelli 2010 first order, Jansen total order); percentile intervals from resampling the design's
  rows (:func:`_indices` says why not scipy's own BCa ``bootstrap``), of every index and of every pair's difference
  of main (and of total) indices, from the same resamples: the pairs the design orders
  (:func:`hpo.insight.truth.importance.unresolved_pairs`). Point estimates are clipped at 0 (a small
  negative index is estimation noise); the intervals are not. Rows of a QMC design are not independent draws, so
  the bootstrap overstates the (smaller) quasi-Monte Carlo error: the intervals are conservative.
* Transforms: ``raw`` is the loss; ``rank`` is the Sobol index of the loss replaced by its rank among all the
  design's evaluations (every design row is a draw from the measure, so the pooled rank estimates the loss's CDF):
  the sample counterpart of the grid's rank transform, and the primary one as there.
* Synthetic functions are evaluated vectorized at :data:`N_ANALYTIC` base points (milliseconds). Live ML and custom
  benchmarks train a model per evaluation, so n is the largest power of two whose n (d + 2) evaluations fit in
  :data:`TRUTH_SECONDS` (timed from the stored reference values, or from a pilot evaluation), within
  [:data:`N_MIN`, :data:`N_MAX`]; the evaluations are stored in the record (``sample``), so they are made once.
* Pairs (analytic functions only): the pairwise term of (i, j) is the closed second-order index, estimated like a
  first-order one from the matrix A with columns i and j taken from B, minus S_i and S_j (Saltelli 2002). On live
  benchmarks those d (d - 1) / 2 extra matrices would double the fits, so ``pairs`` is {} there (said in the note).
* Region: the design's A and B rows (independent draws from the measure) with their losses.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.insight.truth import importance as imp
from hpo.insight.truth.importance import CI_LEVEL, GAMMA
from hpo.insight.truth.region import sample_region
from hpo.insight.truth.sobol_measure import _configs, _names, unit_to_values

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from hpo.benchmarks.base import Benchmark

N_ANALYTIC = 2**15  # resolves Hartmann3's x0 < x1 (0.036 vs 0.045; not at 2**14); Ishigami within 0.02
# N_MIN: 32 base points resolved no pair of rf-breast_cancer's main effects, 64 put its top (max_depth) above the
# other three (docs/insight.md). Cheap models (svm, lr: ~0.01 s a fit) stop at N_MAX x (d + 2) fits, ~20 s.
N_MIN, N_MAX = 64, 512
TRUTH_SECONDS = 60.0
N_BOOTSTRAP = 500
REGION_MAX = 4096


def _evaluator(bench: Benchmark) -> tuple[Any, bool]:
    """A batch evaluator of true losses for value columns, and whether it is vectorized (analytic functions)."""
    function = getattr(bench, "function", None)
    if function is not None and callable(getattr(function, "fn", None)):

        def analytic(values: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(function.fn(np.column_stack([values[h] for h in function.names])), dtype=float)

        return analytic, True

    def loop(values: dict[str, np.ndarray]) -> np.ndarray:
        return np.array([bench.true_loss(c) for c in _configs(bench.space, values)], dtype=float)

    return loop, False


def design_size(bench: Benchmark, n_hp: int, pilot_seconds: float | None = None) -> int:
    """Base sample size n (a power of 2) of a benchmark that trains models: n (d + 2) evaluations within
    :data:`TRUTH_SECONDS`, from the stored reference evaluation time when there is one, else ``pilot_seconds``."""
    from hpo import benchmarks

    per_eval = pilot_seconds or 0.0
    if benchmarks.live_ml.parse(bench.id) is not None:
        entry = benchmarks.live_ml.load_references()["benchmarks"].get(bench.id, {})
        per_eval = float(entry.get("eval_time_s", {}).get("mean", 0.0)) or per_eval
    if per_eval <= 0:
        return N_MAX
    fit = TRUTH_SECONDS / (per_eval * (n_hp + 2))
    return int(min(N_MAX, max(N_MIN, 2 ** math.floor(math.log2(max(fit, 1.0))))))


def sobol_design(space: ConfigurationSpace, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit-cube matrices A and B (n x d each) of one scrambled Sobol sequence in 2d dimensions (scipy's layout)."""
    from scipy.stats import qmc

    d = len(_names(space))
    if n < 2 or n & (n - 1):
        raise ValueError(f"Sobol base sample size must be a power of 2 (>= 2), got {n}")
    unit = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random_base2(int(math.log2(n)))
    return unit[:, :d], unit[:, d:]


def _saltelli(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First (Saltelli 2010) and total (Jansen) order indices of resampled designs: ``f_a``, ``f_b`` (r x n),
    ``f_ab`` (d x r x n) -> two (r x d) arrays; the formulas of ``scipy.stats.sobol_indices`` (a test checks them
    against it), vectorized over resamples."""
    mean = np.concatenate([f_a, f_b], axis=1).mean(axis=1, keepdims=True)
    a, b, ab = f_a - mean, f_b - mean, f_ab - mean
    var = np.concatenate([a, b], axis=1).var(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        first = (np.mean(b * (ab - a), axis=-1) / var).T
        total = (0.5 * np.mean((a - ab) ** 2, axis=-1) / var).T
    return np.nan_to_num(first), np.nan_to_num(total)


def _indices(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, f_pair: np.ndarray, n_bootstrap: int, seed: int
) -> dict[str, np.ndarray]:
    """First/total-order indices (``scipy.stats.sobol_indices`` on the given evaluations), pair terms from the
    closed second-order matrices ``f_pair`` (P x n, may be empty) and percentile intervals from resampling design
    rows with replacement (A, B and the mixed rows of one index together).

    Not ``SobolResult.bootstrap``: its BCa interval runs a jackknife of n recomputations (O(n^2): ~100 s at the
    analytic n = 2^14); a percentile bootstrap of the same rows costs milliseconds.
    """
    from scipy.stats import sobol_indices

    d = f_ab.shape[0]
    if d == 1:  # one input carries all the variance of a deterministic function (scipy fails on d=1)
        one = np.ones(1)
        return {"first": one, "total": one, "first_ci": np.ones((1, 2)), "total_ci": np.ones((1, 2))}
    res = sobol_indices(func={"f_A": f_a[None, :], "f_B": f_b[None, :], "f_AB": f_ab[:, None, :]}, n=f_a.size)
    out = {"first": np.atleast_1d(res.first_order), "total": np.atleast_1d(res.total_order)}
    pairs = list(itertools.combinations(range(d), 2))[: f_pair.shape[0]]

    def pair_terms(rows: np.ndarray, first: np.ndarray) -> np.ndarray:  # closed index of (i, j) - S_i - S_j
        closed, _ = _saltelli(f_a[rows], f_b[rows], f_pair[:, rows])
        return np.stack([closed[:, k] - first[:, i] - first[:, j] for k, (i, j) in enumerate(pairs)], axis=1)

    if pairs:
        out["pair"] = pair_terms(np.arange(f_a.size)[None, :], out["first"][None, :])[0]
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        parts: dict[str, list[np.ndarray]] = {"first": [], "total": [], "pair": []}
        for start in range(0, n_bootstrap, 50):  # chunks bound the memory: 50 x n x d floats
            rows = rng.integers(0, f_a.size, size=(min(50, n_bootstrap - start), f_a.size))
            first, total = _saltelli(f_a[rows], f_b[rows], f_ab[:, rows])
            parts["first"].append(first)
            parts["total"].append(total)
            if pairs:
                parts["pair"].append(pair_terms(rows, first))
        for key, chunks in parts.items():
            if chunks:
                out[f"{key}_boot"] = np.concatenate(chunks)  # the resamples: pair differences are taken from them
                out[f"{key}_ci"] = np.array(imp.percentile_ci(out[f"{key}_boot"]))
    return out


def _transform_result(names: list[str], idx: dict[str, np.ndarray]) -> dict[str, Any]:
    main = {h: float(max(v, 0.0)) for h, v in zip(names, idx["first"])}
    total = {h: float(max(v, 0.0)) for h, v in zip(names, idx["total"])}
    keys = [imp.pair_key(names[i], names[j]) for i, j in itertools.combinations(range(len(names)), 2)]
    pairs = {k: float(max(v, 0.0)) for k, v in zip(keys, idx.get("pair", []))}
    result: dict[str, Any] = {"main": main, "pairs": pairs, "total": total}
    result.update(sum_main=float(sum(main.values())), sum_pairs=float(sum(pairs.values())) if pairs else math.nan)
    for key, out in (("first", "main"), ("total", "total"), ("pair", "pairs")):
        if f"{key}_ci" in idx:
            labels = names if key != "pair" else keys
            result[f"{out}_ci"] = {h: [float(lo), float(hi)] for h, (lo, hi) in zip(labels, idx[f"{key}_ci"])}
        if f"{key}_boot" in idx and key != "pair":  # which orders the design establishes (no transitive chaining)
            diff_keys, diffs = imp.pair_differences(names, idx[f"{key}_boot"])
            result[f"{out}_diff_ci"] = dict(zip(diff_keys, imp.percentile_ci(diffs)))
    return imp.summarize(result)


def sobol_importance(
    bench: Benchmark, *, n: int | None = None, gamma: float = GAMMA, n_bootstrap: int = N_BOOTSTRAP
) -> dict[str, Any]:
    """Sobol-index ground truth of ``bench`` on its true loss (module docstring), with region data and the sample."""
    from hpo.core.space import stable_seed

    space = bench.space
    names = _names(space)
    seed = stable_seed("importance", bench.id)
    evaluate, vectorized = _evaluator(bench)
    pilot = None
    if n is None and not vectorized:
        a1, _ = sobol_design(space, 2, seed)
        t0 = time.perf_counter()
        evaluate(unit_to_values(space, a1[:1]))
        pilot = time.perf_counter() - t0
    n = n or (N_ANALYTIC if vectorized else design_size(bench, len(names), pilot))
    unit_a, unit_b = sobol_design(space, n, seed)
    t0 = time.perf_counter()
    val_a, val_b = unit_to_values(space, unit_a), unit_to_values(space, unit_b)
    f_a, f_b = evaluate(val_a), evaluate(val_b)
    f_ab = np.empty((len(names), n))
    for i, h in enumerate(names):
        f_ab[i] = evaluate({**val_a, h: val_b[h]})
    # closed second-order matrices (A with the columns of i and j from B): cheap only for analytic functions
    pairs = list(itertools.combinations(names, 2)) if vectorized else []
    f_pair = np.empty((len(pairs), n))
    for k, (h, g) in enumerate(pairs):
        f_pair[k] = evaluate({**val_a, h: val_b[h], g: val_b[g]})
    eval_seconds = time.perf_counter() - t0
    notes = [] if vectorized else ["pair terms need d (d - 1) / 2 more fits per row: pairs are empty"]
    pooled = np.concatenate([f_a, f_b, f_ab.ravel(), f_pair.ravel()])
    bad = ~np.isfinite(pooled)
    if bad.any():  # a failed fit counts as the worst loss seen
        worst = float(np.nanmax(np.where(bad, np.nan, pooled)))
        f_a, f_b, f_ab, f_pair = (np.where(np.isfinite(x), x, worst) for x in (f_a, f_b, f_ab, f_pair))
        notes.append(f"{int(bad.sum())} of {pooled.size} losses were not finite and count as the worst ({worst:.4g})")
        pooled = np.concatenate([f_a, f_b, f_ab.ravel(), f_pair.ravel()])
    ranks = imp.rank_transform(pooled) / pooled.size
    cuts = np.cumsum([n, n, f_ab.size])
    r_a, r_b, r_ab, r_pair = ranks[: cuts[0]], ranks[cuts[0] : cuts[1]], ranks[cuts[1] : cuts[2]], ranks[cuts[2] :]
    transforms = {
        "rank": _transform_result(
            names, _indices(r_a, r_b, r_ab.reshape(f_ab.shape), r_pair.reshape(f_pair.shape), n_bootstrap, seed)
        ),
        "raw": _transform_result(names, _indices(f_a, f_b, f_ab, f_pair, n_bootstrap, seed)),
    }
    rank = transforms["rank"]
    top = imp.top_pair(rank["main"])[:1]
    if top and any(top[0] in p for p in rank["unresolved_pairs"]):  # the truth's first claim; said, not hidden
        notes.append(f"the largest main effect ({top[0]}) is not resolved from every other at n={n} (rank transform)")
    n_eval = n * (len(names) + 2 + len(pairs))
    m = min(n, REGION_MAX // 2) if vectorized else n
    region = sample_region(
        {h: np.concatenate([val_a[h][:m], val_b[h][:m]]) for h in names},
        np.concatenate([f_a[:m], f_b[:m]]),
        gamma,
        f"rows 0-{m - 1} of the Sobol design's A and B matrices",
    )
    what = "the analytic function" if vectorized else f"{n_eval} true evaluations (model seed 0)"
    design = f"scipy.stats.qmc.Sobol(d={2 * len(names)}, scramble=True, seed={seed}).random_base2({int(math.log2(n))})"
    sample: dict[str, Any] = {"design": design, "seed": seed, "n": n, "n_evaluations": n_eval}
    if not vectorized:  # the costly evaluations, kept (A and B values are the region's first n and next n rows)
        sample.update(f_A=f_a.tolist(), f_B=f_b.tolist(), f_AB=f_ab.tolist())
    return {
        "method": "sobol_analytic" if vectorized else "sobol_sample",
        "estimator": (
            f"first- and total-order Sobol indices of {what} (scipy.stats.sobol_indices: Saltelli 2010 first order, "
            f"Jansen total order{'; closed second-order pair terms' if pairs else ''}) on a scrambled Sobol design "
            f"of n={n} base points on ConfigSpace's sampling measure; "
            f"{CI_LEVEL:.0%} bootstrap intervals ({n_bootstrap} resamples)"
        ),
        "hyperparameters": names,
        "n_points": n_eval,
        "transforms": transforms,
        "region": region,
        "sample": sample,
        "bootstrap": {"n": n_bootstrap, "level": CI_LEVEL, "unit": "design rows (percentile)"},
        "eval_seconds": eval_seconds,
        "note": "; ".join(notes),
    }
