"""Importing and checking HPOBench-style benchmark classes for the native adapter (:mod:`.hpobench_native`).

What the study validates before any job (through ``hpobench_native.check_definition``), so a mistake costs one
line, not every run:

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
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

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


def has_static_fidelity_space(cls: type) -> bool:
    """Whether the fidelity space can be read from the class, without paying for a construction."""
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
