"""Scores of stated importance (hpo.insight.scores): hand-computed toys, brute-force chance levels."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hpo.insight.scores import METRICS, js_chance, normalize, pair_score, score

TRUTH = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
RANK_METRICS = ("kendall_tau", "weighted_tau", "ndcg", "top1_hit")


def _stated(values) -> dict[str, float]:
    return dict(zip("abcdefg", values))


def _mean_over_permutations(values, truth, unresolved=None) -> dict[str, float]:
    """Every metric averaged over all assignments of ``values`` to the names: a uniformly random statement."""
    rows = [score(_stated(p), truth, unresolved=unresolved) for p in itertools.permutations(values)]
    return {m: float(np.mean([r[m] for r in rows])) for m in RANK_METRICS}


def _mean_over_tie_breaks(values, truth, unresolved=None) -> dict[str, float]:
    """Every rank metric averaged over all strict orders consistent with a tied statement (brute force)."""
    k = len(values)
    rows = []
    for order in itertools.permutations(range(k)):  # order[0] is placed first (largest)
        pos = np.argsort(order)
        if all(values[i] >= values[j] for i in range(k) for j in range(k) if pos[i] < pos[j]):
            rows.append(score(_stated([k - p for p in pos]), truth, unresolved=unresolved))
    assert len(rows) == math.prod(math.factorial(values.count(v)) for v in set(values))
    return {m: float(np.mean([r[m] for r in rows])) for m in RANK_METRICS}


def test_issue_check_values_of_tie_aware_tau():
    # tau-b would give 0.816 and 0.707: ties in the statement must earn only what a coin flip earns.
    assert score(_stated((0.5, 0.5, 0.0, 0.0)), TRUTH)["kendall_tau"] == pytest.approx(4 / 6)
    assert score(_stated((0.4, 0.2, 0.2, 0.2)), TRUTH)["kendall_tau"] == pytest.approx(3 / 6)


@pytest.mark.parametrize("values", [(0.5, 0.5, 0.0, 0.0), (0.4, 0.2, 0.2, 0.2), (0.1, 0.3, 0.3, 0.3), (1, 2, 2, 3)])
def test_ties_score_their_expectation_over_tie_breaks(values):
    got = score(_stated(values), TRUTH)
    brute = _mean_over_tie_breaks(values, TRUTH)
    for m in RANK_METRICS:
        assert got[m] == pytest.approx(brute[m], abs=1e-12), m


def test_strict_statements_agree_with_scipy_and_sklearn():
    from scipy.stats import kendalltau, rankdata, weightedtau
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(0)
    for _ in range(20):
        s, t = rng.random(5), rng.random(5)
        got = score(_stated(s), _stated(t))
        assert got["kendall_tau"] == pytest.approx(kendalltau(s, t).statistic, abs=1e-12)
        rank = (rankdata(-t, method="ordinal") - 1).astype(int)  # the truth's order sets the weights
        assert got["weighted_tau"] == pytest.approx(weightedtau(s, t, rank=rank).statistic, abs=1e-12)
        assert got["ndcg"] == pytest.approx(ndcg_score(t[None, :], s[None, :]), abs=1e-12)
    # sklearn averages the gains of tied predictions: the same expectation
    s = np.array([0.5, 0.5, 0.0, 0.0])
    t = np.array(list(TRUTH.values()))
    assert score(_stated(s), TRUTH)["ndcg"] == pytest.approx(ndcg_score(t[None, :], s[None, :]), abs=1e-12)


def test_weighted_tau_hand_computed():
    # truth ranks 0..3 -> h = 1, 1/2, 1/3, 1/4; pair weight h_i + h_j; all six pairs weigh 3 * (25/12) = 6.25.
    # swapping the top two (b above a) loses the heaviest pair (weight 1.5): (6.25 - 2 * 1.5) / 6.25 = 0.52;
    # swapping the bottom two loses weight 7/12: (6.25 - 7/6) / 6.25.
    assert score(_stated((0.3, 0.5, 0.15, 0.05)), TRUTH)["weighted_tau"] == pytest.approx(0.52)
    assert score(_stated((0.5, 0.3, 0.05, 0.15)), TRUTH)["weighted_tau"] == pytest.approx((6.25 - 7 / 6) / 6.25)
    # plain tau counts both swaps alike: 4/6
    assert score(_stated((0.3, 0.5, 0.15, 0.05)), TRUTH)["kendall_tau"] == pytest.approx(4 / 6)


def test_ndcg_chance_level_by_hand_and_by_enumeration():
    d = [1 / math.log2(p + 2) for p in range(4)]
    ideal = 0.5 * d[0] + 0.3 * d[1] + 0.15 * d[2] + 0.05 * d[3]
    chance = 1.0 * sum(d) / 4 / ideal  # sum of gains x mean discount
    got = score(_stated((4, 3, 2, 1)), TRUTH)
    assert got["ndcg_chance"] == pytest.approx(chance, abs=1e-12)
    assert chance == pytest.approx(0.815, abs=1e-3)
    # the mean over all 24 orders is that chance level, also for a tied statement
    for values in [(4, 3, 2, 1), (0.5, 0.5, 0.0, 0.0)]:
        assert _mean_over_permutations(values, TRUTH)["ndcg"] == pytest.approx(chance, abs=1e-12)
    # normalization: (ndcg - chance) / (1 - chance)
    reverse = score(_stated((1, 2, 3, 4)), TRUTH)
    by_hand = (0.05 * d[0] + 0.15 * d[1] + 0.3 * d[2] + 0.5 * d[3]) / ideal
    assert reverse["ndcg"] == pytest.approx(by_hand)
    assert reverse["ndcg_norm"] == pytest.approx((by_hand - chance) / (1 - chance))


@pytest.mark.parametrize(
    ("truth", "unresolved", "values"),
    [
        (TRUTH, None, (4, 3, 2, 1)),
        (TRUTH, None, (0.5, 0.5, 0.0, 0.0)),
        ({"a": 0.4, "b": 0.4, "c": 0.1, "d": 0.05, "e": 0.05}, None, (5, 4, 3, 2, 1)),
        ({"a": 0.35, "b": 0.3, "c": 0.2, "d": 0.1, "e": 0.05}, [["a", "b"], ["d", "e"]], (0.6, 0.2, 0.2, 0.0, 0.0)),
        # not transitive: a ~ b and b ~ c unresolved, a > c resolved (a chain), and d ~ e
        ({"a": 0.35, "b": 0.3, "c": 0.2, "d": 0.1, "e": 0.05}, [["a", "b"], ["b", "c"], ["d", "e"]], (5, 4, 3, 2, 1)),
        ({"a": 0.35, "b": 0.3, "c": 0.2, "d": 0.1, "e": 0.05}, [["a", "b"], ["b", "c"]], (0.6, 0.2, 0.2, 0.0, 0.0)),
        # only the top is resolved (the rf-breast_cancer shape): a above all, the rest mutually unresolved
        ({"a": 0.5, "b": 0.2, "c": 0.15, "d": 0.1}, [["b", "c"], ["b", "d"], ["c", "d"]], (4, 3, 2, 1)),
    ],
)
def test_mean_over_all_permutations_is_the_chance_level(truth, unresolved, values):
    got = score(_stated(values), truth, unresolved=unresolved)
    brute = _mean_over_permutations(values, truth, unresolved)
    for m in RANK_METRICS:
        assert brute[m] == pytest.approx(got[f"{m}_chance"], abs=1e-12), m


def test_top1_hit_is_tie_aware():
    truth = {"a": 0.4, "b": 0.4, "c": 0.15, "d": 0.05}  # two true leaders
    got = score(_stated((0.1, 0.5, 0.2, 0.2)), truth)
    assert (got["top1_hit"], got["top1_hit_chance"], got["top1_hit_norm"]) == (1.0, 0.5, 1.0)
    # two stated leaders, one of them a true top: half a hit; chance 1/4 on a strict truth
    got = score(_stated((0.4, 0.1, 0.4, 0.1)), TRUTH)
    assert (got["top1_hit"], got["top1_hit_chance"]) == (0.5, 0.25)
    assert got["top1_hit_norm"] == pytest.approx((0.5 - 0.25) / 0.75)


def test_unresolved_pairs_leave_unknown_orders_out():
    swapped = _stated((0.5, 0.3, 0.05, 0.15))  # c and d swapped
    assert score(swapped, TRUTH)["kendall_tau"] == pytest.approx(4 / 6)
    # c and d not distinguishable in the truth: 5 known pairs, all right; NDCG gains of c and d averaged
    tied = score(swapped, TRUTH, unresolved=[["c", "d"]])
    assert tied["kendall_tau"] == 1.0 and tied["weighted_tau"] == 1.0 and tied["ndcg"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unresolved pair"):
        score(swapped, TRUTH, unresolved=[["c", "zz"]])


def test_unresolved_pairs_are_not_chained():
    # truth a > b > c > d; the bootstrap leaves a ~ b and b ~ c open but resolves a > c (and everything with d).
    unresolved = [["a", "b"], ["b", "c"]]
    # stating c above a is an error on a resolved pair: tau counts 4 pairs (a-c, a-d, b-d, c-d), one of them wrong
    got = score(_stated((0.2, 0.25, 0.3, 0.05)), TRUTH, unresolved=unresolved)
    assert got["kendall_tau"] == pytest.approx((3 - 1) / 4)
    # transitive tie groups would have joined a, b, c into one class and scored that statement perfect
    assert score(_stated((0.2, 0.25, 0.3, 0.05)), TRUTH, unresolved=unresolved + [["a", "c"]])["kendall_tau"] == 1.0
    # weighted tau: expected ranks a 0.5, b 1.0, c 1.5, d 3 (half of each unresolved partner)
    h = {"a": 1 / 1.5, "b": 1 / 2.0, "c": 1 / 2.5, "d": 1 / 4.0}
    w = {p: h[p[0]] + h[p[1]] for p in ("ac", "ad", "bd", "cd")}
    assert got["weighted_tau"] == pytest.approx((sum(w.values()) - 2 * w["ac"]) / sum(w.values()))
    # the true top set is {a, b} (nothing resolved above either): a leader c misses, chance 2/4
    assert (got["top1_hit"], got["top1_hit_chance"]) == (0.0, 0.5)
    assert score(_stated((0.2, 0.3, 0.25, 0.05)), TRUTH, unresolved=unresolved)["top1_hit"] == 1.0
    # NDCG averages gains over the chain's component {a, b, c}: any order of a, b, c scores 1
    assert got["ndcg"] == pytest.approx(1.0)


def test_a_truth_that_resolves_one_pair_keeps_its_rank_scores():
    # issue 22: only a > b is resolved; every other pair is open. The benchmark must stay in the tests.
    others = [list(p) for p in itertools.combinations("abcd", 2) if p != ("a", "b")]
    got = score(_stated((0.4, 0.3, 0.2, 0.1)), TRUTH, unresolved=others)
    assert got["kendall_tau"] == 1.0 and got["kendall_tau_chance"] == 0.0 and got["kendall_tau_norm"] == 1.0
    assert score(_stated((0.3, 0.4, 0.2, 0.1)), TRUTH, unresolved=others)["kendall_tau_norm"] == -1.0
    # resolving nothing: every rank score is NaN with a note; js_distance does not depend on the order
    none = score(_stated((0.4, 0.3, 0.2, 0.1)), TRUTH, unresolved=[*others, ["a", "b"]])
    assert all(math.isnan(none[m]) for m in ("kendall_tau", "weighted_tau", "top1_hit"))
    assert math.isnan(none["ndcg_norm"]) and "resolves no pair" in none["note"]
    assert math.isfinite(none["js_distance_norm"])


def test_truth_scores_one_and_uniform_scores_zero():
    truth2 = {"a": 0.35, "b": 0.3, "c": 0.2, "d": 0.15}
    for truth, groups in [(TRUTH, None), (truth2, [["c", "d"]]), (truth2, [["a", "b"], ["b", "c"]])]:
        own = score(truth, truth, unresolved=groups)
        for m in METRICS:
            assert own[f"{m}_norm"] == pytest.approx(1.0), m
        uniform = score(dict.fromkeys(truth, 0.25), truth, unresolved=groups)
        assert uniform["kendall_tau"] == 0.0 and uniform["weighted_tau"] == 0.0  # exactly
        for m in RANK_METRICS:
            assert uniform[f"{m}_norm"] == pytest.approx(0.0, abs=1e-12), m


def test_js_distance_by_hand():
    # stated (0.5, 0.5) vs truth (1, 0): m = (0.75, 0.25); JS divergence = 0.5 KL(p||m) + 0.5 KL(q||m), base 2
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    got = score({"x": 1.0, "y": 1.0}, {"x": 0.6, "y": 0.0})  # both renormalized to sum 1
    assert got["js_distance"] == pytest.approx(math.sqrt(0.5 * kl_p + 0.5 * kl_q))
    assert score({"x": 0.0, "y": 1.0}, {"x": 1.0, "y": 0.0})["js_distance"] == pytest.approx(1.0)
    chance = got["js_distance_chance"]
    assert got["js_distance_norm"] == pytest.approx((chance - got["js_distance"]) / chance)


def test_js_chance_level_matches_quadrature_and_monte_carlo():
    from scipy.integrate import quad
    from scipy.spatial.distance import jensenshannon

    q = (0.8, 0.2)  # k = 2: the uniform point of the simplex is (u, 1 - u), u ~ U(0, 1)
    exact = quad(lambda u: jensenshannon([u, 1 - u], q, base=2), 0, 1, points=[0.8])[0]
    assert js_chance(q) == pytest.approx(exact, abs=1e-4)
    q = (0.5, 0.3, 0.15, 0.05)
    draws = np.random.default_rng(7).dirichlet(np.ones(4), 100_000)
    mc = float(np.mean(jensenshannon(draws, np.array(q)[None, :], base=2, axis=1)))
    assert js_chance(q) == pytest.approx(mc, abs=2e-3)
    assert score(_stated((4, 3, 2, 1)), TRUTH)["js_distance_chance"] == js_chance(q)


def test_normalize():
    assert normalize(0.9, 0.8) == pytest.approx(0.5)
    assert normalize(0.2, 0.4, best=0.0) == pytest.approx(0.5)
    assert normalize(0.1, 0.4, best=0.0) == pytest.approx(0.75)
    assert math.isnan(normalize(1.0, 1.0)) and math.isnan(normalize(math.nan, 0.5))


def test_scores_that_do_not_apply_are_nan_with_a_note():
    one = score({"a": 1.0}, {"a": 1.0})
    assert all(math.isnan(one[m]) for m in METRICS) and "one hyperparameter" in one["note"]
    missing = score({"a": 0.5, "b": 0.5}, {"a": None, "b": 0.2})
    assert all(math.isnan(missing[f"{m}_norm"]) for m in METRICS) and "no ground truth" in missing["note"]
    flat = score({"a": 0.7, "b": 0.3}, {"a": 0.4, "b": 0.4})
    assert math.isnan(flat["kendall_tau"]) and math.isnan(flat["top1_hit"]) and math.isnan(flat["ndcg_norm"])
    assert "resolves no pair" in flat["note"]
    assert flat["js_distance"] > 0  # calibration still applies
    with pytest.raises(ValueError, match="differ from the true ones"):
        score({"a": 1.0}, {"a": 0.5, "b": 0.5})


def test_pair_score():
    pairs = {"a|b": 0.1, "a|c": 0.02, "b|c": 0.1, "a|d": 0.0, "b|d": 0.01, "c|d": 0.0}
    assert pair_score(["b", "a"], pairs) == {"pair_hit": 1.0, "pair_hit_chance": 2 / 6, "pair_hit_norm": 1.0}
    miss = pair_score(["c", "a"], pairs)
    assert miss["pair_hit"] == 0.0 and miss["pair_hit_norm"] == pytest.approx((0 - 2 / 6) / (1 - 2 / 6))
    assert pair_score(None, pairs)["pair_hit"] == 0.0  # no answer counts as a miss
    # a pair drawn at random hits at the chance rate
    hits = [pair_score(key.split("|"), pairs)["pair_hit"] for key in pairs]
    assert np.mean(hits) == pytest.approx(pair_score(None, pairs)["pair_hit_chance"])
    assert all(math.isnan(v) for v in pair_score(["a", "b"], {}).values())
    assert all(math.isnan(v) for v in pair_score(["a", "b"], {"a|b": None}).values())
    with pytest.raises(ValueError, match="not one of the true pairs"):
        pair_score(["a", "z"], pairs)
    with pytest.raises(ValueError, match="two distinct"):
        pair_score(["a", "a"], pairs)
