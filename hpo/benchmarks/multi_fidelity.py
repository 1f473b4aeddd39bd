"""The multi-fidelity benchmark interface (HPOBench's ``objective_function(configuration, fidelity, rng)``).

A multi-fidelity benchmark can evaluate a configuration cheaply at a lower fidelity (fewer epochs, trees, samples,
a biased function) and says what that costs. Three promises every family keeps, because the study's budget and
regret rest on them:

* **Fidelity** is a number in ``[fidelity_min, fidelity_max]``; ``evaluate`` (what full-fidelity methods call) is
  ``evaluate_at(config, fidelity_max)``. A fidelity outside the range is a one-line ``ValueError``.
* **Cost** (``Evaluation.cost``) is *normalized*: the cost of one evaluation at ``fidelity`` in units of one
  evaluation at ``fidelity_max`` (so the maximum fidelity costs 1.0). A study's budget of ``n_trials`` therefore
  reads as "``n_trials`` full-fidelity evaluations' worth" (CARP-S's normalized trials) for every method.
* **Regret** uses ``true_loss``: the noise-free loss *at the maximum fidelity*, whatever fidelity an optimizer
  evaluated, so a cheap biased evaluation never looks like progress.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Benchmark, Evaluation

if TYPE_CHECKING:
    import numpy as np
    from ConfigSpace import Configuration


@dataclass
class MultiFidelityBenchmark(Benchmark):
    """A benchmark with a fidelity range and a normalized cost model (see the module docstring)."""

    fidelity_min: float = 1.0
    fidelity_max: float = 1.0
    fidelity_name: str = "fidelity"

    def check_fidelity(self, fidelity: float) -> float:
        """``fidelity`` as a float, or a one-line error naming the benchmark and its range."""
        f = float(fidelity)
        if not self.fidelity_min <= f <= self.fidelity_max:
            raise ValueError(
                f"{self.id}: {self.fidelity_name} {fidelity!r} is outside [{self.fidelity_min}, {self.fidelity_max}]"
            )
        return f

    @abstractmethod
    def evaluate_at(
        self, config: Configuration | dict[str, Any], fidelity: float, rng: np.random.Generator
    ) -> Evaluation:
        """Observed loss at ``fidelity`` and its normalized cost (1.0 at ``fidelity_max``)."""

    def evaluate(self, config: Configuration | dict[str, Any], rng: np.random.Generator) -> Evaluation:
        return self.evaluate_at(config, self.fidelity_max, rng)


def is_multi_fidelity(bench: Benchmark) -> bool:
    return isinstance(bench, MultiFidelityBenchmark)
