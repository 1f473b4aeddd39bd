"""Fill JSON-schema ``default`` values: the one place defaults are applied, for study configs and method params.

A bottom-layer helper (no ``hpo`` imports) so that the study validation, the optimizers and the CLI resolve
parameters identically, and a run's fingerprint does not depend on who built its spec.
"""

from __future__ import annotations

import copy
from typing import Any


def fill_defaults(schema: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``instance`` with the top-level ``default`` values of ``schema`` filled in."""
    out = copy.deepcopy(instance)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out
