"""Random search: the baseline every HPO study needs (Bergstra & Bengio 2012)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpo.core.space import stable_seed
from hpo.optimizers.base import Optimizer, Proposal

if TYPE_CHECKING:
    from ConfigSpace import Configuration


class RandomSearch(Optimizer):
    """Uniform samples from the ConfigSpace with its own seeded copy of the space."""

    def setup(self) -> None:
        from ConfigSpace import ConfigurationSpace

        self._sampler = ConfigurationSpace(seed=stable_seed("random-search", self.seed))
        self._sampler.add(list(self.space.values()))

    def ask(self) -> Proposal:
        from ConfigSpace import Configuration

        return Proposal(Configuration(self.space, values=dict(self._sampler.sample_configuration())))

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        """Random search learns nothing."""
