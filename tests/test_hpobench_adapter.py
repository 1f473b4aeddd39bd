"""The native HPOBench adapter, run for real against small benchmark classes defined here.

HPOBench is not on PyPI, so these classes stand in for it: they implement HPOBench's documented benchmark interface
(github.com/automl/HPOBench, hpobench/abstract_benchmark.py: ``__init__(rng, **kwargs)``,
``get_configuration_space(seed)``, ``get_fidelity_space(seed)``, ``get_meta_information()``,
``objective_function(configuration, fidelity, rng)`` and ``objective_function_test`` returning a dict with
``function_value``, ``cost`` and ``info``). The adapter imports them by class path like any HPOBench class, so the
whole code path (import, construction, space conversion, evaluation, harness, study validation) is the real one.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks.hpobench_native import HPOBenchNative, NativeBenchmarkError, to_configspace
from hpo.runner import RunSpec, run, run_to_file
from hpo.study import StudyConfigError, validate_study
from hpo.trajectory import read, read_meta


class QuadraticBenchmark:
    """A noisy 2-D quadratic with a budget fidelity, in HPOBench's interface (ConfigSpace 1.x space)."""

    def __init__(self, rng: int | None = None, center: float = 0.25, noise: float = 0.01) -> None:
        self.rng = np.random.RandomState(rng)
        self.center, self.noise = center, noise

    @staticmethod
    def get_configuration_space(seed: int | None = None) -> CS.ConfigurationSpace:
        cs = CS.ConfigurationSpace(seed=seed)
        cs.add([CS.UniformFloatHyperparameter("x", 0.0, 1.0), CS.UniformIntegerHyperparameter("n", 1, 64, log=True)])
        return cs

    @staticmethod
    def get_fidelity_space(seed: int | None = None) -> CS.ConfigurationSpace:
        cs = CS.ConfigurationSpace(seed=seed)
        cs.add(CS.UniformIntegerHyperparameter("budget", 1, 10, default_value=10))
        return cs

    @staticmethod
    def get_meta_information() -> dict[str, Any]:
        return {"name": "quadratic", "references": ("none",)}

    def objective_function(
        self, configuration: dict[str, Any], fidelity: dict[str, Any] | None = None, rng: int | None = None, **kw: Any
    ) -> dict[str, Any]:
        budget = (fidelity or {}).get("budget", 10)
        noise = np.random.RandomState(rng).normal(0, self.noise) if rng is not None else 0.0
        value = (configuration["x"] - self.center) ** 2 + 0.001 * configuration["n"] + noise
        return {"function_value": float(value), "cost": 0.5 * budget, "info": {"budget": budget}}

    def objective_function_test(self, configuration: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.objective_function(configuration, rng=0)


class LegacySpaceBenchmark(QuadraticBenchmark):
    """Ships its space as ConfigSpace 0.4-layout JSON, as HPOBench's container server sends it."""

    @staticmethod
    def get_configuration_space(seed: int | None = None) -> str:  # type: ignore[override]
        hps = [
            {"name": "x", "type": "uniform_float", "log": False, "lower": 0.0, "upper": 1.0, "default": 0.5, "q": None},
            {"name": "n", "type": "uniform_int", "log": True, "lower": 1, "upper": 64, "default": 8, "q": None},
        ]
        return json.dumps({"hyperparameters": hps, "conditions": [], "forbiddens": [], "json_format_version": 0.2})


class NoCostBenchmark(QuadraticBenchmark):
    def objective_function(self, configuration: dict[str, Any], **kw: Any) -> dict[str, Any]:  # type: ignore[override]
        return {"function_value": 1.0, "info": {}}


def _definition(cls: type = QuadraticBenchmark, **extra: Any) -> dict[str, Any]:
    return {"class": f"{__name__}.{cls.__name__}", "kwargs": {"center": 0.5}, "f_star": 0.0, "f_ref": 0.1, **extra}


def _study(**custom: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmarks": list(custom),
        "methods": {"rs": {"kind": "random_search"}},
        "seeds": [0],
        "n_trials": 4,
        "n_init": 2,
        "custom_benchmarks": custom,
    }


def test_objective_and_space_come_from_the_class() -> None:
    bench = B.make("quad", definition=_definition(fidelity={"budget": 3}))
    assert isinstance(bench, HPOBenchNative) and not B.needs_table("quad")
    assert bench.space == QuadraticBenchmark.get_configuration_space()
    config = {"x": 0.75, "n": 4}
    expected = QuadraticBenchmark(center=0.5).objective_function(config, {"budget": 3}, rng=0)
    ev = bench.evaluate(config, np.random.default_rng(1))
    assert (ev.loss, ev.cost) == (expected["function_value"], expected["cost"]) == (ev.loss, 1.5)
    assert bench.true_loss(config) == ev.loss  # noise-free = the value under true_seed (0)
    assert bench.reference.f_star == 0.0 and bench.reference.f_ref == 0.1
    assert bench.info["meta"] == {"name": "quadratic", "references": ["none"]}


def test_noisy_mode_passes_seeds_drawn_from_the_run_rng() -> None:
    bench = B.make("quad", noisy=True, definition=_definition(true_seed=5))
    config = {"x": 0.5, "n": 1}
    draws = [bench.evaluate(config, np.random.default_rng(s)).loss for s in range(5)]
    assert len(set(draws)) == 5
    assert bench.evaluate(config, np.random.default_rng(0)).loss == draws[0]
    assert bench.true_loss(config) == QuadraticBenchmark(center=0.5).objective_function(config, rng=5)["function_value"]


def test_legacy_json_space_is_converted_to_configspace_1() -> None:
    bench = B.make("legacy", definition=_definition(LegacySpaceBenchmark))
    assert isinstance(bench.space, CS.ConfigurationSpace)
    assert bench.space == QuadraticBenchmark.get_configuration_space()
    assert bench.space["x"].default_value == 0.5 and bench.space["n"].log
    with pytest.raises(NativeBenchmarkError, match="cannot convert a configuration space of type list"):
        to_configspace([1, 2])


def test_runs_through_harness_and_run_job(tmp_path: Path) -> None:
    definition = _definition()
    spec = RunSpec(
        benchmark="quad", method="rs", kind="random_search", seed=1, n_trials=6, n_init=2, benchmark_def=definition
    )
    out = run_to_file(spec, tmp_path / "run.parquet")
    df = read(out).to_pandas()
    assert len(df) == 6 and (df["eval_cost"] == 5.0).all() and (df["loss"] == df["true_loss"]).all()
    meta = read_meta(out)
    assert meta["spec"]["benchmark_def"] == definition and meta["benchmark_info"]["family"] == "hpobench_native"
    table, _ = run(spec, B.make("quad", definition=definition))
    assert table.column("loss").to_pylist() == df["loss"].tolist()  # reproducible from the spec alone


def test_study_accepts_custom_names() -> None:
    cfg = validate_study(_study(quad=_definition()))
    assert cfg["benchmarks"] == ["quad"] and cfg["custom_benchmarks"]["quad"]["f_ref"] == 0.1
    with pytest.raises(StudyConfigError, match="unknown benchmark 'quadd'; allowed: .*mlp-car.*quad$"):
        validate_study({**_study(quad=_definition()), "benchmarks": ["quadd"]})
    with pytest.raises(StudyConfigError, match="custom_benchmarks.svm-wine: name is a built-in benchmark id"):
        validate_study(_study(**{"svm-wine": _definition()}))


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (_definition(f_ref=-1.0), r"custom_benchmarks.b: b: f_ref \(-1.0\) must exceed f_star \(0.0\)"),
        (_definition(**{"class": "no_such_module.Bench"}), "cannot import module 'no_such_module'"),
        (_definition(**{"class": f"{__name__}.Missing"}), "has no class 'Missing'"),
        (_definition(**{"class": "pathlib.Path"}), "lacks HPOBench's objective_function, get_configuration_space"),
    ],
)
def test_bad_definitions_are_one_line_errors(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyConfigError, match=message) as err:
        validate_study(_study(b=definition))
    assert "\n" not in str(err.value)


def test_schema_rejects_incomplete_definitions() -> None:
    definition = _definition()
    del definition["f_star"]
    with pytest.raises(StudyConfigError, match="custom_benchmarks.b: 'f_star' is a required property"):
        validate_study(_study(b=definition))


def test_missing_cost_is_a_one_line_error() -> None:
    bench = B.make("nocost", definition=_definition(NoCostBenchmark))
    with pytest.raises(NativeBenchmarkError, match="nocost: objective_function returned no cost"):
        bench.evaluate({"x": 0.1, "n": 2}, np.random.default_rng(0))


@pytest.mark.skipif(importlib.util.find_spec("hpobench") is not None, reason="hpobench is installed here")
def test_missing_hpobench_stops_the_study_with_an_install_hint() -> None:
    definition = {"class": "hpobench.benchmarks.ml.tabular_benchmark.TabularBenchmark", "f_star": 0, "f_ref": 1}
    with pytest.raises(StudyConfigError) as err:
        validate_study(_study(tab=definition))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("config error: custom_benchmarks.tab: ")
    assert "hpobench package, which is not installed; install it with: pip install git+" in message
    # A definition the study does not use is not imported, so it cannot stop the study.
    validate_study({**_study(tab=definition), "benchmarks": ["synth-branin"]})
