"""The insight question: which hyperparameters matter, where is the best region, which pair interacts most?

Asked separately from the optimization (:mod:`hpo.insight.ask`), after exactly the prompt an LLM optimizer builds for
its next proposal, so the model answers with the same task, history (and images) in front of it. This module holds
what is asked (:func:`request_text`) and the JSON schema the answer is constrained by (:func:`insight_schema`); how
an answer is read, repaired and counted is :mod:`hpo.llm.insight_parse` (re-exported here).
"""

from __future__ import annotations

from typing import Any

from hpo.llm.insight_parse import Insight, close_cut_off, is_range, parse_insight, uniform
from hpo.llm.space_text import value_schema

__all__ = [
    "REASK",
    "WEIGHTS_LINE",
    "Insight",
    "close_cut_off",
    "insight_schema",
    "parse_insight",
    "request_text",
    "uniform",
]

REASK = (
    "Your answer could not be used: {error}. Answer again with one JSON object in the required format: a weight "
    "between 0 and 1 for every hyperparameter, the weights summing to 1, the best region of the most important one and "
    "the two hyperparameters that interact most."
)

# What ``weights`` asks for is the estimand it is scored against first (primary): the main effect, the share of the
# loss's variance a hyperparameter explains on its own, averaged over the others (functional ANOVA / first-order
# Sobol; hpo.insight.truth.importance). "How much the loss depends on it" would be closer to the total-order share
# (interactions included), which is scored too, as secondary (issue 22: on Hartmann3 the two differ: normalized
# main effects 0.04 / 0.18 / 0.78, totals 0.06 / 0.33 / 0.61).
WEIGHTS_LINE = (
    "- weights: how much of the loss's variation each hyperparameter explains on its own (its main effect: how much "
    "the loss, averaged over the other hyperparameters, changes with this one), as shares: one weight between 0 and "
    "1 for every hyperparameter, summing to 1;"
)

PAIR_LINE = (
    "- top_interaction: the two different hyperparameters whose effects on the loss depend most on each other "
    "(the best value of one changes with the value of the other)."
)


def request_text(space: Any) -> str:
    """The request appended to the optimizer's own prompt text (after its last line, so its prefix is unchanged).

    The top interacting pair is asked only where there is a pair (two or more hyperparameters).
    """
    names = list(space)
    pair = len(names) > 1
    region = (
        '{"hyperparameter": <name>, "values": [<its best allowed values>]}'
        if not any(is_range(space[n]) for n in names)
        else '{"hyperparameter": <name>, "values": [<its best allowed values>]} for a choice, '
        '{"hyperparameter": <name>, "low": <number>, "high": <number>} for a range'
    )
    return "\n".join(
        [
            "Do not propose a configuration now. Instead, say what you believe about this problem, from the task "
            "and the history above:",
            WEIGHTS_LINE,
            "- best_region: the values of the most important hyperparameter that you believe give the lowest loss"
            + (";" if pair else "."),
            *([PAIR_LINE] if pair else []),
            f'Answer format: {{"weights": {{<every hyperparameter>: <weight>}}, "best_region": {region}'
            + (', "top_interaction": [<name>, <other name>]}.' if pair else "}."),
        ]
    )


def region_schema(hp: Any) -> dict[str, Any]:
    """One alternative of ``best_region``: a list of allowed values for a choice, ``low``/``high`` for a range."""
    name = {"enum": [hp.name]}
    if is_range(hp):
        props = {"hyperparameter": name, "low": value_schema(hp), "high": value_schema(hp)}
    else:
        props = {"hyperparameter": name, "values": {"type": "array", "items": value_schema(hp), "minItems": 1}}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def insight_schema(space: Any) -> dict[str, Any]:
    """``{"weights": {<every hp>: number in [0, 1]}, "best_region": <one of region_schema>, "top_interaction":
    [<hp>, <hp>]}``, in this order (no pair with one hyperparameter).

    Weights come first because they are what is scored most: a reply cut off by the endpoint's ``max_tokens`` still
    has them; the pair comes last, so a cut-off reply loses it first. Bounds on numbers and "two distinct names" are
    hints only (llama.cpp's grammar ignores them; JSON Schema cannot say "distinct" without ``uniqueItems``, which
    not every endpoint accepts), so the parser checks them again.
    """
    names = list(space)
    weight = {"type": "number", "minimum": 0, "maximum": 1}
    props: dict[str, Any] = {
        "weights": {
            "type": "object",
            "properties": {n: weight for n in names},
            "required": names,
            "additionalProperties": False,
        },
        "best_region": {"anyOf": [region_schema(space[n]) for n in names]},
    }
    if len(names) > 1:
        props["top_interaction"] = {"type": "array", "items": {"enum": names}, "minItems": 2, "maxItems": 2}
    return {"type": "object", "properties": props, "required": list(props)}
