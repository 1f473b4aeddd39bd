"""The prompts of LLAMBO as published (Liu et al., ICLR 2024), in the wording of the authors' reference code.

Three few-shot prompts, each showing **every** evaluated configuration in an order that differs per template
(:func:`fewshot_order`), under the reference's task description (model, metric, task, classes, samples, features
split into categorical and numerical):

* **candidate sampler** (reference ``LLM_ACQ._gen_prompt_tempates_acquisitions``): the allowable ranges with their
  precision, "Recommend a configuration that can achieve the target performance of ...", the hints on continuous
  ranges, examples "Performance: ... / Hyperparameter configuration: ## name: value, ... ##";
* **discriminative surrogate** (``discriminative_sm_utils.gen_prompt_tempates``): no ranges; examples
  "Hyperparameter configuration: name is value, ... / Performance: ## ... ##";
* **generative surrogate** (``generative_sm_utils.gen_prompt_tempates``): the history labelled 1 (the best
  ``top_pct``, strict percentile rule) or 0, "the best-performing 25.0% of all configurations".

Values print at the reference's precision (:mod:`hpo.llm.llambo_space`), performances with 6 decimals. Answers use
the reference's ``## ... ##`` markers, so no response format is sent (:func:`parse_performance`, :func:`parse_label`,
:func:`hpo.llm.llambo_space.parse_markers`).

**Framing** (:func:`framing`): where a benchmark's loss is ``1 - <accuracy metric>``, the model reads the metric
(higher is better, as in the paper); otherwise, or with ``framing: loss``, the loss. The target follows the
reference's rule for either direction (:func:`target`). Where the reference has no wording (no task, a task that is
not tabular, unknown dataset sizes), the sentence is left out or stated plainly; docs/methods.md lists these rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo.core.space import stable_seed
from hpo.llm.llambo_space import PERFORMANCE_DECIMALS, Constraint, decimals, range_line, show

# The published alpha schedule: while the target is out of reach of the metric (a loss not above ~0, an accuracy
# not below ~1), the next smaller alpha of this list is tried (the reference's ``alpha_range``, walked the same way).
ALPHA_SCHEDULE = (0.1, 1e-2, 1e-3, -1e-3, -1e-2, 1e-1)
TARGET_FLOOR = 1e-5  # lower is better: the target must stay above this
TARGET_CEILING = 0.9999  # higher is better (an accuracy): the target must stay below this
SYSTEM = "You are an AI assistant that helps people find information."  # the reference's system message
SAMPLER_MAX_TOKENS = 500  # the reference's max_tokens per request
SURROGATE_MAX_TOKENS = 8
_NUMBER = re.compile(r"## (-?[\d.]+) ##")  # the reference's pattern for a predicted performance


@dataclass(frozen=True)
class Framing:
    """What the model reads as performance: the metric (``maximize``: 1 - loss) or the loss itself."""

    maximize: bool
    metric: str

    def shown(self, loss: float) -> float:
        return 1.0 - loss if self.maximize else loss

    def loss(self, shown: float) -> float:
        return 1.0 - shown if self.maximize else shown


def framing(info: dict[str, Any], choice: str) -> Framing:
    """``metric`` (default): a loss named ``1 - ...`` with a card metric is shown as that metric, higher is better
    (the paper shows accuracy); ``loss``, or any other loss: the loss, lower is better."""
    card, loss_name = info.get("data_card") or {}, str(info.get("loss", "loss"))
    metric = card.get("metric")
    if choice == "metric" and metric and loss_name.startswith("1 - "):
        return Framing(True, str(metric))
    return Framing(False, str(metric if metric and not loss_name.startswith("1 - ") else loss_name))


def target(values: list[float], alpha: float, maximize: bool = False) -> tuple[float, float]:
    """(target, alpha used) in the shown metric: ``best -/+ alpha * span`` with ``span = |max - min|`` (``0.1 *
    |max|`` when all are equal). Lower is better: where every value is non-negative and the target is <= 1e-5,
    alpha steps down the published schedule; higher is better: where the target is >= 0.9999. Values that may be
    negative (Hartmann) are never shrunk, and the walk ends with the schedule (the reference would loop forever)."""
    best = max(values) if maximize else min(values)
    span = abs(max(values) - min(values)) or 0.1 * abs(max(values))
    sign = 1.0 if maximize else -1.0
    goal = best + sign * alpha * span

    def out_of_reach(g: float) -> bool:
        return g >= TARGET_CEILING if maximize else (best >= 0 and g <= TARGET_FLOOR)

    while out_of_reach(goal):
        smaller = [a for a in ALPHA_SCHEDULE if a < alpha]
        if not smaller:
            break
        alpha = smaller[0]
        goal = best + sign * alpha * span
    return goal, alpha


def fewshot_order(n: int, seed: int, trial: int, template: int) -> list[int]:
    """The order in which template ``template`` of trial ``trial`` shows the ``n`` observations: a permutation
    seeded by (run seed, trial, template), so templates differ and a rerun repeats it."""
    rng = np.random.default_rng(stable_seed("llambo-fewshot", seed, trial, template))
    return [int(i) for i in rng.permutation(n)]


def top_labels(values: list[float], top_pct: float, maximize: bool = False) -> list[int]:
    """1 for the best ``top_pct`` of ``values`` by the reference's strict percentile rule, else 0: below the
    ``100 top_pct`` percentile (lower is better) or above the ``100 (1 - top_pct)`` percentile (higher is better)."""
    if maximize:
        cut = float(np.percentile(values, int(100 - top_pct * 100)))
        return [int(x > cut) for x in values]
    cut = float(np.percentile(values, int(top_pct * 100)))
    return [int(x < cut) for x in values]


# -- the task description ----------------------------------------------------------------------------------------
def _task_sentence(card: dict[str, Any], surrogate: bool) -> str:
    task, n_classes = card.get("task"), card.get("n_classes")
    if task == "classification":
        if not n_classes:
            return " The model is evaluated on a tabular classification task."
        link = "and the label contains" if surrogate else "containing"
        return f" The model is evaluated on a tabular classification task {link} {n_classes} classes."
    if task == "regression":
        return " The model is evaluated on a tabular regression task."
    if task:  # not in the reference (tabular tasks only): stated plainly
        return f" The task is {task}" + (f" with {n_classes} classes." if n_classes else ".")
    return ""


def _dataset_sentence(card: dict[str, Any]) -> str:
    n, f = card.get("n_samples"), card.get("n_features")
    if not (n and f):
        return ""
    tabular = "tabular dataset" if card.get("task") in ("classification", "regression") else "dataset"
    split = ""
    if card.get("n_categorical") is not None:
        split = f" ({card['n_categorical']} categorical, {int(f) - int(card['n_categorical'])} numerical)"
    return f" The {tabular} contains {n} samples and {f} features{split}."


def _model(card: dict[str, Any]) -> str:
    return str(card.get("model") or "model")


# -- the three prompts ------------------------------------------------------------------------------------------
def _perf(x: float) -> str:
    return f"{x:.{PERFORMANCE_DECIMALS}f}"


def sampler_prompt(
    card: dict[str, Any],
    frame: Framing,
    constraints: list[Constraint],
    history: list[tuple[dict[str, Any], float]],
    goal: float,
    warp: bool = False,
) -> str:
    """The candidate sampler's request; ``history``: (configuration, shown performance) in the template's order."""
    text = (
        f"The following are examples of performance of a {_model(card)} measured in {frame.metric} and the "
        "corresponding model hyperparameter configurations."
    )
    text += _task_sentence(card, surrogate=False) + _dataset_sentence(card)
    text += " The allowable ranges for the hyperparameters are:\n"
    text += "".join(range_line(c, warp) + "\n" for c in constraints)
    text += f"Recommend a configuration that can achieve the target performance of {_perf(goal)}. "
    text += (
        "Do not recommend values at the minimum or maximum of allowable range, do not recommend rounded values. "
        "Recommend values with highest possible precision, as requested by the allowed ranges. "
    )
    text += "Your response must only contain the predicted configuration, in the format ## configuration ##.\n"
    for config, value in history:
        row = ", ".join(f"{c.name}: {show(c, config[c.name], warp)}" for c in constraints)
        text += f"\nPerformance: {_perf(value)}\nHyperparameter configuration: ## {row} ##"
    return text + f"\nPerformance: {_perf(goal)}\nHyperparameter configuration:"


def _surrogate_head(card: dict[str, Any]) -> str:
    dataset = _dataset_sentence(card)
    return _task_sentence(card, surrogate=True) + (dataset + " " if dataset else "")


def discriminative_prompt(
    card: dict[str, Any],
    frame: Framing,
    constraints: list[Constraint],
    history: list[tuple[dict[str, Any], float]],
    candidate: dict[str, Any],
    warp: bool = False,
) -> str:
    """The discriminative surrogate's request for one candidate: predict its performance (no ranges shown)."""

    def q(config: dict[str, Any]) -> str:
        return ", ".join(f"{c.name} is {show(c, config[c.name], warp)}" for c in constraints)

    text = (
        f"The following are hyperparameter configurations for a {_model(card)} and the corresponding performance "
        f"measured in {frame.metric}."
    )
    text += _surrogate_head(card)
    text += f" Your response should only contain the predicted {frame.metric} in the format ## performance ##."
    for config, value in history:
        text += f"\nHyperparameter configuration: {q(config)}\nPerformance: ## {_perf(value)} ##"
    return text + f"\nHyperparameter configuration: {q(candidate)}\nPerformance: "


def _label_value(c: Constraint, value: Any, warp: bool) -> str:
    """A value in the generative prompt: a non-integral number with the value's precision + 2 decimals (the
    reference's intent; its own call passes the range list and raises), anything else as written."""
    if c.kind == "categorical":
        return str(value)
    x = math.log10(float(value)) if c.warped(warp) else value
    if isinstance(x, float) and x % 1 != 0:
        return f"{x:.{(decimals(c, warp) or 2) + 2}f}"
    return str(x)


def generative_prompt(
    card: dict[str, Any],
    constraints: list[Constraint],
    history: list[tuple[dict[str, Any], int]],
    candidate: dict[str, Any],
    top_pct: float,
    warp: bool = False,
) -> str:
    """The generative surrogate's request for one candidate: classify it 1 (in the best ``top_pct``) or 0."""

    def q(config: dict[str, Any]) -> str:
        return ", ".join(f"{c.name}: {_label_value(c, config[c.name], warp)}" for c in constraints)

    text = (
        f"The following are examples of hyperparameter configurations for a {_model(card)} and the corresponding "
        "performance classification."
    )
    text += _surrogate_head(card)
    # "configuarion" is the published prompt's spelling, kept so the prompt is the published one.
    text += (
        " The performance classification is 1 if the configuarion is in the best-performing "
        f"{top_pct * 100}% of all configurations and 0 otherwise. "
    )
    text += (
        " Your response should only contain the predicted performance classification in the format "
        "## performance classification ##."
    )
    for config, label in history:
        text += f"\nHyperparameter configuration: {q(config)}\nClassification: ## {label} ##"
    return text + f"\nHyperparameter configuration: {q(candidate)}\nClassification: "


def messages(text: str, system: bool = True) -> list[dict[str, Any]]:
    """A chat request: the reference's system message (not for the generative surrogate, which the reference sends
    as a plain completion prompt) and the prompt."""
    head = [{"role": "system", "content": SYSTEM}] if system else []
    return [*head, {"role": "user", "content": text}]


# -- answers ----------------------------------------------------------------------------------------------------
def parse_performance(text: str) -> float | None:
    """The prediction of a discriminative reply: exactly one ``## number ##`` (the reference's rule), else None."""
    found = _NUMBER.findall(text or "")
    if len(found) != 1:
        return None
    try:
        value = float(found[0])
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_label(text: str) -> int | None:
    """The 0/1 label of a generative reply (``## 1 ##``; a bare 0 or 1 is accepted), or None."""
    found = re.findall(r"##\s*([01])\s*##", text or "")
    if len(found) == 1:
        return int(found[0])
    bare = (text or "").strip()
    return int(bare) if bare in ("0", "1") else None


def p_one(logprobs: list[dict[str, float]] | None) -> float | None:
    """P("1") at the first generated token that is "0" or "1" (each position's first key is the sampled token),
    normalised over the two (the reference's rule); None (the reference's NaN) without log-probabilities, without
    such a token, or where "1" or "0" is not among that position's top alternatives."""
    for alts in logprobs or []:
        if not alts or next(iter(alts)).strip() not in ("0", "1"):
            continue
        labels = {t.strip(): v for t, v in alts.items() if t.strip() in ("0", "1")}
        if "1" not in labels or "0" not in labels:
            return None
        e1, e0 = math.exp(labels["1"]), math.exp(labels["0"])
        return e1 / (e1 + e0)
    return None
