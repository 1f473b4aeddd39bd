"""Best-region scores (hpo.insight.truth.region): exact on grids vs brute force, sampled regions, bad regions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hpo.insight.truth import region as tr

NAMES = ["lr", "act", "depth"]
CHOICES = [[0.001, 0.01, 0.1, 1.0], ["relu", "tanh", "sigmoid"], [1, 2, 3, 4, 5]]


def grid_record(seed: int = 0, gamma: float = 0.1) -> tuple[dict, np.ndarray]:
    f = np.round(np.random.default_rng(seed).normal(size=[len(c) for c in CHOICES]), 1)  # ties at the cut-off
    return {"region": tr.grid_region(f, NAMES, CHOICES, gamma)}, f


def brute_force(f: np.ndarray, gamma: float, h: str, keep) -> tuple[float, int, float]:
    """Share of top-gamma configurations among those whose ``h`` passes ``keep``, by listing every configuration."""
    rows = [dict(zip(NAMES, combo)) for combo in itertools.product(*CHOICES)]
    y = f.ravel()
    cutoff = np.sort(y)[math.ceil(gamma * y.size) - 1]
    inside = [v <= cutoff for r, v in zip(rows, y) if keep(r[h])]
    return float(np.mean(inside)), len(inside), float(np.mean(y <= cutoff))


@pytest.mark.parametrize("gamma", [0.1, 0.3])
@pytest.mark.parametrize(
    ("region", "keep"),
    [
        ({"hyperparameter": "lr", "values": [0.01, 0.1]}, lambda v: v in (0.01, 0.1)),
        ({"hyperparameter": "lr", "low": 0.005, "high": 0.5}, lambda v: 0.005 <= v <= 0.5),
        ({"hyperparameter": "act", "values": ["ReLU"]}, lambda v: v == "relu"),
        ({"hyperparameter": "depth", "low": 2, "high": 4}, lambda v: 2 <= v <= 4),
        ({"hyperparameter": "depth", "values": ["3"]}, lambda v: v == 3),
        ({"hyperparameter": "depth", "low": 5}, lambda v: v >= 5),
    ],
)
def test_grid_region_equals_brute_force(gamma, region, keep):
    record, f = grid_record(0, gamma)
    share, n, base = brute_force(f, gamma, region["hyperparameter"], keep)
    got = tr.region_hit(record, region)
    assert got["region_share"] == pytest.approx(share, abs=1e-12)
    assert got["region_n"] == n
    assert got["region_base_rate"] == pytest.approx(base, abs=1e-12)
    assert got["region_norm"] == pytest.approx((share - base) / (1 - base), abs=1e-12)
    assert "exact on the grid" in got["note"]


def test_region_of_the_whole_space_scores_zero_and_the_best_cell_scores_one():
    f = np.arange(4 * 3 * 5, dtype=float).reshape(4, 3, 5)  # lr = 0.001 holds the 15 best of 60 -> top 25%
    record = {"region": tr.grid_region(f, NAMES, CHOICES, 0.25)}
    whole = tr.region_hit(record, {"hyperparameter": "act", "values": ["relu", "tanh", "sigmoid"]})
    assert whole["region_share"] == pytest.approx(0.25) and whole["region_norm"] == pytest.approx(0.0)
    best = tr.region_hit(record, {"hyperparameter": "lr", "values": [0.001]})
    assert best["region_share"] == 1.0 and best["region_norm"] == 1.0 and best["region_n"] == 15
    worst = tr.region_hit(record, {"hyperparameter": "lr", "values": [1.0]})
    assert worst["region_norm"] == pytest.approx(-1 / 3)


def test_sampled_region_counts_the_sample():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=400)
    y = rng.uniform(0, 1, size=400)
    loss = x + 0.1 * y  # low x is good
    record = {"region": tr.sample_region({"x": x, "y": y}, loss, 0.1, "test sample")}
    got = tr.region_hit(record, {"hyperparameter": "x", "low": 0.0, "high": 0.2})
    top = loss <= np.sort(loss)[39]
    sel = x <= 0.2
    assert got["region_share"] == pytest.approx(top[sel].mean()) and got["region_n"] == int(sel.sum())
    assert got["region_base_rate"] == pytest.approx(0.1) and got["region_norm"] > 0.3
    assert "sampled configurations" in got["note"]


@pytest.mark.parametrize(
    ("region", "why"),
    [
        (None, "no region stated"),
        ({"hyperparameter": "nope", "values": [1]}, "unknown hyperparameter"),
        ({"hyperparameter": "lr", "values": [0.5]}, "no level of lr"),
        ({"hyperparameter": "lr", "low": 1.0, "high": 0.1}, "empty range"),
        ({"hyperparameter": "act", "low": 0, "high": 1}, "categorical"),
        ({"hyperparameter": "lr", "low": "small", "high": 1}, "not numbers"),
        ({"hyperparameter": "lr"}, "neither values nor a range"),
    ],
)
def test_unscorable_regions_are_nan_with_a_note(region, why):
    record, _ = grid_record()
    got = tr.region_hit(record, region)
    assert math.isnan(got["region_share"]) and math.isnan(got["region_norm"]) and got["region_n"] == 0
    assert why in got["note"]
    assert got["region_base_rate"] == pytest.approx(record["region"]["base_rate"])


def test_record_without_region_data():
    got = tr.region_hit({"benchmark": "old"}, {"hyperparameter": "lr", "values": [0.1]})
    assert math.isnan(got["region_share"]) and "no region data" in got["note"]


def test_top_mask_includes_ties_at_the_cut_off():
    assert tr.top_mask(np.array([3.0, 1.0, 1.0, 2.0]), 0.25).tolist() == [False, True, True, False]
    assert tr.top_mask(np.arange(10.0), 0.1).sum() == 1
