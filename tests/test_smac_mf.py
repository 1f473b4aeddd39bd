"""SMAC3's multi-fidelity kinds (``hyperband``, ``smac_mf``) and ``dehb`` through the harness: Hyperband's
brackets and promotions read from the trajectory's rows, the BOHB-style facade's budgets, identical trajectories in
processes with different string-hash seeds, and a one-line refusal on a benchmark without fidelity. A toy benchmark
(fidelity range [1, 9], cost f / 9, a low-fidelity bias) keeps every run small."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.multi_fidelity import MultiFidelityBenchmark
from hpo.optimizers import params_schema
from hpo.run.harness import RunSpec, run
from hpo.util.defaults import fill_defaults

TESTS = Path(__file__).resolve().parent
TIMING = {"optimizer_time", "wall_time", "llm_latency"}  # the only columns allowed to differ between processes


@dataclass
class Quad(MultiFidelityBenchmark):
    """loss = (x - 0.3)^2 + (y - 0.6)^2 + ((n - 20) / 64)^2 + (1 - f / 9) * 0.5 * x, f in [1, 9], cost f / 9."""

    id: str = "toy-mf"
    fidelity_min: float = 1.0
    fidelity_max: float = 9.0
    fidelity_name: str = "f"
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.info = {"fidelity": {"name": "f", "min": self.fidelity_min, "max": self.fidelity_max}}

    @property
    def space(self) -> Any:
        if self._space is None:
            from ConfigSpace import ConfigurationSpace, Float, Integer

            space = {"x": Float("x", (0.0, 1.0)), "y": Float("y", (0.0, 1.0)), "n": Integer("n", (1, 64))}
            self._space = ConfigurationSpace(seed=0, space=space)
        return self._space

    def _loss(self, config: Any, f: float) -> float:
        x, y, n = float(config["x"]), float(config["y"]), int(config["n"])
        return (x - 0.3) ** 2 + (y - 0.6) ** 2 + ((n - 20) / 64) ** 2 + (1 - f / 9) * 0.5 * x

    def evaluate_at(self, config: Any, fidelity: float, rng: np.random.Generator) -> Evaluation:
        f = self.check_fidelity(fidelity)
        return Evaluation(self._loss(config, f), f / 9)

    def true_loss(self, config: Any) -> float:
        return self._loss(config, 9.0)

    @property
    def reference(self) -> Reference:
        return Reference(0.0, 0.2, 1.5)


def _spec(kind: str, n_trials: int, seed: int = 0) -> RunSpec:
    params = fill_defaults(params_schema(kind), {})
    return RunSpec("toy-mf", kind, kind, seed=seed, n_trials=n_trials, n_init=0, params=params)


def test_hyperband_follows_the_brackets_and_promotes_the_best_third() -> None:
    """Range [1, 9], eta 3: bracket 0 races 9 configs at 1 -> 3 at 3 -> 1 at 9, bracket 1 5 new at 3 -> 1 at 9,
    bracket 2 3 new at 9; each rung after the first holds exactly the best 1/eta of the rung below."""
    df = run(_spec("hyperband", 9), Quad())[0].to_pandas()
    fid, configs, losses = df["fidelity"].tolist(), df["config"].tolist(), df["loss"].tolist()
    rungs = [(0, 9), (9, 12), (12, 13), (13, 18), (18, 19), (19, 22)]  # row ranges of the rungs in order
    assert fid[:22] == [1.0] * 9 + [3.0] * 3 + [9.0] + [3.0] * 5 + [9.0] + [9.0] * 3
    assert set(df["origin"]) == {"optimizer"}  # no shared initial design: Hyperband makes its own

    def best(rows: tuple[int, int], k: int) -> set[str]:
        ranked = sorted(range(*rows), key=losses.__getitem__)
        return {configs[i] for i in ranked[:k]}

    for below, above in [(rungs[0], rungs[1]), (rungs[1], rungs[2]), (rungs[3], rungs[4])]:
        promoted = {configs[i] for i in range(*above)}
        assert promoted == best(below, above[1] - above[0])
    new = [set(configs[slice(*rungs[i])]) for i in (0, 3, 5)]  # each bracket starts from new configurations
    assert not (new[0] & new[1]) and not (new[2] & (new[0] | new[1]))
    # The budget is normalized cost: 9 full evaluations' worth, the last one may overshoot by less than one.
    assert 9 - 1e-9 <= df["cum_eval_cost"].iloc[-1] < 10
    assert df["eval_cost"].tolist() == pytest.approx([f / 9 for f in fid])


def test_smac_mf_runs_with_several_budgets() -> None:
    df = run(_spec("smac_mf", 12), Quad())[0].to_pandas()
    assert {1.0, 3.0, 9.0} <= set(df["fidelity"]) <= {1.0, 3.0, 9.0}
    assert 12 - 1e-9 <= df["cum_eval_cost"].iloc[-1] < 13
    assert df["config"].nunique() > 9  # the model proposes new configurations for later brackets
    assert (df["fidelity"] == 9.0).any() and np.isfinite(df["regret"].iloc[-1])


_CHILD = """
import json, sys
sys.path.insert(0, {tests!r})
from test_smac_mf import Quad, _spec
from hpo.run.harness import run
table = run(_spec({kind!r}, {n}, seed=3), Quad())[0]
print(json.dumps({{name: [repr(v) for v in table.column(name).to_pylist()] for name in table.column_names}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "n_trials"), [("hyperband", 9), ("smac_mf", 14), ("dehb", 9)])
def test_identical_in_processes_with_different_hash_seeds(kind: str, n_trials: int) -> None:
    """Without :func:`hpo.optimizers.smac_order.order_independent` the ``smac_mf`` runs differ here."""
    code = _CHILD.format(tests=str(TESTS), kind=kind, n=n_trials)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": h},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in ("0", "4242")
    ]
    tables = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        tables.append(json.loads(out.strip().splitlines()[-1]))
    a, b = tables
    assert len(a["trial"]) > n_trials and set(a) == set(b)
    for name in set(a) - TIMING:
        assert a[name] == b[name], f"{kind}: column {name} differs between processes"


@pytest.mark.parametrize("kind", ["hyperband", "smac_mf", "dehb"])
def test_refused_on_a_benchmark_without_fidelity(kind: str) -> None:
    spec = _spec(kind, 3)
    spec.benchmark = "synth-branin"
    with pytest.raises(ValueError, match=f"method kind {kind} needs a multi-fidelity benchmark") as err:
        run(spec, B.make("synth-branin"))
    assert "\n" not in str(err.value)
