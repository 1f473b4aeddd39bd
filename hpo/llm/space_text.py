"""How a ConfigSpace is shown to a model: one line per hyperparameter, and the JSON schema of a proposal.

Shared by the prompt (what the model reads) and the repair step (what the model's answer is checked against), so the
two can never disagree about ranges and scales.
"""

from __future__ import annotations

from typing import Any

from hpo.core.space import allowed_values, is_log_scale

__all__ = ["allowed_values", "describe", "is_log_scale", "proposal_schema"]


def describe(hp: Any) -> str:
    """One prompt line: name, kind, allowed values or range, scale."""
    values = allowed_values(hp)
    scale = "log scale" if is_log_scale(hp) else "linear scale"
    if values is not None:
        kind = "ordered choice" if hasattr(hp, "sequence") else "unordered choice"
        extra = f", {scale}" if hasattr(hp, "sequence") and not isinstance(values[0], str) else ""
        return f"- {hp.name}: {kind}{extra}; allowed values: {values}"
    kind = "integer" if "Integer" in type(hp).__name__ else "float"
    return f"- {hp.name}: {kind} in [{hp.lower}, {hp.upper}], {scale}"


def value_schema(hp: Any) -> dict[str, Any]:
    values = allowed_values(hp)
    if values is not None:
        return {"enum": values}
    if "Integer" in type(hp).__name__:
        return {"type": "integer", "minimum": int(hp.lower), "maximum": int(hp.upper)}
    return {"type": "number", "minimum": float(hp.lower), "maximum": float(hp.upper)}


def config_schema(space: Any) -> dict[str, Any]:
    names = list(space)
    return {
        "type": "object",
        "properties": {n: value_schema(space[n]) for n in names},
        "required": names,
        "additionalProperties": False,
    }


def proposal_schema(space: Any, n_configs: int | None = None) -> dict[str, Any]:
    """``{"rationale": str, "config": {...}}``, or ``{"rationale", "configs": [...]}`` for a zero-shot design.

    The rationale comes first so that a model reasons before it commits to values.
    """
    rationale = {"type": "string", "maxLength": 120}
    if n_configs is None:
        return {
            "type": "object",
            "properties": {"rationale": rationale, "config": config_schema(space)},
            "required": ["rationale", "config"],
        }
    items = {"type": "array", "items": config_schema(space), "minItems": n_configs, "maxItems": n_configs}
    return {
        "type": "object",
        "properties": {"rationale": rationale, "configs": items},
        "required": ["rationale", "configs"],
    }
