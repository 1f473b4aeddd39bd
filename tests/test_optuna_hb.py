"""``optuna_hb``: Optuna TPE + HyperbandPruner on a toy multi-fidelity benchmark (fidelity 1..9, cost f / 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import ROOT
from test_multi_fidelity_harness import Quad

from hpo.optimizers import params_schema
from hpo.optimizers.optuna_hb import rung_ladder
from hpo.run.harness import RunSpec, run
from hpo.util.defaults import fill_defaults

LADDER = [1.0, 3.0, 9.0]  # fmin * 3**k below fmax, then fmax


@dataclass
class QuadMF(Quad):
    info: dict[str, Any] = field(default_factory=lambda: {"fidelity": {"name": "fidelity", "min": 1.0, "max": 9.0}})


def _run(n_trials: int = 8, seed: int = 0) -> Any:
    spec = RunSpec("toy-mf", "hb", "optuna_hb", seed=seed, n_trials=n_trials, n_init=0)
    spec.params = fill_defaults(params_schema("optuna_hb"), {"n_startup_trials": 3})
    return run(spec, QuadMF())[0].to_pandas()


def test_the_ladder() -> None:
    assert [f for _, f in rung_ladder(1, 100, 3)] == [1, 3, 9, 27, 81, 100]
    assert rung_ladder(0.1, 1.0, 3) == [(1, 0.1), (3, 0.3), (9, 0.9), (10, 1.0)]
    assert rung_ladder(2, 2, 3) == [(1, 2.0)]


def test_rows_follow_the_ladder_continue_and_pay_the_increment() -> None:
    df = _run()
    assert set(df["fidelity"]) <= set(LADDER) and (df["fidelity"] == 9).any() and (df["fidelity"] == 1).any()
    live: dict[str, float] | None = None  # the configuration being continued and its last fidelity
    stopped = set()
    for cfg, f, cost in zip(df["config"], df["fidelity"], df["eval_cost"], strict=True):
        k = LADDER.index(f)
        if k == 0:  # a new trial; the previous one was pruned unless it reached the top rung
            if live is not None and live["f"] < 9:
                stopped.add(live["cfg"])
            assert cfg not in stopped and cost == pytest.approx(1 / 9)
            live = {"cfg": cfg, "f": f}
        else:  # continues the previous row's configuration at the next rung, charged the increment
            assert live is not None and cfg == live["cfg"] and live["f"] == LADDER[k - 1]
            assert cost == pytest.approx((f - LADDER[k - 1]) / 9)
            live["f"] = f
    assert stopped, "the pruner stopped no trial"
    assert df["cum_eval_cost"].iloc[-2] < 8 <= df["cum_eval_cost"].iloc[-1] + 1e-9


def test_identical_in_processes_with_different_hash_seeds() -> None:
    code = (
        "import sys, json; sys.path.insert(0, 'tests'); from test_optuna_hb import _run; "
        "df = _run(); print(json.dumps(df.drop(columns=['optimizer_time', 'wall_time']).to_dict('list'), default=str))"
    )
    outs = []
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]


def test_refuses_a_benchmark_without_fidelity(table_dir: Any) -> None:
    import hpo.benchmarks as B

    spec = RunSpec("synth-branin", "hb", "optuna_hb", seed=0, n_trials=3, n_init=0)
    spec.params = fill_defaults(params_schema("optuna_hb"), {})
    with pytest.raises(ValueError, match=r"^method kind optuna_hb needs a multi-fidelity benchmark; [^\n]+$"):
        run(spec, B.make("synth-branin"))
