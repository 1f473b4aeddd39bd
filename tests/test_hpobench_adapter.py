"""The native HPOBench adapter, run for real against small benchmark classes defined here.

HPOBench is not on PyPI, so these classes stand in for it: they implement HPOBench's documented benchmark interface
(github.com/automl/HPOBench, hpobench/abstract_benchmark.py: ``__init__(rng, **kwargs)``,
``get_configuration_space(seed)``, ``get_fidelity_space(seed)``, ``get_meta_information()``,
``objective_function(configuration, fidelity, rng)`` and ``objective_function_test`` returning a dict with
``function_value``, ``cost`` and ``info``). The adapter imports them by class path like any HPOBench class, so the
whole code path (import, construction, space conversion, evaluation, harness, study validation) is the real one.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest
import yaml
from conftest import ROOT

import hpo.benchmarks as B
from hpo.benchmarks.hpobench_native import (
    HPOBENCH_URL,
    HPOBenchNative,
    NativeBenchmarkError,
    resolve_class,
    takes_seed_argument,
    to_configspace,
)
from hpo.core.trajectory import read, read_meta
from hpo.run.harness import RunSpec, run, run_to_file
from hpo.study.config import StudyConfigError, validate_study


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


class InstanceFidelityBenchmark(QuadraticBenchmark):
    """Its fidelity space needs the instance, like HPOBench's TabularBenchmark (read from the data it loads)."""

    def __init__(self, rng: int | None = None, max_budget: int = 5, **kw: Any) -> None:
        super().__init__(rng, **kw)
        self.max_budget = max_budget

    def get_fidelity_space(self, seed: int | None = None) -> CS.ConfigurationSpace:  # type: ignore[override]
        cs = CS.ConfigurationSpace(seed=seed)
        cs.add(CS.UniformIntegerHyperparameter("budget", 1, self.max_budget, default_value=self.max_budget))
        return cs


class SeedArgBenchmark(QuadraticBenchmark):
    """Takes its noise from ``seed=`` and ignores ``rng``, like HPOBench's TabularBenchmark: ``seed=None`` averages
    the table's seeds, any other seed must be one of them."""

    TABLE_SEEDS = (665, 1319, 7222)

    def objective_function(  # type: ignore[override]
        self,
        configuration: dict[str, Any],
        fidelity: dict[str, Any] | None = None,
        rng: int | None = None,
        seed: int | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        seeds = self.TABLE_SEEDS if seed is None else (seed,)
        if not set(seeds) <= set(self.TABLE_SEEDS):
            raise ValueError(f"seed {seed} is not in the table")
        values = [self.value_at(configuration, s) for s in seeds]
        return {"function_value": float(np.mean(values)), "cost": 1.0, "info": {}}

    def value_at(self, configuration: dict[str, Any], seed: int) -> float:
        return (configuration["x"] - self.center) ** 2 + 0.01 * (seed % 7)


class FailingInitBenchmark(QuadraticBenchmark):
    def __init__(self, rng: int | None = None, **kw: Any) -> None:
        raise RuntimeError("data file not found\n(looked in ~/.local/share/hpobench)")


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
    with pytest.raises(StudyConfigError, match=r"unknown benchmark 'quadd'; did you mean 'quad'\?"):
        validate_study({**_study(quad=_definition()), "benchmarks": ["quadd"]})
    with pytest.raises(StudyConfigError, match="unknown benchmark 'nope'; allowed: .*mlp-car.*quad$"):
        validate_study({**_study(quad=_definition()), "benchmarks": ["nope"]})
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
    assert "hpobench package, which is not installed; install it with: pip install " in message
    assert message.endswith(f'pip install --no-deps --ignore-requires-python "hpobench @ {HPOBENCH_URL}"')
    # A definition the study does not use is not imported, so it cannot stop the study.
    validate_study({**_study(tab=definition), "benchmarks": ["synth-branin"]})


# --- Fidelity: checked against the benchmark's fidelity space before any job ------------------------------------


@pytest.mark.parametrize(
    ("cls", "fidelity", "message"),
    [
        (
            QuadraticBenchmark,
            {"budget": 30},
            "config error: custom_benchmarks.b.fidelity.budget: 30 is outside the benchmark's fidelity space "
            "(budget, Type: UniformInteger, Range: [1, 10], Default: 10)",
        ),
        (QuadraticBenchmark, {"epochs": 3}, "config error: custom_benchmarks.b.fidelity.epochs: unknown fidelity; "),
        (QuadraticBenchmark, {"budget": "max"}, "config error: custom_benchmarks.b.fidelity.budget: 'max' is outside"),
        (InstanceFidelityBenchmark, {"budget": 6}, "config error: custom_benchmarks.b.fidelity.budget: 6 is outside"),
    ],
)
def test_fidelity_outside_the_fidelity_space_is_a_config_error(cls: type, fidelity: dict, message: str) -> None:
    with pytest.raises(StudyConfigError) as err:
        validate_study(_study(b=_definition(cls, fidelity=fidelity)))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    if "unknown" in message:
        assert str(err.value).endswith("allowed: budget")


def test_fidelities_inside_the_space_pass_and_library_users_get_the_same_check() -> None:
    for cls, budget in ((QuadraticBenchmark, 10), (InstanceFidelityBenchmark, 5)):
        validate_study(_study(b=_definition(cls, fidelity={"budget": budget})))
    with pytest.raises(NativeBenchmarkError, match=r"^quad: fidelity.budget: 30 is outside the benchmark's fidelity"):
        B.make("quad", definition=_definition(fidelity={"budget": 30}))


def test_null_fidelity_is_the_default_fidelity_and_is_recorded() -> None:
    # The fidelity space's default, not its maximum: InstanceFidelityBenchmark's default is max_budget (3 here),
    # QuadraticBenchmark's objective sees fidelity=None and uses its own default.
    bench = B.make("inst", definition={**_definition(InstanceFidelityBenchmark), "kwargs": {"max_budget": 3}})
    assert bench.info["fidelity"] is None and bench.info["default_fidelity"] == {"budget": 3}
    assert B.make("quad", definition=_definition()).info["default_fidelity"] == {"budget": 10}
    assert "default_fidelity" not in B.make("q3", definition=_definition(fidelity={"budget": 3})).info


# --- Import and construction failures: one line naming the class -------------------------------------------------


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for modules written by a test; they are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_a_module_that_fails_to_import_is_one_line_naming_class_and_error(on_path: Path) -> None:
    (on_path / "broken_bench.py").write_text("import math\n\nSCALE = math.pi * undefined_name\n")
    with pytest.raises(StudyConfigError) as err:
        validate_study(_study(b=_definition(**{"class": "broken_bench.Bench"})))
    assert str(err.value) == (
        "config error: custom_benchmarks.b: class 'broken_bench.Bench': importing module 'broken_bench' failed: "
        "NameError: name 'undefined_name' is not defined"
    )


def test_a_constructor_that_fails_is_one_line() -> None:
    with pytest.raises(NativeBenchmarkError) as err:
        B.make("f", definition=_definition(FailingInitBenchmark))
    assert str(err.value) == (
        f"f: {__name__}.FailingInitBenchmark(**kwargs) failed: RuntimeError: data file not found "
        "(looked in ~/.local/share/hpobench)"
    )


# --- Importing hpobench must not reconfigure the importing process's logging --------------------------------------

# The first lines of HPOBench's hpobench/__init__.py (automl/HPOBench@47bf141f), which configure the root logger.
HPOBENCH_INIT = """import logging

_default_log_format = '[%(levelname)s] %(name)s at %(asctime)s --- %(message)s'
logging.basicConfig(format=_default_log_format, level=logging.WARNING)
root_logger = logging.getLogger("hpobench")
"""


def write_fake_hpobench(root: Path) -> str:
    """A package named ``hpobench`` (HPOBench's logging setup + QuadraticBenchmark); returns the class path."""
    (root / "hpobench" / "benchmarks").mkdir(parents=True)
    (root / "hpobench" / "__init__.py").write_text(HPOBENCH_INIT)
    (root / "hpobench" / "benchmarks" / "__init__.py").write_text("")
    source = inspect.getsource(QuadraticBenchmark)
    header = "from typing import Any\n\nimport ConfigSpace as CS\nimport numpy as np\n\n\n"
    (root / "hpobench" / "benchmarks" / "toy.py").write_text(header + source)
    return "hpobench.benchmarks.toy.QuadraticBenchmark"


def test_importing_hpobench_leaves_the_root_logger_alone(on_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class_path = write_fake_hpobench(on_path)
    root = logging.getLogger()
    # As in a fresh process (pytest's own capture handlers would make basicConfig a no-op).
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", logging.INFO)
    cls = resolve_class(class_path)
    assert sys.modules["hpobench"].root_logger.name == "hpobench"  # HPOBench's __init__ ran ...
    assert root.handlers == [] and root.level == logging.INFO  # ... and its basicConfig was undone
    cfg = validate_study(_study(toy={**_definition(), "class": class_path}))
    assert cfg["benchmarks"] == ["toy"] and cls.__module__ == "hpobench.benchmarks.toy"


@pytest.mark.slow
def test_snakemake_prints_each_message_once_with_hpobench_imported(tmp_path: Path) -> None:
    class_path = write_fake_hpobench(tmp_path / "pkgs")
    study = {**_study(toy={**_definition(), "class": class_path}), "budgets": [3]}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path / "work"), "-n"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "pkgs")}
    proc = subprocess.run(
        [*cmd, "--configfile", str(tmp_path / "study.yaml")], capture_output=True, text=True, env=env, timeout=300
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert out.count("Building DAG of jobs...") == 1, out[-3000:]
    assert "--- Building DAG" not in out  # HPOBench's format never reaches Snakemake's messages


# --- Noise: `noisy: true` reaches objectives that read `seed=`, or the study is refused ---------------------------


def test_seed_argument_is_detected_through_hpobench_style_decorators() -> None:
    def check_parameters(f: Any) -> Any:  # HPOBench's decorator: functools.wraps with a subset of `assigned`
        @functools.wraps(f, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def wrapper(self: Any, configuration: Any, fidelity: Any = None, **kwargs: Any) -> Any:
            return f(self, configuration, fidelity, **kwargs)

        return wrapper

    class Wrapped(SeedArgBenchmark):
        objective_function = check_parameters(SeedArgBenchmark.objective_function)

    assert takes_seed_argument(SeedArgBenchmark) and takes_seed_argument(Wrapped)
    assert not takes_seed_argument(QuadraticBenchmark)  # `**kw` is no seed the adapter could know of


def test_noisy_study_of_a_seed_argument_benchmark_needs_noise_seeds() -> None:
    with pytest.raises(StudyConfigError) as err:
        validate_study({**_study(t=_definition(SeedArgBenchmark)), "noisy": True})
    message = str(err.value)
    assert message.startswith(f"config error: custom_benchmarks.t: noisy: true, but {__name__}.SeedArgBenchmark")
    assert "takes its noise from `seed=`" in message and "noise_seeds" in message and "\n" not in message
    validate_study(_study(t=_definition(SeedArgBenchmark)))  # noise-free studies need nothing
    with pytest.raises(StudyConfigError, match=r"custom_benchmarks.q: noise_seeds: .* has no `seed` parameter"):
        validate_study(_study(q=_definition(noise_seeds=[1, 2])))


def test_noisy_draws_reach_a_seed_argument_benchmark() -> None:
    seeds = list(SeedArgBenchmark.TABLE_SEEDS)
    definition = _definition(SeedArgBenchmark, noise_seeds=seeds)
    validate_study({**_study(t=definition), "noisy": True})
    bench = B.make("t", noisy=True, definition=definition)
    config = {"x": 0.75, "n": 4}
    table = SeedArgBenchmark(center=0.5)
    per_seed = {table.value_at(config, s) for s in seeds}
    draws = [bench.evaluate(config, np.random.default_rng(r)).loss for r in range(30)]
    assert set(draws) == per_seed  # every draw is one table seed's value, and all of them occur
    assert bench.true_loss(config) == table.objective_function(config)["function_value"]  # the seed-less mean
    assert B.make("t", definition=definition).evaluate(config, np.random.default_rng(0)).loss == bench.true_loss(config)
