"""Optimizers: one ask/tell base class (:mod:`hpo.optimizers.base`) and the registry of method kinds
(:mod:`hpo.optimizers.registry`), whose classes are imported lazily so a random-search job never imports SMAC."""

from __future__ import annotations

from typing import Any

from hpo.optimizers.base import Optimizer, Proposal, RunContext
from hpo.optimizers.registry import KINDS, MethodKind, get

LLM_KINDS = tuple(k for k, v in KINDS.items() if v.llm)
VISION_KINDS = tuple(k for k, v in KINDS.items() if v.vision)

__all__ = [
    "KINDS",
    "LLM_KINDS",
    "VISION_KINDS",
    "MethodKind",
    "Optimizer",
    "Proposal",
    "RunContext",
    "available",
    "get",
    "get_class",
    "params_schema",
]


def available() -> list[str]:
    return list(KINDS)


def get_class(kind: str) -> type[Optimizer]:
    return get(kind).cls()


def params_schema(kind: str) -> dict[str, Any]:
    """The JSON schema of a kind's parameters (defaults included)."""
    return get(kind).params_schema()
