"""One ask/tell interface for every method (the CARP-S Optimizer/Task split), with typed seams to the harness.

The harness (:mod:`hpo.run.harness`) owns the loop, the shared initial design and the budget; an optimizer only
proposes (``ask``) and learns (``tell``). ``tell`` also receives configurations the optimizer never asked for: that
is how the shared initial design reaches every method. What the harness tells an optimizer about the run is a
:class:`RunContext`; what an optimizer returns is a :class:`Proposal` (the configuration plus that trial's extra
trajectory columns), so nothing travels through untyped side channels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.util.defaults import fill_defaults

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace


@dataclass(frozen=True)
class RunContext:
    """What an optimizer may know about its run besides the space: set by the harness, read-only.

    ``cache_dir``, ``artifacts_dir`` and ``server_log`` change where things go, never what the result is.
    ``deterministic`` says whether evaluating a configuration twice gives the same loss (a repeat then wastes a
    trial, so LLM methods guard against re-proposing an evaluated configuration). ``fidelity_cost`` (multi-fidelity
    benchmarks) is the normalized cost of one evaluation at a fidelity, so a kind that chooses budgets can price a
    choice before making it (``llm_mf``: the model is shown it, and a request over the budget left is refused).
    """

    benchmark: str = "?"
    info: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    n_init: int = 0
    deterministic: bool = True
    cache_dir: Path | None = None
    artifacts_dir: Path | None = None
    server_log: Path | None = None
    fidelity_cost: Callable[[float], float] | None = field(default=None, compare=False, repr=False)

    def fidelity_range(self) -> tuple[float, float]:
        """(min, max) of the benchmark's fidelity, as its ``info["fidelity"]`` states it (multi-fidelity kinds), or
        a one-line error naming the kind and the benchmark."""
        fid = self.info.get("fidelity")
        if not isinstance(fid, dict) or "min" not in fid or "max" not in fid:
            raise ValueError(f"{self.kind or 'a multi-fidelity kind'}: benchmark {self.benchmark} has no fidelity")
        fmin, fmax = float(fid["min"]), float(fid["max"])
        if not 0 < fmin < fmax:
            raise ValueError(f"{self.kind}: needs a fidelity range 0 < min < max, got {fid}")
        return fmin, fmax


@dataclass
class Proposal:
    """One proposed configuration, where it came from (trajectory ``origin``), and the trial's extra columns.

    ``extras`` keys are trajectory columns (:data:`hpo.core.trajectory.SCHEMA`), e.g. the LLM usage columns; the harness
    rejects unknown keys, so a typo never silently drops a measurement.
    """

    config: Configuration
    origin: str = "optimizer"
    extras: dict[str, Any] = field(default_factory=dict)
    # Multi-fidelity kinds: the fidelity to evaluate at (None: the benchmark's maximum). The optimizer remembers
    # what it asked for, so ``tell`` keeps its signature.
    fidelity: float | None = None
    # True when this evaluation continues the same configuration's earlier one at a lower fidelity (Optuna's pruned
    # trials, learning curves): the harness then charges only the cost above that earlier evaluation's.
    continues: bool = False


def object_schema(properties: dict[str, Any]) -> dict[str, Any]:
    """A kind's ``PARAMS_SCHEMA``: these parameters (each with its default) and no other, so typos fail validation."""
    return {"type": "object", "properties": properties, "additionalProperties": False}


class Optimizer(ABC):
    """Base class; subclasses declare ``PARAMS_SCHEMA`` (JSON schema of their parameters, defaults included)."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema({})

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        """None if the resolved ``params`` can run, else one line naming the keys that conflict.

        The rules JSON Schema cannot say (one key's allowed values depend on another's) live here, next to
        ``PARAMS_SCHEMA``: :func:`hpo.study.config.validate_study` calls this at planning, so ``snakemake -n`` refuses
        what
        the job would refuse, and ``__init__`` calls it for library users.
        """
        return None

    def __init__(
        self,
        space: ConfigurationSpace,
        *,
        seed: int,
        n_trials: int,
        params: dict[str, Any],
        context: RunContext | None = None,
    ) -> None:
        self.space = space
        self.context = context or RunContext()
        self.seed = seed
        self.n_trials = n_trials
        # Defaults come from PARAMS_SCHEMA, the one place they are written; library callers may pass a partial dict.
        self.params = fill_defaults(self.PARAMS_SCHEMA, params)
        problem = self.check_params(self.params)
        if problem:
            raise ValueError(f"{type(self).__name__}: {problem}")
        self.setup()

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Build the optimizer's state from the fields set above (subclasses override this, not ``__init__``)."""

    @property
    def uses_shared_initial_design(self) -> bool:
        """False for methods that propose their own initial design (e.g. an LLM's zero-shot warm start)."""
        return True

    @abstractmethod
    def ask(self) -> Proposal:
        """Propose the next configuration to evaluate."""

    @abstractmethod
    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        """Report the observed loss (and simulated cost) of ``config``."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (temporary directories, servers)."""
