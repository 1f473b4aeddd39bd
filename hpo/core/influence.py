"""Which hyperparameters look most influential in a history: the ordering the multimodal images plot.

A bottom-layer helper: the history images (:mod:`hpo.llm.images`) draw the top two of this ordering, and the insight
analysis (the image-echo baseline and the plotted-pair table) compares that pair with the truth; both must use the
same code, and analysis must not import LLM code.

The association of one hyperparameter with the loss is the share of the variance of the loss *ranks* that it
explains, corrected for what it explains by chance (an adjusted R², see :func:`influence_scores`):

* ranks, ties averaged (:func:`scipy.stats.rankdata`), for the loss and for numeric values: the ordering is invariant
  to monotone transforms of either, and tied values share one rank instead of being ranked by trial order (ranking
  ties by trial order made a few-level hyperparameter with no effect look influential whenever the losses fall over
  time, as they do under any optimizer);
* numeric (and ordinal) hyperparameters: the squared Spearman correlation (Pearson's r of the average ranks), the
  share explained by a monotone trend, 1 degree of freedom;
* categorical hyperparameters: the correlation ratio η² of the loss ranks (the Kruskal-Wallis effect size), the
  share explained by the level means, ``levels - 1`` degrees of freedom; it does not depend on the order in which
  the choices are declared, unlike a correlation with their indices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hpo.core.space import allowed_values


def coords(hp: Any, values: Sequence[Any]) -> tuple[np.ndarray, list[Any] | None]:
    """Numeric x positions; categorical (string) values are placed at their index with tick labels."""
    allowed = allowed_values(hp)
    if allowed is not None and isinstance(allowed[0], str):
        return np.array([allowed.index(v) for v in values], dtype=float), allowed
    return np.asarray(values, dtype=float), None


def is_categorical(hp: Any) -> bool:
    """Unordered: a ConfigSpace categorical (it has ``choices``), or levels that are not all numbers."""
    if getattr(hp, "choices", None) is not None:
        return True
    allowed = allowed_values(hp)
    return allowed is not None and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in allowed)


def explained_share(x: np.ndarray, y: np.ndarray, categorical: bool) -> tuple[float, int]:
    """``(R², df)``: the share of the variance of ``y`` explained by ``x`` and the degrees of freedom it used.

    ``y`` are loss ranks. Numeric ``x``: the squared Pearson correlation of its average ranks with ``y`` (df 1).
    Categorical ``x`` (any hashable labels): η² = between-level sum of squares / total sum of squares of ``y``
    (df = observed levels - 1). ``(0, 0)`` when ``x`` or ``y`` is constant.
    """
    from scipy.stats import rankdata

    yc = y - y.mean()
    total = float(yc @ yc)
    if categorical:
        _, level = np.unique(np.asarray(x, dtype=object).astype(str), return_inverse=True)
        df = int(level.max()) if len(level) else 0
        if df == 0 or total == 0:
            return 0.0, 0
        sums = np.bincount(level, weights=yc)
        return float((sums**2 / np.bincount(level)).sum() / total), df
    rx = rankdata(np.asarray(x, dtype=float))
    xc = rx - rx.mean()
    if total == 0 or float(xc @ xc) == 0:
        return 0.0, 0
    return float((xc @ yc) ** 2 / (float(xc @ xc) * total)), 1


def influence_scores(space: Any, configs: Sequence[Mapping[str, Any]], losses: Sequence[float]) -> dict[str, float]:
    """Chance-adjusted association of every hyperparameter with the loss ranks, in (-inf, 1]; 0 = as if unrelated.

    Score = ``(R² - E0) / (1 - E0)`` with ``E0 = df / (n - 1)`` (see :func:`explained_share`). Why: both R² are the
    squared length of the projection of the centred loss ranks onto a ``df``-dimensional subspace, and when the
    configurations are unrelated to the loss order (the values are exchangeable over trials) their expectation is
    *exactly* ``df / (n - 1)``, whatever the ties. Raw, a 3-level categorical with no effect would explain 2/(n-1) of
    the variance and a continuous one 1/(n-1) — the few-level hyperparameter would look twice as influential. After
    the correction every hyperparameter with no effect scores 0 in expectation, and a perfect fit scores 1, so
    numeric and categorical scores are comparable. Log-scale values need no log: ranks are invariant to it.

    0 for a constant hyperparameter or loss, for histories of fewer than 3 trials, and where the fit uses every
    degree of freedom (as many observed levels as trials).
    """
    from scipy.stats import rankdata

    loss = np.asarray(losses, dtype=float)
    y = rankdata(loss) if len(loss) else loss
    n = len(loss)
    scores = {}
    for name in space:
        values = [c[name] for c in configs]
        r2, df = explained_share(np.asarray(values, dtype=object), y, is_categorical(space[name]))
        if n < 3 or df == 0 or df >= n - 1:
            scores[name] = 0.0
            continue
        chance = df / (n - 1)
        scores[name] = float((r2 - chance) / (1 - chance))
    return scores


def influence(space: Any, configs: Sequence[Mapping[str, Any]], losses: Sequence[float]) -> list[str]:
    """Hyperparameters ordered by :func:`influence_scores`, most influential first; ties, and histories of fewer
    than 3 trials, by name."""
    return order(influence_scores(space, configs, losses))


def order(scores: Mapping[str, float]) -> list[str]:
    """Names by score, highest first, ties by name: the ordering the images plot, from scores already computed."""
    return sorted(scores, key=lambda n: (-scores[n], n))
