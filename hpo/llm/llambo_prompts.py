"""``llambo_lite``'s prompts, and the score schemas and parsing both LLAMBO variants use (Liu et al., ICLR 2024).

Two kinds of request, both starting with the same *prefix*: one system message, the ``llm`` method's task
description (task, metric, search space) and its history block (:func:`hpo.llm.prompt.history_text`: a table in trial
order, compressed in epochs). Only the tail differs:

* **candidate sampler** — "propose one configuration that you expect to reach loss ``target``", the published
  target (:func:`hpo.llm.llambo_fewshot.target`), the same in every request of a trial (each request has its own
  seed, so they are independent samples);
* **surrogate** — "predict the loss of each candidate" (discriminative) or "give each candidate's probability of
  being among the best ``top_pct`` of configurations" (generative).

Why one prefix: a trial makes several calls, and with a shared prefix llama.cpp's prompt cache (and OpenAI's prompt
caching) only processes each request's tail; a 1,500-token prompt processed from scratch costs ~13 s on one CPU core.
So the surrogate's prompt *variants* of a trial differ at the end (the candidates in different orders). Variants
with different orders of the history remain available: :func:`history_block` with ``variant > 0``. The published
protocol's few-shot prompts (``llambo``) are in :mod:`hpo.llm.llambo_fewshot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo.core.space import stable_seed
from hpo.llm import prompt
from hpo.llm.prompt import cell

SYSTEM = (
    "You are an expert in hyperparameter optimization. You propose configurations that should reach a target loss, "
    "and you predict the loss of new configurations from evaluated ones. Answer with one JSON object only."
)
MODES = ("discriminative", "generative")
SCORE_KEYS = {"discriminative": ("loss", "losses"), "generative": ("p_top", "p_top")}


def task_only(task: str) -> str:
    """The ``llm`` task text without its answer-format line (each LLAMBO request states its own format)."""
    return "\n".join(line for line in task.splitlines() if line != prompt.PROPOSAL_FORMAT)


def ordering(items: list[Any], variant: int, *seed_parts: object) -> list[Any]:
    """Variant 0: ``items`` as given; variant v > 0: a permutation seeded by ``seed_parts`` and ``v``."""
    if variant == 0 or len(items) < 2:
        return list(items)
    rng = np.random.default_rng(stable_seed("llambo-variant", *seed_parts, variant))
    return [items[i] for i in rng.permutation(len(items))]


def history_block(history: list[Any], best_k: int, recent_m: int, variant: int = 0, *seed_parts: object) -> str:
    """The ``llm`` prompt's history block; for ``variant > 0`` its rows in a seeded order (the paper's variants).

    The block is a note line, a header line, one line per shown trial and a closing "Best loss so far" line.
    """
    from hpo.llm.prompt import history_text

    block = history_text(history, best_k, recent_m)
    lines = block.splitlines()
    if variant == 0 or len(lines) < 4:
        return block
    return "\n".join([*lines[:2], *ordering(lines[2:-1], variant, *seed_parts), lines[-1]])


def prefix(task: str, block: str) -> str:
    """What every request of a trial starts with: the task (no answer format) and the history block."""
    return f"{task_only(task)}\n\n{block}"


def top_threshold(losses: list[float], top_pct: float) -> float:
    """The loss at or below which a configuration counts as among the best ``top_pct`` of all evaluated ones."""
    return float(np.quantile(losses, top_pct))


def candidate_table(candidates: list[dict[str, Any]], names: list[str]) -> str:
    lines = [",".join([str(i + 1), *(cell(c[n]) for n in names)]) for i, c in enumerate(candidates)]
    return "\n".join([",".join(["candidate", *names]), *lines])


def sampler_text(head: str, target: float) -> str:
    """The candidate sampler's request: the shared prefix, then the target loss.

    The answer is the ``llm`` method's proposal (rationale first, then the configuration): measured with SmolLM2 on
    mlp-credit_g, asking for the configuration alone made 86% of the candidates copies of evaluated ones, asking for a
    reason first 0% (18 candidates each).
    """
    return (
        f"{head}\n\nPropose one new configuration that you expect to reach a loss of {target:.6g}. "
        f"Do not repeat a configuration from the history.\n{prompt.PROPOSAL_FORMAT}"
    )


def surrogate_text(
    head: str, names: list[str], candidates: list[dict[str, Any]], mode: str, top_pct: float, threshold: float
) -> str:
    """The surrogate's request: the shared prefix, then the candidates to score (one or several), in the order shown.

    Generative mode states which losses count as "top": at most ``threshold`` (:func:`top_threshold` over the whole
    history), the best ``top_pct`` of the evaluated configurations.
    """
    n = len(candidates)
    cands = candidate_table(candidates, names)
    if mode == "discriminative":
        what = "the loss" if n == 1 else f"the loss of each of the {n} candidates, in order"
    else:
        pct = f"{100 * top_pct:g}%"
        which = "the candidate" if n == 1 else f"each of the {n} candidates, in order,"
        what = (
            f"the probability (0 to 1) that {which} is a top configuration: loss at most {threshold:.6g}, "
            f"like the best {pct} of the evaluated ones"
        )
    return (
        f"{head}\n\n{'Candidate' if n == 1 else 'Candidates'}:\n{cands}\n\nPredict {what}.\n"
        f"Answer format: {score_format(None if n == 1 else n, mode)}."
    )


def score_format(n: int | None, mode: str) -> str:
    """The answer format of a surrogate request, as stated in the prompt and in its re-ask."""
    single, plural = SCORE_KEYS[mode]
    if n is None:
        return f'{{"{single}": <number>}}'
    slots = ", ".join(f"<{single} of candidate {i + 1}>" for i in range(n))
    return f'{{"{plural}": [{slots}]}}'


def messages(text: str) -> list[dict[str, Any]]:
    """The ``llm`` kind's messages with LLAMBO's system text."""
    return prompt.messages(text, system=SYSTEM)


def score_schema(n: int | None, mode: str) -> dict[str, Any]:
    """``{"loss": x}`` / ``{"losses": [x, ...]}`` (discriminative) or the same with ``p_top`` in [0, 1]."""
    single, plural = SCORE_KEYS[mode]
    number: dict[str, Any] = {"type": "number"}
    if mode == "generative":
        number.update(minimum=0, maximum=1)
    if n is None:
        return {"type": "object", "properties": {single: number}, "required": [single]}
    array = {"type": "array", "items": number, "minItems": n, "maxItems": n}
    return {"type": "object", "properties": {plural: array}, "required": [plural]}


@dataclass
class Scores:
    """Parsed scores of one reply: one value per candidate (None = unusable), how many were bad, the error."""

    values: list[float | None]
    bad: int
    error: str | None


def _score(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def parse_scores(text: str, n: int | None, mode: str, lo: float, hi: float) -> Scores:
    """Scores from a reply: numbers (numeric strings coerced) clipped to [lo, hi]; missing or junk entries = None.

    ``n`` is the number of candidates of a batch request, None for a one-candidate request. Clipping counts as bad
    (the model's number was implausible) but keeps a usable score; a missing or non-numeric score is bad and
    unusable, and the caller re-asks with ``error``.
    """
    from hpo.llm.repair import extract_json

    want = n or 1
    single, plural = SCORE_KEYS[mode]
    try:
        obj = extract_json(text)
    except ValueError as exc:
        return Scores([None] * want, want, str(exc))
    if not isinstance(obj, dict):
        return Scores([None] * want, want, "reply is not a JSON object")
    key = single if n is None else plural
    raw = obj.get(key, obj.get(single if key == plural else plural))
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    if not items:
        return Scores([None] * want, want, f'reply has no "{key}"')
    values: list[float | None] = []
    bad = 0
    for item in items[:want]:
        x = _score(item)
        if x is None:
            bad += 1
        elif not lo <= x <= hi:
            bad += 1
            x = min(max(x, lo), hi)
        values.append(x)
    values += [None] * (want - len(values))
    bad += want - min(len(items), want)
    errors = []
    if len(items) != want:
        errors.append(f'"{key}" has {len(items)} values, expected {want} (one per candidate)')
    junk = [f"{i + 1}: {items[i]!r}" for i in range(min(len(items), want)) if _score(items[i]) is None]
    if junk:
        errors.append(f"not numbers: {', '.join(junk)}")
    return Scores(values, bad, "; ".join(errors) or None)
