"""Native HPOBench adapter: any class with HPOBench's benchmark interface, named in the study config, as a Benchmark.

A study names it under ``custom_benchmarks`` (see ``config/schema.yaml``)::

    custom_benchmarks:
      tab_svm_31:
        class: hpobench.benchmarks.ml.tabular_benchmark.TabularBenchmark   # or "module:Class"
        kwargs: {model: svm, task_id: 31}
        fidelity: null            # passed to objective_function; null = the benchmark's maximal fidelity
        f_star: 0.0               # reference values for normalized regret (the adapter cannot know them)
        f_ref: 0.2
    benchmarks: [tab_svm_31]

The interface used is HPOBench's ``AbstractBenchmark`` (github.com/automl/HPOBench, ``hpobench/abstract_benchmark.py``):
``cls(**kwargs)``, ``get_configuration_space(seed)``, ``get_meta_information()`` and
``objective_function(configuration, fidelity, rng) -> {"function_value", "cost", "info"}``. Loss is
``function_value``, cost is ``cost``; ``rng`` receives the seed that :mod:`hpo.benchmarks.seeded` chooses, so the
true loss is the value under ``true_seed`` (default 0) and noisy runs draw seeds from the run's rng.

Any importable class works (the import path is all the adapter needs), which is how the tests run this code path
without HPOBench, which is not on PyPI. The configuration space is used as is when it already is a ConfigSpace 1.x
space and converted otherwise: HPOBench's container benchmarks ship spaces as ConfigSpace JSON, whose older
(0.4-0.6) layout the 1.x reader accepts once ``default`` is renamed ``default_value``.
"""

from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.seeded import SeededBenchmark

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

INSTALL_HINT = "pip install git+https://github.com/automl/HPOBench.git"
REQUIRED_METHODS = ("objective_function", "get_configuration_space")
DEFINITION_KEYS = {"class", "kwargs", "fidelity", "f_star", "f_ref", "f_worst", "true_seed"}


class NativeBenchmarkError(ValueError):
    """A custom benchmark that cannot be built; the message is one line naming the benchmark and the problem."""


def split_class_path(path: str) -> tuple[str, str]:
    """``"pkg.mod:Class"`` or ``"pkg.mod.Class"`` -> (module, attribute)."""
    module, sep, name = path.partition(":")
    if not sep:
        module, _, name = path.rpartition(".")
    if not module or not name:
        raise NativeBenchmarkError(f"class {path!r}: expected 'package.module.Class' or 'package.module:Class'")
    return module, name


def resolve_class(path: str) -> type:
    """Import the benchmark class at ``path``; one-line errors say what is missing (and how to install HPOBench)."""
    module, name = split_class_path(path)
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = (err.name or module).split(".")[0]
        if missing == "hpobench":
            raise NativeBenchmarkError(
                f"class {path!r} needs the hpobench package, which is not installed; install it with: {INSTALL_HINT}"
            ) from None
        raise NativeBenchmarkError(f"class {path!r}: cannot import module {err.name or module!r}") from None
    cls = getattr(mod, name, None)
    if not isinstance(cls, type):
        raise NativeBenchmarkError(f"class {path!r}: module {module!r} has no class {name!r}")
    missing_methods = [m for m in REQUIRED_METHODS if not callable(getattr(cls, m, None))]
    if missing_methods:
        raise NativeBenchmarkError(f"class {path!r} lacks HPOBench's {', '.join(missing_methods)}")
    return cls


def to_configspace(space: Any) -> ConfigurationSpace:
    """A ConfigSpace 1.x space from a 1.x space (returned as is) or ConfigSpace JSON (text or dict, any version)."""
    from ConfigSpace import ConfigurationSpace

    if isinstance(space, ConfigurationSpace):
        return space
    if isinstance(space, str):
        space = json.loads(space)
    if not isinstance(space, dict) or "hyperparameters" not in space:
        raise NativeBenchmarkError(f"cannot convert a configuration space of type {type(space).__name__}")
    hps = []
    for hp in space["hyperparameters"]:
        hp = dict(hp)
        if "default" in hp and "default_value" not in hp:
            hp["default_value"] = hp.pop("default")  # ConfigSpace < 1.0 JSON
        hps.append(hp)
    return ConfigurationSpace.from_serialized_dict({**space, "hyperparameters": hps})


@dataclass(frozen=True)
class NativeDefinition:
    """A ``custom_benchmarks`` entry of the study config, checked."""

    class_path: str
    kwargs: dict[str, Any]
    fidelity: dict[str, Any] | None
    f_star: float
    f_ref: float
    f_worst: float
    true_seed: int

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> NativeDefinition:
        """Parse a config entry; one-line errors name the benchmark and the key."""
        unknown = sorted(set(d) - DEFINITION_KEYS)
        if unknown:
            raise NativeBenchmarkError(f"{name}: unknown keys {unknown}; allowed: {', '.join(sorted(DEFINITION_KEYS))}")
        for key in ("class", "f_star", "f_ref"):
            if key not in d:
                raise NativeBenchmarkError(f"{name}: missing required key {key!r}")
        f_star, f_ref = float(d["f_star"]), float(d["f_ref"])
        if not f_ref > f_star:
            raise NativeBenchmarkError(f"{name}: f_ref ({f_ref}) must exceed f_star ({f_star})")
        return cls(
            class_path=str(d["class"]),
            kwargs=dict(d.get("kwargs") or {}),
            fidelity=d.get("fidelity"),
            f_star=f_star,
            f_ref=f_ref,
            f_worst=float(d.get("f_worst", math.nan)),
            true_seed=int(d.get("true_seed", 0)),
        )


def _json_safe(value: Any) -> Any:
    """Meta information as plain JSON (it lands in the trajectory's metadata); unknown objects become strings."""
    return json.loads(json.dumps(value, default=str))


@dataclass
class HPOBenchNative(SeededBenchmark):
    """An HPOBench-interface benchmark behind this project's Benchmark interface."""

    definition: NativeDefinition | None = None
    _bench: Any = field(default=None, init=False, repr=False)
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        d = self.definition
        if d is None:
            raise NativeBenchmarkError(f"{self.id}: no definition given")
        self.true_seed = d.true_seed
        cls = resolve_class(d.class_path)
        try:
            self._bench = cls(**d.kwargs)
        except TypeError as err:
            raise NativeBenchmarkError(f"{self.id}: {d.class_path}(**kwargs) failed: {err}") from None
        meta = self._bench.get_meta_information() if hasattr(self._bench, "get_meta_information") else {}
        self.info = {
            "family": "hpobench_native",
            "class": d.class_path,
            "kwargs": _json_safe(d.kwargs),
            "fidelity": _json_safe(d.fidelity),
            "loss": "HPOBench function_value",
            "description": f"{d.class_path} via the native HPOBench adapter",
            "meta": _json_safe(meta),
            "true_seed": d.true_seed,
            "noisy": self.noisy,
        }

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            self._space = to_configspace(self._bench.get_configuration_space())
        return self._space

    def run_seeded(self, config: dict[str, Any], seed: int) -> Evaluation:
        assert self.definition is not None
        result = self._bench.objective_function(configuration=config, fidelity=self.definition.fidelity, rng=seed)
        missing = [k for k in ("function_value", "cost") if k not in result]
        if missing:
            raise NativeBenchmarkError(f"{self.id}: objective_function returned no {', '.join(missing)}")
        return Evaluation(loss=float(result["function_value"]), cost=float(result["cost"]))

    @property
    def reference(self) -> Reference:
        assert self.definition is not None
        d = self.definition
        return Reference(f_star=d.f_star, f_ref=d.f_ref, f_worst=d.f_worst)
