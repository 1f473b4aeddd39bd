"""The benchmark interface every family implements (modelled on HPOBench's ``objective_function``).

A benchmark is always *minimized*. Besides the loss an optimizer observes, it exposes the noise-free loss of any
configuration (``true_loss``) so that regret never rewards a lucky draw from a noisy table.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from ConfigSpace import Configuration, ConfigurationSpace


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation returns: the observed loss and its simulated cost in seconds (NaN if unknown)."""

    loss: float
    cost: float


@dataclass(frozen=True)
class Reference:
    """Reference values for normalization, computed from the benchmark itself (never from the study's methods).

    ``f_star`` is the optimum (best noise-free loss); ``f_ref`` the median noise-free loss of the space, i.e. what a
    typical configuration achieves. See :mod:`hpo.analysis.regret` for why the median.
    """

    f_star: float
    f_ref: float
    f_worst: float


@dataclass
class Benchmark(ABC):
    """One benchmark: an id, a ConfigSpace, an objective, reference values and an info dict."""

    id: str
    noisy: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def data_card(self) -> dict[str, Any]:
        """What LLAMBO's prompts call the data card: model, task, n_samples, n_features, n_classes, metric, as far
        as the family knows them (``info["data_card"]``; unknown fields are absent, never guessed)."""
        return dict(self.info.get("data_card", {}))

    @property
    @abstractmethod
    def space(self) -> ConfigurationSpace:
        """The search space (ConfigSpace 1.x)."""

    @abstractmethod
    def evaluate(self, config: Configuration | dict[str, Any], rng: np.random.Generator) -> Evaluation:
        """Loss the optimizer observes; ``rng`` draws the table seed when the benchmark is noisy."""

    @abstractmethod
    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        """Noise-free loss (mean over the table's seeds), used for regret."""

    @property
    @abstractmethod
    def reference(self) -> Reference:
        """Known optimum and normalization reference."""
