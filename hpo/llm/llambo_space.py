"""A ConfigSpace as LLAMBO's reference code sees it: value kinds, printed precision, warping, and which proposals count.

The reference code (tennisonliu/LLAMBO) describes every hyperparameter as ``[kind, transform, range]`` with kind
``float``, ``int`` or ``ordinal`` (``hp_configurations/*.json``) and derives three things from it that decide what the
model reads and which of its proposals are evaluated; this module states them for our spaces:

* **Kind** (:func:`constraint`): a float or integer range keeps its kind (``log`` where ConfigSpace says so); an
  ordered grid of numbers is ``ordinal``; a choice among strings is ``categorical`` (the reference has none; see
  docs/methods.md, deviation table).
* **Precision** (:func:`decimals`): a float prints with as many decimals as its lower bound has
  (``_count_decimal_places(format(x, '.10f'))`` in ``acquisition_function.py``), an ordinal with as many as its second
  allowed value, an integer as an integer, every performance with 6. Where the rule gives 0 decimals for a float (a
  lower bound of 0 or -5), we print 2, the reference generative surrogate's own rule for that case: 0 would show
  every value of a [0, 1] range as 0 or 1.
* **Which proposals count** (:func:`keep_candidates`, the reference's ``_filter_candidate_points``): every key a
  hyperparameter of the space, every value inside its range (an integer also integral), an ordinal within 0.01 of an
  allowed value (then evaluated at the nearest allowed value, as the reference's HPOBench runner does), a new point
  at 8 decimals and not a repeat of another candidate. Nothing else is evaluated: there is no clipping or snapping
  toward the range.

With input warping on (the reference's ``NumericalTransformer``: off in its experiments, ``input_warping`` here),
log-scaled ranges are shown, proposed and checked as ``log10`` values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hpo.core.space import allowed_values

ORDINAL_TOL = 1e-2  # the reference's math.isclose(value, allowed, abs_tol=1e-2)
DUPLICATE_DECIMALS = 8  # the reference's round(value, precision=8) before comparing with the history
PERFORMANCE_DECIMALS = 6


@dataclass(frozen=True)
class Constraint:
    """One hyperparameter in the reference's terms: ``kind``, ``log`` and its bounds or allowed values."""

    name: str
    kind: str  # float | int | ordinal | categorical
    log: bool
    lower: float | None = None
    upper: float | None = None
    values: tuple[Any, ...] = ()

    def warped(self, warp: bool) -> bool:
        return warp and self.log and self.kind in ("float", "int")


def constraint(hp: Any) -> Constraint:
    """The reference's description of one ConfigSpace hyperparameter."""
    values = allowed_values(hp)
    if values is not None:
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if numeric:
            return Constraint(hp.name, "ordinal", False, values=tuple(sorted(values)))
        return Constraint(hp.name, "categorical", False, values=tuple(values))
    kind = "int" if "Integer" in type(hp).__name__ else "float"
    return Constraint(hp.name, kind, bool(getattr(hp, "log", False)), float(hp.lower), float(hp.upper))


def count_decimals(x: float) -> int:
    """Decimal places of ``x`` printed with 10 decimals, trailing zeros removed (the reference's rule)."""
    text = format(x, ".10f")
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def decimals(c: Constraint, warp: bool = False) -> int | None:
    """Decimals a value of ``c`` is printed with; None for an integer (printed as one) or a category."""
    if c.kind == "categorical" or (c.kind == "int" and not c.warped(warp)):
        return None
    if c.kind == "ordinal":
        return count_decimals(float(c.values[1] if len(c.values) > 1 else c.values[0]))
    n = count_decimals(float(c.lower))  # type: ignore[arg-type]
    return n or 2  # 0 for a float (lower bound 0, -5, ...): 2, the reference generative surrogate's rule


def show(c: Constraint, value: Any, warp: bool = False) -> str:
    """One value as the model reads it (``value`` in the space's scale; warped here when ``warp``)."""
    if c.kind == "categorical":
        return str(value)
    x = math.log10(float(value)) if c.warped(warp) else float(value)
    n = decimals(c, warp)
    return str(int(round(x))) if n is None else f"{x:.{n}f}"


def bounds(c: Constraint, warp: bool = False) -> tuple[float, float]:
    assert c.lower is not None and c.upper is not None
    if c.warped(warp):
        return math.log10(c.lower), math.log10(c.upper)
    return c.lower, c.upper


def range_line(c: Constraint, warp: bool = False) -> str:
    """The sampler prompt's line for ``c`` (the reference's wording for float, int and ordinal)."""
    if c.kind in ("ordinal", "categorical"):
        return f"- {c.name}:  ({c.kind}, must take value in {list(c.values)})"
    lo, hi = bounds(c, warp)
    if c.kind == "float" or c.warped(warp):
        n = decimals(c, warp) if c.kind == "float" else count_decimals(lo) or 2
        scale = "log scale" if c.warped(warp) else "float"
        return f"- {c.name}: [{lo:.{n}f}, {hi:.{n}f}] ({scale}, precise to {n} decimals)"
    return f"- {c.name}: [{lo:.0f}, {hi:.0f}] (int)"


def parse_markers(text: str) -> dict[str, Any] | None:
    """The configuration between the first pair of ``##`` markers: ``name: value, ...`` (numbers as floats,
    anything else as its stripped text); None when the reply has no such part or a pair has no ``:``."""
    parts = text.split("##")
    if len(parts) < 3:
        return None
    out: dict[str, Any] = {}
    for pair in parts[1].strip().split(","):
        if ":" not in pair:
            return None
        key, _, raw = (s.strip() for s in pair.partition(":"))
        try:
            out[key] = float(raw)
        except ValueError:
            out[key] = raw
    return out or None


def _inside(c: Constraint, value: Any, warp: bool) -> bool:
    if c.kind == "categorical":
        return value in c.values
    if not isinstance(value, float) or math.isnan(value):
        return False
    if c.kind == "ordinal":
        return any(math.isclose(value, float(v), abs_tol=ORDINAL_TOL) for v in c.values)
    lo, hi = bounds(c, warp)
    inside = lo <= value <= hi
    return inside and (c.kind == "float" or c.warped(warp) or int(value) == value)


def to_space(c: Constraint, value: Any, warp: bool) -> tuple[Any, bool]:
    """(the value evaluated, whether it differs from the proposal): an ordinal at its nearest allowed value (as
    the reference's HPOBench runner evaluates it), an unwarped value back in its range, an integer as int."""
    if c.kind == "categorical":
        return value, False
    if c.kind == "ordinal":
        near = min(c.values, key=lambda v: abs(float(v) - value))
        return near, float(near) != value
    x = 10.0**value if c.warped(warp) else value
    x = min(max(x, c.lower), c.upper)  # type: ignore[type-var]  # 10**log10(hi) may overshoot hi by one ulp
    return (int(round(x)), False) if c.kind == "int" else (float(x), False)


@dataclass
class Candidate:
    values: dict[str, Any]  # in the space's scale, ready to evaluate
    snapped: bool  # an ordinal proposal within the tolerance of, but not equal to, an allowed value
    shown: dict[str, Any]  # as proposed (the model's scale)


def keep_candidates(
    constraints: dict[str, Constraint], proposals: list[dict[str, Any]], evaluated: list[dict[str, Any]], warp: bool
) -> tuple[list[Candidate], dict[str, int]]:
    """The proposals the reference keeps, in order, and counts of why the others went (``invalid``: a key outside
    the space, a missing hyperparameter or a value outside its range; ``duplicates``: an evaluated point at 8
    decimals; ``repeats``: a repeat of an earlier proposal). ``evaluated``: the history, in the space's scale."""

    def rounded(values: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            round(float(values[n]), DUPLICATE_DECIMALS) if constraints[n].kind != "categorical" else values[n]
            for n in constraints
        )

    seen_history = {rounded(v) for v in evaluated}
    kept: list[Candidate] = []
    seen: set[tuple[Any, ...]] = set()
    counts = {"invalid": 0, "duplicates": 0, "repeats": 0}
    for proposal in proposals:
        if set(proposal) != set(constraints) or not all(_inside(c, proposal[n], warp) for n, c in constraints.items()):
            counts["invalid"] += 1
            continue
        pairs = {n: to_space(c, proposal[n], warp) for n, c in constraints.items()}
        values = {n: v for n, (v, _) in pairs.items()}
        key = rounded(values)
        if key in seen_history:
            counts["duplicates"] += 1
        elif key in seen:
            counts["repeats"] += 1
        else:
            seen.add(key)
            kept.append(Candidate(values, any(s for _, s in pairs.values()), dict(proposal)))
    return kept, counts
