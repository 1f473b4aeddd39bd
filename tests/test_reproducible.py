"""A run reproduces its trajectory in any process, whatever the process's string-hash seed.

SMAC 2.4.1's local search returned its start points as ``list(set(configurations))``, and a configuration's hash is
its repr's string hash, which ``PYTHONHASHSEED`` randomizes per process: the same SMAC run in two processes differed
from the first model-based trial on, while a comparison inside one process (tests/test_optimizers.py) could never
see it. ``hpo.optimizers.smac_order.order_independent`` fixes the order; these tests prove it with real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ConfigSpace import ConfigurationSpace, Float, Integer
from conftest import ROOT
from smac.acquisition.function import EI
from smac.acquisition.maximizer import LocalAndSortedRandomSearch, LocalSearch, RandomSearch

import hpo.benchmarks as B
from hpo.core.trajectory import read, read_meta
from hpo.optimizers.smac_order import OrderedLocalSearch, order_independent

KINDS = ["smac_rf", "smac_gp", "random_search", "optuna_tpe"]  # the last two: controls that never depended on it
HASH_SEEDS = ("0", "4242")
TIMING = {"optimizer_time", "wall_time", "llm_latency"}  # the only columns allowed to differ between processes
# 7 model-based trials: without the fix SMAC-RF and SMAC-GP differ from trial 6 on (both hash seeds, mlp-credit_g);
# trials 11-12 include the GP's later phase. 20 trials cost the GP 3x the time and found nothing more.
N_TRIALS, N_INIT = 12, 5


@pytest.mark.slow
def test_every_kind_is_identical_in_processes_with_different_hash_seeds(tmp_path: Path, table_dir: Path) -> None:
    """``python -m hpo run`` for each kind under PYTHONHASHSEED 0 and 4242: every column but timing is equal."""
    B.make("mlp-credit_g")  # convert the table once, before eight processes want it
    procs = {}
    for kind in KINDS:
        for hash_seed in HASH_SEEDS:
            out = tmp_path / f"{kind}-{hash_seed}.parquet"
            cmd = [sys.executable, "-m", "hpo", "run", "mlp-credit_g", kind, "--seed", "0"]
            cmd += ["--n-trials", str(N_TRIALS), "--n-init", str(N_INIT), "--out", str(out)]
            env = {**os.environ, "PYTHONHASHSEED": hash_seed}
            procs[kind, hash_seed] = (out, subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True))
    for (kind, hash_seed), (_, proc) in procs.items():
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, f"{kind} under PYTHONHASHSEED={hash_seed}: {err[-2000:]}"

    for kind in KINDS:
        (a, _), (b, _) = procs[kind, HASH_SEEDS[0]], procs[kind, HASH_SEEDS[1]]
        ta, tb = read(a), read(b)
        assert ta.num_rows == tb.num_rows == N_TRIALS
        assert ta.schema == tb.schema
        if kind.startswith("smac"):  # the proposals are the model's, not all initial design
            assert ta.column("origin").to_pylist()[N_INIT:] == ["optimizer"] * (N_TRIALS - N_INIT)
        for name in ta.column_names:
            if name not in TIMING:
                assert ta.column(name).equals(tb.column(name)), f"{kind}: column {name} differs between processes"
        assert read_meta(a) == read_meta(b), f"{kind}: the metadata differs between processes"


def _space() -> ConfigurationSpace:
    return ConfigurationSpace(seed=1, space={"x": Float("x", (0.0, 1.0)), "n": Integer("n", (1, 64))})


def test_local_search_start_points_keep_their_first_seen_order() -> None:
    """Inside one process: the start points come back deduplicated, in first-seen order, not in set order."""
    space = _space()
    configs = space.sample_configuration(12)
    search = order_independent(LocalSearch(space, acquisition_function=EI(), seed=0))
    assert type(search) is OrderedLocalSearch
    additional = [(0.0, c) for c in [configs[3], *configs, configs[0], configs[7]]]  # repeats are dropped
    points = search._get_init_points_from_previous_configs([], 10, additional)
    assert points == [configs[3], *configs[:3], *configs[4:]]
    # SMAC's own result holds the same points: the search is SMAC's, only the order is fixed.
    assert set(points) == set(LocalSearch._get_init_points_from_previous_configs(search, [], 10, additional))


def test_the_facades_maximizers_are_made_order_independent() -> None:
    from smac import BlackBoxFacade, HyperparameterOptimizationFacade, Scenario

    scenario = Scenario(_space(), deterministic=True, n_trials=5, seed=3)
    for facade in (HyperparameterOptimizationFacade, BlackBoxFacade):
        default = facade.get_acquisition_maximizer(scenario)
        meta = default.meta
        fixed = order_independent(default)
        assert isinstance(fixed, LocalAndSortedRandomSearch) and type(fixed._local_search) is OrderedLocalSearch
        # Every setting the facade chose is kept (only the local search's class name differs).
        meta["local_search"]["name"] = "OrderedLocalSearch"
        assert fixed.meta == meta

    plain = RandomSearch(_space(), seed=0)  # no local search, no set: left as it is
    assert order_independent(plain) is plain and type(plain) is RandomSearch

    class Unknown(LocalSearch):
        pass

    with pytest.raises(TypeError, match="Unknown is not SMAC's LocalSearch; .* extend OrderedLocalSearch for it"):
        order_independent(Unknown(_space(), seed=0))


def test_a_configuration_hash_is_a_string_hash(tmp_path: Path) -> None:
    """Why the fix is needed: the same configuration hashes differently in two processes (ConfigSpace hashes its
    repr), so any set of configurations iterates in a process-dependent order."""
    code = (
        "from ConfigSpace import Configuration, ConfigurationSpace, Float\n"
        "s = ConfigurationSpace(space={'x': Float('x', (0.0, 1.0))})\n"
        "print(hash(Configuration(s, values={'x': 0.5})))\n"
    )
    hashes = {
        subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": h}, capture_output=True, text=True
        ).stdout
        for h in HASH_SEEDS
    }
    assert len(hashes) == 2
