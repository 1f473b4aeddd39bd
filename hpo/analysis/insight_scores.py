"""Scores of a stated hyperparameter importance against the truth, each with its exact chance level.

Why these scores, and why this way (issue 15):

* **Ties in a statement are scored by their expectation over random tie-breaking.** Models state rounded, tied,
  often-omitted weights; data analyses state continuous ones. Kendall's τ-b credits ties (against the truth
  (0.5, 0.3, 0.15, 0.05) the statement (0.5, 0.5, 0, 0) scores τ-b 0.816, while a random order of its tied
  names scores 0.667 on average), which would favour coarse statements. Every score here is the mean over all
  orders consistent with the statement, computed in closed form, so a tie earns exactly what a coin flip earns.
* **Ties in the truth** (exactly equal shares, or shares the ground truth cannot tell apart: ``tie_groups``) are
  pairs whose order is unknown; they are left out of the rank scores instead of being counted as errors.
* **Every score comes with its chance level** (``m_chance``: its expectation for a uniformly random statement, for
  this truth) and a normalized score ``m_norm = (m - chance) / (best - chance)`` (1 = the truth, 0 = chance), because
  chance levels differ between benchmarks (NDCG's is ≈ 0.65 on one, lower on another) and raw scores would pool
  unlike quantities.

Metrics (:data:`METRICS`): ``kendall_tau`` (tie-aware τ), ``weighted_tau`` (a top-weighted τ: an order error among the
truly important hyperparameters costs more than one among the unimportant), ``ndcg`` (true shares as gains),
``top1_hit`` (is the stated leader the true top) and ``js_distance`` (calibration: how far the stated weights are
from the true shares; lower is better, its ``_norm`` is oriented so higher is better).
Also :func:`pair_score`: is the stated top interaction the true top pair. Pure functions of numpy/scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

METRICS = ("kendall_tau", "weighted_tau", "ndcg", "top1_hit", "js_distance")
# Chance level of the calibration score: a scrambled Sobol sequence of 2**JS_QMC_LOG2 points (fixed seed) mapped
# onto the simplex by sorted spacings (uniform on the simplex = Dirichlet(1, ..., 1)).
JS_QMC_LOG2 = 12
JS_QMC_SEED = 0
TIE_NOTE = "ties in the statement scored by their expectation over random tie-breaking"


def normalize(score: float, chance: float, best: float = 1.0) -> float:
    """``(score - chance) / (best - chance)``: 1 at the best possible score, 0 at chance, negative below chance.

    ``best`` is 1 for the rank scores and 0 for a distance (then it reads ``(chance - d) / chance``). NaN where
    either input is not finite or chance is already the best (nothing to beat).
    """
    if not (math.isfinite(score) and math.isfinite(chance)) or chance == best:
        return math.nan
    return float((score - chance) / (best - chance))


def tie_classes(true: np.ndarray, names: Sequence[str], tie_groups: list[list[str]] | None) -> np.ndarray:
    """A class label per name: names with exactly equal true shares, or in one of ``tie_groups``, share a class.

    Classes are the connected components of "tied" (so the relation is transitive): their order is unknown.
    """
    from hpo.analysis.importance import components

    index = {n: i for i, n in enumerate(names)}
    linked = np.equal.outer(true, true)  # exactly equal shares
    for group in tie_groups or []:
        unknown = [n for n in group if n not in index]
        if unknown:
            raise ValueError(f"tie group {group} names hyperparameters without a true share: {unknown}")
        members = [index[n] for n in group]
        linked[np.ix_(members, members)] = True
    return components(linked)


def _pairwise_tau(s: np.ndarray, t: np.ndarray, cls: np.ndarray, weight: np.ndarray) -> float:
    """Σ w·sign(s_i - s_j)·sign(t_i - t_j) / Σ w over the pairs untied in the truth.

    A pair tied in the statement has sign 0, which is exactly its expected sign product over random tie-breaking:
    the expectation of τ over tie-breaks needs no enumeration. The denominator counts only pairs whose true order
    is known (the truth's ties are neither rewarded nor punished).
    """
    i, j = np.triu_indices(len(s), 1)
    known = cls[i] != cls[j]
    if not known.any():
        return math.nan
    i, j, w = i[known], j[known], weight[i[known], j[known]]
    return float((w * np.sign(s[i] - s[j]) * np.sign(t[i] - t[j])).sum() / w.sum())


def _true_ranks(t: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """0-based rank of each name in the truth (0 = most important), averaged over its tie class."""
    from scipy.stats import rankdata

    r = rankdata(-t, method="ordinal") - 1.0
    return np.array([r[cls == c].mean() for c in cls])


def _expected_discounts(s: np.ndarray) -> np.ndarray:
    """Each name's expected DCG discount ``1/log2(position + 2)`` when names are ordered by decreasing stated
    weight and each group of tied names is ordered at random: the mean discount over the positions it occupies."""
    d = 1.0 / np.log2(np.arange(len(s)) + 2.0)
    above = (s[None, :] > s[:, None]).sum(axis=1)
    tied = (s[None, :] == s[:, None]).sum(axis=1)
    return np.array([d[a : a + m].mean() for a, m in zip(above, tied)])


def _ndcg(s: np.ndarray, gains: np.ndarray) -> tuple[float, float]:
    """``(NDCG, chance)``: expected DCG of the stated order over the ideal DCG, and the same for a random order.

    By linearity of expectation a uniformly random order gives every name the mean discount, so the exact chance
    level is ``sum(gains) * mean(discounts) / IDCG`` (it depends on how concentrated the truth is).
    """
    d = 1.0 / np.log2(np.arange(len(s)) + 2.0)
    ideal = float(np.sort(gains)[::-1] @ d)
    if ideal <= 0:
        return math.nan, math.nan
    return float(gains @ _expected_discounts(s) / ideal), float(gains.sum() * d.mean() / ideal)


@lru_cache(maxsize=4096)
def js_chance(q: tuple[float, ...]) -> float:
    """Expected Jensen-Shannon distance (base 2) between a uniformly random point of the simplex and ``q``.

    No closed form (the distance is a square root), so a quasi-Monte Carlo estimate: 2**JS_QMC_LOG2 scrambled Sobol
    points (seed JS_QMC_SEED) in [0, 1]^(k-1), sorted, whose spacings are uniform on the simplex. Deterministic,
    and accurate to about 1e-3 (checked against quadrature for k = 2 and plain Monte Carlo in the tests).
    """
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import qmc

    k = len(q)
    u = np.sort(qmc.Sobol(k - 1, scramble=True, seed=JS_QMC_SEED).random_base2(JS_QMC_LOG2), axis=1)
    points = np.diff(np.hstack([np.zeros((len(u), 1)), u, np.ones((len(u), 1))]), axis=1)
    return float(np.mean(jensenshannon(points, np.asarray(q)[None, :], base=2, axis=1)))


def _js(s: np.ndarray, t: np.ndarray) -> tuple[float, float, str]:
    """``(distance, chance, note)`` between stated weights and true shares, both renormalized to sum 1."""
    from scipy.spatial.distance import jensenshannon

    q = np.clip(t, 0, None)
    if (s < 0).any() or s.sum() <= 0:
        return math.nan, math.nan, "stated weights not a distribution (negative or all zero): no js_distance"
    if q.sum() <= 0:
        return math.nan, math.nan, "true shares all zero: no js_distance"
    q = q / q.sum()
    return float(jensenshannon(s / s.sum(), q, base=2)), js_chance(tuple(float(v) for v in q)), ""


def _empty(note: str) -> dict[str, Any]:
    return {**{f"{m}{x}": math.nan for m in METRICS for x in ("", "_chance", "_norm")}, "note": note}


def score(
    stated: dict[str, float], true: dict[str, float], *, tie_groups: list[list[str]] | None = None
) -> dict[str, Any]:
    """Every metric of :data:`METRICS` of ``stated`` weights against ``true`` main-effect shares.

    Returns ``m``, ``m_chance`` and ``m_norm`` for each metric and a ``note``; NaN where a metric does not apply
    (one hyperparameter, no ground truth, every true share tied). ``tie_groups``: lists of hyperparameters whose
    true shares the ground truth cannot tell apart. Definitions (``s`` stated, ``t`` true):

    * ``kendall_tau``: Σ sign(s_i - s_j)·sign(t_i - t_j) over the pairs untied in the truth, divided by their number;
      chance 0 (a random order gets each known pair right half of the time).
    * ``weighted_tau``: the same sum with the weight ``h(r_i) + h(r_j)``, ``h(r) = 1 / (r + 1)`` of the true ranks
      ``r`` (0 = top; tie classes get their mean rank): the additive hyperbolic weigher of Vigna's weighted τ
      (scipy.stats.weightedtau with the truth as the ranking). The weights depend on the truth only, so the
      expectation over tie-breaks of the statement stays closed-form; chance 0.
    * ``ndcg``: expected DCG (gains = true shares, clipped at 0 and averaged within tie classes; discount
      1/log2(position + 2)) over the ideal DCG; chance ``sum(gains) * mean(discount) / IDCG``, exact.
    * ``top1_hit``: the share of the stated leaders (tied maxima) in the true top class; chance = size of the true
      top class / k.
    * ``js_distance``: Jensen-Shannon distance (base 2, in [0, 1]) of the stated weights and the true shares, both
      renormalized to sum 1; chance = its expectation for a uniformly random point of the simplex (:func:`js_chance`).
      Note a uniform statement sits at the simplex's centre, so it usually beats that chance level: calibration
      rewards hedging, the rank scores do not.
    """
    if set(stated) != set(true):
        raise ValueError(f"stated hyperparameters {sorted(stated)} differ from the true ones {sorted(true)}")
    names = sorted(true)
    s = np.array([math.nan if stated[n] is None else stated[n] for n in names], dtype=float)
    t = np.array([math.nan if true[n] is None else true[n] for n in names], dtype=float)
    if len(names) < 2:
        return _empty("one hyperparameter: rankings and their scores do not apply")
    if not np.isfinite(t).all():
        return _empty("no ground truth for this benchmark")
    if not np.isfinite(s).all():
        return _empty("stated weights are not all finite")
    cls = tie_classes(t, names, tie_groups)
    notes = []
    if len(np.unique(s)) < len(s):
        notes.append(TIE_NOTE)
    if len(np.unique(cls)) == 1:
        notes.append("all true shares tied: rank scores do not apply")
    h = 1.0 / (_true_ranks(t, cls) + 1.0)
    gains = np.clip(t, 0, None)
    gains = np.array([gains[cls == c].mean() for c in cls])
    raw: dict[str, tuple[float, float]] = {
        "kendall_tau": (_pairwise_tau(s, t, cls, np.ones((len(s), len(s)))), 0.0),
        "weighted_tau": (_pairwise_tau(s, t, cls, h[:, None] + h[None, :]), 0.0),
        "ndcg": _ndcg(s, gains),
    }
    top = cls == cls[np.argmax(t)]
    leaders = s == s.max()
    raw["top1_hit"] = (math.nan, math.nan)
    if not top.all():
        raw["top1_hit"] = (float((leaders & top).sum() / leaders.sum()), float(top.mean()))
    js, js_c, js_note = _js(s, t)
    if js_note:
        notes.append(js_note)
    out: dict[str, Any] = {}
    for m in METRICS:
        value, chance = raw[m] if m != "js_distance" else (js, js_c)
        if not math.isfinite(value):
            chance = math.nan
        out[m], out[f"{m}_chance"] = value, chance
        out[f"{m}_norm"] = normalize(value, chance, best=0.0 if m == "js_distance" else 1.0)
    return {**out, "note": "; ".join(notes)}


def pair_score(stated_pair: Sequence[str] | None, true_pairs: dict[str, float]) -> dict[str, float]:
    """Is the stated top interacting pair the true top pair (largest pairwise term)?

    ``true_pairs`` maps ``"a|b"`` (names sorted, :func:`hpo.analysis.importance.pair_key`) to the pair's share.
    ``pair_hit`` is 1 when the stated pair is among the true top pairs (all pairs tied at the maximum count as top),
    0 otherwise, and 0 when no pair was stated (a missing answer counts against its source, like a fallback);
    ``pair_hit_chance`` = number of top pairs / number of pairs, the hit rate of a pair drawn at random. NaN when
    the truth has no pair terms (or a non-finite one).
    """
    from hpo.analysis.importance import pair_key

    values = {k: math.nan if v is None else float(v) for k, v in true_pairs.items()}
    nan = {"pair_hit": math.nan, "pair_hit_chance": math.nan, "pair_hit_norm": math.nan}
    if stated_pair is not None:
        if len(stated_pair) != 2 or stated_pair[0] == stated_pair[1]:
            raise ValueError(f"stated top interaction {stated_pair!r} is not a pair of two distinct hyperparameters")
        key = pair_key(*stated_pair)
        if values and key not in values:
            raise ValueError(f"stated top interaction {key!r} is not one of the true pairs {sorted(values)}")
    if not values or not all(math.isfinite(v) for v in values.values()):
        return nan
    best = max(values.values())
    top = {k for k, v in values.items() if v == best}
    hit = 0.0 if stated_pair is None else float(pair_key(*stated_pair) in top)
    chance = len(top) / len(values)
    return {"pair_hit": hit, "pair_hit_chance": chance, "pair_hit_norm": normalize(hit, chance)}
