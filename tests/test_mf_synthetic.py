"""Multi-fidelity Hartmann (mf-prior-bench's construction): the standard function at z = 100, BOCA's cost, the
bias and noise the formula says at lower fidelities, the presets' order, one-line fidelity errors, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks import mf_synthetic
from hpo.benchmarks.multi_fidelity import is_multi_fidelity
from hpo.run.harness import RunSpec, run

IDS = ["mfh3-good", "mfh3-bad", "mfh6-good", "mfh6-bad"]


def _points(bench: B.Benchmark, n: int, seed: int) -> list[dict[str, float]]:
    dims = len(list(bench.space))
    return [
        {f"x{i}": float(v) for i, v in enumerate(row)} for row in np.random.default_rng(seed).uniform(size=(n, dims))
    ]


def test_registered_and_listed() -> None:
    assert mf_synthetic.ids() == IDS
    assert all(b in B.available() and not B.needs_table(b) for b in IDS)
    bench = B.make("mfh3-good")
    assert is_multi_fidelity(bench) and bench.id == "mfh3-good"
    assert (bench.fidelity_min, bench.fidelity_max, bench.fidelity_name) == (1.0, 100.0, "z")
    assert bench.info["family"] == "mf_synthetic"
    assert bench.info["fidelity"] == {"name": "z", "min": 1.0, "max": 100.0, "cost": "0.05 + 0.95 (z/100)^2"}
    assert bench.data_card() == {"model": "multi-fidelity hartmann3 test function", "task": "function minimization"}
    assert list(B.make("mfh6-bad").space) == [f"x{i}" for i in range(6)]
    assert mf_synthetic.parse("mfh4-good") is None and mf_synthetic.parse("mfh3-ugly") is None
    with pytest.raises(ValueError, match="unknown benchmark 'mfh3-ugly'"):
        B.make("mfh3-ugly")
    assert B.provenance_files("mfh6-good")  # its module and the Hartmann constants it imports


@pytest.mark.parametrize("bid", IDS)
def test_max_fidelity_is_the_standard_hartmann(bid: str) -> None:
    bench = B.make(bid)
    full = B.make(f"synth-hartmann{bid[3]}")
    for config in _points(bench, 20, seed=1):
        at_max = bench.evaluate_at(config, 100, np.random.default_rng(0))
        assert at_max.loss == pytest.approx(full.true_loss(config), abs=1e-12)
        assert at_max.cost == 1.0
        assert bench.true_loss(config) == full.true_loss(config)
        assert bench.evaluate(config, np.random.default_rng(3)) == at_max  # noise-free at z = 100
    ref, full_ref = bench.reference, full.reference
    assert (ref.f_star, ref.f_ref, ref.f_worst) == pytest.approx((full_ref.f_star, full_ref.f_ref, full_ref.f_worst))
    argmin = dict(zip(full.function.names, full.function.argmin))
    assert bench.true_loss(argmin) == pytest.approx(ref.f_star, abs=1e-5)


def test_cost_model() -> None:
    bench = B.make("mfh3-bad")
    config = _points(bench, 1, seed=0)[0]
    rng = np.random.default_rng(0)
    assert bench.evaluate_at(config, 1, rng).cost == pytest.approx(0.05 + 0.95e-4, rel=1e-12)
    assert bench.evaluate_at(config, 100, rng).cost == 1.0
    assert bench.evaluate_at(config, 50, rng).cost == pytest.approx(0.05 + 0.95 * 0.25, rel=1e-12)


def test_bias_at_low_fidelity_by_hand() -> None:
    """At z = 10, 1 - ln 10 / ln 100 = 0.5, so "good" (bias 2.5) lowers every alpha_i by 1.25: the value rises by
    1.25 * sum_i exp(-sum_j A_ij (x_j - P_ij)^2). The noise is stripped by comparing against its rng draw."""
    bench = B.make("mfh3-good")
    x = (0.5, 0.5, 0.5)
    # Hartmann 3 (sfu.ca/~ssurjano/hart3.html), written out again for an independent check.
    a = [[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]]
    p = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]]
    alpha = [1.0, 1.2, 3.0, 3.2]
    terms = [math.exp(-sum(a[i][j] * (x[j] - p[i][j]) ** 2 for j in range(3))) for i in range(4)]
    expected = -sum((alpha[i] - 2.5 * 0.5) * terms[i] for i in range(4))
    noise = 2.0 * 0.5 * abs(np.random.default_rng(7).standard_normal())
    observed = bench.evaluate_at(dict(zip(("x0", "x1", "x2"), x)), 10, np.random.default_rng(7))
    assert observed.loss == pytest.approx(expected + noise, rel=1e-12)
    assert observed.cost == pytest.approx(0.05 + 0.95 * 0.01, rel=1e-12)
    assert expected == pytest.approx(-sum(al * t for al, t in zip(alpha, terms)) + 1.25 * sum(terms), rel=1e-12)


def test_good_preset_is_closer_to_the_full_fidelity_than_bad() -> None:
    for dims in (3, 6):
        good, bad = B.make(f"mfh{dims}-good"), B.make(f"mfh{dims}-bad")
        for z in (1, 10, 50):
            gaps = {}
            for bench in (good, bad):
                rng = np.random.default_rng(0)
                gaps[bench.id] = np.mean(
                    [abs(bench.evaluate_at(c, z, rng).loss - bench.true_loss(c)) for c in _points(bench, 300, seed=2)]
                )
            assert gaps[good.id] < gaps[bad.id], (dims, z, gaps)


def test_noise_comes_from_the_rng_and_shrinks_with_fidelity() -> None:
    bench = B.make("mfh6-bad")
    config = _points(bench, 1, seed=4)[0]
    same = [bench.evaluate_at(config, 1, np.random.default_rng(5)).loss for _ in range(2)]
    assert same[0] == same[1]
    assert bench.evaluate_at(config, 1, np.random.default_rng(6)).loss != same[0]
    noise_free = float(mf_synthetic.biased_hartmann(np.array(list(config.values())), 6, 3.5, 1.0))
    draws = np.array([bench.evaluate_at(config, 1, np.random.default_rng(s)).loss for s in range(2000)]) - noise_free
    assert (draws >= 0).all()  # half-normal, as in mf-prior-bench
    assert draws.mean() == pytest.approx(4.0 * math.sqrt(2 / math.pi), rel=0.1)
    at_10 = np.array([bench.evaluate_at(config, 10, np.random.default_rng(s)).loss for s in range(2000)])
    at_10 -= float(mf_synthetic.biased_hartmann(np.array(list(config.values())), 6, 3.5, 10.0))
    assert at_10.mean() == pytest.approx(2.0 * math.sqrt(2 / math.pi), rel=0.1)


@pytest.mark.parametrize("fidelity", [0, 101, 0.5])
def test_fidelity_outside_the_range_is_a_one_line_error(fidelity: float) -> None:
    bench = B.make("mfh3-good")
    with pytest.raises(ValueError) as err:
        bench.evaluate_at(_points(bench, 1, seed=0)[0], fidelity, np.random.default_rng(0))
    message = str(err.value)
    assert "\n" not in message and message.startswith("mfh3-good: z") and "[1.0, 100.0]" in message


def test_full_fidelity_method_runs_through_the_harness() -> None:
    spec = RunSpec(benchmark="mfh3-good", method="random_search", kind="random_search", seed=0, n_trials=10, n_init=5)
    table, meta = run(spec, B.make("mfh3-good"))
    df = table.to_pandas()
    assert len(df) == 10 and (df["loss"] == df["true_loss"]).all() and (df["regret"] >= 0).all()
    assert meta["f_star"] == mf_synthetic.FUNCTIONS["hartmann3"].f_star
