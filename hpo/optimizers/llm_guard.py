"""The repetition guard of every LLM kind, and the reply check of a direct proposal.

On a deterministic benchmark (``RunContext.deterministic``) evaluating a configuration twice only wastes a trial, so
a proposal equal to an evaluated configuration is treated like an invalid answer: the model is asked again with the
duplicate named, and after ``max_reasks`` re-asks the seeded fallback (which itself avoids evaluated configurations)
is used. Split from :mod:`hpo.optimizers.llm` as a mixin of :class:`~hpo.optimizers.llm.LLMOptimizer`, which sets
the state it reads in ``setup`` (``_grids``, ``evaluated``, ``_fallback``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from hpo.core.space import config_dict, config_json

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

    from hpo.llm.repair import Parsed
    from hpo.optimizers.base import RunContext

T = TypeVar("T")

REASK = (
    "Your answer could not be used: {error}. Answer again with one JSON object in the required format, "
    "using only the allowed values."
)
DUPLICATE = (
    "Your configuration {configs} was already evaluated ({where}); evaluating it again would waste a trial. "
    "Propose a configuration that is not in the history, in the required format."
)
FALLBACK_DRAWS = 1000  # seeded samples tried before accepting a repeat (a space smaller than the budget)

# A reply check: text -> (result, None) when usable, or (partial result, re-ask message) when the model must retry.
Check = Callable[[str], tuple[T, str | None]]


class RepetitionGuard:
    """Configuration identity, duplicate detection and the seeded fallback, for :class:`LLMOptimizer` and its
    subclasses (they all propose through :meth:`~hpo.optimizers.llm.LLMOptimizer.converse`)."""

    context: RunContext
    space: ConfigurationSpace
    _grids: dict[str, Any]
    evaluated: dict[str, Any]
    _fallback: ConfigurationSpace

    @property
    def guard(self) -> bool:
        """Whether the repetition guard is on: only where a repeated evaluation gives the same loss."""
        return self.context.deterministic

    def config_key(self, values: Configuration | dict[str, Any]) -> str:
        """A configuration's identity: grid values by their index, so ``1`` and ``1.0`` are the same point (a
        sampled configuration may hold ``1.0`` where the grid and a repaired model answer hold ``1``)."""
        key = []
        for name, grid in self._grids.items():
            value = values.get(name)
            if value is None or grid is None:
                key.append(value if value is None else float(value))
            else:
                key.append(next((i for i, v in enumerate(grid) if v == value), repr(value)))
        return json.dumps(key)

    def is_duplicate(self, values: dict[str, Any]) -> bool:
        return self.guard and self.config_key(values) in self.evaluated

    def duplicate_message(self, duplicates: Sequence[dict[str, Any]]) -> str:
        """The re-ask that names the repeated configuration(s) and where they were evaluated."""
        configs = " and ".join(config_json(d) for d in duplicates)
        where = "; ".join(
            f"trial {obs.trial}, loss {obs.loss:.6g}"
            for obs in (self.evaluated.get(self.config_key(d)) for d in duplicates)
            if obs is not None
        )
        return DUPLICATE.format(configs=configs, where=where or "earlier in this request")

    def fallback_config(self, exclude: set[str] | None = None) -> dict[str, Any]:
        """A seeded random configuration that is, where possible, neither evaluated nor in ``exclude``."""
        taken = (set(self.evaluated) if self.guard else set()) | (exclude or set())
        values = config_dict(self._fallback.sample_configuration())
        for _ in range(FALLBACK_DRAWS):
            if self.config_key(values) not in taken:
                break
            values = config_dict(self._fallback.sample_configuration())
        return values

    # -- the parse / repair / re-ask / fallback loop of the direct proposal ---------------------------------------
    def proposal_check(
        self, n_configs: int | None, counts: dict[str, int], rationale: list[str | None] | None = None
    ) -> Check[list[Parsed]]:
        """The reply check of a proposal (one configuration, or ``n_configs`` of a zero-shot design; also LLAMBO's
        candidates): parse and repair, set repeats aside, count proposals and duplicates into ``counts``, keep the
        last reply's rationale in ``rationale[0]``, and ask again naming the repeats or the parse error when nothing
        new is usable."""
        from hpo.llm.repair import parse_reply

        want = n_configs or 1

        def check(text: str) -> tuple[list[Parsed], str | None]:
            parsed = parse_reply(self.space, text, "configs" if n_configs else "config")
            if rationale is not None:
                rationale[0] = next((p.rationale for p in parsed if p.rationale), None)
            fresh, dups, seen = [], [], set()
            for p in parsed:
                if p.values is None:
                    continue
                key = self.config_key(p.values)
                # A repeat within one zero-shot design wastes a trial just like a repeat of the history.
                (dups if self.is_duplicate(p.values) or (self.guard and key in seen) else fresh).append(p)
                seen.add(key)
            counts["proposals"] += len(fresh) + len(dups)
            counts["duplicates"] += len(dups)
            if fresh:
                return fresh[:want], None
            if dups:
                return [], self.duplicate_message([d.values for d in dups])
            return [], REASK.format(error=next(p.error for p in parsed if p.error))

        return check
