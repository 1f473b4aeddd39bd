"""Exact tabular ground truth (hpo.insight.truth.exact): local importance, seed bootstrap, tie groups, real tables."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from hpo import benchmarks
from hpo.insight.truth import exact as te
from hpo.insight.truth import importance as imp

NAMES = ["a", "b", "c"]
CHOICES = [[0, 1, 2], [10, 20, 30, 40], ["p", "q", "r", "s", "t"]]


def small_grid(seed: int = 1) -> np.ndarray:
    """A 3 x 4 x 5 grid with ties (values rounded to one decimal), so ties at the top-gamma cut-off occur."""
    return np.round(np.random.default_rng(seed).normal(size=(3, 4, 5)), 1)


def brute_force_local(f: np.ndarray, gamma: float) -> dict[str, float]:
    """PED-ANOVA's local importance by counting rows of a long table (no reshape): top set = losses at or below the
    ceil(gamma n)-th smallest; per hyperparameter sum_l q(l) (p_top(l) / q(l) - 1)^2, normalized."""
    rows = [dict(zip(NAMES, combo)) for combo in itertools.product(*CHOICES)]
    df = pd.DataFrame(rows).astype(object)
    df["y"] = f.ravel()
    cutoff = sorted(df["y"])[math.ceil(gamma * len(df)) - 1]
    top = df[df["y"] <= cutoff]
    div = {}
    for n in NAMES:
        q = df[n].value_counts(normalize=True)
        p = top[n].value_counts(normalize=True).reindex(q.index, fill_value=0.0)
        div[n] = float((q * (p / q - 1) ** 2).sum())
    total = sum(div.values())
    return {n: v / total for n, v in div.items()}


@pytest.mark.parametrize("gamma", [0.1, 0.25, 0.5])
@pytest.mark.parametrize("seed", [1, 2])
def test_local_importance_equals_brute_force(gamma, seed):
    f = small_grid(seed)
    got = te.local_importance(f, NAMES, gamma)
    want = brute_force_local(f, gamma)
    for n in NAMES:
        assert got[n] == pytest.approx(want[n], abs=1e-12)
    assert sum(got.values()) == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # log(0) of the empty levels, without a prior
def test_local_importance_matches_optunas_pedanova_without_its_prior():
    """Optuna's evaluator on every grid point as a trial, its Parzen prior switched off (a private attribute), gives
    the same divergences up to its unnormalized scale: the exact grid quantity is PED-ANOVA's."""
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.importance import PedAnovaImportanceEvaluator

    f = small_grid(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    dists = {n: CategoricalDistribution(c) for n, c in zip(NAMES, CHOICES)}
    trials = []
    for idx in itertools.product(*(range(len(c)) for c in CHOICES)):
        params = {n: CHOICES[k][i] for k, (n, i) in enumerate(zip(NAMES, idx))}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=float(f[idx])))
    study.add_trials(trials)
    evaluator = PedAnovaImportanceEvaluator(target_quantile=0.1)
    evaluator._prior_weight = 0.0
    theirs = evaluator.evaluate(study)
    total = sum(theirs.values())
    ours = te.local_importance(f, NAMES, 0.1)
    for n in NAMES:
        assert theirs[n] / total == pytest.approx(ours[n], abs=1e-9)


def test_local_importance_of_a_one_level_effect_and_of_no_preference():
    # only b matters: the top 25% (b's best level) has every level of a and c equally often -> all local weight on b
    f = np.zeros((2, 4, 3)) + np.array([3.0, 0.0, 1.0, 2.0])[None, :, None]
    assert te.local_importance(f, ["a", "b", "c"], 0.25) == {"a": 0.0, "b": 1.0, "c": 0.0}
    # a constant grid: the top set is everything, no hyperparameter is preferred -> equal shares (as Optuna)
    assert te.local_importance(np.ones((2, 3)), ["a", "b"], 0.1) == {"a": 0.5, "b": 0.5}


def test_centred_ci_keeps_the_width_and_centres_on_the_estimate():
    samples = np.array([[0.8, 0.1], [0.9, 0.1], [1.0, 0.1]])  # resamples biased low by 0.1 for the first term
    ci = te.centred_ci([1.0, 0.1], samples)
    lo, hi = ci[0]
    assert (lo + hi) / 2 == pytest.approx(1.0) and hi - lo == pytest.approx(0.18)  # 5%..95% of 0.8..1.0
    assert ci[1] == pytest.approx([0.1, 0.1])


def test_resampled_mean_draws_only_a_configurations_own_seeds():
    loss = np.array([[1.0, 3.0, np.nan], [5.0, 5.0, 5.0], [2.0, np.nan, np.nan]])
    counts = np.array([2, 3, 1])
    rng = np.random.default_rng(0)
    draws = np.array([te.resampled_mean(loss, counts, rng) for _ in range(400)])
    assert np.isfinite(draws).all()
    assert set(np.unique(draws[:, 0])) <= {1.0, 2.0, 3.0}  # means of two draws from {1, 3}
    assert (draws[:, 1] == 5.0).all() and (draws[:, 2] == 2.0).all()
    assert draws[:, 0].mean() == pytest.approx(2.0, abs=0.1)


def test_pairwise_differences_resolve_what_overlapping_intervals_tie():
    # a constructed bootstrap: shares a, b, c with a - b always about +0.1 (correlated resamples) but all three
    # marginal intervals overlapping, and b vs c pure noise. Tie groups joined all three; pairs resolve a>b, a>c.
    rng = np.random.default_rng(0)
    common = rng.normal(0.0, 0.2, size=400)  # a shift every share of a resample shares (e.g. the total variance)
    samples = np.column_stack(
        [0.5 + common + 0.1 + rng.normal(0, 0.01, 400), 0.5 + common + rng.normal(0, 0.01, 400), 0.5 + common]
    )
    samples[:, 2] += rng.normal(0, 0.01, 400)
    point = {"a": 0.6, "b": 0.5, "c": 0.5 + 1e-4}
    ci = dict(zip("abc", imp.percentile_ci(samples)))
    assert all(ci[x][0] < ci[y][1] and ci[y][0] < ci[x][1] for x, y in [("a", "b"), ("a", "c"), ("b", "c")])
    keys, diffs = imp.pair_differences(["a", "b", "c"], samples)
    assert keys == ["a|b", "a|c", "b|c"] and diffs.shape == (400, 3)
    assert diffs[:, 0] == pytest.approx(samples[:, 0] - samples[:, 1])
    diff_ci = dict(zip(keys, imp.percentile_ci(diffs)))
    assert imp.unresolved_pairs(point, diff_ci) == [["b", "c"]]
    # the key's order is by name, whatever the column order: (c, a) gives the "a|c" difference a - c
    keys2, diffs2 = imp.pair_differences(["c", "a"], samples[:, [2, 0]])
    assert keys2 == ["a|c"] and diffs2[:, 0] == pytest.approx(samples[:, 0] - samples[:, 2])
    # an interval on the other side of the point difference resolves nothing; equal shares never resolve; without
    # intervals (one training seed) the point order is the truth's
    assert imp.unresolved_pairs({"a": 0.6, "b": 0.5}, {"a|b": [-0.2, -0.1]}) == [["a", "b"]]
    assert imp.unresolved_pairs({"a": 0.5, "b": 0.5}, {}) == [["a", "b"]]
    assert imp.unresolved_pairs({"a": 0.6, "b": 0.5}, {}) == []
    assert imp.unresolved_pairs({"a": math.nan, "b": 0.5}, {"a|b": [math.nan, math.nan]}) == [["a", "b"]]


def test_total_order_shares_are_the_sums_of_the_terms_containing_each_hyperparameter():
    rng = np.random.default_rng(5)
    f = rng.normal(size=(3, 4, 2))
    res = te.functional_anova(f, ["a", "b", "c"])
    three_way = 1.0 - res["sum_main"] - res["sum_pairs"]  # the terms are orthogonal and partition the variance
    for h, others in [("a", ["a|b", "a|c"]), ("b", ["a|b", "b|c"]), ("c", ["a|c", "b|c"])]:
        assert res["total"][h] == pytest.approx(res["main"][h] + sum(res["pairs"][k] for k in others) + three_way)
    # additive: total = main; pure interaction: totals 1 with zero main effects
    a, b = np.array([0.0, 1.0, 5.0]), np.array([2.0, -2.0])
    additive = te.functional_anova(a[:, None] + b[None, :], ["a", "b"])
    assert additive["total"] == pytest.approx(additive["main"])
    s, t = np.array([-1.0, 0.0, 1.0]), np.array([2.0, -1.0, -1.0])
    assert te.functional_anova(s[:, None] * t[None, :], ["x", "y"])["total"] == pytest.approx({"x": 1.0, "y": 1.0})


@pytest.mark.parametrize("benchmark_id", ["mlp-car", "nb201-cifar10"])
def test_exact_record_has_intervals_ties_local_and_region(benchmark_id, table_dir):
    npz = table_dir / f"{benchmark_id}.npz"
    bench = benchmarks.make(benchmark_id, table_path=npz)
    rec = te.exact_importance(benchmark_id, npz, n_bootstrap=30)
    names = rec["hyperparameters"]
    assert rec["n_table_seeds"]["max"] == bench.info["n_table_seeds"]
    assert "exact functional ANOVA" in rec["estimator"] and "30 resamples" in rec["estimator"]
    for t in imp.TRANSFORMS:
        res = rec["transforms"][t]
        assert set(res["main_ci"]) == set(names) and set(res["pairs_ci"]) == set(res["pairs"])
        # the intervals are centred on the estimate (seed resampling shrinks every share: shifted back)
        assert all(lo <= res["main"][h] <= hi for h, (lo, hi) in res["main_ci"].items())
        assert res["unresolved_pairs"] == imp.unresolved_pairs(res["main"], res["main_diff_ci"])
        assert set(res["main_diff_ci"]) == set(res["total_diff_ci"]) == set(res["pairs"])
        assert set(res["total_ci"]) == set(names) and res["total"].keys() == res["main"].keys()
        assert all(res["total"][h] >= res["main"][h] - 1e-12 for h in names)  # a total contains the main effect
        # differences are centred on the point difference like the shares (seed resampling shrinks both)
        for key, (lo, hi) in res["main_diff_ci"].items():
            x, y = key.split("|")
            assert lo <= res["main"][x] - res["main"][y] <= hi
        assert sum(res["local"].values()) == pytest.approx(1.0)
    # the top set is rank-invariant: one local importance for both transforms
    assert rec["transforms"]["rank"]["local"] == rec["transforms"]["raw"]["local"]
    # the bootstrap is seeded: the same record twice
    again = te.exact_importance(benchmark_id, npz, n_bootstrap=30)
    assert again["transforms"]["rank"]["main_ci"] == rec["transforms"]["rank"]["main_ci"]
    region = rec["region"]
    assert region["kind"] == "grid" and region["n_points"] == bench.info["n_configs"]
    assert region["base_rate"] == pytest.approx(0.1, abs=0.01)
    for h in names:
        rates = region["hyperparameters"][h]["top_rate"]
        assert np.mean(rates) == pytest.approx(region["base_rate"])  # levels equally often on a product grid


def test_local_importance_on_a_real_table_equals_brute_force(table_dir):
    """On mlp-car: the local importance from the record equals counting the top-10% rows through the benchmark's
    public lookup."""
    npz = table_dir / "mlp-car.npz"
    bench = benchmarks.make("mlp-car", table_path=npz)
    names, choices = te.grid_of("mlp-car")
    rec = te.exact_importance("mlp-car", npz, n_bootstrap=0)
    rows = [dict(zip(names, combo)) for combo in itertools.product(*choices)]
    y = np.array([bench.true_loss(r) for r in rows])
    cutoff = np.sort(y)[math.ceil(0.1 * y.size) - 1]
    top = [r for r, v in zip(rows, y) if v <= cutoff]
    div = {}
    for n, levels in zip(names, choices):
        p = np.array([sum(r[n] == lv for r in top) for lv in levels]) / len(top)
        div[n] = len(levels) * float(np.sum(p**2)) - 1
    for n in names:
        assert rec["transforms"]["rank"]["local"][n] == pytest.approx(div[n] / sum(div.values()), abs=1e-12)
    assert rec["bootstrap"]["n"] == 0 and rec["transforms"]["rank"]["main_ci"] == {}
