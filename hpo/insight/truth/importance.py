"""Ground-truth hyperparameter importance of a benchmark: the record every insight score is computed against.

This module holds the record's layout, its reading and writing and the long table (the Optuna encoding that the
data-analysis baseline uses is :mod:`hpo.insight.optuna_encoding`); the estimators live in one module per family of
benchmark:

* :mod:`hpo.insight.truth.exact` (tabular): exact functional ANOVA of the full grid (main effects and pairwise
  terms), exact local (top-gamma, PED-ANOVA) importance, intervals by resampling the table's training seeds.
* :mod:`hpo.insight.truth.sobol` (synthetic, live ML, custom): first- and total-order Sobol indices from a scrambled
  Sobol (quasi-Monte Carlo) design on the space's own measure, with bootstrap intervals; on true evaluations that are
  made once and stored in the record. Independent of Optuna's fANOVA, which is the data-analysis baseline.
* :mod:`hpo.insight.truth.region`: what ``best_region`` statements are scored against (:func:`region_hit`).

Every estimator is computed on two loss transforms: ``rank`` (the loss replaced by its rank, ties averaged:
invariant to monotone transforms of the loss, which is all an optimizer's ranking of configurations ever sees; the
primary one) and ``raw`` (the loss itself; on FCNet a few diverged networks dominate its variance).

Per transform the record holds ``main`` ({hp: share of the total variance}), ``total`` ({hp: total-order share:
everything hp takes part in, interactions included}), ``pairs`` ({"a|b": share}, may be {}), ``main_ci`` /
``total_ci`` / ``pairs_ci`` ({key: [lo, hi]}, :data:`CI_LEVEL` percentile intervals), ``main_diff_ci`` /
``total_diff_ci`` ({"a|b": interval of share_a - share_b}, from the same resamples) and ``unresolved_pairs`` /
``total_unresolved_pairs`` (the pairs whose difference interval contains 0: the truth's partial order, no
transitive chaining), ``local`` (top-gamma importance, where computable), ``top_pair`` (the two largest main
effects: what the multimodal images' "two most influential hyperparameters" estimate) and ``top_interaction`` (the
largest pairwise term). ``estimator`` says in one line what was computed; ``gamma`` is the top quantile of
``local`` and of the region.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.core.identity import check_importance

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace


TRANSFORMS = ("rank", "raw")
PRIMARY = "rank"
GAMMA = 0.1  # top quantile of the local importance and of the region scores (PED-ANOVA's default)
CI_LEVEL = 0.90
PAIR_SEP = "|"
ONE_HP_NOTE = "one hyperparameter: its main effect is the whole variance; rankings and their scores do not apply"


def pair_key(a: str, b: str) -> str:
    """Key of a pairwise term in the JSON (names sorted, so (a, b) and (b, a) are one key)."""
    return PAIR_SEP.join(sorted((a, b)))


def rank_transform(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` (1 = lowest loss, ties averaged), in the same shape."""
    from scipy.stats import rankdata

    arr = np.asarray(values, dtype=float)
    return rankdata(arr.ravel(), method="average").reshape(arr.shape)


def top_pair(main: dict[str, float]) -> list[str]:
    """The two hyperparameters with the largest main effects (ties broken by name); [] with fewer than two."""
    if len(main) < 2 or any(math.isnan(v) for v in main.values()):
        return []
    return sorted(main, key=lambda n: (-main[n], n))[:2]


def top_interaction(pairs: dict[str, float]) -> list[str]:
    """The pair with the largest pairwise term, [] when there is none."""
    if not pairs or any(math.isnan(v) for v in pairs.values()):
        return []
    return min(pairs, key=lambda k: (-pairs[k], k)).split(PAIR_SEP)


def percentile_ci(samples: np.ndarray, level: float = CI_LEVEL) -> list[list[float]]:
    """Percentile interval per column of ``samples`` (resamples x terms): [[lo, hi], ...]."""
    q = [(1 - level) / 2, 1 - (1 - level) / 2]
    return np.quantile(np.asarray(samples, dtype=float), q, axis=0).T.tolist()


def components(linked: np.ndarray) -> np.ndarray:
    """A label per item: items joined by ``linked`` (a symmetric boolean matrix), directly or through others, share
    one (connected components, :func:`scipy.sparse.csgraph.connected_components`). Used only where a score cannot
    be written as a sum over pairs (NDCG's gains, :mod:`hpo.insight.scores`)."""
    from scipy.sparse.csgraph import connected_components

    return connected_components(np.asarray(linked, dtype=bool), directed=False)[1]


def pair_differences(names: Sequence[str], samples: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Every pair's difference ``x_a - x_b`` per resample (``samples``: resamples x names), keyed ``"a|b"`` with
    a < b by name (:func:`pair_key`'s order, so the key says the difference's sign)."""
    arr = np.asarray(samples, dtype=float).reshape(-1, len(names))
    order = sorted(range(len(names)), key=lambda k: names[k])
    pairs = list(itertools.combinations(order, 2))
    keys = [pair_key(names[i], names[j]) for i, j in pairs]
    diffs = np.stack([arr[:, i] - arr[:, j] for i, j in pairs], axis=1) if pairs else np.empty((len(arr), 0))
    return keys, diffs


def unresolved_pairs(point: dict[str, float], diff_ci: dict[str, Sequence[float]]) -> list[list[str]]:
    """The pairs whose order the truth does not establish: ``[[a, b], ...]`` (a < b by name, sorted).

    A pair is *resolved* when the interval of ``point[a] - point[b]`` (``diff_ci``, from the same bootstrap as the
    shares' intervals) excludes 0 on the side of the point difference. This is a partial order with no chaining: a
    ~ b and b ~ c say nothing about a and c (tie groups joined overlapping marginal intervals transitively, and on
    rf-breast_cancer tied all four hyperparameters although the differences put max_depth first; issue 22).
    Exactly equal shares and non-finite ones are unresolved; a pair without an interval (no bootstrap: one training
    seed) is resolved by its point difference.
    """
    names = sorted(point)
    out = []
    for a, b in itertools.combinations(names, 2):
        d = float(point[a]) - float(point[b])
        lo, hi = (float(v) for v in diff_ci.get(pair_key(a, b), (-math.inf, math.inf) if d == 0 else (d, d)))
        resolved = math.isfinite(d) and ((d > 0 and lo > 0) or (d < 0 and hi < 0))
        if not resolved:
            out.append([a, b])
    return out


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """A transform's result with its derived keys: ``top_pair``, ``top_interaction``, ``unresolved_pairs`` (of
    ``main``, from ``main_diff_ci``) and, with ``total``, ``total_unresolved_pairs`` (from ``total_diff_ci``);
    the interval dicts default to {} so every reader finds them."""
    out = {"main_ci": {}, "pairs_ci": {}, "main_diff_ci": {}, **result}
    out["top_pair"] = top_pair(out["main"])
    out["top_interaction"] = top_interaction(out["pairs"])
    out["unresolved_pairs"] = unresolved_pairs(out["main"], out["main_diff_ci"])
    if "total" in out:
        out = {"total_ci": {}, "total_diff_ci": {}, **out}
        out["total_unresolved_pairs"] = unresolved_pairs(out["total"], out["total_diff_ci"])
    return out


def load_importance(path: str | Path) -> dict[str, Any]:
    """Read one importance JSON, with a one-line error naming the file when it is unusable."""
    import json

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"importance file {path} unreadable: {exc}") from None
    missing = [k for k in ("benchmark", "method", "hyperparameters", "transforms", "space") if k not in data]
    if missing:
        raise ValueError(f"importance file {path} lacks keys {missing}; rerun rule importance")
    data["transforms"] = _nan_for_null(data["transforms"])  # undo write_importance's null: readers see floats
    check_importance(data, path)  # identity of the benchmark its path names; main effects >= 0
    return data


def _nan_for_null(x: Any) -> Any:
    if x is None:
        return math.nan
    if isinstance(x, dict):
        return {k: _nan_for_null(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_for_null(v) for v in x]
    return x


def space_of(record: dict[str, Any]) -> ConfigurationSpace:
    """The ConfigSpace stored in an importance record (ConfigSpace's decoder consumes its input: given a copy)."""
    import copy

    from ConfigSpace import ConfigurationSpace

    return ConfigurationSpace.from_serialized_dict(copy.deepcopy(record["space"]))


def write_importance(record: dict[str, Any], out: str | Path) -> None:
    """Write an importance record as JSON, atomically (NaN as null, so it stays valid JSON)."""
    import json

    from hpo.util.atomic import atomic_path

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(clean(record), indent=1) + "\n")


def importance_table(records: Sequence[dict[str, Any]]) -> Any:
    """All records as one long table: one row per benchmark x transform x term (main effect, pair, local)."""
    import pandas as pd

    rows = []
    for rec in records:
        for transform, res in rec["transforms"].items():
            main = res["main"]
            order = sorted(main, key=lambda n: (math.isnan(main[n]), -main[n] if not math.isnan(main[n]) else 0, n))
            base = {
                "benchmark": rec["benchmark"],
                "method": rec["method"],
                "transform": transform,
                "primary": transform == rec.get("primary_transform", PRIMARY),
            }
            tail = {"n_points": rec.get("n_points"), "note": rec.get("note", "")}
            terms = [("main", main, res.get("main_ci", {}))]
            terms += [("pair", res.get("pairs", {}), res.get("pairs_ci", {}))]
            terms += [("local", res.get("local", {}), res.get("local_ci", {}))]
            for term, shares, ci in terms:
                for key, share in shares.items():
                    lo, hi = ci.get(key, [math.nan, math.nan])
                    rank = order.index(key) + 1 if term == "main" else math.nan
                    row = {"term": term, "hyperparameters": key, "share": share, "ci_low": lo, "ci_high": hi}
                    rows.append({**base, **row, "rank": rank, **tail})
    return pd.DataFrame(rows)
