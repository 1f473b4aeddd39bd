"""Statistics of hpo.stats.comparison against hand-computed cases and direct scipy calls."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as ss

from hpo.stats import comparison as stats


def blocks_of(rows: dict[tuple[str, int], dict[str, float]], budget: int = 10) -> stats.Blocks:
    """A Blocks object from {(benchmark, seed): {method: regret}} via the real long-table path."""
    long = pd.DataFrame(
        [
            {"benchmark": b, "seed": s, "method": m, "budget": budget, "normalized_regret": v}
            for (b, s), per in rows.items()
            for m, v in per.items()
        ]
    )
    methods = list(dict.fromkeys(long["method"]))
    return stats.complete_blocks(long, budget, methods)


def test_block_ranks_average_ties():
    m = pd.DataFrame({"a": [0.1, 0.5, 0.0], "b": [0.1, 0.2, 0.0], "c": [0.3, 0.1, 0.0]})
    ranks = stats.block_ranks(m)
    # block 0: a and b tie for ranks 1-2 -> 1.5 each; block 1: c < b < a; block 2: all tie -> 2 each
    assert ranks.to_numpy().tolist() == [[1.5, 1.5, 3.0], [3.0, 2.0, 1.0], [2.0, 2.0, 2.0]]
    assert stats.average_ranks(m).to_dict() == pytest.approx({"a": 6.5 / 3, "b": 5.5 / 3, "c": 2.0})
    # the same ranks as scipy's rankdata, row by row
    for row, expected in zip(m.to_numpy(), ranks.to_numpy()):
        assert ss.rankdata(row).tolist() == expected.tolist()


def test_friedman_known_table():
    # 4 blocks where always a < b < c: average ranks (1, 2, 3); chi2 = 12N/(k(k+1)) * (sum R^2 - k(k+1)^2/4) = 8
    rows = {("x", s): {"a": 0.1 + s, "b": 0.2 + s, "c": 0.3 + s} for s in range(4)}
    res = stats.friedman(blocks_of(rows))
    assert res["note"] == ""
    assert res["statistic"] == pytest.approx(8.0)
    assert res["p_value"] == pytest.approx(math.exp(-4.0))  # chi2 sf with 2 dof = exp(-x/2)
    direct = ss.friedmanchisquare([0.1, 1.1, 2.1, 3.1], [0.2, 1.2, 2.2, 3.2], [0.3, 1.3, 2.3, 3.3])
    assert res["p_value"] == pytest.approx(direct.pvalue)


def test_critical_difference_matches_demsar_table():
    # Demšar (2006) Table 5(a): q_0.05 = 2.343 (k=3), 2.569 (k=4), 2.728 (k=5)
    for k, q in [(3, 2.343), (4, 2.569), (5, 2.728)]:
        assert stats.critical_difference(k, 10) == pytest.approx(q * math.sqrt(k * (k + 1) / 60), abs=2e-3)
    assert math.isnan(stats.critical_difference(1, 10))


def test_nemenyi_agrees_with_critical_difference():
    rng = np.random.default_rng(0)
    rows = {
        ("x", s): {"a": rng.random() * 0.3, "b": 0.2 + rng.random() * 0.5, "c": 0.6 + rng.random()} for s in range(12)
    }
    blocks = blocks_of(rows)
    p = stats.nemenyi(blocks)
    ranks = stats.average_ranks(blocks.matrix)
    cd = stats.critical_difference(3, blocks.n_blocks)
    for a in "abc":
        for b in "abc":
            if a != b:
                assert (p.loc[a, b] < stats.ALPHA) == (abs(ranks[a] - ranks[b]) > cd)
    assert p.loc["a", "c"] < stats.ALPHA  # a always best, c always worst: 2 ranks apart > CD(3, 12) = 0.957


def test_holm_order_hand_computed():
    # sorted p: 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> monotone 0.09, 0.2*1=0.2; returned in input order
    assert stats.holm([0.01, 0.04, 0.03, 0.2]).tolist() == pytest.approx([0.04, 0.09, 0.09, 0.2])
    out = stats.holm([0.01, float("nan"), 0.04])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)


def test_rank_biserial_hand_computed():
    a = np.array([1.0, 1.0, 4.0, 1.0, 2.0])
    b = np.array([2.0, 3.0, 1.0, 5.0, 2.0])  # b - a = 1, 2, -3, 4, 0 -> ranks 1, 2, 3, 4; R+ = 7, R- = 3
    assert stats.rank_biserial(a, b) == pytest.approx(0.4)
    assert stats.rank_biserial(b, a) == pytest.approx(-0.4)
    assert math.isnan(stats.rank_biserial(a, a))


def test_wilcoxon_matches_scipy_and_holm():
    rng = np.random.default_rng(1)
    rows = {
        (b, s): {"a": rng.random() * 0.2, "b": 0.1 + rng.random(), "c": 0.05 + rng.random() * 0.3}
        for b in ("x", "y")
        for s in range(5)
    }
    blocks = blocks_of(rows)
    best = stats.best_method(blocks)
    assert best == "a"
    pairs = stats.comparison_pairs(blocks.methods, best)
    assert pairs == [("a", "b"), ("a", "c")]
    res = stats.wilcoxon_pairs(blocks, pairs)
    raw = []
    for (a, b), row in zip(pairs, res.itertuples()):
        direct = ss.wilcoxon(blocks.matrix[a], blocks.matrix[b], alternative="two-sided")
        assert row.p_value == pytest.approx(direct.pvalue)
        assert row.statistic == pytest.approx(direct.statistic)
        assert row.n_blocks == 10 and row.wins_a + row.wins_b + row.ties == 10
        raw.append(direct.pvalue)
    assert res["p_holm"].tolist() == pytest.approx(stats.holm(raw).tolist())
    assert (res["rank_biserial"] > 0).all()  # a has lower regret than both


def test_comparison_pairs_include_llm_trio_by_role_not_name():
    roles = {"llm": "text", "mm_llm": "image", "mm_llm_blank": "blank"}
    methods = ["random_search", "llm", "mm_llm", "mm_llm_blank"]
    pairs = stats.comparison_pairs(methods, "random_search", roles)
    assert pairs[:3] == [("random_search", "llm"), ("random_search", "mm_llm"), ("random_search", "mm_llm_blank")]
    assert set(pairs[3:]) == {("mm_llm", "llm"), ("mm_llm", "mm_llm_blank"), ("llm", "mm_llm_blank")}
    # the best one is in the trio: its pairs with the trio are not repeated
    pairs = stats.comparison_pairs(methods, "mm_llm", roles)
    assert len(pairs) == len(set(frozenset(p) for p in pairs)) == 4
    # renamed methods keep the comparison (roles come from their kinds); without roles there is no trio
    renamed = {"gpt4o_text": "text", "gpt4o_vision": "image", "gpt4o_blank": "blank"}
    pairs = stats.comparison_pairs(["rs", *renamed], "rs", renamed)
    assert set(pairs[3:]) == {
        ("gpt4o_vision", "gpt4o_text"),
        ("gpt4o_vision", "gpt4o_blank"),
        ("gpt4o_text", "gpt4o_blank"),
    }
    assert len(stats.comparison_pairs(methods, "random_search")) == len(methods) - 1


def test_incomplete_blocks_dropped_and_counted():
    rows = {("x", s): {"a": 0.1, "b": 0.2, "c": 0.3} for s in range(3)}
    rows[("y", 0)] = {"a": 0.1, "b": 0.2}  # c failed on this block
    blocks = stats.complete_blocks(
        pd.DataFrame(
            [
                {"benchmark": b, "seed": s, "method": m, "budget": 10, "normalized_regret": v}
                for (b, s), per in rows.items()
                for m, v in per.items()
            ]
        ),
        10,
        ["a", "b", "c", "d"],
        n_expected=6,
    )
    assert blocks.methods == ["a", "b", "c"]
    assert blocks.n_blocks == 3 and blocks.n_dropped == 3
    assert blocks.excluded == {"d": "no result at this budget"}
    assert "3 of 6" in blocks.coverage_note() and "3 dropped" in blocks.coverage_note()


def test_regret_at_budget_uses_trial_row():
    df = pd.DataFrame(
        {
            "benchmark": "x",
            "method": "a",
            "seed": 0,
            "trial": [1, 2, 3],
            "normalized_regret": [0.9, 0.5, 0.2],
        }
    )
    at = stats.regret_at_budgets(df, [2, 5])
    assert at["budget"].tolist() == [2] and at["normalized_regret"].tolist() == [0.5]  # no row for budget 5


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        ({("x", 0): {"a": 0.1}, ("x", 1): {"a": 0.2}}, "at least 3 methods, 1 compared"),
        ({("x", 0): {"a": 0.1, "b": 0.2}, ("x", 1): {"a": 0.2, "b": 0.1}}, "see the paired Wilcoxon"),
        ({("x", 0): {"a": 0.1, "b": 0.2, "c": 0.3}}, "at least 2 complete blocks, 1"),
        ({("x", s): {"a": 0.0, "b": 0.0, "c": 0.0} for s in range(5)}, "all methods tied in every block"),
    ],
)
def test_friedman_notes_instead_of_p_values(rows, fragment):
    res = stats.friedman(blocks_of(rows))
    assert fragment in res["note"]
    assert math.isnan(res["p_value"]) and math.isnan(res["statistic"])


def test_wilcoxon_ties_everywhere_gives_note_not_p_value():
    blocks = blocks_of({("x", s): {"a": 0.3, "b": 0.3} for s in range(8)})
    res = stats.wilcoxon_pairs(blocks, [("a", "b")])
    assert math.isnan(res["p_value"].iloc[0]) and math.isnan(res["p_holm"].iloc[0])
    assert not res["significant"].iloc[0]
    assert "identical regret in every block" in res["note"].iloc[0]


def test_wilcoxon_few_pairs_note():
    blocks = blocks_of({("x", s): {"a": 0.1, "b": 0.2 + s} for s in range(3)})
    res = stats.wilcoxon_pairs(blocks, [("a", "b")])
    assert res["p_value"].iloc[0] == pytest.approx(0.25)  # exact: 2 / 2**3
    assert "p < 0.05 is unreachable" in res["note"].iloc[0]


def test_average_rank_over_trials():
    rows = []
    for seed in (0, 1):
        for trial, (ra, rb) in enumerate([(0.5, 0.5), (0.2, 0.4), (0.1, 0.05)], start=1):
            rows += [
                {"benchmark": "x", "seed": seed, "trial": trial, "method": "a", "normalized_regret": ra},
                {"benchmark": "x", "seed": seed, "trial": trial, "method": "b", "normalized_regret": rb},
            ]
    rows.append({"benchmark": "x", "seed": 2, "trial": 1, "method": "a", "normalized_regret": 0.1})  # b missing
    out = stats.average_rank_over_trials(pd.DataFrame(rows), ["a", "b"])
    wide = out.pivot(index="trial", columns="method", values="avg_rank")
    assert wide.to_numpy().tolist() == [[1.5, 1.5], [1.0, 2.0], [2.0, 1.0]]
    assert set(out["n_blocks"]) == {2}


def test_no_best_method_when_every_block_ties():
    """Inside the shared initial design every method has the same regret: no method may be called best."""
    tied = blocks_of({("x", s): {"a": 0.1 * s, "b": 0.1 * s, "c": 0.1 * s} for s in range(5)})
    assert stats.best_method(tied) is None
    one_differs = blocks_of(
        {("x", s): {"a": 0.1 * s, "b": 0.1 * s + (0.05 if s == 2 else 0), "c": 0.1 * s} for s in range(5)}
    )
    assert stats.best_method(one_differs) == "a"
