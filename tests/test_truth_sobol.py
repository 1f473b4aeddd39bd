"""Sobol-index ground truth (hpo.insight.truth.sobol): Ishigami vs analytic values, measure, live benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo import benchmarks
from hpo.benchmarks.synthetic import Function, SyntheticBenchmark
from hpo.insight.truth import importance as imp
from hpo.insight.truth import sobol as ts
from hpo.insight.truth.compute import importance_json

A, B = 7.0, 0.1


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[..., 0]) + A * np.sin(x[..., 1]) ** 2 + B * x[..., 2] ** 4 * np.sin(x[..., 0])


def ishigami_bench() -> SyntheticBenchmark:
    box = ((-math.pi, math.pi),) * 3
    return SyntheticBenchmark(id="ishigami", function=Function("ishigami", ishigami, box, math.nan, (0.0, 0.0, 0.0)))


def ishigami_indices() -> tuple[list[float], list[float]]:
    """Analytic first- and total-order indices (Ishigami & Homma 1990; Saltelli et al. 2008, sec. 4.4)."""
    pi = math.pi
    v1 = 0.5 * (1 + B * pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return [v1 / var, v2 / var, 0.0], [(v1 + v13) / var, v2 / var, v13 / var]


def test_ishigami_indices_match_the_published_values():
    first, total = ishigami_indices()
    # the published rounded values (a = 7, b = 0.1)
    assert first == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)
    assert total == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    rec = ts.sobol_importance(ishigami_bench(), n_bootstrap=200)  # the analytic default n
    raw = rec["transforms"]["raw"]
    assert rec["method"] == "sobol_analytic" and rec["n_points"] == ts.N_ANALYTIC * 8  # A, B, 3 mixed, 3 pair matrices
    for name, s1, st in zip(["x0", "x1", "x2"], first, total):
        assert raw["main"][name] == pytest.approx(s1, abs=0.02)
        assert raw["total"][name] == pytest.approx(st, abs=0.02)
        lo, hi = raw["main_ci"][name]
        assert lo - 0.01 <= s1 <= hi + 0.01  # the interval covers the truth (up to QMC bias)
    assert raw["top_pair"] == ["x1", "x0"]
    # the only interaction is x0 with x2 (b x2^4 sin x0): its pair term is the whole of ST_2
    assert raw["pairs"]["x0|x2"] == pytest.approx(total[2], abs=0.02)
    assert raw["pairs"]["x0|x1"] == pytest.approx(0.0, abs=0.02) and raw["pairs"]["x1|x2"] == pytest.approx(
        0.0, abs=0.02
    )
    assert raw["top_interaction"] == ["x0", "x2"]
    assert raw["unresolved_pairs"] == []  # 0.31 vs 0.44 vs 0: distinguishable at the default n
    assert raw["total_unresolved_pairs"] == []  # 0.56 vs 0.44 vs 0.24


def test_hartmann3_main_and_total_match_an_exact_grid_and_resolve_x0_below_x1():
    """Hartmann3 has no closed-form indices, but it is smooth: the exact functional ANOVA of a fine midpoint grid
    (96^3 points, :func:`hpo.insight.truth.exact.functional_anova`) is its main and total shares to ~1e-3. The
    Sobol record agrees with it on both transforms, and its pairwise bootstrap orders x0 below x1 (rank: 0.036 vs
    0.045), which overlapping marginal intervals had tied (issue 22)."""
    from hpo.benchmarks.synthetic import hartmann3
    from hpo.insight.truth import exact as te

    g = (np.arange(96) + 0.5) / 96
    f = hartmann3(np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1))
    names = ["x0", "x1", "x2"]
    exact = {"raw": te.functional_anova(f, names), "rank": te.functional_anova(imp.rank_transform(f), names)}
    # the numbers (raw, normalized to sum 1): main (0.04, 0.18, 0.78), total (0.05, 0.33, 0.61)
    norm = {k: np.array(list(exact["raw"][k].values())) for k in ("main", "total")}
    assert norm["main"] / norm["main"].sum() == pytest.approx([0.04, 0.18, 0.78], abs=0.01)
    assert norm["total"] / norm["total"].sum() == pytest.approx([0.057, 0.33, 0.61], abs=0.01)
    rec = importance_json("synth-hartmann3", n_bootstrap=200)
    for t in imp.TRANSFORMS:
        res = rec["transforms"][t]
        for part in ("main", "total"):
            assert res[part] == pytest.approx(exact[t][part], abs=0.01), (t, part)
            assert set(res[f"{part}_ci"]) == set(names) and len(res[f"{part}_diff_ci"]) == 3
    rank = rec["transforms"]["rank"]
    assert rank["main"]["x0"] < rank["main"]["x1"] and rank["unresolved_pairs"] == []
    assert rank["main_diff_ci"]["x0|x1"][1] < 0


def test_vectorized_bootstrap_formulas_equal_scipys_estimates():
    rng = np.random.default_rng(0)
    f_a, f_b, f_ab = rng.normal(size=64), rng.normal(size=64), rng.normal(size=(3, 64))
    from scipy.stats import sobol_indices

    res = sobol_indices(func={"f_A": f_a[None], "f_B": f_b[None], "f_AB": f_ab[:, None]}, n=64)
    idx = np.arange(64)[None, :]
    first, total = ts._saltelli(f_a[idx], f_b[idx], f_ab[:, idx])
    assert first[0] == pytest.approx(res.first_order, abs=1e-12)
    assert total[0] == pytest.approx(res.total_order, abs=1e-12)


def test_rank_transform_is_invariant_to_monotone_transforms_of_the_loss():
    bench = ishigami_bench()
    shifted = SyntheticBenchmark(
        id="ishigami", function=Function("exp", lambda x: np.exp(ishigami(x) / 5), bench.function.bounds, 0, (0,) * 3)
    )
    a = ts.sobol_importance(bench, n=256, n_bootstrap=0)["transforms"]
    b = ts.sobol_importance(shifted, n=256, n_bootstrap=0)["transforms"]
    assert a["rank"]["main"] == pytest.approx(b["rank"]["main"], abs=1e-12)
    assert a["raw"]["main"] != pytest.approx(b["raw"]["main"], abs=1e-3)


def test_design_follows_configspaces_sampling_measure():
    """Log-scale integers, integer steps, log floats, ordinals and categoricals: the design's values occur as often
    as in ConfigSpace's own sampler."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace(seed=1)
    cs.add(
        [
            CS.UniformFloatHyperparameter("lr", 1e-3, 1.0, log=True),
            CS.UniformIntegerHyperparameter("depth", 1, 50, log=True),
            CS.UniformIntegerHyperparameter("k", 1, 5),
            CS.OrdinalHyperparameter("width", [8, 16, 32]),
            CS.CategoricalHyperparameter("act", ["relu", "tanh"]),
        ]
    )
    design = ts.unit_to_values(cs, np.random.default_rng(0).random((40_000, 5)))
    sampled = cs.sample_configuration(40_000)
    for name, value in [("depth", 1), ("depth", 2), ("depth", 10), ("k", 5), ("width", 16), ("act", "tanh")]:
        ours = float(np.mean(design[name] == value))
        theirs = float(np.mean([c[name] == value for c in sampled]))
        assert ours == pytest.approx(theirs, abs=0.01), (name, value)
    assert np.median(design["lr"]) == pytest.approx(10**-1.5, rel=0.05)  # uniform in log
    assert ts.unit_to_values(cs, np.zeros((1, 5)))["depth"][0] == 1


def test_live_benchmark_stores_its_evaluations_and_region():
    bench = benchmarks.make("svm-wine")
    rec = importance_json("svm-wine", bench=bench, n_sample=16, n_bootstrap=50)
    assert rec["method"] == "sobol_sample" and rec["n_points"] == 16 * 4
    assert "64 true evaluations" in rec["estimator"]
    sample, region = rec["sample"], rec["region"]
    assert len(sample["f_A"]) == len(sample["f_B"]) == 16 and np.shape(sample["f_AB"]) == (2, 16)
    # the region's first n rows are A, with A's losses: re-evaluating one gives the stored loss
    config = {h: region["values"][h][3] for h in rec["hyperparameters"]}
    assert bench.true_loss(config) == pytest.approx(sample["f_A"][3], abs=1e-12)
    assert region["loss"][:16] == sample["f_A"]
    for t in imp.TRANSFORMS:
        res = rec["transforms"][t]
        assert set(res["main_ci"]) == {"C", "gamma"} and res["pairs"] == {} and res["pairs_ci"] == {}
    assert "pairs are empty" in rec["note"]
    from hpo.insight.truth.region import region_hit

    hit = region_hit(rec, {"hyperparameter": "gamma", "low": 1e-3, "high": 1.0})
    assert hit["region_n"] > 0 and 0 <= hit["region_share"] <= 1


def test_design_size_fits_the_time_budget():
    bench = benchmarks.make("xgb-breast_cancer")
    per_eval = benchmarks.live_ml.load_references()["benchmarks"]["xgb-breast_cancer"]["eval_time_s"]["mean"]
    n = ts.design_size(bench, 4)
    assert n & (n - 1) == 0 and ts.N_MIN <= n <= ts.N_MAX
    assert n * 6 * per_eval <= ts.TRUTH_SECONDS < 2 * n * 6 * per_eval or n in (ts.N_MIN, ts.N_MAX)
    with pytest.raises(ValueError, match="power of 2"):
        ts.sobol_design(bench.space, 24, 0)
