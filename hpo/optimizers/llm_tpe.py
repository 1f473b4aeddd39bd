"""``llm_tpe``: Optuna's TPE with LLM proposals mixed in, after SLLMBO's LLM-TPE sampler (Mahammadli & Ertekin 2024).

TPE is Optuna's ``TPESampler`` with SLLMBO's settings by default (``TPESampler(seed=seed)`` under Optuna 4.0:
independent, ``n_startup_trials`` 10, ``n_ei_candidates`` 24), through the ``optuna_tpe`` class (same conversions).
Who proposes an optimizer-phase trial (``mix``):

* ``sllmbo`` (default): SLLMBO's ``LLM_TPE_SAMPLER`` as its code runs. While the previous trial's last value came
  from the model (so at the first optimizer-phase trial too) a coin (``p_llm``) gives the whole configuration to
  the model (one call) or to TPE (a joint sample of every hyperparameter, once ``n_startup_trials`` trials exist).
  Otherwise, and while TPE is still in its startup, each hyperparameter gets its own coin: the model's value (one
  call per such hyperparameter) or TPE's independent value. The next trial's rule is set by the last coin thrown.
* ``alternate``: the model proposes every ``llm_every``-th trial (trials ``n_init + k``, ``n_init + 2k``, ...);
* ``random``: with ``per: configuration`` the model proposes the whole trial with probability ``p_llm``; with
  ``per: parameter`` every trial is mixed per hyperparameter as above (one call per hyperparameter given to the
  model).

The coins come from a generator seeded by the run seed. In every mode the model also proposes the whole trial after
``llm_after_stale`` TPE trials in a row without improvement (0 = off; the count restarts after every model turn and
every improvement). This is *not* SLLMBO's patience, which stops the study early; the old name ``patience`` is
rejected with a one-line error saying so.

A whole-configuration model turn is exactly one ``llm`` proposal (same prompt, parse -> repair -> re-ask ->
fallback loop, repetition guard). A per-hyperparameter call is the same prompt asking for that one value (parse ->
repair -> re-ask; after ``max_reasks`` TPE's value stands). Every evaluated point — TPE's, the model's, a mixed one,
the shared initial design — is told to TPE. Rows say who proposed: origin ``tpe`` (no model call: the LLM columns
stay null), ``llm`` / ``repaired`` / ``fallback``, or ``mixed``; ``llm_params`` counts the model's values in a
per-hyperparameter trial.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hpo.core.space import config_json, stable_seed
from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer, Usage
from hpo.optimizers.llm_guard import REASK
from hpo.optimizers.optuna_tpe import OptunaTPE

if TYPE_CHECKING:
    from ConfigSpace import Configuration

    from hpo.llm.repair import Parsed

TPE_PARAMS: dict[str, Any] = {
    **OptunaTPE.PARAMS_SCHEMA["properties"],
    "multivariate": {
        "type": "boolean",
        "default": False,
        "description": "false: TPE samples each hyperparameter independently (SLLMBO's TPESampler default); "
        "mix: sllmbo's whole-configuration TPE turns are joint either way, as in SLLMBO",
    },
    "n_startup_trials": {
        "type": "integer",
        "minimum": 0,
        "default": 10,
        "description": "TPE samples at random until this many trials are evaluated, initial design included "
        "(Optuna's default, as in SLLMBO)",
    },
}
LLM_TPE_PARAMS: dict[str, Any] = {
    **LLM_PARAMS,
    **TPE_PARAMS,
    "mix": {
        "enum": ["sllmbo", "alternate", "random"],
        "default": "sllmbo",
        "description": "sllmbo: SLLMBO's sampler (whole-configuration or per-hyperparameter coins); alternate: the "
        "model every llm_every-th trial; random: coins per trial or per hyperparameter (per)",
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
        "description": "mix: sllmbo and random: probability that a coin gives the model the turn (SLLMBO: 0.5)",
    },
    "per": {
        "enum": ["configuration", "parameter"],
        "default": "configuration",
        "description": "mix: random: one coin per trial (one call for the whole configuration), or one per "
        "hyperparameter (one call per hyperparameter the model gets)",
    },
    "llm_after_stale": {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "the model also proposes after this many TPE trials without improvement (0 = off)",
    },
}
TPE_ORIGIN, MIXED_ORIGIN = "tpe", "mixed"
# Planning estimate of the per-hyperparameter modes' calls when the space is not at hand (the benchmarks have 4-9).
TYPICAL_N_PARAMS = 6
PARAMETER_ASK = (
    "Propose a value for the hyperparameter {name} only; the other hyperparameters of the next configuration are "
    "chosen by another method. Best configuration so far: {best}. Answer format: "
    '{{"rationale": "<one short sentence>", "config": {{"{name}": <allowed value>}}}}.'
)


class SLLMBOTPE(OptunaTPE):
    """``optuna_tpe`` with SLLMBO's sampler settings: ``n_startup_trials`` and Optuna 4.0's ``constant_liar=False``
    (Optuna 5 turned it on), and on request a joint sample of every hyperparameter (:meth:`ask_joint`), which is what
    SLLMBO's ``TPESampler.sample_relative`` returns when its wrapper hands it the whole search space."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(TPE_PARAMS)

    def setup(self) -> None:
        super().setup()
        tpe = self._optuna.samplers.TPESampler
        p = self.params
        common = {"n_startup_trials": p["n_startup_trials"], "n_ei_candidates": p["n_ei_candidates"]}
        self._study.sampler = tpe(seed=self.seed, multivariate=p["multivariate"], constant_liar=False, **common)
        # Optuna 5 ignores the flag in its Parzen estimators; multivariate=True only makes the sampler model the whole
        # space jointly, as SLLMBO's relative call does.
        self._joint = tpe(
            seed=stable_seed("llm_tpe-joint", self.seed), multivariate=True, constant_liar=False, **common
        )

    def ask_joint(self) -> Proposal:
        own, self._study.sampler = self._study.sampler, self._joint
        try:
            return self.ask()
        finally:
            self._study.sampler = own


class LLMTPEOptimizer(LLMOptimizer):
    """TPE proposes; the model takes whole trials or single hyperparameters by SLLMBO's coins, by schedule, or after
    TPE stagnates."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_TPE_PARAMS)
    # Old parameter names -> why they are gone (checked by the study validation and here, for library callers).
    RENAMED_PARAMS: ClassVar[dict[str, str]] = {
        "patience": "renamed to llm_after_stale (it starts a model turn; SLLMBO's patience stops the study)",
    }

    @classmethod
    def calls_per_trial(cls, params: dict[str, Any], n_params: int = TYPICAL_N_PARAMS) -> float:
        """Expected model requests per optimizer-phase trial without re-asks (stagnation turns not counted) in a space
        of ``n_params`` hyperparameters; ``sllmbo`` after TPE's startup, where the chain of coins is stationary."""
        q = float(params["p_llm"])
        if params["mix"] == "sllmbo":  # whole-config state with probability q: q calls; else q per hyperparameter
            return q * q + (1 - q) * q * n_params
        if params["mix"] == "random":
            return q * n_params if params["per"] == "parameter" else q
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
        tpe_params = {k: p[k] for k in TPE_PARAMS}
        self.tpe = SLLMBOTPE(
            self.space, seed=self.seed, n_trials=self.n_trials, params=tpe_params, context=self.context
        )
        self.coins = np.random.default_rng(stable_seed("llm_tpe-mix", self.seed))
        self.turn = 0  # optimizer-phase trials asked so far
        self.stale = 0  # TPE trials since the last improvement or model turn
        self.best = math.inf
        self.joint = True  # mix: sllmbo: the model gave the last value (SLLMBO's first trial is the model's)
        self._last_origin = ""

    def coin(self) -> bool:
        return bool(self.coins.random() < self.params["p_llm"])

    def ask(self) -> Proposal:
        if len(self.history) < self.context.n_init:  # zero-shot initial design: the model's, as in the llm kind
            proposal = super().ask()
        else:
            self.turn += 1
            proposal = self._optimizer_turn()
        self._last_origin = proposal.origin
        return proposal

    def _optimizer_turn(self) -> Proposal:
        p = self.params
        if 0 < p["llm_after_stale"] <= self.stale:
            self.joint = True
            return super().ask()
        if p["mix"] == "alternate":
            return super().ask() if p["llm_every"] and self.turn % p["llm_every"] == 0 else self._tpe()
        if p["mix"] == "random":
            if p["per"] == "parameter":
                return self._per_parameter()[0]
            return super().ask() if self.coin() else self._tpe()
        if self.joint:  # mix: sllmbo, SLLMBO's relative step (its search space is the whole space)
            if self.coin():
                return super().ask()
            if len(self.history) >= p["n_startup_trials"]:  # before, SLLMBO's TPE returns nothing here
                self.joint = False
                return self._tpe(joint=True)
        proposal, self.joint = self._per_parameter()
        return proposal

    def _tpe(self, joint: bool = False) -> Proposal:
        proposal = self.tpe.ask_joint() if joint else self.tpe.ask()
        proposal.origin = TPE_ORIGIN
        return proposal

    def _per_parameter(self) -> tuple[Proposal, bool]:
        """SLLMBO's per-hyperparameter step: each hyperparameter's coin gives it to the model (one call each, run
        concurrently up to the endpoint's ``concurrency``) or to TPE (its independent value). Returns the proposal and
        whether the last coin went to the model. Origin ``fallback`` when the model's values were not used: all its
        answers unusable after the re-asks (TPE's values stand), or the mixed point repeats an evaluated configuration
        on a deterministic benchmark (TPE's own point is evaluated, or the seeded fallback if TPE's repeats too)."""
        from functools import partial

        from ConfigSpace import Configuration

        names = list(self.space)
        take = [self.coin() for _ in names]
        tpe = self._tpe()
        asked = [n for n, t in zip(names, take) if t]
        if not asked:
            return Proposal(tpe.config, origin=TPE_ORIGIN, extras={"llm_params": 0}), False
        usage, values, repaired, rationale, n_model = Usage(), dict(tpe.config), False, None, 0
        for name, (parsed, use) in zip(asked, self.parallel([partial(self._ask_value, n) for n in asked])):
            usage.merge(use)
            if parsed.values is not None:
                values[name] = parsed.values[name]
                n_model += 1
                repaired |= parsed.repaired
                rationale = parsed.rationale or rationale
        try:
            config = Configuration(self.space, values=values)
        except ValueError:  # an invalid combination, possible only in conditional spaces: TPE's point stands
            config, n_model = tpe.config, 0
        duplicate = self.is_duplicate(dict(config))
        if duplicate:  # TPE's own point, unless it repeats too
            fresh = not self.is_duplicate(dict(tpe.config))
            config = tpe.config if fresh else Configuration(self.space, values=self.fallback_config())
        if config != tpe.config:
            self.tpe.withdraw(tpe.config)  # TPE's asked trial was not evaluated as asked
        if duplicate or n_model == 0:  # the model's values were not used
            origin = "fallback"
        elif n_model == len(names):
            origin = "repaired" if repaired else "llm"
        else:
            origin = MIXED_ORIGIN
        extras = {
            **usage.columns(),
            "rationale": rationale,
            "proposals": 1,
            "duplicates": int(duplicate) if self.guard else None,
            "llm_params": n_model,
        }
        return Proposal(config, origin=origin, extras=extras), take[-1]

    def _ask_value(self, name: str) -> tuple[Parsed, Usage]:
        """One hyperparameter's value from the model: the ``llm`` prompt asking for ``name`` alone, repaired and
        re-asked like a proposal (``Parsed.values`` is None when the last answer was still unusable)."""
        from hpo.llm.prompt import history_text, messages
        from hpo.llm.repair import parse_reply
        from hpo.llm.space_text import proposal_schema

        sub = {name: self.space[name]}  # a one-hyperparameter "space" for the schema and the repair
        best = min(self.history, key=lambda o: (o.loss, o.trial), default=None)
        ask = PARAMETER_ASK.format(name=name, best=config_json(best.config) if best else "none yet")
        history = history_text(self.history, self.params["history_best_k"], self.params["history_recent_m"])
        text = f"{self.task}\n\n{history}\n\n{ask}"

        def check(reply: str) -> tuple[Parsed, str | None]:
            parsed = parse_reply(sub, reply)[0]
            return parsed, None if parsed.values is not None else REASK.format(error=parsed.error)

        return self.converse(messages(text), proposal_schema(sub), check)

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
