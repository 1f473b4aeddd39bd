"""Which hyperparameters look most influential in a history: the ordering the multimodal images plot.

A bottom-layer helper: the history images (:mod:`hpo.llm.images`) draw the top two of this ordering, and the insight
analysis (:mod:`hpo.analysis.insight`) checks that pair against the true top pair; both must use the same code, and
analysis must not import LLM code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo.space import allowed_values, is_log_scale


def coords(hp: Any, values: Sequence[Any]) -> tuple[np.ndarray, list[Any] | None]:
    """Numeric x positions; categorical (string) values are placed at their index with tick labels."""
    allowed = allowed_values(hp)
    if allowed is not None and isinstance(allowed[0], str):
        return np.array([allowed.index(v) for v in values], dtype=float), allowed
    return np.asarray(values, dtype=float), None


def influence(space: Any, configs: Sequence[Mapping[str, Any]], losses: Sequence[float]) -> list[str]:
    """Hyperparameters ordered by |Spearman rank correlation| with the loss (categoricals by index; log-scale values
    by their log); ties, and histories of fewer than 3 trials, by name."""
    loss = np.asarray(losses, dtype=float)
    scores = {}
    for name in space:
        x, _ = coords(space[name], [c[name] for c in configs])
        if is_log_scale(space[name]):
            x = np.log(x)
        if len(loss) < 3 or np.ptp(x) == 0 or np.ptp(loss) == 0:
            scores[name] = 0.0
            continue
        rx, rl = np.argsort(np.argsort(x)), np.argsort(np.argsort(loss))
        scores[name] = abs(float(np.corrcoef(rx, rl)[0, 1]))
    return sorted(scores, key=lambda n: (-scores[n], n))
