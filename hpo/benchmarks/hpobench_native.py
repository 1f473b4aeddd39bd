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

What the study validates before any job (:func:`check_definition`), so a mistake costs one line, not every run:

* **Import.** A missing module is one line (with the install hint for ``hpobench``); any other import failure (a
  ``NameError`` or ``SyntaxError`` inside the benchmark's module) is one line naming the class and the error.
  Importing ``hpobench`` calls ``logging.basicConfig``, which would give the root logger of the importing process
  (Snakemake's own) a second handler and print every message twice: the root logger's handlers and level are put
  back after the import and after constructing the benchmark.
* **Fidelity.** ``fidelity: null`` means *the benchmark's default fidelity* (HPOBench fills in the default of each
  fidelity in ``get_fidelity_space()``), which is often but not always the maximum; the trajectory records it as
  ``default_fidelity``. A given fidelity is checked against ``get_fidelity_space()``: unknown keys and values
  outside the space are one line naming the key. A static ``get_fidelity_space`` is called on the class; one that
  needs the instance (HPOBench's ``TabularBenchmark``) costs one construction in the validating process.
* **Noise.** Some HPOBench objectives take their noise from a ``seed=`` argument and ignore ``rng`` (the tabular
  ``TabularBenchmark``: ``seed=None`` averages the table's seeds, ``seed=s`` must be one of them). For those, the
  noise-free loss is the objective's own ``seed``-less value, and ``noisy: true`` passes ``seed=`` one of the
  definition's ``noise_seeds``, drawn with the run's rng; without ``noise_seeds`` a noisy study is refused, because
  the adapter cannot know which seeds such an objective accepts (it never silently adds no noise).

Any importable class works (the import path is all the adapter needs), which is how the tests run this code path
without HPOBench, which is not on PyPI. The configuration space is used as is when it already is a ConfigSpace 1.x
space and converted otherwise: HPOBench's container benchmarks ship spaces as ConfigSpace JSON, whose older
(0.4-0.6) layout the 1.x reader accepts once ``default`` is renamed ``default_value``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.seeded import SeededBenchmark

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

# HPOBench's setup.py says python_requires "<=3.10", which pip enforces on 3.11 although the code runs there. The
# flag that overrides it applies to every package pip resolves (it then picks a scipy that needs Python 3.12), so
# HPOBench's own requirements are installed first, normally, and HPOBench itself without dependencies.
HPOBENCH_URL = "git+https://github.com/automl/HPOBench.git@47bf141f79e6bdfb26d1f1218b5d5aac09d7d2ce"
INSTALL_HINT = (
    'pip install "Pyro4==4.80" "oslo.concurrency>=4.2.0" && '
    f'pip install --no-deps --ignore-requires-python "hpobench @ {HPOBENCH_URL}"'
)
REQUIRED_METHODS = ("objective_function", "get_configuration_space")
DEFINITION_KEYS = {"class", "kwargs", "fidelity", "f_star", "f_ref", "f_worst", "true_seed", "noise_seeds"}


class NativeBenchmarkError(ValueError):
    """A custom benchmark that cannot be built; the message is one line naming the benchmark and the problem."""


class FidelityError(NativeBenchmarkError):
    """A ``fidelity`` entry outside the benchmark's fidelity space; ``key`` is the offending fidelity's name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


@contextlib.contextmanager
def kept_root_logging() -> Iterator[None]:
    """Undo what importing or building a benchmark does to the root logger (``hpobench`` calls ``basicConfig``).

    A handler added to the root logger of the Snakemake process prints every Snakemake message a second time; in a
    run job it would duplicate the job log's lines. The benchmark's own loggers still propagate to whatever
    handlers the process had before.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


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
        with kept_root_logging():
            mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = (err.name or module).split(".")[0]
        if missing == "hpobench":
            raise NativeBenchmarkError(
                f"class {path!r} needs the hpobench package, which is not installed; install it with: {INSTALL_HINT}"
            ) from None
        raise NativeBenchmarkError(f"class {path!r}: cannot import module {err.name or module!r}") from None
    except Exception as err:  # the module exists but fails while importing: its own bug, named in one line
        raise NativeBenchmarkError(
            f"class {path!r}: importing module {module!r} failed: {type(err).__name__}: {_one_line(err)}"
        ) from None
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


def takes_seed_argument(cls: type) -> bool:
    """Whether ``cls.objective_function`` names a ``seed`` parameter, i.e. may take its noise from ``seed=``.

    HPOBench's ``check_parameters`` decorator keeps ``__wrapped__``, so the signature is the benchmark's own; a
    bare ``**kwargs`` does not count (such an objective reads no seed that the adapter could know of).
    """
    try:
        params = inspect.signature(cls.objective_function).parameters
    except (TypeError, ValueError):
        return False
    return "seed" in params and params["seed"].kind is not inspect.Parameter.VAR_KEYWORD


def fidelity_space(bench: Any) -> Any | None:
    """``bench.get_fidelity_space()`` (a class with a static one, or an instance), or None if there is none."""
    getter = getattr(bench, "get_fidelity_space", None)
    if not callable(getter):
        return None
    with kept_root_logging():
        return to_configspace(getter())


def check_fidelity(fidelity: dict[str, Any], space: ConfigurationSpace) -> None:
    """Every key of ``fidelity`` must name a fidelity of ``space``, with a legal value (else :class:`FidelityError`).

    Missing keys are fine: HPOBench fills them in with their defaults.
    """
    for key, value in fidelity.items():
        if key not in space:
            allowed = ", ".join(space) or "none (the benchmark has no fidelities)"
            raise FidelityError(key, f"unknown fidelity; allowed: {allowed}")
        try:
            legal = bool(space[key].legal_value(value))
        except (TypeError, ValueError):
            legal = False
        if not legal:
            raise FidelityError(key, f"{value!r} is outside the benchmark's fidelity space ({_one_line(space[key])})")


def _has_static_fidelity_space(cls: type) -> bool:
    return isinstance(inspect.getattr_static(cls, "get_fidelity_space", None), (staticmethod, classmethod))


def construct(class_path: str, cls: type, kwargs: dict[str, Any]) -> Any:
    """``cls(**kwargs)``; any failure is one line naming the class (the root logger is kept, see above)."""
    try:
        with kept_root_logging():
            return cls(**kwargs)
    except Exception as err:
        raise NativeBenchmarkError(f"{class_path}(**kwargs) failed: {type(err).__name__}: {_one_line(err)}") from None


def check_noise(class_path: str, cls: type, noisy: bool, noise_seeds: tuple[int, ...] | None) -> None:
    """Refuse a study whose ``noisy`` setting the objective cannot honour (see the module docstring)."""
    if takes_seed_argument(cls):
        if noisy and not noise_seeds:
            raise NativeBenchmarkError(
                f"noisy: true, but {class_path}.objective_function takes its noise from `seed=`, not `rng=`, and "
                "the adapter cannot know which seeds it accepts; list them under noise_seeds (e.g. the table's "
                "seeds) or set noisy: false"
            )
    elif noise_seeds:
        raise NativeBenchmarkError(
            f"noise_seeds: {class_path}.objective_function has no `seed` parameter (its noise comes from `rng=`); "
            "remove noise_seeds"
        )


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
        if bench is None and not _has_static_fidelity_space(cls):
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
