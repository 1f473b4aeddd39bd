"""Synthetic test functions with known optima: exact regret, no training, microseconds per evaluation.

They separate an optimizer's search behaviour from the quirks of ML losses: the optimum is known analytically, so
regret is exact. Formulas, domains and optima as in Surjanovic & Bingham's Virtual Library of Simulation
Experiments (sfu.ca/~ssurjano: branin.html, hart3.html, hart6.html).

* ``synth-branin`` (2-D), ``synth-hartmann3`` (3-D), ``synth-hartmann6`` (6-D): deterministic.
* ``synth-branin_noisy``: Branin observed with additive Gaussian noise (sd ``BRANIN_NOISE_SD``) drawn from the run's
  rng; ``true_loss`` is the noise-free Branin value. The study's ``noisy`` switch does not change these functions:
  noise is part of the id, so a study can mix noisy and noise-free synthetic benchmarks.

Cost is NaN (nothing is simulated). ``f_star`` is the analytic optimum; ``f_ref``/``f_worst`` are the median/max of
a seeded uniform sample stored in ``references/synthetic.json`` (made by :mod:`hpo.benchmarks.make_references`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.benchmarks.base import Benchmark, Evaluation, Reference

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

REFERENCES = Path(__file__).resolve().parent / "references" / "synthetic.json"
BRANIN_NOISE_SD = 1.0  # ~4% of Branin's f_ref - f_star: noise matters near the optimum, not far from it


def branin(x: np.ndarray) -> np.ndarray:
    """Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]; rows of ``x`` are points."""
    x1, x2 = x[..., 0], x[..., 1]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def _hartmann(x: np.ndarray, a: np.ndarray, p: np.ndarray) -> np.ndarray:
    inner = np.sum(a * (x[..., None, :] - p) ** 2, axis=-1)
    return -np.sum(_H_ALPHA * np.exp(-inner), axis=-1)


def hartmann3(x: np.ndarray) -> np.ndarray:
    """Hartmann 3-D on [0, 1]^3."""
    return _hartmann(x, _H3_A, _H3_P)


def hartmann6(x: np.ndarray) -> np.ndarray:
    """Hartmann 6-D on [0, 1]^6."""
    return _hartmann(x, _H6_A, _H6_P)


@dataclass(frozen=True)
class Function:
    """A vectorized test function with its box, known optimum and one (of possibly several) argmin."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    bounds: tuple[tuple[float, float], ...]
    f_star: float
    argmin: tuple[float, ...]
    noise_sd: float = 0.0

    @property
    def names(self) -> list[str]:
        return [f"x{i}" for i in range(len(self.bounds))]

    def space(self) -> ConfigurationSpace:
        """Continuous hyperparameters ``x0, x1, ...`` on the function's box (full- and multi-fidelity alike)."""
        from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter

        cs = ConfigurationSpace()
        cs.add([UniformFloatHyperparameter(n, lo, hi) for n, (lo, hi) in zip(self.names, self.bounds)])
        return cs

    def point(self, config: Configuration | dict[str, Any]) -> np.ndarray:
        """A configuration as the function's argument vector."""
        return np.array([float(config[n]) for n in self.names])


_BRANIN_BOUNDS = ((-5.0, 10.0), (0.0, 15.0))
FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("branin", branin, _BRANIN_BOUNDS, 0.397887357729739, (np.pi, 2.275)),
        Function("branin_noisy", branin, _BRANIN_BOUNDS, 0.397887357729739, (np.pi, 2.275), BRANIN_NOISE_SD),
        Function("hartmann3", hartmann3, ((0.0, 1.0),) * 3, -3.86278214782076, (0.114614, 0.555649, 0.852547)),
        Function(
            "hartmann6",
            hartmann6,
            ((0.0, 1.0),) * 6,
            -3.32236801141551,
            (0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162, 0.65730054),
        ),
    )
}
PREFIX = "synth"


def ids() -> list[str]:
    return [f"{PREFIX}-{name}" for name in FUNCTIONS]


def parse(benchmark_id: str) -> Function | None:
    """The function of a synthetic id, or None if ``benchmark_id`` is not one."""
    prefix, _, name = benchmark_id.partition("-")
    return FUNCTIONS.get(name) if prefix == PREFIX else None


def reference_sample(function: Function, n: int, seed: int) -> np.ndarray:
    """Noise-free values at ``n`` points drawn uniformly from the box with ``default_rng(seed)``."""
    lo, hi = np.array(function.bounds).T
    return function.fn(np.random.default_rng(seed).uniform(lo, hi, size=(n, len(lo))))


@functools.lru_cache(maxsize=1)
def load_references(path: str = str(REFERENCES)) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


@dataclass
class SyntheticBenchmark(Benchmark):
    """A test function as a benchmark: continuous hyperparameters ``x0, x1, ...`` on the function's box."""

    function: Function | None = None
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.function is None:
            raise ValueError(f"{self.id}: no function given")
        self.info = {
            "family": "synthetic",
            "function": self.function.name,
            "loss": f"{self.function.name} value",
            "description": f"{self.function.name} test function ({len(self.function.bounds)}-D), known optimum",
            "noise_sd": self.function.noise_sd,
            "noisy": self.function.noise_sd > 0,
            "data_card": {"model": f"{self.function.name} test function", "task": "function minimization"},
        }

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            assert self.function is not None
            self._space = self.function.space()
        return self._space

    def _x(self, config: Configuration | dict[str, Any]) -> np.ndarray:
        assert self.function is not None
        return self.function.point(config)

    def evaluate(self, config: Configuration | dict[str, Any], rng: np.random.Generator) -> Evaluation:
        loss = self.true_loss(config)
        if self.function is not None and self.function.noise_sd > 0:
            loss += float(rng.normal(0.0, self.function.noise_sd))
        return Evaluation(loss=loss, cost=float("nan"))

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        assert self.function is not None
        return float(self.function.fn(self._x(config)))

    @property
    def reference(self) -> Reference:
        assert self.function is not None
        entry = load_references()["benchmarks"].get(self.id)
        if entry is None:
            raise ValueError(
                f"{self.id}: no reference values in {REFERENCES}; run python -m hpo.benchmarks.make_references"
            )
        return Reference(f_star=self.function.f_star, f_ref=entry["f_ref"], f_worst=entry["f_worst"])
