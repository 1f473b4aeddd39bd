"""``llm_hb``: Hyperband decides every budget; the LLM proposes the new configurations of its brackets.

The ablation between ``hyperband`` (random new configurations) and ``llm_mf`` (the model decides budgets too): the
schedule is :class:`~hpo.optimizers.hb_schedule.HyperbandSchedule` (Li et al.'s brackets, the same as SMAC's
``hyperband`` of the study), and only its *new* configurations change hands. Each new configuration is one
conversation of the ``llm`` kind (:meth:`~hpo.optimizers.llm.LLMOptimizer.converse`: prompt, parse, repair,
repetition guard, cache, usage columns, rationale), whose prompt shows every configuration evaluated so far with its
loss at each fidelity it reached (:func:`~hpo.llm.fidelity_history.fidelity_history_text`) and the fidelity the new
one starts at.

**Bounded calls.** A bracket's first rung holds up to 81 new configurations on ``[1, 100]`` (hundreds of cheap
evaluations a run), so the model proposes only the first ``llm_per_bracket`` new configurations of each bracket
(default 2: it sees the previous brackets' results at every fidelity before each bracket starts), and at most
``max_llm_calls`` model requests per run (``max_reasks`` defaults to 0 here: one request per new configuration); a
conversation starts only while its worst case (``1 + max_reasks`` requests) still fits, so the cap holds with re-asks
too. The other new configurations are seeded random samples (origin ``optimizer``, like Hyperband's own).
:meth:`LLMHyperband.calls_per_run` is what :mod:`hpo.study.estimate` counts.

**Promotions** are Hyperband's (origin ``optimizer``, no model call). ``promotion: restart`` (default) evaluates a
promoted configuration afresh at the higher fidelity and pays its full cost, as SMAC's Hyperband does, so ``llm_hb``
vs ``hyperband`` differs only in who proposes; ``continue`` marks it as continuing its previous rung
(``Proposal.continues``: the harness charges only the increment), as ``optuna_hb`` does.

A trial told without being asked (the insight job replays a trajectory) is the schedule's next step, which is what
the run evaluated: every trial of an ``llm_hb`` run is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hpo.core.space import config_json
from hpo.llm.fidelity_history import fidelity_history_text
from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer

if TYPE_CHECKING:
    from ConfigSpace import Configuration

    from hpo.optimizers.hb_schedule import Step

LLM_HB_PARAMS: dict[str, Any] = {
    **{k: v for k, v in LLM_PARAMS.items() if k != "init"},  # Hyperband fills its brackets itself
    "max_reasks": {**LLM_PARAMS["max_reasks"], "default": 0},
    "eta": {"type": "integer", "minimum": 2, "default": 3},
    "max_llm_calls": {
        "type": "integer",
        "minimum": 0,
        "default": 8,
        "description": "model requests per run at most; later new configurations are seeded random samples",
    },
    "llm_per_bracket": {
        "type": "integer",
        "minimum": 1,
        "default": 2,
        "description": "the first this many new configurations of each bracket come from the model",
    },
    "promotion": {"enum": ["restart", "continue"], "default": "restart"},
}


class LLMHyperband(LLMOptimizer):
    """Hyperband's schedule; the model proposes each new configuration (while ``max_llm_calls`` lasts)."""

    MULTI_FIDELITY = True
    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_HB_PARAMS)

    def setup(self) -> None:
        super().setup()
        self.schedule: Any = None  # built at the first ask/tell: the harness refuses a benchmark without fidelity
        self.configs: dict[str, Configuration] = {}  # schedule key -> the configuration (for promotions)
        self.calls = 0  # model requests made so far (cache hits included: the run must not depend on the cache)
        self._pending: tuple[str, float] | None = None

    @property
    def uses_shared_initial_design(self) -> bool:
        return False

    @classmethod
    def calls_per_run(cls, params: dict[str, Any]) -> int:
        """The most model requests one run makes (:mod:`hpo.study.estimate` caps its per-trial count with this)."""
        return int(params.get("max_llm_calls", LLM_HB_PARAMS["max_llm_calls"]["default"]))

    def _schedule(self) -> Any:
        if self.schedule is None:
            from hpo.optimizers.hb_schedule import HyperbandSchedule

            self.schedule = HyperbandSchedule(*self.context.fidelity_range(), self.params["eta"])
        return self.schedule

    def design_size(self) -> int | None:
        return None  # no zero-shot design: every new configuration is one request

    def prompt_text(self, n_configs: int | None = None) -> str:
        step = self._schedule().next_step()
        rows = fidelity_history_text(
            self.schedule.history(), self.params["history_best_k"], self.params["history_recent_m"]
        )
        levels = ", ".join(f"{f:.4g}" for f in self.schedule.levels)
        where = (
            f"Hyperband evaluates configurations at fidelities {levels} (the last is the full evaluation) and promotes "
            f"the best 1/{self.schedule.eta} of each rung to the next fidelity. The new configuration starts at "
            f"fidelity {step.fidelity:.4g}."
        )
        cost = self.context.info.get("fidelity", {}).get("cost")
        if cost:  # the task's budget counts full evaluations; say what a cheaper one costs
            where += f" An evaluation at fidelity z costs {cost} of a full one."
        return f"{self.task}\n{where}\n\n{rows}\n\nPropose the next configuration to evaluate."

    def ask(self) -> Proposal:
        step = self._schedule().next_step()
        if step.action == "new" and self._model_proposes():
            values, extras = self._propose()[0]
            self.calls += int(extras["attempts"])
            origin = extras.pop("origin")
            return self.evaluate(self._configuration(values), step.fidelity, origin, extras)
        return self.hyperband(step)

    def hyperband(self, step: Step, origin: str = "optimizer", extras: dict[str, Any] | None = None) -> Proposal:
        """Hyperband's own ``step``: the promotion it schedules, or a seeded random new configuration."""
        if step.action == "promote":
            assert step.key is not None
            return self.evaluate(self.configs[step.key], step.fidelity, origin, extras or {}, promotion=True)
        return self.evaluate(self._configuration(self.fallback_config()), step.fidelity, origin, extras or {})

    def evaluate(
        self, config: Configuration, fidelity: float, origin: str, extras: dict[str, Any], promotion: bool = False
    ) -> Proposal:
        """The proposal of ``config`` at ``fidelity`` (remembered for :meth:`tell`); a promotion continues its previous
        evaluation under ``promotion: continue``."""
        self._pending = (config_json(config), fidelity)
        continues = promotion and self.params["promotion"] == "continue"
        return Proposal(config, origin=origin, extras=extras, fidelity=fidelity, continues=continues)

    def _model_proposes(self) -> bool:
        """Whether the model proposes the bracket's next new configuration: one of its first ``llm_per_bracket``,
        and the conversation's worst case (``1 + max_reasks`` requests) still fits in ``max_llm_calls``."""
        return self.calls_fit() and self.schedule.filled() < self.params["llm_per_bracket"]

    def calls_fit(self) -> bool:
        """Whether one more conversation fits in ``max_llm_calls`` at its worst case (``1 + max_reasks`` requests)."""
        return self.calls + 1 + int(self.params["max_reasks"]) <= self.params["max_llm_calls"]

    def _configuration(self, values: dict[str, Any]) -> Configuration:
        from ConfigSpace import Configuration

        return Configuration(self.space, values=values)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        key = config_json(config)
        if self._pending is not None and self._pending[0] != key:
            raise ValueError("llm_hb was told a configuration it did not ask for")
        fidelity = self._pending[1] if self._pending else self.unasked_fidelity(key, cost)
        self._pending = None
        super().tell(config, loss, cost)
        self.configs.setdefault(key, config)
        self.record(key, fidelity, loss, cost)

    def record(self, key: str, fidelity: float, loss: float, cost: float) -> None:
        """An evaluation was told (asked or not): the schedule takes it (a kind that keeps more state extends this)."""
        self.schedule.record(key, fidelity, loss)

    def unasked_fidelity(self, key: str, cost: float) -> float:
        """The fidelity of a trial told without being asked (the insight job's replay): the schedule's next step,
        which is what an ``llm_hb`` run evaluated at every trial."""
        return self._schedule().next_step().fidelity
