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


def compressed_from(n: int, best_k: int, recent_m: int) -> int | None:
    """Where the running epoch starts in a history of ``n`` trials (the trials before it are compressed to the best
    ``best_k``), or None while the history is short enough to show whole.

    Compressed in epochs of ``recent_m`` trials: the best-``k`` block is recomputed only when an epoch starts, and
    trials of the running epoch are appended after it, so the prompt prefix changes once every ``recent_m`` trials
    instead of every trial, while the history never exceeds ``best_k + recent_m`` rows.
    """
    if n <= best_k + recent_m:
        return None
    return n - ((n - best_k - 1) % recent_m + 1)


def _note(cut: int | None, n_best: int) -> str:
    if cut is None:  # no count: while nothing is compressed, a new trial only appends a row (prefix caches hit)
        return "History (oldest first):"
    return f"History ({cut} earlier trials compressed to the {n_best} best; then every later trial, oldest first):"


def _row(o: Observation, names: list[str]) -> str:
    return ",".join([str(o.trial), *(cell(o.config[n]) for n in names), f"{o.loss:.6g}"])


def _best_line(best_loss: float) -> str:
    return f"Best loss so far: {best_loss:.6g}."


def _header(names: list[str]) -> str:
    # A table (names once, then values) costs about half the tokens of one JSON object per trial.
    return ",".join(["trial", *names, "loss"])


EMPTY_HISTORY = "History: no configurations evaluated yet."


def history_text(history: list[Observation], best_k: int, recent_m: int) -> str:
    """Evaluated configurations with their losses, oldest first; compressed to best k + most recent m when long."""
    if not history:
        return EMPTY_HISTORY
    cut = compressed_from(len(history), best_k, recent_m)
    if cut is None:
        shown, note = history, _note(None, 0)
    else:
        best = sorted(history[:cut], key=lambda o: (o.loss, o.trial))[:best_k]
        shown, note = sorted(best, key=lambda o: o.trial) + history[cut:], _note(cut, len(best))
    names = sorted(history[0].config)
    rows = [_row(o, names) for o in shown]
    return "\n".join([note, _header(names), *rows, _best_line(min(o.loss for o in history))])


def history_text_lengths(history: list[Observation], best_k: int, recent_m: int) -> list[int]:
    """``len(history_text(history[:n], best_k, recent_m))`` for every n from 0 to ``len(history)``.

    Why not call :func:`history_text` n times: it sorts the compressed prefix each time, O(n^2 log n) over a run,
    which kept ``python -m hpo estimate`` busy for minutes at ``n_trials: 100000``. Here each row is formatted once
    and the best-``k`` block is kept in a heap as the prefix grows, O(n log k) in all; the test compares the two.
    """
    import heapq
    from itertools import accumulate

    if not history:
        return [len(EMPTY_HISTORY)]
    names = sorted(history[0].config)
    rows = [len(_row(o, names)) for o in history]
    upto = [0, *accumulate(rows)]  # upto[i]: characters of rows 0..i-1
    heap: list[tuple[float, int, int]] = []  # the best_k of history[:added] as (-loss, -trial, row length)
    best_chars, added, best_loss = 0, 0, float("inf")
    out = [len(EMPTY_HISTORY)]
    for n in range(1, len(history) + 1):
        best_loss = min(best_loss, history[n - 1].loss)
        cut = compressed_from(n, best_k, recent_m)
        while cut is not None and added < cut:
            o = history[added]
            item = (-o.loss, -o.trial, rows[added])
            if len(heap) < best_k:
                heapq.heappush(heap, item)
                best_chars += item[2]
            elif best_k and item > heap[0]:  # smaller (loss, trial) than the worst kept
                best_chars += item[2] - heapq.heapreplace(heap, item)[2]
            added += 1
        if cut is None:
            shown, chars, note = n, upto[n], _note(None, 0)
        else:
            shown, chars, note = len(heap) + n - cut, best_chars + upto[n] - upto[cut], _note(cut, len(heap))
        parts = [len(note), len(_header(names)), chars, len(_best_line(best_loss))]
        out.append(sum(parts) + shown + 2)  # newlines between the 3 + shown lines
    return out


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
