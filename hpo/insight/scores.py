"""Scores of a stated hyperparameter importance against the truth, each with its exact chance level.

Why these scores, and why this way (issue 15):

* **Ties in a statement are scored by their expectation over random tie-breaking.** Models state rounded, tied,
  often-omitted weights; data analyses state continuous ones. Kendall's τ-b credits ties (against the truth
  (0.5, 0.3, 0.15, 0.05) the statement (0.5, 0.5, 0, 0) scores τ-b 0.816, while a random order of its tied
  names scores 0.667 on average), which would favour coarse statements. Every score here is the mean over all
  orders consistent with the statement, computed in closed form, so a tie earns exactly what a coin flip earns.
* **Ties in the truth** (exactly equal shares, or pairs whose order the ground truth's bootstrap does not
  establish: ``unresolved_pairs``) are pairs whose order is unknown; each is left out of the rank scores on its
  own (no transitive chaining) instead of being counted as an error.
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
NO_PAIR_NOTE = "the truth resolves no pair of hyperparameters: rank scores do not apply"


def normalize(score: float, chance: float, best: float = 1.0) -> float:
    """``(score - chance) / (best - chance)``: 1 at the best possible score, 0 at chance, negative below chance.

    ``best`` is 1 for the rank scores and 0 for a distance (then it reads ``(chance - d) / chance``). NaN where
    either input is not finite or chance is already the best (nothing to beat).
    """
    if not (math.isfinite(score) and math.isfinite(chance)) or chance == best:
        return math.nan
    return float((score - chance) / (best - chance))


def unresolved_matrix(true: np.ndarray, names: Sequence[str], unresolved: Sequence[Sequence[str]] | None) -> np.ndarray:
    """``U[i, j]``: the truth does not establish the order of names i and j (``U[i, i]`` is True).

    A pair is unresolved when its true shares are exactly equal or when ``unresolved`` lists it (the truth's
    bootstrap interval of the difference contains 0: :func:`hpo.insight.truth.importance.unresolved_pairs`). Not
    transitive: a ~ b and b ~ c leave a vs c as the truth orders it.
    """
    index = {n: i for i, n in enumerate(names)}
    linked = np.equal.outer(true, true) | ~np.isfinite(np.add.outer(true, true))
    for pair in unresolved or []:
        unknown = [n for n in pair if n not in index]
        if len(pair) != 2 or unknown:
            raise ValueError(f"unresolved pair {list(pair)} is not two hyperparameters with a true share: {unknown}")
        i, j = index[pair[0]], index[pair[1]]
        linked[i, j] = linked[j, i] = True
    return linked


def _pairwise_tau(s: np.ndarray, t: np.ndarray, known: np.ndarray, weight: np.ndarray) -> float:
    """Σ w·sign(s_i - s_j)·sign(t_i - t_j) / Σ w over the pairs whose true order is ``known``.

    A pair tied in the statement has sign 0, which is exactly its expected sign product over random tie-breaking:
    the expectation of τ over tie-breaks needs no enumeration. The denominator counts only pairs whose true order
    is known (the truth's unresolved pairs are neither rewarded nor punished, each on its own).
    """
    i, j = np.triu_indices(len(s), 1)
    keep = known[i, j]
    if not keep.any():
        return math.nan
    i, j, w = i[keep], j[keep], weight[i[keep], j[keep]]
    return float((w * np.sign(s[i] - s[j]) * np.sign(t[i] - t[j])).sum() / w.sum())


def _true_ranks(t: np.ndarray, unresolved: np.ndarray) -> np.ndarray:
    """0-based expected rank of each name in the truth (0 = most important): the names resolved above it plus half
    of those unresolved with it (each unresolved pair a coin flip). On a class of mutually unresolved names this is
    the class's mean rank."""
    above = (~unresolved & (t[None, :] > t[:, None])).sum(axis=1)
    return above + (unresolved.sum(axis=1) - 1) / 2.0


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
    stated: dict[str, float], true: dict[str, float], *, unresolved: Sequence[Sequence[str]] | None = None
) -> dict[str, Any]:
    """Every metric of :data:`METRICS` of ``stated`` weights against ``true`` shares (main effects or totals).

    Returns ``m``, ``m_chance`` and ``m_norm`` for each metric and a ``note``; NaN where a metric does not apply
    (one hyperparameter, no ground truth, no pair resolved). ``unresolved``: the pairs ``[a, b]`` whose order the
    ground truth does not establish (:func:`unresolved_matrix`; exactly equal shares are unresolved too); each
    counts as tied in the truth for that pair only. Definitions (``s`` stated, ``t`` true):

    * ``kendall_tau``: Σ sign(s_i - s_j)·sign(t_i - t_j) over the resolved pairs, divided by their number; chance 0
      (a random order gets each resolved pair right half of the time).
    * ``weighted_tau``: the same sum with the weight ``h(r_i) + h(r_j)``, ``h(r) = 1 / (r + 1)`` of the true ranks
      ``r`` (0 = top; the names resolved above plus half the names unresolved with it, :func:`_true_ranks`): the
      additive hyperbolic weigher of Vigna's weighted τ (scipy.stats.weightedtau with the truth as the ranking).
      The weights depend on the truth only, so the expectation over tie-breaks of the statement stays closed-form;
      chance 0.
    * ``ndcg``: expected DCG (gains = true shares, clipped at 0; discount 1/log2(position + 2)) over the ideal DCG;
      chance ``sum(gains) * mean(discount) / IDCG``, exact. DCG is a sum over positions, not pairs, so it cannot
      leave one pair out: gains are averaged within the connected components of the unresolved pairs (a chain
      a ~ b ~ c averages all three; NDCG then does not reward a resolved a > c inside it, τ does).
    * ``top1_hit``: the share of the stated leaders (tied maxima) in the true top set: the names that no other name
      is resolved above; chance = size of the true top set / k (a random leader is a uniform name).
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
    from hpo.insight.truth.importance import components

    tied = unresolved_matrix(t, names, unresolved)
    notes = []
    if len(np.unique(s)) < len(s):
        notes.append(TIE_NOTE)
    if tied.all():
        notes.append(NO_PAIR_NOTE)
    h = 1.0 / (_true_ranks(t, tied) + 1.0)
    cls = components(tied)
    gains = np.clip(t, 0, None)
    gains = np.array([gains[cls == c].mean() for c in cls])
    raw: dict[str, tuple[float, float]] = {
        "kendall_tau": (_pairwise_tau(s, t, ~tied, np.ones((len(s), len(s)))), 0.0),
        "weighted_tau": (_pairwise_tau(s, t, ~tied, h[:, None] + h[None, :]), 0.0),
        "ndcg": _ndcg(s, gains),
    }
    top = ~(~tied & (t[None, :] > t[:, None])).any(axis=1)
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

    ``true_pairs`` maps ``"a|b"`` (names sorted, :func:`hpo.insight.truth.importance.pair_key`) to the pair's share.
    ``pair_hit`` is 1 when the stated pair is among the true top pairs (all pairs tied at the maximum count as top),
    0 otherwise, and 0 when no pair was stated (a missing answer counts against its source, like a fallback);
    ``pair_hit_chance`` = number of top pairs / number of pairs, the hit rate of a pair drawn at random. NaN when
    the truth has no pair terms (or a non-finite one).
    """
    from hpo.insight.truth.importance import pair_key

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
