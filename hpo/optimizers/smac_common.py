"""Shared SMAC3 ask/tell plumbing for the two facades we benchmark.

SMAC resumes silently from an existing output directory, or blocks on ``input()`` when it finds a mismatching one;
we therefore always pass ``overwrite=True`` and a fresh per-job temporary ``output_directory``, and never save the
run history on each tell (that would add file I/O to the measured optimizer time).

Runs reproduce across processes: the facade's acquisition maximizer goes through
:func:`hpo.optimizers.smac_order.order_independent` (SMAC's local search iterated a ``set`` of configurations).
"""

from __future__ import annotations

import shutil
import tempfile
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.optimizers.base import Optimizer, Proposal

if TYPE_CHECKING:
    from ConfigSpace import Configuration


class SMACBase(Optimizer):
    """Builds one SMAC facade with an empty initial design (the harness supplies the shared one via ``tell``)."""

    FACADE: ClassVar[str] = ""

    def setup(self) -> None:
        import smac
        from smac.runhistory.dataclasses import TrialInfo, TrialValue

        from hpo.optimizers.smac_order import order_independent  # imports SMAC: never at planning

        self._TrialInfo, self._TrialValue = TrialInfo, TrialValue
        self._outdir = tempfile.mkdtemp(prefix="smac-")
        facade = getattr(smac, self.FACADE)
        scenario = smac.Scenario(
            self.space,
            deterministic=True,
            n_trials=self.n_trials + 1,
            seed=self.seed,
            output_directory=self._outdir,
        )
        self._smac = facade(
            scenario,
            target_function=self._never_called,
            initial_design=facade.get_initial_design(scenario, n_configs=0),
            overwrite=True,
            logging_level=self.params["logging_level"],
            **{
                "acquisition_maximizer": order_independent(facade.get_acquisition_maximizer(scenario)),
                **self._facade_kwargs(scenario, facade),
            },
        )
        self._asked: dict[Any, Any] = {}

    def _facade_kwargs(self, scenario: Any, facade: Any) -> dict[str, Any]:
        """Extra facade components (model, acquisition) derived from ``params``; an ``acquisition_maximizer`` given
        here replaces the default one and must go through :func:`hpo.optimizers.smac_order.order_independent` too."""
        return {}

    @staticmethod
    def _never_called(config: Any, seed: int = 0) -> float:
        raise RuntimeError("SMAC is driven through ask/tell; the target function must not be called")

    def ask(self) -> Proposal:
        info = self._smac.ask()
        self._asked[info.config] = info
        return Proposal(info.config)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        info = self._asked.pop(config, None) or self._TrialInfo(config=config, seed=self.seed)
        self._smac.tell(info, self._TrialValue(cost=loss, time=0.0 if cost != cost else cost), save=False)

    def close(self) -> None:
        shutil.rmtree(self._outdir, ignore_errors=True)
