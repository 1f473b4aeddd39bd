"""``llm_tpe``: Optuna's TPE with LLM proposals mixed in — *SLLMBO-inspired* (Mahammadli & Ertekin 2024, LLM-TPE).

TPE (the ``optuna_tpe`` method's class, by composition: same sampler, same conversions) proposes by default. Who
proposes an optimizer-phase trial (``mix``):

* ``alternate`` (default; not SLLMBO's rule, chosen so that a seed's schedule is checkable): the model proposes
  every ``llm_every``-th trial (trials ``n_init + k``, ``n_init + 2k``, ...; 0 = never by schedule);
* ``random`` (SLLMBO's rule): with ``per: configuration`` the model proposes the whole trial with probability
  ``p_llm`` (0.5 in SLLMBO); with ``per: parameter`` both propose every trial and each hyperparameter takes the
  model's value with probability ``p_llm``, else TPE's (origin ``mixed`` when both contributed; ``llm_params``
  counts the model's share). The coin flips come from a generator seeded by the run seed.

In every mode the model also proposes after ``llm_after_stale`` TPE trials in a row without improvement (0 = off;
the count restarts after every model turn and every improvement). This is *not* SLLMBO's patience, which stops
the study early; the old name ``patience`` is rejected with a one-line error saying so.

A model turn is exactly one ``llm`` proposal (same prompt, parse -> repair -> re-ask -> fallback loop, repetition
guard). Every evaluated point — TPE's, the model's, a mixed one, the shared initial design — is told to TPE. Rows
say who proposed: origin ``tpe`` (no model call: the LLM columns stay null), ``llm`` / ``repaired`` / ``fallback``,
or ``mixed``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer
from hpo.optimizers.optuna_tpe import OptunaTPE
from hpo.space import stable_seed

if TYPE_CHECKING:
    from ConfigSpace import Configuration

LLM_TPE_PARAMS: dict[str, Any] = {
    **LLM_PARAMS,
    **OptunaTPE.PARAMS_SCHEMA["properties"],
    "mix": {
        "enum": ["alternate", "random"],
        "default": "alternate",
        "description": "alternate: the model every llm_every-th trial; random: SLLMBO's coin flips (p_llm, per)",
    },
    "llm_every": {
        "type": "integer",
        "minimum": 0,
        "default": 2,
        "description": "mix: alternate: the model proposes every k-th trial after the initial design (0 = never)",
    },
    "p_llm": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "default": 0.5,
        "description": "mix: random: probability that the model proposes (SLLMBO: 0.5)",
    },
    "per": {
        "enum": ["configuration", "parameter"],
        "default": "configuration",
        "description": "mix: random: one coin per trial, or one per hyperparameter (SLLMBO's sampler)",
    },
    "llm_after_stale": {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "the model also proposes after this many TPE trials without improvement (0 = off)",
    },
}
TPE_ORIGIN, MIXED_ORIGIN = "tpe", "mixed"


class LLMTPEOptimizer(LLMOptimizer):
    """TPE proposes; the model takes turns by schedule or coin, and after TPE stagnates."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_TPE_PARAMS)
    # Old parameter names -> why they are gone (checked by the study validation and here, for library callers).
    RENAMED_PARAMS: ClassVar[dict[str, str]] = {
        "patience": "renamed to llm_after_stale (it starts a model turn; SLLMBO's patience stops the study)",
    }

    @classmethod
    def calls_per_trial(cls, params: dict[str, Any]) -> float:
        """Expected model requests per optimizer-phase trial without re-asks (stagnation turns not counted)."""
        if params["mix"] == "random":
            return 1.0 if params["per"] == "parameter" else float(params["p_llm"])
        return 1.0 / params["llm_every"] if params["llm_every"] else 0.0

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        for old, why in cls.RENAMED_PARAMS.items():
            if old in params:
                return f"parameter {old!r} {why}"
        never = params["llm_every"] == 0 if params["mix"] == "alternate" else params["p_llm"] == 0
        if never and params["llm_after_stale"] == 0:
            return "the model would never propose (llm_every or p_llm is 0 and llm_after_stale is 0); use optuna_tpe"
        return super().check_params(params)

    def setup(self) -> None:
        p = self.params
        super().setup()
        tpe_params = {k: p[k] for k in OptunaTPE.PARAMS_SCHEMA["properties"]}
        self.tpe = OptunaTPE(
            self.space, seed=self.seed, n_trials=self.n_trials, params=tpe_params, context=self.context
        )
        self.coins = np.random.default_rng(stable_seed("llm_tpe-mix", self.seed))
        self.turn = 0  # optimizer-phase trials asked so far
        self.stale = 0  # TPE trials since the last improvement or model turn
        self.best = math.inf
        self._last_origin = ""

    def llm_turn(self) -> bool:
        """Whether the model proposes the whole current optimizer-phase trial (``self.turn``, 1-based)."""
        p = self.params
        if p["llm_after_stale"] > 0 and self.stale >= p["llm_after_stale"]:
            return True
        if p["mix"] == "alternate":
            return p["llm_every"] > 0 and self.turn % p["llm_every"] == 0
        return bool(self.coins.random() < p["p_llm"])

    def ask(self) -> Proposal:
        if len(self.history) < self.context.n_init:  # zero-shot initial design: the model's, as in the llm kind
            proposal = super().ask()
        else:
            self.turn += 1
            per_parameter = self.params["mix"] == "random" and self.params["per"] == "parameter"
            if per_parameter and not (0 < self.params["llm_after_stale"] <= self.stale):
                proposal = self._mixed()
            elif self.llm_turn():
                proposal = super().ask()
            else:
                proposal = self.tpe.ask()
                proposal.origin = TPE_ORIGIN
        self._last_origin = proposal.origin
        return proposal

    def _mixed(self) -> Proposal:
        """SLLMBO's per-parameter mixing: each hyperparameter from the model with probability ``p_llm``, else TPE's
        (an invalid combination, possible only in conditional spaces, keeps TPE's configuration)."""
        from ConfigSpace import Configuration

        tpe, llm = self.tpe.ask(), super().ask()
        names = list(self.space)
        take = self.coins.random(len(names)) < self.params["p_llm"]
        values = {n: (llm.config if t else tpe.config)[n] for n, t in zip(names, take)}
        try:
            config = Configuration(self.space, values=values)
        except ValueError:
            config, take = tpe.config, np.zeros(len(names), dtype=bool)
        if config != tpe.config:
            self.tpe.withdraw(tpe.config)  # TPE's asked trial was not evaluated as asked
        origin = llm.origin if take.all() else TPE_ORIGIN if not take.any() else MIXED_ORIGIN
        return Proposal(config, origin=origin, extras={**llm.extras, "llm_params": int(take.sum())})

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
