"""The prompts of LLAMBO's published protocol (Liu et al., ICLR 2024), written in this project's words.

Every request is a few-shot prompt: the *data card* (model, task, dataset size, metric), the search space, then
**every** evaluated configuration with its loss, in an order that differs per template (:func:`fewshot_order`, a
seeded permutation per trial and template), and a query:

* **candidate sampler** — "propose a configuration expected to reach loss ``target``" (:func:`target`: the
  published ``best - alpha * (worst - best)`` with the published alpha shrink, no clamp, no jitter); examples
  are shown loss first, configuration second (performance -> configuration, as the sampler inverts the surrogate);
* **discriminative surrogate** — "predict the loss of this configuration" (examples: configuration, then loss);
* **generative surrogate** — the examples labelled 1 (loss below the ``top_pct`` percentile of the history, strict,
  as the reference code does) or 0, and "label this configuration" (:func:`top_labels`).

Answers are JSON (the endpoint's structured output) rather than the reference code's ``## ... ##`` markers, so the
``llm`` kind's parser and repair apply. The lite variant's prompts (one shared prefix, tail variants) live in
:mod:`hpo.llm.llambo_prompts`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hpo.llm.prompt import PROPOSAL_FORMAT, cell
from hpo.space import stable_seed

# The published alpha schedule: while the target is not above ~0 (a loss that cannot be negative), the next smaller
# alpha of this list is tried (the reference code's ``alpha_range``, walked in the same way).
ALPHA_SCHEDULE = (0.1, 1e-2, 1e-3, -1e-3, -1e-2, 1e-1)
TARGET_FLOOR = 1e-5
LABEL_FORMAT = 'Answer format: {"label": <1 or 0>}.'
LOSS_FORMAT = 'Answer format: {"loss": <number>}.'
LABEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"label": {"type": "integer", "enum": [0, 1]}},
    "required": ["label"],
}


def target(losses: list[float], alpha: float) -> tuple[float, float]:
    """(target loss, alpha used): ``best - alpha * span`` with ``span = worst - best`` (``0.1 * |worst|`` when all
    losses are equal). Where every loss is non-negative and the target is <= 1e-5, alpha steps down the published
    schedule (the first value below the current alpha) until the target is above it or the schedule ends. Losses
    that may be negative (e.g. Hartmann) are never shrunk: there a negative target is reachable."""
    best, worst = min(losses), max(losses)
    span = abs(worst - best) or 0.1 * abs(worst)
    goal = best - alpha * span
    if best >= 0:
        while goal <= TARGET_FLOOR:
            smaller = [a for a in ALPHA_SCHEDULE if a < alpha]
            if not smaller:
                break
            alpha = smaller[0]
            goal = best - alpha * span
    return goal, alpha


def fewshot_order(n: int, seed: int, trial: int, template: int) -> list[int]:
    """The order in which template ``template`` of trial ``trial`` shows the ``n`` observations: a permutation
    seeded by (run seed, trial, template), so templates differ and a rerun repeats it."""
    rng = np.random.default_rng(stable_seed("llambo-fewshot", seed, trial, template))
    return [int(i) for i in rng.permutation(n)]


def top_labels(losses: list[float], top_pct: float) -> list[int]:
    """1 for losses strictly below the ``100 * top_pct`` percentile of ``losses``, else 0 (the reference's rule)."""
    cut = float(np.percentile(losses, int(top_pct * 100)))
    return [int(x < cut) for x in losses]


def data_card_text(card: dict[str, Any], loss: str) -> str:
    """The data card as prose; fields the benchmark does not know are left out."""
    parts = []
    if card.get("model"):
        parts.append(f"Model: {card['model']}.")
    if card.get("task"):
        classes = f" with {card['n_classes']} classes" if card.get("n_classes") else ""
        parts.append(f"Task: {card['task']}{classes}.")
    size = [f"{card[k]} {w}" for k, w in (("n_samples", "samples"), ("n_features", "features")) if card.get(k)]
    if size:
        parts.append(f"Dataset: {', '.join(size)}.")
    if card.get("metric"):
        parts.append(f"Metric: {card['metric']}.")
    parts.append(f"Loss = {loss}; lower is better.")
    return " ".join(parts)


def intro(card: dict[str, Any], loss: str, space_lines: list[str]) -> str:
    """What every request starts with: the data card and the hyperparameters with their allowed values."""
    return "\n".join([data_card_text(card, loss), "Hyperparameters:", *space_lines])


def examples(configs: list[dict[str, Any]], values: list[str], names: list[str], column: str, first: bool) -> str:
    """The few-shot table in the order given: ``column`` (loss or label) first (sampler) or last (surrogate)."""
    head = [column, *names] if first else [*names, column]
    rows = []
    for config, value in zip(configs, values):
        cells = [cell(config[n]) for n in names]
        rows.append(",".join([value, *cells] if first else [*cells, value]))
    return "\n".join([",".join(head), *rows])


def sampler_text(head: str, table: str, goal: float) -> str:
    """The candidate sampler's request (the answer: the ``llm`` kind's proposal format, a reason first)."""
    return (
        f"{head}\n\nEvaluated configurations (loss, then the configuration):\n{table}\n\n"
        f"Propose one new configuration that you expect to reach a loss of {goal:.6g}. "
        f"Do not repeat an evaluated configuration.\n{PROPOSAL_FORMAT}"
    )


def surrogate_text(head: str, table: str, names: list[str], candidate: dict[str, Any], mode: str, cut: str) -> str:
    """The surrogate's request for one candidate: its loss (discriminative) or its label (generative)."""
    row = ",".join(cell(candidate[n]) for n in names)
    if mode == "discriminative":
        what, ask, fmt = "loss", "Predict the loss of this configuration", LOSS_FORMAT
    else:
        what = "label: 1 if its loss is below " + cut + ", else 0"
        ask, fmt = "Label this configuration (1 or 0)", LABEL_FORMAT
    return (
        f"{head}\n\nEvaluated configurations (the configuration, then its {what}):\n{table}\n\n"
        f"{ask}:\n{','.join(names)}\n{row}\n{fmt}"
    )


def parse_label(text: str) -> int | None:
    """The 0/1 label of a generative reply, or None."""
    from hpo.llm.repair import extract_json

    try:
        obj = extract_json(text)
    except ValueError:
        return None
    value = obj.get("label") if isinstance(obj, dict) else None
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return int(value) if value in (0, 1) and not isinstance(value, float | bool) else None


def p_one(logprobs: list[dict[str, float]] | None) -> float | None:
    """P("1") at the first generated token that is "0" or "1" (each position's first key is the sampled token),
    normalised over the two (the reference's rule); None without log-probabilities or without such a token. A label
    absent from that position's top alternatives counts as probability 0."""
    for alts in logprobs or []:
        if not alts or next(iter(alts)).strip() not in ("0", "1"):
            continue
        labels = {t.strip(): v for t, v in alts.items() if t.strip() in ("0", "1")}
        if labels:
            e1, e0 = (math.exp(labels[k]) if k in labels else 0.0 for k in ("1", "0"))
            return e1 / (e1 + e0)
    return None
