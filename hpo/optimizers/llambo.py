"""``llambo``: LLAMBO (Liu et al., ICLR 2024, "Large Language Models to Enhance Bayesian Optimization").

Written from the paper and the public OptunaHub ``LLAMBOSampler`` (protocol and defaults only). One trial:

1. **Candidate sampler.** ``n_candidates`` requests, each asking for one configuration expected to reach a *target*
   loss a little better than the best so far: ``best - alpha * (worst - best)`` for the first request, and targets
   between it and the best loss for the others (LLAMBO's target jitter, deterministic here). Every reply goes through
   the ``llm`` method's parse -> repair -> re-ask loop and its repetition guard (a candidate equal to an evaluated
   configuration is re-asked with the duplicate named); distinct valid candidates survive.
2. **Surrogate.** ``discriminative`` (default): the model predicts each candidate's loss from the history, once per
   prompt variant (``n_templates``); the mean and spread over the variants are the prediction and its uncertainty,
   and the candidate with the highest expected improvement over the best loss wins. ``generative``: the model gives
   each candidate's probability of being a "top" configuration (loss within the best ``top_pct`` of the history);
   the most probable wins. Missing or non-numeric scores are re-asked and counted; implausible ones are clipped
   into the observed range widened by its own width (and counted).
3. **Fallbacks.** No valid candidate after the re-asks: a seeded random sample (origin ``fallback``). No usable score
   for any candidate: the sampler's first candidate (``scored`` = 0). One candidate: no surrogate call is needed.

Prompt variants (:mod:`hpo.llm.llambo_prompts`): by default (``variants: tail``) every request of a trial shares one
prefix (task + history in trial order) and the variants differ in their tail (sampler: the target; surrogate: the
candidates' order), so prompt caches process only the tails; ``variants: history`` shows the history in a different
order per variant, as the paper's few-shot templates do (each request then pays for its whole prompt).

The warm start is the study's shared initial design or, with ``init: zero_shot``, the ``llm`` method's zero-shot
design (LLAMBO's zero-shot warm start). Independent calls of a trial run concurrently up to the endpoint's
``concurrency``; each row records the calls (``attempts``), tokens, cost, the number of candidates, which one won
(``candidate``) and with what prediction (``predicted_loss``, ``predicted_std``, ``acquisition``).

Paper / OptunaHub defaults vs ours (ours are sized for the embedded 135M model on 2 CPU cores):
``n_candidates`` 10 vs 3; ``n_templates`` 2 vs 2; ``n_gens`` 10 samples per prompt (the API's ``n``) vs none — the
client sends one completion per request, and prompt variants stand in for samples; ``alpha`` 0.1 vs 0.1;
``top_pct`` 0.2 vs 0.2; surrogate: the paper's end-to-end LLAMBO is discriminative (OptunaHub defaults to generative)
vs discriminative; one surrogate call per candidate and variant (``score_each: true``, the paper) vs one call per
variant scoring all candidates at once (2 calls instead of 6 at our defaults); few-shot templates with the history
in different orders (``variants: history``) vs variants in the requests' tails (``variants: tail``).
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import numpy as np

from hpo.optimizers.base import object_schema
from hpo.optimizers.llm import LLM_PARAMS, LLMOptimizer, Usage

LLAMBO_PARAMS: dict[str, Any] = {
    **LLM_PARAMS,
    "n_candidates": {
        "type": "integer",
        "minimum": 1,
        "maximum": 20,
        "default": 3,
        "description": "candidates per trial, one sampler request each (paper: 10)",
    },
    "n_templates": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "default": 2,
        "description": "surrogate prompt variants (history orders) = predictions per candidate (paper: 2)",
    },
    "alpha": {
        "type": "number",
        "minimum": -1,
        "maximum": 1,
        "default": 0.1,
        "description": "target loss = best - alpha * (worst - best) (paper: 0.1)",
    },
    "surrogate": {"enum": ["discriminative", "generative"], "default": "discriminative"},
    "top_pct": {
        "type": "number",
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 1,
        "default": 0.2,
        "description": "generative surrogate: the fraction of the history labelled 'top' (OptunaHub: 0.2)",
    },
    "score_each": {
        "type": "boolean",
        "default": False,
        "description": "one surrogate request per candidate and variant (paper) instead of one per variant",
    },
    "variants": {
        "enum": ["tail", "history"],
        "default": "tail",
        "description": "what prompt variants vary: the request's tail (targets, candidate order; the history "
        "prefix is shared, so prompt caches hit) or the history's order (paper)",
    },
}
SCORE_REASK = "Your answer could not be used: {error}. Answer again with one JSON object: {fmt}."


class LLAMBOOptimizer(LLMOptimizer):
    """LLAMBO: LLM candidate sampler + LLM surrogate with expected improvement."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLAMBO_PARAMS)

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        if params["score_each"] and params["variants"] == "tail":
            return "score_each: true needs variants: history (a one-candidate request has no order to vary)"
        return super().check_params(params)

    def propose_next(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if not self.history:  # no history to condition on (n_init = 0): the direct proposal of the llm kind
            return super().propose_next()
        usage = Usage()
        candidates, counts = self._sample_candidates(usage)
        extras: dict[str, Any] = {
            "rationale": None,
            "proposals": counts["proposals"],
            "duplicates": counts["duplicates"] if self.guard else None,
            "n_candidates": len(candidates),
            "scored": 0,
            "bad_scores": 0,
        }
        if not candidates:
            values, origin = self.fallback_config(), "fallback"
        else:
            pick = self._choose([c.values for c in candidates], usage)
            extras.update(pick)
            chosen = candidates[pick["candidate"] - 1]
            values, origin = chosen.values, "repaired" if chosen.repaired else "llm"
            extras["rationale"] = chosen.rationale
        return values, {**usage.columns(), **extras, "origin": origin}

    # -- 1. candidate sampler ------------------------------------------------------------------------------------
    def _sample_candidates(self, usage: Usage) -> tuple[list[Any], dict[str, int]]:
        from hpo.llm import llambo_prompts as lp
        from hpo.llm.repair import Parsed
        from hpo.llm.space_text import proposal_schema

        paper = self.params["variants"] == "history"
        n = self.params["n_candidates"]
        goals = lp.targets(self._losses(), float(self.params["alpha"]), n, jitter=not paper)
        schema = proposal_schema(self.space)

        def job(j: int) -> tuple[Parsed | None, Usage, dict[str, int]]:
            counts = {"proposals": 0, "duplicates": 0}
            block = self._block(j if paper else 0, "sampler")
            msgs = lp.messages(lp.sampler_text(lp.prefix(self.task, block), goals[j]))
            parsed, use = self.converse(msgs, schema, self.proposal_check(None, counts))
            return (parsed[0] if parsed else None), use, counts

        total = {"proposals": 0, "duplicates": 0}
        out, seen = [], set()
        for parsed, use, counts in self.parallel([partial(job, j) for j in range(n)]):
            usage.merge(use)
            for k in total:
                total[k] += counts[k]
            if parsed is not None and parsed.values is not None and self.config_key(parsed.values) not in seen:
                seen.add(self.config_key(parsed.values))
                out.append(parsed)
        return out, total

    def _block(self, variant: int, role: str) -> str:
        """The history block; variant > 0 (``variants: history``) shows its rows in a seeded order."""
        from hpo.llm import llambo_prompts as lp

        k, m = self.params["history_best_k"], self.params["history_recent_m"]
        return lp.history_block(self.history, k, m, variant, role, self.seed, len(self.history))

    # -- 2. surrogate ------------------------------------------------------------------------------------------
    def _choose(self, candidates: list[dict[str, Any]], usage: Usage) -> dict[str, Any]:
        """Score the candidates and pick one; returns the trial's surrogate columns (``candidate`` is 1-based)."""
        n = len(candidates)
        pick: dict[str, Any] = {"candidate": 1, "scored": 0, "bad_scores": 0}
        if n == 1:
            return pick
        preds, bad = self._predict(candidates, usage)
        pick["bad_scores"] = bad
        scored = [i for i in range(n) if preds[i]]
        pick["scored"] = len(scored)
        if not scored:  # the surrogate gave nothing usable: the sampler's first candidate
            return pick
        means = np.array([np.mean(preds[i]) if preds[i] else np.nan for i in range(n)])
        if self.params["surrogate"] == "generative":
            acq = means
        else:
            stds = np.array([np.std(preds[i]) if preds[i] else np.nan for i in range(n)])
            floor = max(1e-5 * self._loss_span(), 1e-12)  # no zero spread: EI stays defined
            acq = expected_improvement(means, np.maximum(stds, floor), min(self._losses()))
        best_i = max(scored, key=lambda i: (acq[i], -i))  # ties: the earlier candidate
        pick.update(candidate=best_i + 1, acquisition=float(acq[best_i]))
        if self.params["surrogate"] == "discriminative":
            pick.update(predicted_loss=float(means[best_i]), predicted_std=float(stds[best_i]))
        return pick

    def _plausible(self) -> tuple[float, float]:
        """Scores outside this range are clipped (and counted): the observed losses widened by their own width."""
        if self.params["surrogate"] == "generative":
            return 0.0, 1.0
        lo, hi, span = min(self._losses()), max(self._losses()), self._loss_span()
        return (max(lo - span, 0.0) if lo >= 0 else lo - span), hi + span

    def _losses(self) -> list[float]:
        return [o.loss for o in self.history]

    def _loss_span(self) -> float:
        """The observed losses' width (their magnitude when all are equal, else 1): the scale of plausible scores."""
        losses = self._losses()
        return (max(losses) - min(losses)) or abs(max(losses)) or 1.0

    def _predict(self, candidates: list[dict[str, Any]], usage: Usage) -> tuple[list[list[float]], int]:
        """Every variant's usable prediction per candidate, and how many predictions were bad."""
        from hpo.llm import llambo_prompts as lp

        mode, top_pct = self.params["surrogate"], float(self.params["top_pct"])
        paper = self.params["variants"] == "history"
        lo, hi = self._plausible()
        names = sorted(self.space)
        threshold = lp.top_threshold(self._losses(), top_pct)
        each = bool(self.params["score_each"])
        # One request per variant (all candidates), or per (candidate, variant) as in the paper.
        groups = [[i] for i in range(len(candidates))] if each else [list(range(len(candidates)))]

        def job(group: list[int], variant: int) -> tuple[list[int], lp.Scores, Usage, int]:
            n_arg = None if each else len(group)
            # Tail variants show the candidates rotated (distinct orders, same prefix); paper variants the history.
            shift = 0 if paper else variant % len(group)
            order = group[shift:] + group[:shift]
            head = lp.prefix(self.task, self._block(variant if paper else 0, "surrogate"))
            text = lp.surrogate_text(head, names, [candidates[i] for i in order], mode, top_pct, threshold)
            bad = [0]

            def check(reply: str) -> tuple[lp.Scores, str | None]:
                scores = lp.parse_scores(reply, n_arg, mode, lo, hi)
                bad[0] += scores.bad
                if scores.error is None:
                    return scores, None
                return scores, SCORE_REASK.format(error=scores.error, fmt=lp.score_format(n_arg, mode))

            scores, use = self.converse(lp.messages(text), lp.score_schema(n_arg, mode), check)
            return order, scores, use, bad[0]

        jobs = [partial(job, g, v) for g in groups for v in range(self.params["n_templates"])]
        preds: list[list[float]] = [[] for _ in candidates]
        n_bad = 0
        for order, scores, use, bad in self.parallel(jobs):
            usage.merge(use)
            n_bad += bad
            for i, value in zip(order, scores.values):
                if value is not None:
                    preds[i].append(value)
        return preds, n_bad


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement below ``best`` (minimization) of Gaussian predictions; NaN where ``mean`` is NaN."""
    from scipy.stats import norm

    delta = best - mean
    z = delta / std
    return delta * norm.cdf(z) + std * norm.pdf(z)
