"""``llm_tpe``: Optuna's TPE with LLM proposals mixed in (the LLM-TPE idea of SLLMBO, Mahammadli & Ertekin 2024).

TPE (the ``optuna_tpe`` method's class, by composition: same sampler, same conversions) proposes by default; the
model proposes instead

* every ``llm_every``-th trial after the initial design (trials ``n_init + k``, ``n_init + 2k``, ...; 0 = never by
  schedule), and
* whenever TPE's own proposals have not improved the best loss for ``patience`` trials in a row (0 = off); the count
  restarts after every model turn and every improvement.

A model turn is exactly one ``llm`` proposal (same prompt, parse -> repair -> re-ask -> fallback loop, repetition
guard). Every evaluated point — TPE's, the model's, the shared initial design — is told to TPE, so TPE models the
model's points like its own. Rows say who proposed: origin ``tpe`` (no model call: the LLM columns stay null) or
``llm`` / ``repaired`` / ``fallback``. SLLMBO's sampler mixes the two within one study as well; the schedule here is
deterministic so that a seed's run is reproducible and its alternation checkable.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer
from hpo.optimizers.optuna_tpe import OptunaTPE

if TYPE_CHECKING:
    from ConfigSpace import Configuration

LLM_TPE_PARAMS: dict[str, Any] = {
    **LLM_PARAMS,
    **OptunaTPE.PARAMS_SCHEMA["properties"],
    "llm_every": {
        "type": "integer",
        "minimum": 0,
        "default": 2,
        "description": "the model proposes every k-th trial after the initial design (2 = alternate; 0 = never)",
    },
    "patience": {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "the model also proposes after this many TPE trials without improvement (0 = off)",
    },
}
TPE_ORIGIN = "tpe"


class LLMTPEOptimizer(LLMOptimizer):
    """TPE proposes; the model takes scheduled turns and turns after TPE stagnates."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_TPE_PARAMS)

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        if params["llm_every"] == 0 and params["patience"] == 0:
            return "llm_every and patience are both 0, so the model would never propose; use optuna_tpe"
        return super().check_params(params)

    def setup(self) -> None:
        super().setup()
        tpe_params = {k: self.params[k] for k in OptunaTPE.PARAMS_SCHEMA["properties"]}
        self.tpe = OptunaTPE(
            self.space, seed=self.seed, n_trials=self.n_trials, params=tpe_params, context=self.context
        )
        self.turn = 0  # optimizer-phase trials asked so far
        self.stale = 0  # TPE trials since the last improvement or model turn
        self.best = math.inf
        self._last_origin = ""

    def llm_turn(self) -> bool:
        """Whether the model proposes the current optimizer-phase trial (``self.turn``, 1-based)."""
        every, patience = self.params["llm_every"], self.params["patience"]
        return (every > 0 and self.turn % every == 0) or (patience > 0 and self.stale >= patience)

    def ask(self) -> Proposal:
        if len(self.history) < self.context.n_init:  # zero-shot initial design: the model's, as in the llm kind
            proposal = super().ask()
        else:
            self.turn += 1
            if self.llm_turn():
                proposal = super().ask()
            else:
                proposal = self.tpe.ask()
                proposal.origin = TPE_ORIGIN
        self._last_origin = proposal.origin
        return proposal

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        super().tell(config, loss, cost)
        self.tpe.tell(config, loss, cost)
        improved = loss < self.best
        self.best = min(self.best, loss)
        if len(self.history) <= self.context.n_init:
            return
        self.stale = self.stale + 1 if self._last_origin == TPE_ORIGIN and not improved else 0

    def close(self) -> None:
        try:
            self.tpe.close()
        finally:
            super().close()
