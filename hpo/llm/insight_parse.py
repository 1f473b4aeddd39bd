"""How a reply to the insight question is read: weights, best region and top interacting pair, with repairs.

Like proposals, replies are repaired where a careful reader would repair them, every repair is recorded, and only a
reply with no usable weight at all is an error (the caller re-asks). The region and the pair are secondary to the
weights: an unusable one is recorded as None (and counted), never re-asked, so a reply that lacks only the pair keeps
its weights.

Repair notes start with a fixed kind, so they can be counted: ``layout`` (cut off by ``max_tokens``, wrapped in
prose, weights at the top level), ``invented``, ``renamed``, ``omitted``, ``non_numeric``, ``negative``,
``unnormalized`` (all about the weights), ``region`` and ``interaction`` (the best region and the top pair;
:mod:`hpo.insight.ask` adds ``reask`` for each reply that had to be asked again).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from hpo.llm.repair import extract_json, snap
from hpo.llm.space_text import allowed_values

# |sum of weights - 1| above this counts as an unnormalized reply (rounding to two decimals often gives 0.99 or 1.01:
# counted too, since the scores only see the normalized weights and the count says how often the model was off).
SUM_TOLERANCE = 1e-6


def is_range(hp: Any) -> bool:
    """A hyperparameter whose region is a ``low``/``high`` range (no list of allowed values)."""
    return allowed_values(hp) is None


@dataclass
class Insight:
    """A parsed reply: normalized weights (None when unusable: ``error`` says why), the best region and the top
    interacting pair (two distinct names), each None when missing or unusable."""

    weights: dict[str, float] | None
    best_region: dict[str, Any] | None = None
    top_interaction: list[str] | None = None
    repairs: list[str] = field(default_factory=list)
    error: str | None = None


def _weight(value: Any) -> float | None:
    """A number from a JSON value (numeric strings and percentages included); None if there is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        text = value.strip()
        scale = 0.01 if text.endswith("%") else 1.0
        try:
            x = float(text.rstrip("%").strip()) * scale
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


def _match(name: Any, names: list[str]) -> str | None:
    if not isinstance(name, str):
        return None
    if name in names:
        return name
    lowered = {n.lower(): n for n in names}
    return lowered.get(name.strip().lower())


def _weights(raw: dict[str, Any], names: list[str], repairs: list[str]) -> dict[str, float] | None:
    found: dict[str, Any] = {}
    for key, value in raw.items():
        name = _match(key, names)
        if name is None:
            repairs.append(f"invented: {key!r} dropped")
        elif name in found:
            repairs.append(f"invented: duplicate {key!r} dropped")
        else:
            if name != key:
                repairs.append(f"renamed: {key!r} -> {name!r}")
            found[name] = value
    weights: dict[str, float] = {}
    for name in names:
        if name not in found:
            repairs.append(f"omitted: {name} -> 0")
            weights[name] = 0.0
            continue
        x = _weight(found[name])
        if x is None:
            repairs.append(f"non_numeric: {name}: {found[name]!r} -> 0")
            x = 0.0
        elif not isinstance(found[name], int | float):
            repairs.append(f"non_numeric: {name}: {found[name]!r} read as {x:g}")
        if x < 0:
            repairs.append(f"negative: {name}: {x:g} -> 0")
            x = 0.0
        weights[name] = x
    total = math.fsum(weights.values())
    if total <= 0:
        return None
    if abs(total - 1.0) > SUM_TOLERANCE:
        repairs.append(f"unnormalized: weights summed to {total:.6g}")
    return {n: w / total for n, w in weights.items()}


def _snapped(hp: Any, items: list[Any], notes: list[str]) -> list[Any]:
    """The items that snap to a value of ``hp`` (see :func:`hpo.llm.repair.snap`), in order, without repeats."""
    out: list[Any] = []
    for x in items:
        v, err = snap(hp, x, notes)
        if err:
            notes.append(err)
        elif v not in out:
            out.append(v)
    return out


def _region(space: Any, raw: Any, repairs: list[str]) -> dict[str, Any] | None:
    """The best region as ``{"hyperparameter", "values"}`` (choices) or ``{"hyperparameter", "low", "high"}``.

    A region is secondary to the weights: an unusable one is recorded as None (and counted), never re-asked.
    """
    if not isinstance(raw, dict):
        repairs.append("region: missing")
        return None
    name = _match(raw.get("hyperparameter"), list(space))
    if name is None:
        repairs.append(f"region: unknown hyperparameter {raw.get('hyperparameter')!r}")
        return None
    hp, notes = space[name], []
    bounds = "low" in raw or "high" in raw
    given = [raw.get("low"), raw.get("high")] if bounds else raw.get("values")
    items = [x for x in (given if isinstance(given, list) else [given]) if x is not None]
    values = _snapped(hp, items, notes)
    region: dict[str, Any] | None = None
    if values and is_range(hp):
        region = {"hyperparameter": name, "low": min(values), "high": max(values)}
    elif values:
        allowed = allowed_values(hp)
        idx = sorted(allowed.index(v) for v in values)
        if bounds and hasattr(hp, "sequence"):  # an ordinal range given by its ends: every value in between
            notes.append(f"{name}: low/high read as the values from {allowed[idx[0]]!r} to {allowed[idx[-1]]!r}")
            idx = list(range(idx[0], idx[-1] + 1))
        region = {"hyperparameter": name, "values": [allowed[i] for i in idx]}
    else:
        notes.append(f"{name}: no usable value in {raw!r}")
    repairs.extend(f"region: {n}" for n in notes)
    return region


def close_cut_off(text: str) -> str | None:
    """A reply cut off mid-way (by the endpoint's ``max_tokens``), closed after its last complete value.

    The unfinished member or element is dropped and the open brackets are closed, so ``{"weights": {...},
    "best_region": {"hyperparameter": "x", "values": [1, 2, "`` reads as values ``[1, 2]``. None when ``text`` has
    no ``{``, its brackets do not match, or its first object is complete (then it is not cut off).
    """
    start = text.find("{")
    if start < 0:
        return None
    body = text[start:]
    stack: list[str] = []
    in_string = escaped = False
    cut: tuple[int, str] | None = None  # (end of the longest complete prefix, the brackets that close it)
    for i, ch in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
            cut = (i + 1, "".join(reversed(stack)))
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return None
            cut = (i + 1, "".join(reversed(stack)))
        elif ch == ",":
            cut = (i, "".join(reversed(stack)))
    return body[: cut[0]] + cut[1] if cut else None


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def parse_insight(space: Any, text: str) -> Insight:
    """Read a reply into normalized weights (every hyperparameter, summing to 1), a region and a pair; never raises.

    Omitted hyperparameters get weight 0, invented ones are dropped, negative and non-numeric weights become 0, and
    the rest is normalized: each such repair is recorded. A reply without any positive weight is an ``error``.
    """
    names = list(space)
    repairs: list[str] = []
    try:
        obj = json.loads(text.strip())
    except ValueError:
        obj = _loads(close_cut_off(text))
        if obj is not None:
            repairs.append("layout: the reply was cut off; closed after its last complete value")
        else:
            try:
                obj = extract_json(text)
            except ValueError as exc:
                return Insight(None, error=str(exc))
            repairs.append("layout: the reply is not one JSON object; read the first complete one in it")
    if not isinstance(obj, dict):
        return Insight(None, error="reply is not a JSON object")
    raw = obj.get("weights")
    if not isinstance(raw, dict):
        top = {k: v for k, v in obj.items() if _match(k, names) is not None}
        if not top:
            return Insight(None, error='reply has no "weights" object with the hyperparameters')
        repairs.append("layout: weights at the top level")
        raw = top
    weights = _weights(raw, names, repairs)
    if weights is None:
        return Insight(None, repairs=repairs, error="no hyperparameter has a positive weight")
    region = _region(space, obj.get("best_region"), repairs)
    pair = _pair(obj.get("top_interaction"), names, repairs) if len(names) > 1 else None
    return Insight(weights, region, pair, repairs)


def _pair(raw: Any, names: list[str], repairs: list[str]) -> list[str] | None:
    """The top interacting pair as two distinct hyperparameter names, in the model's order; None if unusable.

    A string ``"a, b"`` is split at its comma, names are matched case-insensitively (``renamed``), unknown names are
    dropped (``invented``) and a third name is ignored; fewer than two distinct known names leave no pair.
    """
    if raw is None:
        repairs.append("interaction: missing")
        return None
    if isinstance(raw, str) and "," in raw:
        repairs.append(f"interaction: the string {raw!r} read as a list")
        raw = [part.strip() for part in raw.split(",")]
    if not isinstance(raw, list):
        repairs.append(f"interaction: {raw!r} is not a list of two names")
        return None
    pair: list[str] = []
    for item in raw:
        name = _match(item, names)
        if name is None:
            repairs.append(f"interaction: invented {item!r} dropped")
        elif name in pair:
            repairs.append(f"interaction: {name!r} named twice")
        elif len(pair) == 2:
            repairs.append(f"interaction: extra name {name!r} ignored")
        else:
            if name != item:
                repairs.append(f"interaction: renamed {item!r} -> {name!r}")
            pair.append(name)
    if len(pair) < 2:
        repairs.append(f"interaction: no pair of two distinct hyperparameters in {raw!r}")
        return None
    return pair


def uniform(space: Any) -> dict[str, float]:
    """The fallback statement: every hyperparameter equally important."""
    names = list(space)
    return {n: 1.0 / len(names) for n in names}
