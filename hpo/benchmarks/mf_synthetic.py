"""Multi-fidelity Hartmann 3 and 6 (``mfh3-good``, ``mfh3-bad``, ``mfh6-good``, ``mfh6-bad``), as in mf-prior-bench.

The construction follows mf-prior-bench's ``mfpbench.synthetic.hartmann`` (automl/mf-prior-bench, after the BOCA
paper, Kandasamy et al. 2017, arXiv:1703.06240), written here from its formula. With the fidelity ``z`` in
``[1, 100]`` and its log-scaled position ``s(z) = ln z / ln 100`` (0 at ``z = 1``, 1 at ``z = 100``):

* **Bias:** the Hartmann weights ``alpha_i`` shrink to ``alpha_i - bias * (1 - s(z))``, which flattens the function
  at low fidelity; at ``z = 100`` it is the standard Hartmann function (:mod:`hpo.benchmarks.synthetic`).
* **Noise:** ``noise * (1 - s(z)) * |N(0, 1)|`` is added, a half-normal (never negative) draw from the run's rng
  whose scale falls to 0 at ``z = 100``. mf-prior-bench seeds that draw from the point and the fidelity instead;
  here it is the run's rng, as for every noisy benchmark of the project.
* **Cost:** ``0.05 + 0.95 (z / 100)^2`` (BOCA's lambda(z)), 1.0 at ``z = 100`` (already normalized).
* **Presets** (mf-prior-bench's empirically tuned ``(bias, noise)``): ``good`` = (2.5, 2.0), ``bad`` = (3.5, 4.0).

``true_loss`` is the noise-free value at ``z = 100``, i.e. the standard Hartmann value, so regret and the reference
values (analytic ``f_star``; median and max of 100,000 uniform points from ``default_rng(0)``, the same sample as
``synth-hartmann3``/``synth-hartmann6``) are the full-fidelity function's. Noise is part of the preset, as for the
synthetic family: the study's ``noisy`` switch changes nothing, and an evaluation at ``z = 100`` is noise-free.
Fidelity is continuous here (mf-prior-bench uses the integers 1..100; the formula is the same).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.multi_fidelity import MultiFidelityBenchmark
from hpo.benchmarks.synthetic import _H3_A, _H3_P, _H6_A, _H6_P, _H_ALPHA, FUNCTIONS, Function, reference_sample

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

PREFIX = "mfh"
FIDELITY_MIN, FIDELITY_MAX = 1.0, 100.0
COST_FLOOR = 0.05  # BOCA's lambda(z) = 0.05 + 0.95 (z / z_max)^2
REF_N, REF_SEED = 100_000, 0  # the synthetic family's reference sample (hpo.benchmarks.make_references)


@dataclass(frozen=True)
class Preset:
    """Bias (how much the low fidelities flatten the function) and noise scale at ``z = 1``."""

    name: str
    bias: float
    noise: float


PRESETS: dict[str, Preset] = {p.name: p for p in (Preset("good", 2.5, 2.0), Preset("bad", 3.5, 4.0))}
# dims -> (the full-fidelity function, A, P)
_HARTMANN: dict[int, tuple[Function, np.ndarray, np.ndarray]] = {
    3: (FUNCTIONS["hartmann3"], _H3_A, _H3_P),
    6: (FUNCTIONS["hartmann6"], _H6_A, _H6_P),
}


def ids() -> list[str]:
    return [f"{PREFIX}{d}-{p}" for d in _HARTMANN for p in PRESETS]


def parse(benchmark_id: str) -> tuple[int, Preset] | None:
    """``(dims, preset)`` of a multi-fidelity Hartmann id, or None if ``benchmark_id`` is not one."""
    head, _, preset = benchmark_id.partition("-")
    if not head.startswith(PREFIX) or preset not in PRESETS:
        return None
    dims = head[len(PREFIX) :]
    return (int(dims), PRESETS[preset]) if dims.isdigit() and int(dims) in _HARTMANN else None


def fidelity_cost(z: float) -> float:
    """Normalized cost of one evaluation at ``z``: 0.05 + 0.95 (z / 100)^2, 1.0 at ``z = 100``."""
    return COST_FLOOR + (1 - COST_FLOOR) * (z / FIDELITY_MAX) ** 2


def fidelity_gap(z: float) -> float:
    """``1 - ln z / ln 100``: 1 at the lowest fidelity, 0 at the highest; bias and noise scale with it."""
    return 1.0 - (math.log(z) - math.log(FIDELITY_MIN)) / (math.log(FIDELITY_MAX) - math.log(FIDELITY_MIN))


def biased_hartmann(x: np.ndarray, dims: int, bias: float, z: float) -> np.ndarray:
    """Noise-free Hartmann value at fidelity ``z`` (weights ``alpha - bias * fidelity_gap(z)``); rows of ``x``."""
    _, a, p = _HARTMANN[dims]
    alpha = _H_ALPHA - bias * fidelity_gap(z)
    inner = np.sum(a * (x[..., None, :] - p) ** 2, axis=-1)
    return -np.sum(alpha * np.exp(-inner), axis=-1)


@functools.cache
def _reference(dims: int) -> tuple[float, float]:
    values = reference_sample(_HARTMANN[dims][0], REF_N, REF_SEED)
    return float(np.median(values)), float(values.max())


@dataclass
class MFHartmannBenchmark(MultiFidelityBenchmark):
    """Hartmann ``dims``-D on ``[0, 1]^dims`` (hyperparameters ``x0, x1, ...``) with fidelity ``z`` in [1, 100]."""

    dims: int = 3
    preset: Preset = field(default_factory=lambda: PRESETS["good"])
    fidelity_min: float = FIDELITY_MIN
    fidelity_max: float = FIDELITY_MAX
    fidelity_name: str = "z"
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.dims not in _HARTMANN:
            raise ValueError(f"{self.id}: no multi-fidelity Hartmann in {self.dims} dimensions; allowed: 3, 6")
        name = f"hartmann{self.dims}"
        self.info = {
            "family": "mf_synthetic",
            "function": name,
            "loss": f"{name} value",
            "description": (
                f"multi-fidelity {name} (mf-prior-bench, BOCA), preset {self.preset.name}: "
                f"bias {self.preset.bias}, noise {self.preset.noise}; known optimum at z = 100"
            ),
            "preset": {"name": self.preset.name, "bias": self.preset.bias, "noise": self.preset.noise},
            "noisy": self.preset.noise > 0,
            "fidelity": {"name": "z", "min": FIDELITY_MIN, "max": FIDELITY_MAX, "cost": "0.05 + 0.95 (z/100)^2"},
            "data_card": {"model": f"multi-fidelity {name} test function", "task": "function minimization"},
        }

    @property
    def function(self) -> Function:
        return _HARTMANN[self.dims][0]

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            self._space = self.function.space()
        return self._space

    def _x(self, config: Configuration | dict[str, Any]) -> np.ndarray:
        return self.function.point(config)

    def evaluate_at(
        self, config: Configuration | dict[str, Any], fidelity: float, rng: np.random.Generator
    ) -> Evaluation:
        z = self.check_fidelity(fidelity)
        loss = float(biased_hartmann(self._x(config), self.dims, self.preset.bias, z))
        scale = self.preset.noise * fidelity_gap(z)
        if scale > 0:
            loss += scale * abs(float(rng.standard_normal()))
        return Evaluation(loss=loss, cost=fidelity_cost(z))

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        return float(self.function.fn(self._x(config)))

    @property
    def reference(self) -> Reference:
        f_ref, f_worst = _reference(self.dims)
        return Reference(f_star=self.function.f_star, f_ref=f_ref, f_worst=f_worst)
