"""``llm_hb``: Hyperband decides every budget; the LLM proposes the new configurations of its brackets.

The ablation between ``hyperband`` (random new configurations) and ``llm_mf`` (the model decides budgets too): the
schedule is :class:`~hpo.optimizers.hb_schedule.HyperbandSchedule` (Li et al.'s brackets, the same as SMAC's
``hyperband`` of the study), and only its *new* configurations change hands. Each new configuration is one
conversation of the ``llm`` kind (:meth:`~hpo.optimizers.llm.LLMOptimizer.converse`: prompt, parse, repair,
repetition guard, cache, usage columns, rationale), whose prompt shows every configuration evaluated so far with its
loss at each fidelity it reached (:func:`fidelity_history_text`) and the fidelity the new one starts at.

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

import json
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.core.space import config_json
from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer

if TYPE_CHECKING:
    from ConfigSpace import Configuration

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
        continues = False
        if step.action == "promote":
            assert step.key is not None
            config, origin, extras = self.configs[step.key], "optimizer", {}
            continues = self.params["promotion"] == "continue"
        elif self._model_proposes():
            values, extras = self._propose()[0]
            self.calls += int(extras["attempts"])
            origin = extras.pop("origin")
            config = self._configuration(values)
        else:
            config, origin, extras = self._configuration(self.fallback_config()), "optimizer", {}
        self._pending = (config_json(config), step.fidelity)
        return Proposal(config, origin=origin, extras=extras, fidelity=step.fidelity, continues=continues)

    def _model_proposes(self) -> bool:
        """Whether the model proposes the bracket's next new configuration: one of its first ``llm_per_bracket``,
        and the conversation's worst case (``1 + max_reasks`` requests) still fits in ``max_llm_calls``."""
        fits = self.calls + 1 + int(self.params["max_reasks"]) <= self.params["max_llm_calls"]
        return fits and self.schedule.filled() < self.params["llm_per_bracket"]

    def _configuration(self, values: dict[str, Any]) -> Configuration:
        from ConfigSpace import Configuration

        return Configuration(self.space, values=values)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        key = config_json(config)
        if self._pending is not None and self._pending[0] != key:
            raise ValueError("llm_hb was told a configuration it did not ask for")
        fidelity = self._pending[1] if self._pending else self._schedule().next_step().fidelity
        self._pending = None
        super().tell(config, loss, cost)
        self.configs.setdefault(key, config)
        self.schedule.record(key, fidelity, loss)


def fidelity_history_text(history: dict[str, dict[float, float]], best_k: int, recent_m: int) -> str:
    """Every configuration (``config_json`` keys, first-evaluation order) with its loss at each fidelity it reached.

    One row per configuration and one column per fidelity, empty where it was not evaluated, so the model sees how
    each one's loss changed with fidelity. Beyond ``best_k + recent_m`` configurations: the ``best_k`` best (highest
    fidelity reached first, then loss) and the ``recent_m`` latest, in order, so the prompt stops growing.
    """
    from hpo.llm.prompt import EMPTY_HISTORY, cell

    if not history:
        return EMPTY_HISTORY
    keys = list(history)
    fids = sorted({f for losses in history.values() for f in losses})

    def rank(i: int) -> tuple[float, float]:
        top = max(history[keys[i]])
        loss = history[keys[i]][top]
        return (-top, loss if loss == loss else float("inf"))

    shown = list(range(len(keys)))
    note = "History (configurations in the order first evaluated; loss at each fidelity, empty = not evaluated):"
    if len(keys) > best_k + recent_m:
        best = sorted(range(len(keys) - recent_m), key=rank)[:best_k]
        shown = sorted(best) + list(range(len(keys) - recent_m, len(keys)))
        note = (
            f"History ({len(keys)} configurations; the {best_k} best of the earlier ones, then the {recent_m} latest; "
            "loss at each fidelity, empty = not evaluated):"
        )
    configs = [json.loads(k) for k in keys]
    names = sorted(configs[0])
    header = ",".join(["id", *names, *(f"loss@{f:.4g}" for f in fids)])
    rows = []
    for i in shown:
        losses = history[keys[i]]
        cells = [f"{losses[f]:.6g}" if f in losses else "" for f in fids]
        rows.append(",".join([str(i + 1), *(cell(configs[i][n]) for n in names), *cells]))
    top = fids[-1]
    at_top = [v[top] for v in history.values() if top in v]
    best_line = f"Best loss at fidelity {top:.4g}: {min(at_top):.6g}."
    return "\n".join([note, header, *rows, best_line])
