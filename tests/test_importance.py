"""Ground-truth importance (hpo.insight.truth.importance, truth_exact): analytic cases, real tables, the record."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hpo import benchmarks
from hpo.benchmarks.base import Benchmark, Evaluation, Reference
from hpo.insight import optuna_encoding as enc
from hpo.insight.truth import exact as te
from hpo.insight.truth import importance as imp
from hpo.insight.truth import sobol as ts
from hpo.insight.truth.compute import importance_json


def test_additive_function_has_known_main_effects_and_no_interactions():
    # f(x0, x1, x2) = a[x0] + b[x1] + c[x2]: main effect shares are Var(a) : Var(b) : Var(c), pairs are 0.
    a, b, c = np.array([0.0, 1.0, 5.0]), np.array([2.0, -2.0]), np.array([0.0, 0.5, 1.0, 3.0])
    f = a[:, None, None] + b[None, :, None] + c[None, None, :]
    res = te.functional_anova(f, ["a", "b", "c"])
    total = a.var() + b.var() + c.var()
    assert res["total_variance"] == pytest.approx(total, abs=1e-12)
    for name, part in zip("abc", (a, b, c)):
        assert abs(res["main"][name] - part.var() / total) < 1e-9
    assert all(abs(v) < 1e-9 for v in res["pairs"].values())
    assert set(res["pairs"]) == {"a|b", "a|c", "b|c"}
    assert abs(res["sum_main"] - 1.0) < 1e-9


def test_pure_interaction_has_zero_main_effects():
    # f(x, y) = s[x] * t[y] with zero-mean s and t: every marginal mean is constant, all variance is the pair's.
    s, t = np.array([-1.0, 0.0, 1.0]), np.array([2.0, -1.0, -1.0])
    f = s[:, None] * t[None, :] + 7.0
    res = te.functional_anova(f, ["x", "y"])
    assert abs(res["main"]["x"]) < 1e-9 and abs(res["main"]["y"]) < 1e-9
    assert abs(res["pairs"]["x|y"] - 1.0) < 1e-9
    assert res["total_variance"] == pytest.approx(s.var() * t.var(), abs=1e-12)


def test_mixed_function_main_pair_and_three_way_terms_partition_the_variance():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(3, 4, 2))
    res = te.functional_anova(f, ["a", "b", "c"])
    # the three-way term is what the constant, the main effects and the pairwise terms leave over; the terms are
    # orthogonal, so the shares of all of them add up to 1
    mu = f.mean()
    fa, fb, fc = f.mean(axis=(1, 2)) - mu, f.mean(axis=(0, 2)) - mu, f.mean(axis=(0, 1)) - mu
    fab = f.mean(axis=2) - mu - fa[:, None] - fb[None, :]
    fac = f.mean(axis=1) - mu - fa[:, None] - fc[None, :]
    fbc = f.mean(axis=0) - mu - fb[:, None] - fc[None, :]
    resid = f - mu - fa[:, None, None] - fb[None, :, None] - fc[None, None, :]
    resid = resid - fab[:, :, None] - fac[:, None, :] - fbc[None, :, :]
    assert abs(res["pairs"]["a|b"] - fab.var() / f.var()) < 1e-9
    assert res["sum_main"] + res["sum_pairs"] + resid.var() / f.var() == pytest.approx(1.0, abs=1e-9)


def test_constant_function_and_bad_input():
    res = te.functional_anova(np.ones((2, 3)), ["a", "b"])
    assert all(math.isnan(v) for v in res["main"].values())
    assert imp.top_pair(res["main"]) == []
    with pytest.raises(ValueError, match="2 axes but 3"):
        te.functional_anova(np.ones((2, 3)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="finite"):
        te.functional_anova(np.array([[1.0, np.nan]]), ["a", "b"])


def test_top_pair_and_interaction():
    assert imp.top_pair({"a": 0.1, "b": 0.5, "c": 0.3}) == ["b", "c"]
    assert imp.top_pair({"a": 0.2, "b": 0.2, "c": 0.1}) == ["a", "b"]  # ties by name
    assert imp.top_interaction({"a|b": 0.01, "a|c": 0.2}) == ["a", "c"]
    assert imp.top_interaction({}) == []


def brute_force(bench, names: list[str], choices: list[list[Any]], transform: str) -> tuple[dict, dict]:
    """Main effects and pairwise terms by pandas group-bys over every configuration, read one by one through the
    benchmark's public lookup (no reshape): Var(E[y|a]) / Var(y) and (Var(E[y|a,b]) - V_a - V_b) / Var(y)."""
    rows = [dict(zip(names, combo)) for combo in itertools.product(*choices)]
    df = pd.DataFrame(rows).astype(object)
    df["y"] = [bench.true_loss(r) for r in rows]
    if transform == "rank":
        df["y"] = df["y"].rank(method="average")
    total = df["y"].var(ddof=0)
    main = {n: df.groupby(n)["y"].mean().var(ddof=0) / total for n in names}
    pairs = {}
    for a, b in itertools.combinations(names, 2):
        closed = df.groupby([a, b])["y"].mean().var(ddof=0) / total
        pairs[imp.pair_key(a, b)] = closed - main[a] - main[b]
    return main, pairs


@pytest.mark.parametrize("benchmark_id", ["mlp-car", "nb201-cifar10"])
def test_vectorized_equals_group_by_on_real_tables(benchmark_id, table_dir):
    npz = table_dir / f"{benchmark_id}.npz"
    bench = benchmarks.make(benchmark_id, table_path=npz)  # converts the table once per session
    names, choices = te.grid_of(benchmark_id)
    result = te.exact_importance(benchmark_id, npz, n_bootstrap=0)
    assert result["hyperparameters"] == names
    assert result["n_points"] == bench.info["n_configs"]
    for transform in imp.TRANSFORMS:
        main, pairs = brute_force(bench, names, choices, transform)
        got = result["transforms"][transform]
        for n in names:
            assert abs(got["main"][n] - main[n]) < 1e-9, (transform, n)
        for k, v in pairs.items():
            assert abs(got["pairs"][k] - v) < 1e-9, (transform, k)
        assert got["top_pair"] == sorted(main, key=lambda n: (-main[n], n))[:2]


def test_importance_json_of_a_table_round_trips(table_dir, tmp_path):
    npz = table_dir / "mlp-car.npz"
    benchmarks.make("mlp-car", table_path=npz)
    record = importance_json("mlp-car", table=npz)
    out = tmp_path / "mlp-car.json"
    imp.write_importance(record, out)
    back = imp.load_importance(out)
    assert back["method"] == "exact_grid" and back["primary_transform"] == "rank"
    assert set(back["transforms"]) == {"rank", "raw"}
    assert back["transforms"]["rank"]["main"].keys() == set(back["hyperparameters"])
    # the stored space rebuilds the benchmark's ConfigSpace (used to build Optuna trials later)
    assert imp.space_of(back) == benchmarks.make("mlp-car", table_path=npz).space
    assert imp.space_of(back) == imp.space_of(back)  # the decoder must not consume the record
    table = imp.importance_table([back])
    ranks = table[(table["term"] == "main") & (table["transform"] == "rank")].set_index("hyperparameters")["rank"]
    assert ranks[back["transforms"]["rank"]["top_pair"][0]] == 1
    # every term kind is in the table, main effects with their seed-bootstrap intervals
    assert set(table["term"]) == {"main", "pair", "local"}
    main = table[(table["term"] == "main") & (table["transform"] == "rank")]
    assert (main["ci_low"] <= main["ci_high"]).all() and main["ci_low"].notna().all()
    local = table[(table["term"] == "local") & (table["transform"] == "rank")]
    assert local["share"].sum() == pytest.approx(1.0) and local["rank"].isna().all()
    with pytest.raises(ValueError, match="needs its converted table"):
        importance_json("mlp-car")
    # the pairwise ties and the exact totals are stored and read back
    rank = back["transforms"]["rank"]
    assert isinstance(rank["unresolved_pairs"], list) and isinstance(rank["total_unresolved_pairs"], list)
    assert len(rank["main_diff_ci"]) == len(rank["total_diff_ci"]) == len(rank["pairs"])


def test_a_record_from_before_pairwise_ties_is_refused_with_one_line(table_dir, tmp_path):
    from hpo.core.identity import IdentityError

    record = importance_json("mlp-car", table=table_dir / "mlp-car.npz", n_bootstrap=5)
    for res in record["transforms"].values():  # the old layout: transitive tie groups, no pairwise ties
        res["tie_groups"] = []
        del res["unresolved_pairs"], res["total_unresolved_pairs"]
    path = tmp_path / "importance" / "mlp-car.json"
    path.parent.mkdir()
    imp.write_importance(record, path)
    with pytest.raises(IdentityError) as err:
        imp.load_importance(path)
    message = str(err.value)
    assert "\n" not in message and "transforms.rank.unresolved_pairs is missing" in message and "rerun" in message


def _record(main: dict[str, float], unresolved: list[list[str]]) -> dict[str, Any]:
    rank = {"main": main, "total": main, "pairs": {}, "unresolved_pairs": unresolved, "total_unresolved_pairs": []}
    return {"benchmark": "b", "method": "sobol_sample", "primary_transform": "rank", "transforms": {"rank": rank}}


def test_a_benchmark_whose_truth_resolves_one_pair_stays_in_the_tests_and_drops_are_named():
    """The rf-breast_cancer shape (issue 22): the marginal intervals of all four overlap, but the pairwise
    differences put max_depth above the other three. It keeps finite rank scores; a benchmark that resolves no pair
    is named in the notes with the reason."""
    from hpo.insight.table import dropped_notes, score_table

    names = ["max_depth", "max_features", "min_samples_leaf", "min_samples_split"]
    main = dict(zip(names, [0.30, 0.12, 0.10, 0.08]))
    rest = [list(p) for p in itertools.combinations(names[1:], 2)]
    records = {"rf": _record(main, rest), "flat": _record(main, [list(p) for p in itertools.combinations(names, 2)])}
    for key, rec in records.items():
        rec["benchmark"] = key
    st = {"seed": 0, "budget": 10, "method": "llm", "kind": "llm", "role": "text", "source": "model", "n_used": 10}
    st.update(fallback=False, repaired=False, best_region=None, top_interaction=None, plotted_pair=None)
    stated = dict(zip(names, [0.4, 0.3, 0.2, 0.1]))
    rows = [{**st, "benchmark": b, "weights": stated} for b in records]
    scores = score_table(pd.DataFrame(rows), records, {}).set_index("benchmark")
    assert scores.loc["rf", "kendall_tau"] == 1.0 and scores.loc["rf", "kendall_tau_norm"] == 1.0
    assert scores.loc["rf", "top1_hit"] == 1.0 and scores.loc["rf", "top1_hit_chance"] == 0.25
    assert math.isnan(scores.loc["flat", "kendall_tau"]) and math.isfinite(scores.loc["flat", "js_distance_norm"])
    assert scores.loc["rf", "kendall_tau_total_norm"] == 1.0  # the secondary truth (here totals = main, all resolved)
    notes = dropped_notes(records)
    assert notes[0].endswith("flat 0/6, rf 3/6")
    assert [n.split(" ")[0] for n in notes[1:]] == ["flat"] and "resolves none of its 6 pairs" in notes[1]


def test_table_grid_mismatch_is_one_line(table_dir, tmp_path):
    npz = table_dir / "nb201-cifar10.npz"
    benchmarks.make("nb201-cifar10", table_path=npz)
    with pytest.raises(ValueError, match="does not match the family's grid"):
        te.table_mean_loss(npz, [5, 5, 5, 5, 5, 4])


def test_sampled_importance_is_seeded_and_stores_its_design():
    a = importance_json("synth-branin", n_sample=64, n_bootstrap=20)
    b = importance_json("synth-branin", n_sample=64, n_bootstrap=20)
    assert a["method"] == "sobol_analytic" and a["n_points"] == 64 * 5  # A, B, two mixed, one pair matrix
    assert a["transforms"] == b["transforms"]  # fixed design and bootstrap seeds
    assert "Sobol indices of the analytic function" in a["estimator"] and a["gamma"] == imp.GAMMA
    rank = a["transforms"]["rank"]
    assert set(rank["main"]) == {"x0", "x1"} and all(0 <= v <= 1 for v in rank["main"].values())
    assert all(lo <= hi for lo, hi in rank["main_ci"].values()) and set(rank["total"]) == {"x0", "x1"}
    assert set(rank["pairs"]) == set(rank["pairs_ci"]) == {"x0|x1"} and rank["top_interaction"] == ["x0", "x1"]
    assert a["region"]["kind"] == "sample" and a["region"]["n_points"] == 2 * 64
    json.dumps(a)  # JSON-serializable as is


@dataclass
class OneKnob(Benchmark):
    """A benchmark with a single hyperparameter (written here, following the Benchmark interface)."""

    _cs: Any = field(default=None, init=False, repr=False)

    @property
    def space(self):
        if self._cs is None:
            from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter

            self._cs = ConfigurationSpace()
            self._cs.add(UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True))
        return self._cs

    def evaluate(self, config, rng):
        return Evaluation(self.true_loss(config), math.nan)

    def true_loss(self, config):
        return (math.log10(config["lr"]) + 2.0) ** 2

    @property
    def reference(self):
        return Reference(0.0, 1.0, 4.0)


def test_one_hyperparameter_benchmark_says_scores_do_not_apply():
    record = importance_json("one-knob", bench=OneKnob(id="one-knob"), n_sample=16, n_bootstrap=0)
    assert record["n_hyperparameters"] == 1
    assert imp.ONE_HP_NOTE in record["note"]
    assert record["transforms"]["rank"]["top_pair"] == []
    assert record["transforms"]["rank"]["main"] == {"lr": 1.0}  # one input carries all the variance
    # without a stored evaluation time, a pilot evaluation sizes the design: microseconds -> the largest n
    timed = importance_json("one-knob", bench=OneKnob(id="one-knob"), n_bootstrap=0)
    assert timed["sample"]["n"] == ts.N_MAX and timed["method"] == "sobol_sample"
    assert len(timed["sample"]["f_A"]) == ts.N_MAX


def test_optuna_distributions_encode_ordinals_as_indices(table_dir):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    mlp = benchmarks.make("mlp-car", table_path=table_dir / "mlp-car.npz")
    dists = enc.optuna_distributions(mlp.space)
    assert dists["learning_rate_init"] == IntDistribution(0, 9)
    config = {"alpha": 1e-08, "batch_size": 256, "depth": 3, "learning_rate_init": 1.0, "width": 16}
    assert enc.optuna_params(mlp.space, config) == {
        "alpha": 0,
        "batch_size": 9,
        "depth": 2,
        "learning_rate_init": 9,
        "width": 0,
    }
    with pytest.raises(ValueError, match="not in its grid"):
        enc.optuna_params(mlp.space, {**config, "depth": 7})
    nb = benchmarks.make("nb201-cifar10", table_path=table_dir / "nb201-cifar10.npz")
    assert isinstance(enc.optuna_distributions(nb.space)["Op0"], CategoricalDistribution)
    xgb = benchmarks.make("xgb-breast_cancer").space
    eta = enc.optuna_distributions(xgb)["eta"]
    assert isinstance(eta, FloatDistribution) and eta.log == xgb["eta"].log


@pytest.mark.slow
def test_benchmark_time_script_runs(table_dir, capsys):
    """The timing script computes every table it is given and prints the total."""
    import runpy
    import sys

    for b in ("mlp-car", "nb201-cifar10"):
        benchmarks.make(b, table_path=table_dir / f"{b}.npz")
    script = Path(__file__).resolve().parent.parent / "perf" / "importance_time.py"
    argv = sys.argv
    sys.argv = [str(script), "--tables", str(table_dir), "--ids", "mlp-car", "nb201-cifar10", "--repeat", "1"]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    out = capsys.readouterr().out
    assert "2 tables" in out and "mlp-car" in out
