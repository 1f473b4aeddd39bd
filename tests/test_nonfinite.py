"""A benchmark that returns NaN or ±inf is named by the harness, in one line, before any optimizer sees the value.

Before, Optuna's TPE failed with "values should not contain NaN", SMAC's random forest and GP with scikit-learn's
"Input y contains NaN" (and random search wrote a trajectory of NaN regrets): nothing named the benchmark. The
benchmarks here are real HPOBench-interface classes run through the native adapter (as in test_hpobench_adapter.py);
the workflow test runs real Snakemake with this module on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import pandas as pd
import pytest
import yaml
from conftest import snakemake

import hpo.benchmarks as B
from hpo.run.harness import NonFiniteLoss, RunSpec, run

HERE = Path(__file__).parent


class BadValueBenchmark:
    """A 2-D quadratic in HPOBench's interface whose ``bad_at``-th evaluation returns ``bad`` (e.g. "nan", "inf").

    ``bad`` is a string in the study file: a NaN parameter would never equal itself, so Snakemake's params trigger
    would rerun the job on every invocation.
    """

    def __init__(self, rng: int | None = None, bad: str | None = None, bad_at: int = 1) -> None:
        self.bad = None if bad is None else float(bad)
        self.bad_at, self.calls = bad_at, 0

    @staticmethod
    def get_configuration_space(seed: int | None = None) -> CS.ConfigurationSpace:
        cs = CS.ConfigurationSpace(seed=seed)
        cs.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0), CS.UniformIntegerHyperparameter("n", 1, 64, log=True)])
        return cs

    @staticmethod
    def get_fidelity_space(seed: int | None = None) -> CS.ConfigurationSpace:
        return CS.ConfigurationSpace(seed=seed)

    @staticmethod
    def get_meta_information() -> dict[str, Any]:
        return {"name": "bad value"}

    def objective_function(self, configuration: dict[str, Any], **kw: Any) -> dict[str, Any]:
        self.calls += 1
        if self.bad is not None and self.calls == self.bad_at:
            return {"function_value": self.bad, "cost": 1.0, "info": {}}
        return {"function_value": (configuration["x"] - 0.25) ** 2 + 0.001 * configuration["n"], "cost": 1.0}

    def objective_function_test(self, configuration: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.objective_function(configuration)


def _definition(**kwargs: Any) -> dict[str, Any]:
    return {"class": f"{__name__}.{BadValueBenchmark.__name__}", "kwargs": kwargs, "f_star": 0.0, "f_ref": 0.1}


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("kind", ["random_search", "optuna_tpe", "smac_rf", "smac_gp"])
def test_the_harness_refuses_a_non_finite_loss_before_the_optimizer(kind: str, bad: str) -> None:
    # Trial 3 is the first one the optimizer proposed (n_init 2): the value reaches neither its tell nor its model.
    definition = _definition(bad=bad, bad_at=3)
    spec = RunSpec(benchmark="wild", method=kind, kind=kind, seed=0, n_trials=5, n_init=2, benchmark_def=definition)
    with pytest.raises(NonFiniteLoss) as info:
        run(spec, B.make("wild", definition=definition))
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value, ValueError)
    assert re.fullmatch(
        rf"benchmark 'wild' returned a non-finite loss {bad} at trial 3 for configuration "
        r'\{"n": \d+, "x": [0-9.e-]+\}; an optimizer cannot learn from it: make the benchmark return a finite '
        r"loss for this configuration \(e\.g\. the worst value of its metric\)",
        message,
    ), message


def test_a_finite_run_of_the_same_benchmark_passes() -> None:
    definition = _definition()
    spec = RunSpec(benchmark="tame", method="tpe", kind="optuna_tpe", seed=0, n_trials=5, n_init=2)
    table, _ = run(spec, B.make("tame", definition=definition))
    assert table.num_rows == 5


@pytest.mark.slow
def test_workflow_names_the_benchmark_and_the_other_runs_still_aggregate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real Snakemake: the NaN benchmark's run job fails with the one line in its log and in the failure report;
    the other benchmark's runs finish (--keep-going) and aggregate into summary.csv without being recomputed."""
    study = {
        "benchmarks": ["tame", "wild"],
        "methods": {"tpe": {"kind": "optuna_tpe"}, "rf": {"kind": "smac_rf"}},
        "seeds": [0],
        "n_trials": 4,
        "n_init": 2,
        "budgets": [4],
        "custom_benchmarks": {"tame": _definition(), "wild": _definition(bad="nan", bad_at=3)},
    }
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    # Planning and the run jobs import this module by its class path, as they would import an HPOBench class.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))

    proc = snakemake(tmp_path, "results/summary.csv", "--configfile", str(path), "--keep-going", check=False)
    assert proc.returncode != 0, "the NaN benchmark's runs must fail the workflow"
    line = re.compile(
        r"hpo\.run\.harness\.NonFiniteLoss: benchmark 'wild' returned a non-finite loss nan at trial 3 for "
        r"configuration \{[^\n]*\}; an optimizer cannot learn from it: [^\n]*"
    )
    status = pd.read_csv(tmp_path / "logs" / "run_status.csv", keep_default_na=False)
    status = status.set_index(["benchmark", "method"])
    for method in ("tpe", "rf"):
        log = (tmp_path / "logs" / "runs" / "wild" / method / "0.log").read_text()
        assert line.search(log.splitlines()[-1]), log[-2000:]
        assert not (tmp_path / "results" / "runs" / "wild" / method / "0.parquet").exists()
        assert status.loc[("wild", method), "status"] == "failed"
        reason = status.loc[("wild", method), "reason"]
        assert "NonFiniteLoss: benchmark 'wild' returned a non-finite loss nan at trial 3" in reason
        assert status.loc[("tame", method), "status"] == "complete"
        assert "Input y contains NaN" not in log and "should not contain NaN" not in log

    # The finished runs aggregate as soon as the broken benchmark leaves the study: nothing is run again.
    study["benchmarks"] = ["tame"]
    path.write_text(yaml.safe_dump(study))
    fixed = snakemake(tmp_path, "results/summary.csv", "--configfile", str(path))
    assert "(Rule: run)" not in fixed.stdout, "the finished runs are reused, not recomputed"
    summary = pd.read_csv(tmp_path / "results" / "summary.csv")
    assert set(summary["benchmark"]) == {"tame"} and set(summary["method"]) == {"tpe", "rf"}
