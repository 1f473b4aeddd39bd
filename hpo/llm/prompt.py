"""Prompt construction for the LLM optimizers.

The message list is built so that server-side prefix caches (llama.cpp, OpenAI) hit: the stable part (role, task,
search space, answer format) comes first and never changes within a run; the history is appended after it in trial
order. Long histories are compressed to the best ``k`` plus up to ``m`` recent trials (recomputed once every ``m``
trials, see :func:`history_text`), so prompt tokens per trial stop growing once ``k + m`` trials exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hpo.llm.space_text import describe

SYSTEM = (
    "You are an expert in hyperparameter optimization. You propose the next configuration to evaluate so that the "
    "loss becomes as small as possible within a small budget. Balance exploring untried regions with refining the "
    "best configurations found so far. Answer with one JSON object only."
)


# How a proposal is asked for (the llm task text, LLAMBO's candidate sampler); its repair and re-asks expect it.
PROPOSAL_FORMAT = (
    'Answer format: {"rationale": "<one short sentence>", "config": {<every hyperparameter>: <allowed value>}}.'
)


@dataclass(frozen=True)
class Observation:
    trial: int
    config: dict[str, Any]
    loss: float


def task_text(benchmark_id: str, info: dict[str, Any], space: Any, n_trials: int) -> str:
    """The stable part of the prompt: task, metric and direction, search space, answer format."""
    lines = [
        f"Task: tune {info.get('description', benchmark_id)} (benchmark {benchmark_id}"
        + (f", dataset {info['dataset']}" if info.get("dataset") else "")
        + ").",
        f"Metric: loss = {info.get('loss', 'loss')}; lower is better (minimize).",
        f"Budget: {n_trials} evaluations in total.",
        "Hyperparameters:",
        *(describe(space[name]) for name in space),
        PROPOSAL_FORMAT,
    ]
    return "\n".join(lines)


def history_text(history: list[Observation], best_k: int, recent_m: int) -> str:
    """Evaluated configurations with their losses, oldest first; compressed to best k + most recent m when long."""
    if not history:
        return "History: no configurations evaluated yet."
    n = len(history)
    if n <= best_k + recent_m:
        # No count in this header: while nothing is compressed, a new trial only appends a row (prefix caches hit).
        shown, note = history, "History (oldest first):"
    else:
        # Compressed in epochs of recent_m trials: the best_k block is recomputed only when an epoch starts, and
        # trials of the running epoch are appended after it, so the prompt prefix changes once every recent_m trials
        # instead of every trial, while the history never exceeds best_k + recent_m rows.
        in_epoch = (n - best_k - 1) % recent_m + 1
        cut = n - in_epoch
        best = sorted(history[:cut], key=lambda o: (o.loss, o.trial))[:best_k]
        shown = sorted(best, key=lambda o: o.trial) + history[cut:]
        note = (
            f"History ({cut} earlier trials compressed to the {len(best)} best; then every later trial, oldest first):"
        )
    # A table (names once, then values) costs about half the tokens of one JSON object per trial.
    names = sorted(history[0].config)
    header = ",".join(["trial", *names, "loss"])
    rows = [",".join([str(o.trial), *(cell(o.config[n]) for n in names), f"{o.loss:.6g}"]) for o in shown]
    best_loss = min(o.loss for o in history)
    return "\n".join([note, header, *rows, f"Best loss so far: {best_loss:.6g}."])


def cell(value: Any) -> str:
    """Values exactly as the model must write them back (JSON scalars), so copying one is never a repair."""
    return json.dumps(value)


def user_text(task: str, history: list[Observation], best_k: int, recent_m: int, n_configs: int | None) -> str:
    ask = (
        "Propose the next configuration to evaluate."
        if n_configs is None
        else f"Propose {n_configs} diverse configurations for an initial design, as "
        '{"rationale": "...", "configs": [...]}.'
    )
    return f"{task}\n\n{history_text(history, best_k, recent_m)}\n\n{ask}"


def messages(
    text: str, images: list[bytes] | None = None, detail: str = "auto", system: str = SYSTEM
) -> list[dict[str, Any]]:
    """System + user message; with ``images`` the user content is the same text part followed by image parts."""
    if images is None:
        return [{"role": "system", "content": system}, {"role": "user", "content": text}]
    import base64

    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for png in images:
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        parts.append({"type": "image_url", "image_url": {"url": url, "detail": detail}})
    return [{"role": "system", "content": system}, {"role": "user", "content": parts}]
