"""``llm_mf``: the model decides every budget too: a new configuration at a fidelity level, or a promotion.

At each step (while ``max_llm_calls`` lasts) the model sees the task, the fidelity ladder with the cost of one
evaluation at each level, the budget left, what Hyperband would do next, and every configuration's loss at each level
it reached (:func:`~hpo.llm.fidelity_history.fidelity_history_text`, ids in first-evaluation order), and answers
``{"action": "new", "level": l, "config": {...}}`` or ``{"action": "promote", "id": i}`` (evaluate configuration
``i`` at the level above the highest it reached). The ladder, the fallback and the accounting are ``llm_hb``'s
(:class:`~hpo.optimizers.llm_hb.LLMHyperband`, whose schedule takes evaluations it did not schedule:
:meth:`~hpo.optimizers.hb_schedule.HyperbandSchedule.record`), so ``llm_mf`` vs ``llm_hb`` differs only in who
decides the budgets.

**A decision that cannot be followed** (a level that does not exist, an id that does not exist or is at the top, a
new configuration already evaluated on a deterministic benchmark, a reply that is not a decision, or a cost above the
budget left) is re-asked with the reason up to ``max_reasks`` (default 0), then replaced by Hyperband's next step:
origin ``fallback``, the reason in ``fallback_reason``. A decision the model makes never exceeds the budget left;
Hyperband's steps (fallbacks, and every step once the calls are spent, origin ``optimizer``) are ``hyperband``'s,
whose last evaluation may overshoot like any kind's (the harness's rule).

**Prices** come from the benchmark (:attr:`~hpo.optimizers.base.RunContext.fidelity_cost`): a new configuration and
a restarted promotion (``promotion: restart``, default) pay the level's full cost; ``continue`` pays the increment
over the configuration's previous evaluation, as the harness charges it.

A trial told without being asked (the insight job replays a trajectory) is placed at the level whose price equals
the cost it paid (Hyperband's next step where several do), so the replay rebuilds the run's prompts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.llm.fidelity_history import fidelity_history_text
from hpo.optimizers.base import Proposal, object_schema
from hpo.optimizers.llm_hb import LLM_HB_PARAMS, LLMHyperband

if TYPE_CHECKING:
    from hpo.optimizers.llm_guard import Check

LLM_MF_PARAMS: dict[str, Any] = {
    **{k: v for k, v in LLM_HB_PARAMS.items() if k != "llm_per_bracket"},
    "max_llm_calls": {
        **LLM_HB_PARAMS["max_llm_calls"],
        "description": "model decisions (requests) per run at most; later steps are Hyperband's",
    },
}
MF_FORMAT = (
    'Answer format: {"rationale": "<one short sentence>", "action": "new" or "promote", "level": <level number>, '
    '"config": {<every hyperparameter>: <allowed value>}, "id": <id in the history>}. "new" evaluates config at that '
    'level (id is ignored); "promote" evaluates configuration id at the level above the highest it reached (level and '
    "config are ignored)."
)
REFUSED = "Your decision could not be followed: {error}. Answer again with one JSON object in the required format."


@dataclass
class Decision:
    """A checked reply: a new configuration (``values``) or a promotion (``key``) at ``level`` (0-based), or the
    ``error`` that says why it cannot be followed."""

    values: dict[str, Any] | None = None
    key: str | None = None
    level: int = -1
    repaired: bool = False
    rationale: str | None = None
    error: str | None = None


class LLMMultiFidelity(LLMHyperband):
    """The model chooses each evaluation and its fidelity level (while ``max_llm_calls`` lasts), else Hyperband."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_MF_PARAMS)

    def setup(self) -> None:
        from hpo.llm.prompt import PROPOSAL_FORMAT

        super().setup()
        self.task = _swap(self.task, PROPOSAL_FORMAT, MF_FORMAT)
        self.task = _swap(
            self.task,
            f"Budget: {self.n_trials} evaluations in total.",
            f"Budget: {self.n_trials} full evaluations' worth of cost.",
        )
        self.spent = 0.0  # cost charged so far, as the harness sums it
        self.paid: dict[str, float] = {}  # configuration -> full cost of its last evaluation (what `continue` spares)
        self._costs: list[float] = []

    # -- prices ------------------------------------------------------------------------------------------------------
    def level_costs(self) -> list[float]:
        """The full cost of one evaluation at each level, lowest level first."""
        if not self._costs:
            cost = self.context.fidelity_cost
            if cost is None:  # built outside the harness, which refuses a benchmark without fidelity first
                raise ValueError(f"{self.context.kind or 'llm_mf'} needs the benchmark's cost per fidelity")
            self._costs = [cost(f) for f in self._schedule().levels]
        return self._costs

    def price(self, key: str | None, level: int) -> float:
        """What evaluating ``key`` (None: a new configuration) at ``level`` charges: a promotion under ``continue``
        pays only what the level costs above the configuration's last evaluation (never below 0)."""
        full = self.level_costs()[level]
        if key is not None and key in self.paid and self.params["promotion"] == "continue":
            return max(full - self.paid[key], 0.0)
        return full

    def budget_left(self) -> float:
        return self.n_trials - self.spent

    def level(self, fidelity: float) -> int:
        """The index of the largest level at or below ``fidelity`` (every evaluation of this kind is at a level)."""
        return max(j for j, f in enumerate(self._schedule().levels) if f <= fidelity * (1 + 1e-9))

    def top_level(self, key: str) -> int:
        """The highest level ``key`` reached."""
        return self.level(max(self._schedule().history()[key]))

    # -- prompt ------------------------------------------------------------------------------------------------------
    def prompt_text(self, n_configs: int | None = None) -> str:
        sched = self._schedule()
        step, levels, costs = sched.next_step(), sched.levels, self.level_costs()
        history = sched.history()
        ladder = "\n".join(f"{j + 1}: fidelity {f:.4g}, cost {c:.4g}" for j, (f, c) in enumerate(zip(levels, costs)))
        pays = (
            "only what the higher level costs above its previous evaluation"
            if self.params["promotion"] == "continue"
            else "the full cost of the higher level"
        )
        at = self.level(step.fidelity) + 1
        if step.action == "promote":
            default = f"promote configuration {list(history).index(step.key) + 1} to level {at}"
        else:
            default = f"evaluate a random new configuration at level {at}"
        where = (
            f"Fidelity levels (level: fidelity, cost of one evaluation in full evaluations; level {len(levels)} is the "
            f"full evaluation):\n{ladder}\n"
            f"Budget left: {self.budget_left():.4g} of {self.n_trials} (spent {self.spent:.4g}). A decision that costs "
            f"more than the budget left is not followed. A promotion pays {pays}.\n"
            f"Hyperband would {default} next; that is done if your decision cannot be followed."
        )
        rows = fidelity_history_text(history, self.params["history_best_k"], self.params["history_recent_m"])
        ask = "Decide the next evaluation: a new configuration at a level, or the promotion of a configuration."
        return f"{self.task}\n{where}\n\n{rows}\n\n{ask}"

    def reply_schema(self) -> dict[str, Any]:
        """The decision's JSON schema: ``rationale`` first, then ``action`` and the fields of both actions, all
        required, so a constrained model cannot promote without an id; before any evaluation only ``new`` exists.

        One flat object rather than one branch per action (``anyOf``): endpoints' structured outputs need an object
        at the root, and a flat answer is what the prompt shows.
        """
        from hpo.llm.space_text import config_schema

        sched = self._schedule()
        configurations = len(sched.history())
        properties: dict[str, Any] = {
            "rationale": {"type": "string", "maxLength": 120},
            "action": {"enum": ["new", "promote"] if configurations else ["new"]},
            "level": {"type": "integer", "minimum": 1, "maximum": len(sched.levels)},
            "config": config_schema(self.space),
        }
        if configurations:
            properties["id"] = {"type": "integer", "minimum": 1, "maximum": configurations}
        return {"type": "object", "properties": properties, "required": list(properties)}

    # -- ask ---------------------------------------------------------------------------------------------------------
    def ask(self) -> Proposal:
        step = self._schedule().next_step()
        if not self.calls_fit():
            return self.hyperband(step)
        counts = {"proposals": 0, "duplicates": 0}
        decision, usage = self.converse(
            self.build_messages(self.prompt_text()), self.reply_schema(), self.decision_check(counts)
        )
        self.calls += usage.attempts
        extras = {
            **usage.columns(),
            "rationale": decision.rationale,
            "proposals": counts["proposals"],
            "duplicates": counts["duplicates"] if self.guard else None,
        }
        if decision.error is not None:
            return self.hyperband(step, "fallback", {**extras, "fallback_reason": decision.error})
        fidelity = self.schedule.levels[decision.level]
        if decision.key is not None:
            return self.evaluate(self.configs[decision.key], fidelity, "llm", extras, promotion=True)
        assert decision.values is not None
        origin = "repaired" if decision.repaired else "llm"
        return self.evaluate(self._configuration(decision.values), fidelity, origin, extras)

    def decision_check(self, counts: dict[str, int]) -> Check[Decision]:
        """The reply check of one decision: usable, or the reason as a re-ask (and, at the end, as the fallback's)."""

        def check(text: str) -> tuple[Decision, str | None]:
            decision = self.decide(text, counts)
            return decision, None if decision.error is None else REFUSED.format(error=decision.error)

        return check

    def decide(self, text: str, counts: dict[str, int]) -> Decision:
        """Parse a reply into a decision and check that it can be followed and paid for."""
        from hpo.llm.repair import extract_json

        try:
            obj = extract_json(text)
        except ValueError as exc:
            return Decision(error=str(exc))
        if not isinstance(obj, dict):
            return Decision(error="the reply is not a JSON object")
        action = obj.get("action")
        if action == "new":
            decision = self._new(obj, counts)
        elif action == "promote":
            decision = self._promote(obj)
        else:
            decision = Decision(error=f'"action" must be "new" or "promote", not {json.dumps(action)}')
        decision.rationale = obj["rationale"] if isinstance(obj.get("rationale"), str) else None
        if decision.error is None:
            price, left = self.price(decision.key, decision.level), self.budget_left()
            if price > left + 1e-9:
                decision.error = f"it costs {price:.4g}, more than the budget left ({left:.4g})"
        return decision

    def _new(self, obj: dict[str, Any], counts: dict[str, int]) -> Decision:
        from hpo.llm.repair import repair_config

        n = len(self.schedule.levels)
        level = _integer(obj.get("level"))
        if level is None or not 1 <= level <= n:
            return Decision(error=f"level {json.dumps(obj.get('level'))} does not exist (levels 1 to {n})")
        parsed = repair_config(self.space, obj.get("config"))
        if parsed.values is None:
            return Decision(error=parsed.error)
        counts["proposals"] += 1
        if self.is_duplicate(parsed.values):
            counts["duplicates"] += 1
            ids = {self.config_key(json.loads(k)): i + 1 for i, k in enumerate(self.schedule.history())}
            known = ids.get(self.config_key(parsed.values), "?")
            return Decision(
                error=f"that configuration was already evaluated (id {known}); promote it or propose another"
            )
        return Decision(values=parsed.values, level=level - 1, repaired=parsed.repaired)

    def _promote(self, obj: dict[str, Any]) -> Decision:
        keys = list(self.schedule.history())
        i = _integer(obj.get("id"))
        if i is None or not 1 <= i <= len(keys):
            have = f"ids 1 to {len(keys)}" if keys else "no configuration has been evaluated yet"
            return Decision(error=f"configuration id {json.dumps(obj.get('id'))} does not exist ({have})")
        top = self.top_level(keys[i - 1])
        if top == len(self.schedule.levels) - 1:
            return Decision(error=f"configuration {i} is already at the top level")
        return Decision(key=keys[i - 1], level=top + 1)

    # -- tell --------------------------------------------------------------------------------------------------------
    def record(self, key: str, fidelity: float, loss: float, cost: float) -> None:
        super().record(key, fidelity, loss, cost)
        self.spent += 0.0 if math.isnan(cost) else cost
        self.paid[key] = self.level_costs()[self.level(fidelity)]

    def unasked_fidelity(self, key: str, cost: float) -> float:
        """The level whose price equals the cost this trial paid; Hyperband's next step where it is one of them."""
        step = self._schedule().next_step()
        levels = self.schedule.levels
        match = [j for j in range(len(levels)) if math.isclose(self.price(key, j), cost, rel_tol=1e-9, abs_tol=1e-12)]
        if not match or step.fidelity in (levels[j] for j in match):
            return step.fidelity
        return levels[match[0]]


def _swap(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced; an error if it is missing (the shared task text changed under this kind)."""
    if old not in text:
        raise ValueError(f"llm_mf: the task text no longer holds {old!r}")
    return text.replace(old, new)


def _integer(value: Any) -> int | None:
    """A whole number, from an int, an integral float or a numeric string (models write ``"2"`` or ``2.0``)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None
