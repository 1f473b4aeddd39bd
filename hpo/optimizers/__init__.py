"""Optimizer registry: ``kind`` (as named in the study config) -> class, imported lazily.

Lazy so that a random-search job never imports SMAC (1.8 s) and the Snakefile can list kinds and their parameter
schemas without importing any optimizer library.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

from hpo.optimizers.base import Optimizer

_KINDS: dict[str, str] = {
    "random_search": "hpo.optimizers.random_search:RandomSearch",
    "smac_rf": "hpo.optimizers.smac_rf:SMACRandomForest",
    "smac_gp": "hpo.optimizers.smac_gp:SMACGaussianProcess",
    "optuna_tpe": "hpo.optimizers.optuna_tpe:OptunaTPE",
    "llm": "hpo.optimizers.llm:LLMOptimizer",
    "mm_llm": "hpo.optimizers.mm_llm:MMLLMOptimizer",
    "mm_llm_blank": "hpo.optimizers.mm_llm:MMLLMBlankOptimizer",
}
LLM_KINDS = ("llm", "mm_llm", "mm_llm_blank")
VISION_KINDS = ("mm_llm", "mm_llm_blank")

__all__ = ["Optimizer", "available", "get_class", "module_files", "params_schema"]


def available() -> list[str]:
    return list(_KINDS)


def _check(kind: str) -> str:
    if kind not in _KINDS:
        raise ValueError(f"unknown optimizer kind {kind!r}; allowed: {', '.join(_KINDS)}")
    return _KINDS[kind]


def get_class(kind: str) -> type[Optimizer]:
    module, _, name = _check(kind).partition(":")
    return getattr(importlib.import_module(module), name)


def module_files(kind: str) -> list[Path]:
    """Source files whose code defines ``kind``: its module plus the ``hpo.optimizers``/``hpo.llm`` modules it imports.

    Found by parsing imports (not importing), so fingerprints are cheap to compute at DAG-build time.
    """
    here = Path(__file__).parent
    pkg = here.parent
    todo = [here / f"{_check(kind).partition(':')[0].rsplit('.', 1)[1]}.py"]
    seen: list[Path] = []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(("hpo.optimizers.", "hpo.llm."))
            ):
                todo.append(pkg.joinpath(*node.module.split(".")[1:]).with_suffix(".py"))
    return sorted(seen)


def params_schema(kind: str) -> dict[str, Any]:
    """The JSON schema of a kind's parameters, read from its module without importing heavy libraries."""
    return get_class(kind).PARAMS_SCHEMA
