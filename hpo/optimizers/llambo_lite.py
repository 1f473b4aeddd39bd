"""``llambo_lite``: LLAMBO, reduced — the cheap variant sized for the embedded 135M model on CPU cores.

Same trial skeleton, target, acquisition and tie rule as ``llambo`` (:class:`~hpo.optimizers.llambo.LLAMBOBase`);
what it reduces, each a deviation from the paper (listed in the README and ``docs/notes/issue16-llambo.md``):

* **candidates:** ``n_candidates`` (3) sampler requests of one completion each (paper: 2 templates x 5 samples,
  resampled until >= 5 new points); each goes through the ``llm`` kind's parse -> repair -> re-ask loop and its
  repetition guard; candidates equal to an evaluated configuration are dropped on noisy benchmarks too;
* **prompt:** the ``llm`` kind's task text (no data card) and history block (best ``history_best_k`` + recent
  ``history_recent_m`` in trial order, not every observation permuted); every request shares it as its prefix
  (prompt caches hit) and the variants differ in their tails (``variants: tail``), or, with ``variants: history``,
  the history rows are shown in a seeded order for variants > 0 (variant 0 keeps trial order);
* **surrogate:** one request per variant scoring all candidates at once (``score_each: false``; paper: one per
  candidate and template, 10 samples each), so each candidate gets ``n_templates`` (2) predictions, not 20;
  generative mode asks for a stated probability, not a 0/1 label's token probability;
* **one candidate:** no surrogate call.

Every request carries its own seed (sampler request j, surrogate variant v), so identical prompts (variants that
coincide when fewer candidates survive than there are variants) are still independent samples, never one cached
reply counted twice. A batch score reply with missing or junk entries is re-asked, and a usable score from an
earlier reply is kept rather than replaced by the re-ask's answer.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

from hpo.optimizers.base import object_schema
from hpo.optimizers.llambo import LLAMBO_COMMON, LLAMBOBase
from hpo.optimizers.llm import Usage

LLAMBO_LITE_PARAMS: dict[str, Any] = {
    **LLAMBO_COMMON,
    "n_candidates": {
        "type": "integer",
        "minimum": 1,
        "maximum": 20,
        "default": 3,
        "description": "candidates per trial, one sampler request each (paper: ~10 from 2 x 5 samples)",
    },
    "n_templates": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "default": 2,
        "description": "surrogate prompt variants = predictions per candidate (paper: 2 templates x 10 samples)",
    },
    "score_each": {
        "type": "boolean",
        "default": False,
        "description": "one surrogate request per candidate and variant (paper) instead of one per variant",
    },
    "variants": {
        "enum": ["tail", "history"],
        "default": "tail",
        "description": "what prompt variants vary: the request's tail (candidate order; the history prefix is "
        "shared, so prompt caches hit) or the history's order",
    },
}
SCORE_REASK = "Your answer could not be used: {error}. Answer again with one JSON object: {fmt}."


class LLAMBOLiteOptimizer(LLAMBOBase):
    """LLAMBO, reduced: 3 one-completion candidates, a batched 2-variant surrogate, the ``llm`` kind's prompt."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLAMBO_LITE_PARAMS)
    SCORE_SINGLE: ClassVar[bool] = False

    @classmethod
    def calls_per_trial(cls, params: dict[str, Any]) -> float:
        """Model requests of one trial without re-asks."""
        n, t = params["n_candidates"], params["n_templates"]
        return n + (n * t if params["score_each"] else t)

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        if params["score_each"] and params["variants"] == "tail":
            return "score_each: true needs variants: history (a one-candidate request has no order to vary)"
        return super().check_params(params)

    def _block(self, variant: int, role: str) -> str:
        """The history block; variant > 0 (``variants: history``) shows its rows in a seeded order."""
        from hpo.llm import llambo_prompts as lp

        k, m = self.params["history_best_k"], self.params["history_recent_m"]
        return lp.history_block(self.history, k, m, variant, role, self.seed, len(self.history))

    def _sample_candidates(self, usage: Usage, goal: float) -> tuple[list[Any], dict[str, Any]]:
        from hpo.llm import llambo_prompts as lp
        from hpo.llm.repair import Parsed
        from hpo.llm.space_text import proposal_schema

        paper = self.params["variants"] == "history"
        schema = proposal_schema(self.space)

        def job(j: int) -> tuple[Parsed | None, Usage, dict[str, int]]:
            counts = {"proposals": 0, "duplicates": 0}
            block = self._block(j if paper else 0, "sampler")
            msgs = lp.messages(lp.sampler_text(lp.prefix(self.task, block), goal))
            seed = {"seed": self.sample_seed("sampler", j)}
            parsed, use = self.converse(msgs, schema, self.proposal_check(None, counts), seed)
            return (parsed[0] if parsed else None), use, counts

        total = {"proposals": 0, "duplicates": 0}
        out, seen = [], set()
        for parsed, use, counts in self.parallel([partial(job, j) for j in range(self.params["n_candidates"])]):
            usage.merge(use)
            for k in total:
                total[k] += counts[k]
            if parsed is None or parsed.values is None:
                continue
            key = self.config_key(parsed.values)
            if key in self.evaluated:  # only reachable on noisy benchmarks (the guard re-asks elsewhere)
                total["duplicates"] += 1
            elif key not in seen:
                seen.add(key)
                out.append(parsed)
        return out, {**total, "sampler_rounds": 1}

    def _predict(self, candidates: list[dict[str, Any]], usage: Usage) -> tuple[list[list[float]], dict[str, Any]]:
        """Every variant's usable prediction per candidate, and how many predictions were bad."""
        from hpo.llm import llambo_prompts as lp

        mode, top_pct = self.params["surrogate"], float(self.params["top_pct"])
        paper = self.params["variants"] == "history"
        lo, hi = self._plausible()
        names = sorted(self.space)
        threshold = lp.top_threshold(self._losses(), top_pct)
        each = bool(self.params["score_each"])
        groups = [[i] for i in range(len(candidates))] if each else [list(range(len(candidates)))]

        def job(group: list[int], variant: int) -> tuple[list[int], list[float | None], Usage, int]:
            n_arg = None if each else len(group)
            shift = 0 if paper else variant % len(group)  # tail variants: candidates rotated
            order = group[shift:] + group[:shift]
            head = lp.prefix(self.task, self._block(variant if paper else 0, "surrogate"))
            text = lp.surrogate_text(head, names, [candidates[i] for i in order], mode, top_pct, threshold)
            bad, kept = [0], [None] * len(order)

            def check(reply: str) -> tuple[list[float | None], str | None]:
                scores = lp.parse_scores(reply, n_arg, mode, lo, hi)
                bad[0] += scores.bad
                for k, value in enumerate(scores.values):  # a usable earlier score is kept, never replaced
                    kept[k] = value if kept[k] is None else kept[k]
                if scores.error is None or all(v is not None for v in kept):
                    return kept, None
                return kept, SCORE_REASK.format(error=scores.error, fmt=lp.score_format(n_arg, mode))

            seed = {"seed": self.sample_seed("surrogate", group[0] if each else -1, variant)}
            values, use = self.converse(lp.messages(text), lp.score_schema(n_arg, mode), check, seed)
            return order, values, use, bad[0]

        jobs = [partial(job, g, v) for g in groups for v in range(self.params["n_templates"])]
        preds: list[list[float]] = [[] for _ in candidates]
        n_bad = 0
        for order, values, use, bad in self.parallel(jobs):
            usage.merge(use)
            n_bad += bad
            for i, value in zip(order, values):
                if value is not None:
                    preds[i].append(value)
        return preds, {"bad_scores": n_bad}
