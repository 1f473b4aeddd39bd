"""Optuna TPE + ``HyperbandPruner`` on a multi-fidelity benchmark: one Optuna trial is continued across rungs.

Rungs: with the benchmark's fidelity range ``[fmin, fmax]`` (``info["fidelity"]``), Optuna's integer resource ``r``
is the fidelity ``fmin * r``; ``min_resource`` 1, ``max_resource`` ``R = ceil(fmax / fmin)``. Optuna's bracket ``s``
decides at resources ``eta**(s + k)`` (``SuccessiveHalvingPruner``'s ``min_resource * eta**(min_early_stopping_rate
+ rung)``), so every trial is evaluated at the ladder ``fmin * eta**k`` below ``fmax``, then ``fmax`` (``[1, 100]``:
1, 3, 9, 27, 81, 100), as an Optuna trial reports every step of its training loop. Each step after the first
continues the same configuration (the harness charges the increment only); a trial the pruner stops is told
``PRUNED``, one that reaches ``fmax`` is completed with its loss. The study's name is fixed by the run seed, because
Optuna assigns a trial's bracket by a hash of the study name and the trial number.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.optuna_tpe import OptunaTPE

if TYPE_CHECKING:
    from ConfigSpace import Configuration


def rung_ladder(fmin: float, fmax: float, eta: int) -> list[tuple[int, float]]:
    """(Optuna resource, fidelity) of each rung: ``fmin * eta**k`` below ``fmax``, then ``fmax``."""
    if not 0 < fmin <= fmax:
        raise ValueError(f"optuna_hb needs a fidelity range 0 < min <= max, got [{fmin}, {fmax}]")
    top = max(1, math.ceil(fmax / fmin - 1e-9))
    ladder, r = [], 1
    while r < top:
        ladder.append((r, float(f"{fmin * r:.12g}")))
        r *= eta
    return [*ladder, (top, float(fmax))]


class OptunaHyperband(OptunaTPE):
    """Seeded TPE proposes; Optuna's ``HyperbandPruner`` (``reduction_factor`` = ``eta``) stops trials at rungs."""

    MULTI_FIDELITY = True
    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(
        {
            "eta": {"type": "integer", "minimum": 2, "default": 3},
            "n_startup_trials": {"type": "integer", "minimum": 0, "default": 10},
        }
    )

    def setup(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._dists = {hp.name: self._distribution(hp) for hp in self.space.values()}
        self._study: Any = None  # built at the first ask: the harness refuses a benchmark without fidelity first
        self._ladder: list[tuple[int, float]] = []
        self._live: tuple[Any, int, Configuration] | None = None  # (trial, rung index, configuration)

    @property
    def uses_shared_initial_design(self) -> bool:
        return False

    def _build(self) -> None:
        eta = self.params["eta"]
        self._ladder = rung_ladder(*self.context.fidelity_range(), eta)
        pruner = self._optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=self._ladder[-1][0], reduction_factor=eta
        )
        sampler = self._optuna.samplers.TPESampler(
            seed=self.seed, n_startup_trials=self.params["n_startup_trials"], multivariate=True
        )
        self._study = self._optuna.create_study(
            study_name=f"optuna_hb-seed{self.seed}", direction="minimize", sampler=sampler, pruner=pruner
        )

    def ask(self) -> Proposal:
        if self._study is None:
            self._build()
        if self._live is not None:  # not pruned, below the top rung: continue it at the next rung
            trial, k, config = self._live
            self._live = (trial, k + 1, config)
            return Proposal(config, fidelity=self._ladder[k + 1][1], continues=True)
        trial = self._study.ask(self._dists)
        config = self._from_optuna(trial.params)
        self._live = (trial, 0, config)
        return Proposal(config, fidelity=self._ladder[0][1])

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        if self._live is None or self._live[2] != config:
            raise ValueError("optuna_hb was told a configuration it did not ask for")
        trial, k, _ = self._live
        trial.report(loss, step=self._ladder[k][0])
        if k == len(self._ladder) - 1:  # the top rung: a complete trial, never pruned after its full evaluation
            self._study.tell(trial, loss)
            self._live = None
        elif trial.should_prune():
            self._study.tell(trial, state=self._optuna.trial.TrialState.PRUNED)
            self._live = None
