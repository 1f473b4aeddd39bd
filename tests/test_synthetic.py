"""Synthetic functions: known optima at the known argmins, exact regret, reproducible noise and references."""

from __future__ import annotations

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks import synthetic
from hpo.benchmarks.make_references import N_SYNTH, SYNTH_SEED
from hpo.run.harness import RunSpec, run

# The three global minimizers of Branin (sfu.ca/~ssurjano/branin.html).
BRANIN_ARGMINS = [(-np.pi, 12.275), (np.pi, 2.275), (9.42478, 2.475)]


def _config(function: synthetic.Function, x: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(function.names, x))


@pytest.mark.parametrize("bid", synthetic.ids())
def test_known_optimum_at_known_argmin(bid: str) -> None:
    bench = B.make(bid)
    function = synthetic.parse(bid)
    assert function is not None
    argmins = BRANIN_ARGMINS if function.name.startswith("branin") else [function.argmin]
    for x in argmins:
        assert bench.true_loss(_config(function, x)) == pytest.approx(function.f_star, abs=1e-5)
    assert bench.reference.f_star == function.f_star
    # Nothing in a large uniform sample beats the optimum, and the median lies well above it.
    values = synthetic.reference_sample(function, 20_000, seed=1)
    assert values.min() >= function.f_star - 1e-9
    assert bench.reference.f_star < bench.reference.f_ref <= bench.reference.f_worst


@pytest.mark.parametrize("bid", synthetic.ids())
def test_stored_references_match_their_procedure(bid: str) -> None:
    function = synthetic.parse(bid)
    assert function is not None
    values = synthetic.reference_sample(function, N_SYNTH, SYNTH_SEED)
    ref = B.make(bid).reference
    assert ref.f_ref == pytest.approx(float(np.median(values)), rel=1e-12)
    assert ref.f_worst == pytest.approx(float(values.max()), rel=1e-12)


def test_space_is_the_functions_box() -> None:
    space = B.make("synth-branin").space
    assert (space["x0"].lower, space["x0"].upper, space["x1"].lower, space["x1"].upper) == (-5, 10, 0, 15)
    space6 = B.make("synth-hartmann6").space
    assert list(space6) == [f"x{i}" for i in range(6)]
    assert all((space6[n].lower, space6[n].upper) == (0, 1) for n in space6)


def test_noisy_branin_observes_noise_but_regret_uses_the_true_value() -> None:
    bench = B.make("synth-branin_noisy")
    config = _config(bench.function, BRANIN_ARGMINS[1])
    draws = np.array([bench.evaluate(config, np.random.default_rng(s)).loss for s in range(2000)])
    assert draws.std() == pytest.approx(synthetic.BRANIN_NOISE_SD, rel=0.1)
    assert draws.mean() == pytest.approx(bench.true_loss(config), abs=0.1)
    # Same rng state, same observation: the run seed fixes the noise.
    assert (
        bench.evaluate(config, np.random.default_rng(5)).loss == bench.evaluate(config, np.random.default_rng(5)).loss
    )
    clean = B.make("synth-branin")
    assert clean.evaluate(config, np.random.default_rng(0)).loss == clean.true_loss(config)


@pytest.mark.parametrize("bid", synthetic.ids())
def test_runs_through_the_harness(bid: str) -> None:
    spec = RunSpec(benchmark=bid, method="random_search", kind="random_search", seed=0, n_trials=20, n_init=5)
    table, meta = run(spec, B.make(bid))
    df = table.to_pandas()
    assert len(df) == 20
    assert (df["regret"] >= 0).all() and df["best_loss"].is_monotonic_decreasing
    assert df["eval_cost"].isna().all()  # nothing simulated, and the harness sums NaN as 0
    assert meta["f_star"] == synthetic.parse(bid).f_star
    if bid.endswith("_noisy"):
        assert (df["loss"] != df["true_loss"]).all()
    else:
        assert (df["loss"] == df["true_loss"]).all() and df["regret"].is_monotonic_decreasing
