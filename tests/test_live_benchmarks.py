"""Live ML benchmarks: real fits, deterministic losses, HPOBench's spaces, stored references that reproduce."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks import live_ml
from hpo.run.harness import RunSpec, run

LIVE = live_ml.ids()

# (name, lower, upper, log, default, integer) exactly as read from HPOBench's get_configuration_space,
# github.com/automl/HPOBench@47bf141f, hpobench/benchmarks/ml/<file>: svm_benchmark.py, lr_benchmark.py,
# rf_benchmark.py, histgb_benchmark.py, xgboost_benchmark.py.
HPOBENCH_SPACES = {
    "svm": [("C", 2**-10, 2**10, True, 1.0, False), ("gamma", 2**-10, 2**10, True, 0.1, False)],
    "lr": [("alpha", 1e-5, 1, True, 1e-3, False), ("eta0", 1e-5, 1, True, 1e-2, False)],
    "rf": [
        ("max_depth", 1, 50, True, 10, True),
        ("min_samples_split", 2, 128, True, 32, True),
        ("max_features", 0, 1.0, False, 0.5, False),
        ("min_samples_leaf", 1, 20, False, 1, True),
    ],
    "histgb": [
        ("max_depth", 6, 30, True, 6, True),
        ("max_leaf_nodes", 2, 64, True, 32, True),
        ("learning_rate", 2**-10, 1, True, 0.1, False),
        ("l2_regularization", 2**-10, 2**10, True, 0.1, False),
    ],
    "xgb": [
        ("eta", 2**-10, 1.0, True, 0.3, False),
        ("max_depth", 1, 50, True, 10, True),
        ("colsample_bytree", 0.1, 1.0, False, 1.0, False),
        ("reg_lambda", 2**-10, 2**10, True, 1, False),
    ],
}


@pytest.fixture(scope="module")
def benches() -> dict[str, live_ml.LiveMLBenchmark]:
    return {bid: B.make(bid) for bid in LIVE}


def test_every_model_and_dataset_is_registered() -> None:
    assert set(LIVE) == {f"{m}-{d}" for m in HPOBENCH_SPACES for d in ("breast_cancer", "digits", "wine")}
    assert all(b in B.available() and not B.needs_table(b) for b in LIVE)


@pytest.mark.parametrize("model", HPOBENCH_SPACES)
def test_space_matches_hpobench(model: str) -> None:
    import ConfigSpace as CS

    space = B.make(f"{model}-wine").space
    assert set(space) == {hp[0] for hp in HPOBENCH_SPACES[model]}
    for name, lower, upper, log, default, integer in HPOBENCH_SPACES[model]:
        hp = space[name]
        cls = CS.UniformIntegerHyperparameter if integer else CS.UniformFloatHyperparameter
        assert isinstance(hp, cls), name  # continuous stays continuous
        assert (hp.lower, hp.upper, hp.log, hp.default_value) == (lower, upper, log, default), name


@pytest.mark.parametrize("bid", LIVE)
def test_real_fit_deterministic_and_config_sensitive(bid: str, benches: dict) -> None:
    bench = benches[bid]
    default = dict(bench.space.get_default_configuration())
    lowest = {name: hp.lower for name, hp in bench.space.items()}
    rng = np.random.default_rng(0)
    first, again = bench.evaluate(default, rng), bench.evaluate(default, rng)
    assert first.loss == again.loss == bench.true_loss(default)
    assert first.cost > 0 and again.cost > 0  # measured fit time of a real fit
    assert 0 <= first.loss <= 1
    assert bench.evaluate(lowest, rng).loss != first.loss
    # A given model seed always gives the same loss (the run seed fixes model randomness).
    assert bench.run_seeded(default, 7).loss == bench.run_seeded(default, 7).loss


@pytest.mark.parametrize("bid", LIVE)
def test_stored_reference_reproduces(bid: str, benches: dict) -> None:
    bench = benches[bid]
    entry = live_ml.load_references()["benchmarks"][bid]
    ref = bench.reference
    assert ref.f_star < ref.f_ref <= ref.f_worst
    assert bench.true_loss(entry["best_config"]) == pytest.approx(ref.f_star, abs=1e-12)
    assert entry["eval_time_s"]["mean"] < 1.0  # keeps the default study within its time budget


def test_noisy_mode_draws_model_seeds_from_the_run_rng() -> None:
    noisy = B.make("rf-digits", noisy=True)
    config = dict(noisy.space.get_default_configuration())
    same = [noisy.evaluate(config, np.random.default_rng(3)).loss for _ in range(2)]
    assert same[0] == same[1]
    draws = {noisy.evaluate(config, np.random.default_rng(s)).loss for s in range(4)}
    assert len(draws) > 1  # bootstrap and feature sampling change with the seed
    assert noisy.true_loss(config) == B.make("rf-digits").evaluate(config, np.random.default_rng(9)).loss


@pytest.mark.parametrize("bid", LIVE)
def test_runs_through_the_harness(bid: str, benches: dict) -> None:
    spec = RunSpec(benchmark=bid, method="random_search", kind="random_search", seed=0, n_trials=3, n_init=1)
    table, meta = run(spec, benches[bid])
    df = table.to_pandas()
    assert len(df) == 3 and (df["eval_cost"] > 0).all()
    assert (df["loss"] == df["true_loss"]).all() and (df["regret"] >= 0).all()
    assert meta["benchmark_info"]["dataset"] == bid.split("-")[1]
    assert json.loads(df["config"].iloc[0]).keys() == set(benches[bid].space)


def test_listing_and_non_xgb_benchmarks_do_not_import_heavy_libraries() -> None:
    code = (
        "import sys, numpy as np, hpo.benchmarks as B; B.available(); B.make('synth-branin');"
        "assert 'sklearn' not in sys.modules, 'sklearn'; b = B.make('svm-wine');"
        "b.evaluate(dict(b.space.get_default_configuration()), np.random.default_rng(0));"
        "assert 'xgboost' not in sys.modules, 'xgboost'"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_unknown_live_dataset_is_one_line_error() -> None:
    with pytest.raises(
        ValueError, match=r"unknown benchmark 'svm-iris'; did you mean 'svm-digits'\? \(python -m hpo list"
    ) as err:
        B.make("svm-iris")
    assert "\n" not in str(err.value)
