"""Benchmarks whose objective is a seeded computation (real training, an external HPOBench class).

Such an objective has no table of seeds to average, so "noise-free" needs a definition. Ours: the true loss of a
configuration is its loss under one fixed seed (``true_seed``). Then

* ``noisy=False``: ``evaluate`` runs with ``true_seed``, so the observed loss *is* the true loss and the runner's
  ``true_loss`` call costs nothing (it is served from a cache filled by ``evaluate``);
* ``noisy=True``: ``evaluate`` runs with a seed drawn from the run's ``rng`` (the runner seeds it from
  (benchmark, run seed)), so the run seed fixes the randomness; ``true_loss`` then pays one extra fixed-seed
  computation per distinct configuration, cached.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Benchmark, Evaluation
from hpo.core.space import config_dict, config_json

if TYPE_CHECKING:
    import numpy as np
    from ConfigSpace import Configuration

SEED_BOUND = 2**31 - 1  # seeds are drawn below this: the largest range every library here accepts


@dataclass
class SeededBenchmark(Benchmark):
    """Base for seeded objectives: fixed-seed true loss, run-seeded noise, and a per-config true-loss cache."""

    true_seed: int = 0
    _true_cache: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    @abstractmethod
    def run_seeded(self, config: dict[str, Any], seed: int) -> Evaluation:
        """Evaluate a plain-dict configuration with ``seed`` fixing all randomness of the computation."""

    def evaluate(self, config: Configuration | dict[str, Any], rng: np.random.Generator) -> Evaluation:
        seed = int(rng.integers(SEED_BOUND)) if self.noisy else self.true_seed
        values = config_dict(config)
        ev = self.run_seeded(values, seed)
        if seed == self.true_seed:
            self._true_cache[config_json(values)] = ev.loss
        return ev

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        values = config_dict(config)
        key = config_json(values)
        if key not in self._true_cache:
            self._true_cache[key] = self.run_seeded(values, self.true_seed).loss
        return self._true_cache[key]
