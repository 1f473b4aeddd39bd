"""The top-gamma set of a benchmark and the region data that ``best_region`` statements are scored against.

A model states its best region as one hyperparameter and either a set of values or a range
(``{"hyperparameter": h, "values": [...]}`` / ``{"hyperparameter": h, "low": a, "high": b}``). The score is the
share of the region's configurations that lie in the top-gamma set of the space, against the base rate: the share
of the whole space in that set (gamma, up to ties at the cut-off).

* Grids (tabular): exact. The region data holds, per hyperparameter, its levels and the share of top-gamma
  configurations at each level. On a product grid every level of ``h`` holds the same number of configurations, so
  the share of a union of levels is the mean of their per-level shares.
* Sampled (synthetic, live ML, custom): estimated on the stored uniform sample (configurations and true losses):
  the share of sampled points inside the region that are in the sample's top-gamma set.

The top set follows Optuna's PED-ANOVA filter: the losses at or below the ``ceil(gamma * n)``-th smallest loss (ties
at the cut-off included), so the local importance (:mod:`hpo.insight.truth.exact`) and the region use one set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def top_mask(values: np.ndarray, gamma: float) -> np.ndarray:
    """Boolean mask (same shape) of the top-gamma set: losses <= the ceil(gamma * n)-th smallest one."""
    v = np.asarray(values, dtype=float)
    flat = v.ravel()
    k = max(int(math.ceil(gamma * flat.size)) - 1, 0)
    cutoff = np.partition(flat, k)[k]
    return v <= cutoff


def _plain(x: Any) -> Any:
    """A grid level as a JSON value (numpy scalars -> Python)."""
    return x.item() if isinstance(x, np.generic) else x


def grid_region(mean_loss: np.ndarray, names: Sequence[str], choices: Sequence[Sequence[Any]], gamma: float) -> dict:
    """Region data of a full grid (one axis per hyperparameter): per hyperparameter its levels and top-gamma rates."""
    top = top_mask(mean_loss, gamma)
    d = top.ndim
    per_hp = {}
    for i, (name, levels) in enumerate(zip(names, choices)):
        rate = top.mean(axis=tuple(k for k in range(d) if k != i))
        per_hp[name] = {
            "levels": [_plain(c) for c in levels],
            "top_rate": [float(r) for r in rate],
            "n_per_level": int(top.size // len(levels)),
        }
    return {
        "kind": "grid",
        "gamma": gamma,
        "base_rate": float(top.mean()),
        "n_points": int(top.size),
        "hyperparameters": per_hp,
    }


def sample_region(columns: dict[str, Sequence[Any]], losses: Sequence[float], gamma: float, source: str) -> dict:
    """Region data of a uniform sample: its configurations (one column per hyperparameter) and true losses."""
    loss = np.asarray(losses, dtype=float)
    top = top_mask(loss, gamma)
    return {
        "kind": "sample",
        "gamma": gamma,
        "base_rate": float(top.mean()),
        "n_points": int(loss.size),
        "source": source,
        "values": {h: [_plain(v) for v in col] for h, col in columns.items()},
        "loss": [float(v) for v in loss],
    }


def _same(level: Any, value: Any) -> bool:
    """Whether a stated value names a level: strings case-insensitively, numbers with a relative tolerance."""
    if isinstance(level, str):
        return str(value).strip().lower() == level.lower()
    try:
        return bool(np.isclose(float(value), float(level), rtol=1e-6, atol=1e-12))
    except (TypeError, ValueError):
        return False


def _selected(levels: Sequence[Any], region: dict[str, Any]) -> tuple[np.ndarray | None, str]:
    """Which of ``levels`` (grid levels or sampled values) the region holds; (None, why) when it cannot say."""
    if "values" in region:
        values = region["values"] if isinstance(region["values"], list) else [region["values"]]
        return np.array([any(_same(lv, v) for v in values) for lv in levels], dtype=bool), ""
    if "low" in region or "high" in region:
        try:
            low = float(region.get("low", -math.inf))
            high = float(region.get("high", math.inf))
        except (TypeError, ValueError):
            return None, f"range bounds are not numbers: {region.get('low')!r}, {region.get('high')!r}"
        if low > high:
            return None, f"empty range: low {low} > high {high}"
        if any(isinstance(lv, str) for lv in levels):
            return None, "a range on a categorical hyperparameter"
        arr = np.asarray(levels, dtype=float)
        tol = 1e-9 * np.maximum(np.abs(arr), 1.0)
        return (arr >= low - tol) & (arr <= high + tol), ""
    return None, "region names neither values nor a range"


def _nan_result(note: str, base: float = math.nan) -> dict[str, Any]:
    nan = math.nan
    return {"region_share": nan, "region_base_rate": base, "region_norm": nan, "region_n": 0, "note": note}


def region_hit(record: dict[str, Any], region: dict[str, Any] | None) -> dict[str, Any]:
    """Score a stated best region against the record's top-gamma set (see the module docstring).

    Returns ``region_share`` (share of the region's configurations in the top-gamma set), ``region_base_rate``
    (share of the whole space in it), ``region_norm`` = (share - base) / (1 - base) (1 = every configuration of the
    region is top, 0 = no better than the space, negative = worse), ``region_n`` (configurations in the region) and
    ``note``; NaN scores and a note when the region cannot be scored.
    """
    data = record.get("region")
    if not data:
        return _nan_result("no region data in the ground truth (rerun rule importance)")
    base = float(data["base_rate"])
    if not isinstance(region, dict) or not region.get("hyperparameter"):
        return _nan_result("no region stated", base)
    h = str(region["hyperparameter"])
    if data["kind"] == "grid":
        hp = data["hyperparameters"].get(h)
        if hp is None:
            return _nan_result(f"unknown hyperparameter {h!r}", base)
        sel, why = _selected(hp["levels"], region)
        if sel is None or not sel.any():
            return _nan_result(why or f"no level of {h} in the region", base)
        share = float(np.mean(np.asarray(hp["top_rate"], dtype=float)[sel]))
        n = int(sel.sum()) * int(hp["n_per_level"])
        note = f"exact on the grid: {int(sel.sum())} of {len(sel)} levels of {h}"
    else:
        column = data["values"].get(h)
        if column is None:
            return _nan_result(f"unknown hyperparameter {h!r}", base)
        sel, why = _selected(column, region)
        if sel is None or not sel.any():
            return _nan_result(why or f"no sampled configuration with {h} in the region", base)
        top = top_mask(np.asarray(data["loss"], dtype=float), float(data["gamma"]))
        share = float(top[sel].mean())
        n = int(sel.sum())
        note = f"estimated on {n} of {len(sel)} sampled configurations ({data.get('source', 'uniform sample')})"
    norm = (share - base) / (1 - base) if base < 1 else math.nan
    return {"region_share": share, "region_base_rate": base, "region_norm": norm, "region_n": n, "note": note}
