"""One ask/tell interface for every method (the CARP-S Optimizer/Task split).

The harness (:mod:`hpo.runner`) owns the loop, the shared initial design and the budget; an optimizer only
proposes (``ask``) and learns (``tell``). ``tell`` also receives configurations the optimizer never asked for: that
is how the shared initial design reaches every method.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.study import fill_defaults

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace


class Optimizer(ABC):
    """Base class; subclasses declare ``PARAMS_SCHEMA`` (JSON schema of their parameters, defaults included)."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = {"type": "object", "properties": {}, "additionalProperties": False}

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        seed: int,
        n_trials: int,
        params: dict[str, Any],
        context: dict[str, Any] | None = None,
    ) -> None:
        self.space = space
        # Run context from the harness: benchmark id and info, n_init, cache and artifact directories.
        self.context = context or {}
        self.seed = seed
        self.n_trials = n_trials
        # Defaults come from PARAMS_SCHEMA, the one place they are written (the study config resolves them the same
        # way); library callers may pass a partial dict.
        self.params = fill_defaults(self.PARAMS_SCHEMA, params)
        # Per-trial extras of the last ``ask`` (trajectory columns such as origin, tokens, latency); the harness
        # copies them into the trial's row. Classical optimizers leave it empty.
        self.last_ask_info: dict[str, Any] = {}
        self.setup()

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Build the optimizer's state from the fields set above (subclasses override this, not ``__init__``)."""

    @property
    def uses_shared_initial_design(self) -> bool:
        """False for methods that propose their own initial design (e.g. an LLM's zero-shot warm start)."""
        return True

    @abstractmethod
    def ask(self) -> Configuration:
        """Propose the next configuration to evaluate."""

    @abstractmethod
    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        """Report the observed loss (and simulated cost) of ``config``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (temporary directories, servers)."""
