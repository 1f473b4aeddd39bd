"""Native HPOBench adapter: any class with HPOBench's benchmark interface, named in the study config, as a Benchmark.

A study names it under ``custom_benchmarks`` (see ``hpo/config.schema.yaml``)::

    custom_benchmarks:
      tab_svm_31:
        class: hpobench.benchmarks.ml.tabular_benchmark.TabularBenchmark   # or "module:Class"
        kwargs: {model: svm, task_id: 31}
        fidelity: null            # passed to objective_function; null = the benchmark's *default* fidelity
        f_star: 0.0               # reference values for normalized regret (the adapter cannot know them)
        f_ref: 0.2
        noise_seeds: null         # only for objectives that take noise from ``seed=`` (below)
    benchmarks: [tab_svm_31]

The interface used is HPOBench's ``AbstractBenchmark`` (github.com/automl/HPOBench, ``hpobench/abstract_benchmark.py``):
``cls(**kwargs)``, ``get_configuration_space(seed)``, ``get_meta_information()`` and
``objective_function(configuration, fidelity, rng) -> {"function_value", "cost", "info"}``. Loss is
``function_value``, cost is ``cost``; ``rng`` receives the seed that :mod:`hpo.benchmarks.seeded` chooses, so the
true loss is the value under ``true_seed`` (default 0) and noisy runs draw seeds from the run's rng.

What the study validates before any job (:func:`check_definition`) is done by the helpers of
:mod:`hpo.benchmarks.hpobench_checks` (import, fidelity, noise), so a mistake costs one line, not every run.

Any importable class works (the import path is all the adapter needs), which is how the tests run this code path
without HPOBench, which is not on PyPI. The configuration space is used as is when it already is a ConfigSpace 1.x
space and converted otherwise: HPOBench's container benchmarks ship spaces as ConfigSpace JSON, whose older
(0.4-0.6) layout the 1.x reader accepts once ``default`` is renamed ``default_value``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.hpobench_checks import (
    HPOBENCH_URL,
    INSTALL_HINT,
    FidelityError,
    NativeBenchmarkError,
    check_fidelity,
    check_noise,
    construct,
    fidelity_space,
    has_static_fidelity_space,
    resolve_class,
    takes_seed_argument,
    to_configspace,
)
from hpo.benchmarks.seeded import SeededBenchmark

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

# Re-exported: the study's validation and the tests import these from the adapter.
__all__ = [
    "HPOBENCH_URL",
    "INSTALL_HINT",
    "FidelityError",
    "HPOBenchNative",
    "NativeBenchmarkError",
    "NativeDefinition",
    "check_definition",
    "resolve_class",
    "takes_seed_argument",
    "to_configspace",
]

DEFINITION_KEYS = {"class", "kwargs", "fidelity", "f_star", "f_ref", "f_worst", "true_seed", "noise_seeds"}


def check_definition(name: str, definition: dict[str, Any], noisy: bool) -> None:
    """Everything about a ``custom_benchmarks`` entry that can be checked before any job runs.

    Import, noise handling, and the fidelity against the fidelity space (which costs one construction of the
    benchmark only when ``get_fidelity_space`` needs an instance and a fidelity is given).
    """
    _checked(NativeDefinition.from_dict(name, definition), noisy, build=False)


def _checked(d: NativeDefinition, noisy: bool, *, build: bool) -> tuple[type, Any, Any]:
    """Resolve the class, check its noise handling and the fidelity against its fidelity space.

    Returns (class, instance, fidelity space). The instance is built when ``build`` is set (and returned), else only
    when a fidelity is given and the fidelity space needs an instance; without either, no space is looked up.
    """
    cls = resolve_class(d.class_path)
    check_noise(d.class_path, cls, noisy, d.noise_seeds)
    bench = construct(d.class_path, cls, d.kwargs) if build else None
    space = None
    if bench is not None or d.fidelity is not None:
        owner = bench if bench is not None else cls
        if bench is None and not has_static_fidelity_space(cls):
            owner = construct(d.class_path, cls, d.kwargs)
        space = fidelity_space(owner)
        if d.fidelity is not None and space is not None:
            check_fidelity(d.fidelity, space)
    return cls, bench, space


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
    noise_seeds: tuple[int, ...] | None = None

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
            noise_seeds=tuple(int(s) for s in d["noise_seeds"]) if d.get("noise_seeds") else None,
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
    _seed_argument: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        d = self.definition
        if d is None:
            raise NativeBenchmarkError(f"{self.id}: no definition given")
        self.true_seed = d.true_seed
        try:
            cls, self._bench, fspace = _checked(d, self.noisy, build=True)
            self._seed_argument = takes_seed_argument(cls)
        except FidelityError as err:
            raise NativeBenchmarkError(f"{self.id}: fidelity.{err.key}: {err}") from None
        except NativeBenchmarkError as err:
            raise NativeBenchmarkError(f"{self.id}: {err}") from None
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
            "data_card": {"model": d.class_path, "metric": "HPOBench function_value"},
        }
        if d.fidelity is None and fspace is not None:
            # What `fidelity: null` ran at: the benchmark's default, which need not be its maximum.
            defaults = fspace.get_default_configuration()
            self.info["default_fidelity"] = {k: v.item() if hasattr(v, "item") else v for k, v in defaults.items()}
        if self._seed_argument:
            self.info["noise_seeds"] = list(d.noise_seeds or ())

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            self._space = to_configspace(self._bench.get_configuration_space())
        return self._space

    def run_seeded(self, config: dict[str, Any], seed: int) -> Evaluation:
        """Evaluate with ``rng=seed``; objectives that read ``seed=`` get one of ``noise_seeds`` for a noisy draw.

        The noise-free evaluation (``seed == true_seed``) passes no ``seed=``, so such an objective returns its own
        noise-free value (HPOBench's ``TabularBenchmark``: the mean over the table's seeds).
        """
        d = self.definition
        assert d is not None
        kwargs: dict[str, Any] = {"rng": seed}
        if self._seed_argument and seed != self.true_seed and d.noise_seeds:
            kwargs["seed"] = d.noise_seeds[seed % len(d.noise_seeds)]
        result = self._bench.objective_function(configuration=config, fidelity=d.fidelity, **kwargs)
        missing = [k for k in ("function_value", "cost") if k not in result]
        if missing:
            raise NativeBenchmarkError(f"{self.id}: objective_function returned no {', '.join(missing)}")
        return Evaluation(loss=float(result["function_value"]), cost=float(result["cost"]))

    @property
    def reference(self) -> Reference:
        assert self.definition is not None
        d = self.definition
        return Reference(f_star=d.f_star, f_ref=d.f_ref, f_worst=d.f_worst)
