"""Turn a model's reply into a valid configuration: parse -> validate -> repair -> (caller re-asks) -> fallback.

Repairs are the ones a careful human would make and are always counted: snap to the nearest allowed value in the
hyperparameter's own scale (log grids compare logs), clip to bounds, round integers, coerce numeric strings, match
category names case-insensitively, drop unknown keys. A missing hyperparameter or an unknown category is not
guessed: the model is asked again with the error.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from hpo.llm.space_text import allowed_values, is_log_scale


@dataclass
class Parsed:
    values: dict[str, Any] | None
    repaired: bool = False
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    rationale: str | None = None


def extract_json(text: str) -> Any:
    """The first JSON object in ``text`` (models under the ``none`` dialect wrap JSON in prose or code fences)."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for match in re.finditer(r"\{", text):
        try:
            obj, _ = json.JSONDecoder().raw_decode(text[match.start() :])
            return obj
        except ValueError:
            continue
    raise ValueError("reply contains no JSON object")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def nearest_on_grid(values: list[Any], x: float, *, log: bool) -> Any:
    """The grid value nearest to ``x`` (in log space on a log grid); outside the grid, the nearer end.

    The ends are decided first because distances cannot: ``abs(v - inf)`` is ``inf`` for every level (and
    ``abs(v - 1e308)`` rounds to 1e308 for every level), so ``min`` returned the *first* level and ``+Infinity`` for
    ``width`` became 16 instead of 1024. On a log grid, ``-inf``, zero and negative numbers (no logarithm) are below
    every level and take the smallest. The grid's own order is not trusted to be sorted: the ends are min and max.
    """
    low, high = min(values), max(values)
    if x >= high:
        return high
    if x <= low:
        return low
    if log:  # low < x < high and log grids hold positive numbers only, so log(x) is defined
        return min(values, key=lambda v: abs(math.log(v) - math.log(x)))
    return min(values, key=lambda v: abs(v - x))


def snap(hp: Any, value: Any, notes: list[str]) -> tuple[Any, str | None]:
    """One hyperparameter's value, repaired (the repair noted in ``notes``), or an error for the model to fix.

    Numbers outside a range or grid (``±inf`` included, which JSON models write as ``Infinity``) go to the nearer
    end: the model asked for "as large as possible", never for the smallest value. NaN is not a direction; it is
    an error, so the model is asked again.
    """
    values = allowed_values(hp)
    if values is not None:
        if value in values and type(value) is type(values[values.index(value)]):
            return value, None
        if isinstance(values[0], str):
            lowered = {str(v).lower(): v for v in values}
            if isinstance(value, str) and value.strip().lower() in lowered:
                notes.append(f"{hp.name}: matched {value!r} to {lowered[value.strip().lower()]!r}")
                return lowered[value.strip().lower()], None
            return None, f"{hp.name}: {value!r} is not one of {values}"
        x = _number(value)
        if x is None or math.isnan(x):
            return None, f"{hp.name}: {value!r} is not a number; allowed: {values}"
        best = nearest_on_grid(values, x, log=is_log_scale(hp))
        if best != value:
            notes.append(f"{hp.name}: snapped {value!r} to {best!r}")
        return best, None
    x = _number(value)
    if x is None or math.isnan(x):
        return None, f"{hp.name}: {value!r} is not a number in [{hp.lower}, {hp.upper}]"
    clipped = min(max(x, hp.lower), hp.upper)
    if "Integer" in type(hp).__name__:
        clipped = int(round(clipped))
    if clipped != value:
        notes.append(f"{hp.name}: {value!r} -> {clipped!r}")
    return clipped, None


def repair_config(space: Any, proposal: Any) -> Parsed:
    """Validate and repair one proposed configuration (a dict)."""
    if not isinstance(proposal, dict):
        return Parsed(None, error=f"expected a JSON object of hyperparameters, got {type(proposal).__name__}")
    notes: list[str] = []
    unknown = sorted(set(proposal) - set(space))
    if unknown:
        notes.append(f"dropped unknown keys {unknown}")
    missing = [n for n in space if n not in proposal]
    if missing:
        return Parsed(None, notes=notes, error=f"missing hyperparameters {missing}")
    values, errors = {}, []
    for name in space:
        v, err = snap(space[name], proposal[name], notes)
        if err:
            errors.append(err)
        values[name] = v
    if errors:
        return Parsed(None, notes=notes, error="; ".join(errors))
    return Parsed(values, repaired=bool(notes), notes=notes)


def parse_reply(space: Any, text: str, key: str = "config") -> list[Parsed]:
    """Parse a reply into one (``config``) or several (``configs``) proposals, each validated and repaired."""
    try:
        obj = extract_json(text)
    except ValueError as exc:
        return [Parsed(None, error=str(exc))]
    if not isinstance(obj, dict):
        return [Parsed(None, error="reply is not a JSON object")]
    rationale = obj.get("rationale") if isinstance(obj.get("rationale"), str) else None
    if key == "configs":
        items = obj.get("configs")
        if not isinstance(items, list) or not items:
            return [Parsed(None, error='reply has no "configs" list', rationale=rationale)]
    else:
        # Accept the config under "config", or the hyperparameters at top level (a common model habit).
        items = [obj["config"] if "config" in obj else {k: v for k, v in obj.items() if k != "rationale"}]
    out = []
    for item in items:
        parsed = repair_config(space, item)
        parsed.rationale = rationale
        out.append(parsed)
    return out
