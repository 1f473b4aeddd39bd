"""Multi-fidelity live ML (``mf-<model>-<dataset>``): the maximum fidelity is the full-fidelity live benchmark, cost
is the calibrated curve (rising with the fidelity, 1.0 at the maximum, the same in every process), a fidelity outside
the range is one line, subsamples are nested and stratified, and a Hyperband run writes a trajectory that another
process reproduces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks import live_mf, live_ml
from hpo.benchmarks.multi_fidelity import is_multi_fidelity

IDS = live_mf.ids()
WINE = [f"mf-{m}-wine" for m in live_mf.FIDELITIES]  # the fastest dataset: one per model
TIMING = {"optimizer_time", "wall_time", "llm_latency"}  # the only trajectory columns allowed to differ


def _configs(bench: B.Benchmark, n: int) -> list[dict]:
    """The default plus ``n - 1`` seeded random configurations, as plain dicts."""
    from ConfigSpace import ConfigurationSpace

    sampler = ConfigurationSpace(seed=11)
    sampler.add(list(bench.space.values()))
    return [dict(bench.space.get_default_configuration())] + [dict(c) for c in sampler.sample_configuration(n - 1)]


def test_registered_listed_and_described() -> None:
    assert IDS == [f"mf-{m}-{d}" for m in ("rf", "xgb", "lr", "svm") for d in live_ml.DATASETS]
    assert set(IDS) <= set(B.available()) and set(IDS) <= set(B.multi_fidelity_ids())
    assert not any(B.needs_table(b) or B.reads_table(b) for b in IDS)
    bench = B.make("mf-rf-digits")
    assert is_multi_fidelity(bench) and isinstance(bench, live_mf.LiveMFBenchmark)
    assert (bench.fidelity_min, bench.fidelity_max, bench.fidelity_name) == (2.0, 64.0, "n_estimators")
    fid = bench.info["fidelity"]
    assert (fid["name"], fid["min"], fid["max"], fid["integer"]) == ("n_estimators", 2.0, 64.0, True)
    assert bench.info["full_fidelity_benchmark"] == "rf-digits" and bench.data_card()["n_classes"] == 10
    assert (B.make("mf-svm-wine").fidelity_min, B.make("mf-svm-wine").fidelity_max) == (0.1, 1.0)
    assert live_mf.COSTS in B.provenance_files("mf-lr-wine") and live_ml.REFERENCES in B.provenance_files("mf-lr-wine")
    assert (
        live_mf.parse("mf-rf-iris") is None and live_mf.parse("rf-wine") is None and live_mf.parse("mfh3-good") is None
    )
    with pytest.raises(ValueError, match="unknown benchmark 'mf-rf-iris'"):
        B.make("mf-rf-iris")


@pytest.mark.parametrize("bid", WINE + ["mf-rf-digits"])
def test_maximum_fidelity_is_the_full_fidelity_benchmark(bid: str) -> None:
    bench, full = B.make(bid), B.make(bid.removeprefix("mf-"))
    rng = np.random.default_rng(0)
    for config in _configs(bench, 3):
        at_max = bench.evaluate_at(config, bench.fidelity_max, rng)
        assert at_max.loss == full.evaluate(config, rng).loss and at_max.cost == 1.0
        assert bench.evaluate(config, rng) == at_max
        assert bench.true_loss(config) == full.true_loss(config) == at_max.loss
    assert bench.reference == full.reference
    best = live_ml.load_references()["benchmarks"][full.id]["best_config"]
    assert bench.true_loss(best) == pytest.approx(bench.reference.f_star, abs=1e-12)


@pytest.mark.parametrize("bid", IDS)
def test_cost_rises_with_the_fidelity_to_one(bid: str) -> None:
    bench = B.make(bid)
    grid = np.linspace(bench.fidelity_min, bench.fidelity_max, 25)
    costs = [bench.cost_at(f) for f in grid]
    assert all(a <= b for a, b in zip(costs, costs[1:])) and costs[-1] == 1.0
    assert 0 < costs[0] < costs[-1]
    entry = live_mf.load_costs()["benchmarks"][bid]
    assert entry["levels"][0] == bench.fidelity_min and entry["levels"][-1] == bench.fidelity_max
    assert entry["eval_cpu_s_at_max"]["mean"] < 1.0  # one evaluation at the maximum stays below a second


def test_count_fidelities_cost_what_they_train() -> None:
    """A count is rounded, and its cost is the rounded count's: 20.6 and 21 trees are the same forest."""
    bench = B.make("mf-rf-wine")
    config = _configs(bench, 1)[0]
    rng = np.random.default_rng(0)
    assert bench.evaluate_at(config, 20.6, rng) == bench.evaluate_at(config, 21, rng)
    assert bench.cost_at(2) < bench.cost_at(21) < bench.cost_at(64) == 1.0


@pytest.mark.parametrize(("bid", "fidelity"), [("mf-rf-wine", 1), ("mf-rf-wine", 65), ("mf-svm-wine", 0.05)])
def test_fidelity_outside_the_range_is_a_one_line_error(bid: str, fidelity: float) -> None:
    bench = B.make(bid)
    with pytest.raises(ValueError) as err:
        bench.evaluate_at(_configs(bench, 1)[0], fidelity, np.random.default_rng(0))
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{bid}: {bench.fidelity_name} {fidelity!r} is outside [")


def test_lower_fidelities_train_a_different_model() -> None:
    for bid in [f"mf-{m}-breast_cancer" for m in live_mf.FIDELITIES]:
        bench = B.make(bid)
        rng = np.random.default_rng(0)
        configs = _configs(bench, 5)
        low = [bench.evaluate_at(c, bench.fidelity_min, rng).loss for c in configs]
        assert low != [bench.true_loss(c) for c in configs], bid


def test_subsamples_are_nested_stratified_and_whole_at_one() -> None:
    split = live_ml.load_split("digits")
    n = split.y_train.size
    assert live_mf.subsample_rows("digits", 1.0).tolist() == list(range(n))
    small, large = live_mf.subsample_rows("digits", 0.1), live_mf.subsample_rows("digits", 0.4)
    assert small.size == round(0.1 * n) and set(small) <= set(large)
    counts = np.bincount(split.y_train[small], minlength=10)
    expected = 0.1 * np.bincount(split.y_train, minlength=10)
    assert (np.abs(counts - expected) <= 1).all()  # every class, in the training proportions
    order = live_mf.nested_order(split.y_train)
    assert sorted(order.tolist()) == list(range(n))


def test_noisy_mode_draws_model_seeds_and_keeps_the_seed_0_truth() -> None:
    noisy, quiet = B.make("mf-rf-wine", noisy=True), B.make("mf-rf-wine")
    config = _configs(noisy, 3)[2]
    same = [noisy.evaluate_at(config, 8, np.random.default_rng(3)).loss for _ in range(2)]
    assert same[0] == same[1]
    assert len({noisy.evaluate_at(config, 8, np.random.default_rng(s)).loss for s in range(6)}) > 1
    assert noisy.true_loss(config) == quiet.evaluate_at(config, 64, np.random.default_rng(9)).loss


_EVALS = """
import json, sys, numpy as np, hpo.benchmarks as B
out = {}
for bid, fids in json.loads(sys.argv[1]).items():
    bench = B.make(bid)
    config = dict(bench.space.get_default_configuration())
    out[bid] = [[bench.evaluate_at(config, f, np.random.default_rng(0)).loss,
                 bench.evaluate_at(config, f, np.random.default_rng(0)).cost] for f in fids]
print(json.dumps(out))
"""


def test_two_processes_evaluate_identically() -> None:
    """A fresh process (its own string-hash seed, imports and caches) and this one give the same losses and costs."""
    asks = {bid: [B.make(bid).fidelity_min, (B.make(bid).fidelity_min + B.make(bid).fidelity_max) / 2] for bid in WINE}
    proc = subprocess.run([sys.executable, "-c", _EVALS, json.dumps(asks)], capture_output=True, text=True, check=True)
    first = json.loads(proc.stdout)
    for bid, fids in asks.items():
        bench = B.make(bid)
        config = dict(bench.space.get_default_configuration())
        here = [[bench.evaluate_at(config, f, np.random.default_rng(0)).loss, bench.cost_at(f)] for f in fids]
        assert first[bid] == here, bid


_RUN = """
from hpo.optimizers import params_schema
from hpo.run.harness import RunSpec, run_to_file
from hpo.util.defaults import fill_defaults
spec = RunSpec("mf-rf-wine", "hyperband", "hyperband", seed=0, n_trials=2, n_init=0,
               params=fill_defaults(params_schema("hyperband"), {{}}))
run_to_file(spec, {out!r})
"""


def test_hyperband_run_writes_a_trajectory_another_process_reproduces(tmp_path: Path) -> None:
    from hpo.core.trajectory import read, read_meta

    paths = [tmp_path / f"run{i}.parquet" for i in range(2)]
    subprocess.run([sys.executable, "-c", _RUN.format(out=str(paths[0]))], capture_output=True, text=True, check=True)
    exec(_RUN.format(out=str(paths[1])), {})  # the same job in this process
    first, second = (read(p).to_pandas() for p in paths)
    columns = [c for c in first.columns if c not in TIMING]
    assert first[columns].equals(second[columns])
    bench = B.make("mf-rf-wine")
    assert first["fidelity"].between(2, 64).all() and first["fidelity"].nunique() > 1
    assert first["eval_cost"].tolist() == [bench.cost_at(f) for f in first["fidelity"]]  # SMAC's HB: fresh fits
    assert 2 - 1e-9 <= first["cum_eval_cost"].iloc[-1] < 3
    last = first.iloc[-1]
    assert last["regret"] == pytest.approx(bench.true_loss(json.loads(last["incumbent"])) - bench.reference.f_star)
    assert (first["regret"] >= 0).all() and (first["true_loss"] >= first["true_loss"].min()).all()
    meta = read_meta(paths[0])
    assert meta["f_star"] == bench.reference.f_star and meta["benchmark_info"]["fidelity"]["max"] == 64.0
