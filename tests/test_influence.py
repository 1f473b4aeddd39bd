"""The influence ordering the multimodal images plot (hpo.core.influence): ties, categoricals, chance adjustment."""

from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter
from ConfigSpace import UniformFloatHyperparameter as Float

from hpo.core.influence import explained_share, influence, influence_scores, is_categorical

LEVELS = ["a", "b", "c"]


def _space(*hps) -> dict:
    cs = ConfigurationSpace()
    cs.add(list(hps))
    return {n: cs[n] for n in cs}


def _histories(n_histories: int = 200, n: int = 20, effect: float = 0.0):
    """Seeded histories of ``n`` trials whose losses fall over time (as under any optimizer), with configurations
    drawn independently of the trial: ``cont`` (continuous), ``cat`` (3-level categorical), ``ord`` (3-level
    ordinal) have no effect unless ``effect`` > 0, which adds an effect of ``cat``'s level."""
    for seed in range(n_histories):
        rng = np.random.default_rng(seed)
        configs = [
            {"cont": float(rng.random()), "cat": str(rng.choice(LEVELS)), "ord": int(rng.choice([1, 2, 4]))}
            for _ in range(n)
        ]
        shift = np.array([effect * LEVELS.index(c["cat"]) for c in configs])
        yield configs, np.linspace(1.0, 0.0, n) + 0.1 * rng.standard_normal(n) + shift


SPACE = _space(
    Float("cont", 0.0, 1.0), CategoricalHyperparameter("cat", LEVELS), OrdinalHyperparameter("ord", [1, 2, 4])
)


def test_hand_computed_shares_with_ties():
    # loss ranks 1..4 -> centred (-1.5, -0.5, 0.5, 1.5), total sum of squares 5.
    y = np.array([1.0, 2.0, 3.0, 4.0])
    # categorical a, a, b, b: level sums -2 and 2 over 2 trials each -> between SS 4 -> eta^2 = 0.8, df 1
    assert explained_share(np.array(["a", "a", "b", "b"], dtype=object), y, True) == pytest.approx((0.8, 1))
    # numeric values tied in pairs get average ranks 1.5, 1.5, 3.5, 3.5: r^2 = 4^2 / (4 * 5) = 0.8
    assert explained_share(np.array([3, 3, 7, 7], dtype=object), y, False) == pytest.approx((0.8, 1))
    # three levels over 4 trials: groups {1}, {2, 3}, {4}: between SS 2.25 + 0 + 2.25 = 4.5 -> 0.9, df 2
    assert explained_share(np.array(["x", "y", "y", "z"], dtype=object), y, True) == pytest.approx((0.9, 2))
    # a constant hyperparameter explains nothing and uses no degree of freedom
    assert explained_share(np.array(["a"] * 4, dtype=object), y, True) == (0.0, 0)


def test_tied_losses_share_one_rank():
    # Losses tied in pairs: trial-order ranks would give x a perfect correlation (|rho| = 1); average ranks
    # (1.5, 1.5, 3.5, 3.5) give r^2 = 4^2 / (5 * 4) = 0.8, adjusted (0.8 - 1/3) / (2/3) = 0.7.
    space = _space(Float("x", 0.0, 10.0))
    configs = [{"x": v} for v in (1.0, 2.0, 3.0, 4.0)]
    assert influence_scores(space, configs, [5.0, 5.0, 6.0, 6.0])["x"] == pytest.approx(0.7)


def test_no_effect_few_level_hyperparameters_are_not_favoured():
    """The issue's simulation: with trial-order ranks of tied values the 3-level hyperparameters averaged
    |rho| 0.23-0.26 against 0.17 for the continuous one; chance-adjusted scores average 0 for all three."""
    scores = [influence_scores(SPACE, c, loss) for c, loss in _histories()]
    mean = {n: float(np.mean([s[n] for s in scores])) for n in SPACE}
    for name in ("cat", "ord"):
        assert mean[name] <= mean["cont"] + 0.02, mean
    assert all(abs(m) < 0.02 for m in mean.values()), mean
    # and none of the three leads the ordering much more often than a third of the time
    first = [influence(SPACE, c, loss)[0] for c, loss in _histories()]
    for name in SPACE:
        assert first.count(name) / len(first) < 0.45, (name, first.count(name))


def test_a_real_effect_is_ranked_first():
    firsts = [influence(SPACE, c, loss)[0] for c, loss in _histories(n_histories=50, effect=0.5)]
    assert firsts.count("cat") >= 45
    # a numeric effect too: the loss rises with ord
    configs = [{"cont": 0.1 * i % 1, "cat": LEVELS[i % 3], "ord": [1, 2, 4][(i // 3) % 3]} for i in range(18)]
    losses = [c["ord"] + 0.01 * i for i, c in enumerate(configs)]
    assert influence(SPACE, configs, losses)[0] == "ord"


def test_reordering_categorical_choices_keeps_the_score():
    reordered = _space(Float("cont", 0.0, 1.0), CategoricalHyperparameter("cat", ["c", "a", "b"]), SPACE["ord"])
    for configs, loss in _histories(n_histories=10, effect=0.2):
        assert influence_scores(SPACE, configs, loss)["cat"] == pytest.approx(
            influence_scores(reordered, configs, loss)["cat"], abs=1e-12
        )


def test_short_histories_and_constants_order_by_name():
    configs = [{"cont": 0.2, "cat": "a", "ord": 1}, {"cont": 0.9, "cat": "b", "ord": 4}]
    assert influence(SPACE, configs, [1.0, 2.0]) == ["cat", "cont", "ord"]
    same = [{"cont": 0.5, "cat": "a", "ord": 2}] * 5
    assert influence_scores(SPACE, same, [1, 2, 3, 4, 5]) == {"cont": 0.0, "cat": 0.0, "ord": 0.0}
    assert influence(SPACE, same, [1, 2, 3, 4, 5]) == ["cat", "cont", "ord"]


def test_categorical_detection():
    assert is_categorical(SPACE["cat"]) and not is_categorical(SPACE["ord"]) and not is_categorical(SPACE["cont"])
    assert is_categorical(OrdinalHyperparameter("o", ["low", "high"]))
