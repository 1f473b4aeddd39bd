"""Random search: the baseline every HPO study needs (Bergstra & Bengio 2012)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpo.optimizers.base import Optimizer
from hpo.space import stable_seed

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace


class RandomSearch(Optimizer):
    """Uniform samples from the ConfigSpace with its own seeded copy of the space."""

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        seed: int,
        n_trials: int,
        params: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space, seed=seed, n_trials=n_trials, params=params, context=context)
        from ConfigSpace import ConfigurationSpace

        self._sampler = ConfigurationSpace(seed=stable_seed("random-search", seed))
        self._sampler.add(list(space.values()))

    def ask(self) -> Configuration:
        from ConfigSpace import Configuration

        return Configuration(self.space, values=dict(self._sampler.sample_configuration()))

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        """Random search learns nothing."""
