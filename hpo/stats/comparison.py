"""Which optimizer wins, at which budget, and is it significant: ranks, Friedman/Nemenyi, paired Wilcoxon + Holm.

The unit of comparison is a *block* = one (benchmark, seed): every method ran on the same benchmark with the same
seed and the same shared initial design, so their normalized regrets (:mod:`hpo.analysis.regret`) are paired.
Within a block, methods are ranked by normalized regret (1 = lowest regret; ties get the average rank). Only blocks
in which every compared method has a result enter a test, because the Friedman and Wilcoxon tests are defined on
complete, paired data; how many blocks were dropped is always reported next to the result.

Blocks of one benchmark share that benchmark, so they are not the independent data sets of Demšar (2006); the tests
answer "does the method win across benchmarks *and* seeds", which is the study's question, and the report says so.

Every test that cannot be computed (too few methods or blocks, all values tied) yields ``NaN`` and a one-line note
instead of a number, so no table ever shows a p-value that the data cannot support.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

BLOCK = ["benchmark", "seed"]
# LLM method names whose pairwise comparison the study is about (image vs. no image vs. blank image).
# The multimodal comparison: roles come from the method registry (by kind, never by the name a study gives it).
ROLE_ORDER = ("image", "text", "blank")
# Below this many non-zero paired differences, a two-sided exact Wilcoxon test cannot reach p < 0.05 (2/2**5).
WILCOXON_MIN_PAIRS = 6
# Significance level of every test and of the critical difference.
ALPHA = 0.05


@dataclass
class Blocks:
    """Normalized regret at one budget on the complete blocks: index (benchmark, seed), one column per method."""

    budget: int
    matrix: pd.DataFrame
    n_expected: int
    n_dropped: int
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        return list(self.matrix.columns)

    @property
    def n_blocks(self) -> int:
        return len(self.matrix)

    def coverage_note(self) -> str:
        """One line: how many blocks the statistics use and why some are missing."""
        note = f"{self.n_blocks} of {self.n_expected} (benchmark, seed) blocks complete"
        if self.n_dropped:
            note += f"; {self.n_dropped} dropped because a compared method has no result there"
        if self.excluded:
            note += "; excluded: " + ", ".join(f"{m} ({why})" for m, why in self.excluded.items())
        return note


def regret_at_budgets(df: pd.DataFrame, budgets: Sequence[int]) -> pd.DataFrame:
    """Normalized regret of the incumbent after ``budget`` trials, per benchmark x method x seed x budget.

    A run with fewer trials than the budget has no row for it (it counts as missing, never as its last value).
    """
    cols = ["benchmark", "method", "seed", "budget", "normalized_regret"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    at = df[df["trial"].isin(list(budgets))]
    at = at.rename(columns={"trial": "budget"})[cols]
    return at.sort_values(["budget", "benchmark", "method", "seed"], kind="stable").reset_index(drop=True)


def complete_blocks(
    at_budget: pd.DataFrame, budget: int, methods: Sequence[str], n_expected: int | None = None
) -> Blocks:
    """The blocks x methods matrix at ``budget``, keeping only blocks where every method with any result has one.

    Methods without any result at this budget are left out (listed in ``excluded``) rather than emptying every
    block; ``n_expected`` (the study's benchmarks x seeds) defaults to the number of blocks seen.
    """
    sub = at_budget[at_budget["budget"] == budget]
    wide = sub.pivot_table(index=BLOCK, columns="method", values="normalized_regret", aggfunc="first")
    present = [m for m in methods if m in wide.columns and wide[m].notna().any()]
    excluded = {m: "no result at this budget" for m in methods if m not in present}
    wide = wide.reindex(columns=present)
    complete = wide.dropna(how="any")
    seen = len(wide)
    n_expected = max(n_expected if n_expected is not None else seen, seen)
    complete.columns.name = None
    return Blocks(budget, complete, n_expected, n_expected - len(complete), excluded)


def block_ranks(matrix: pd.DataFrame) -> pd.DataFrame:
    """Rank methods within each block (row): 1 = lowest regret, ties share the average of their ranks."""
    return matrix.rank(axis=1, method="average", ascending=True)


def average_ranks(matrix: pd.DataFrame) -> pd.Series:
    """Mean over blocks of the within-block ranks."""
    return block_ranks(matrix).mean(axis=0)


def average_rank_over_trials(df: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Average rank of each method after every trial, over the blocks complete at that trial.

    Columns: trial, method, avg_rank, n_blocks. Blocks missing a method are dropped per trial, like the tests.
    """
    cols = ["trial", "method", "avg_rank", "n_blocks"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    wide = df.pivot_table(index=[*BLOCK, "trial"], columns="method", values="normalized_regret", aggfunc="first")
    present = [m for m in methods if m in wide.columns and wide[m].notna().any()]
    wide = wide.reindex(columns=present).dropna(how="any")
    if wide.empty or not present:
        return pd.DataFrame(columns=cols)
    ranks = block_ranks(wide)
    mean = ranks.groupby(level="trial").mean()
    counts = ranks.groupby(level="trial").size()
    out = mean.rename_axis(index="trial", columns="method").stack().rename("avg_rank").reset_index()
    out["n_blocks"] = out["trial"].map(counts).astype(int)
    return out[cols]


def _all_tied(matrix: pd.DataFrame) -> bool:
    return bool((matrix.nunique(axis=1) <= 1).all())


def friedman(blocks: Blocks) -> dict[str, float | str]:
    """Friedman chi-square test that all methods have the same rank distribution (scipy), or a note why not."""
    from scipy.stats import friedmanchisquare

    k, n = len(blocks.methods), blocks.n_blocks
    note = ""
    if k < 3:
        note = f"Friedman test needs at least 3 methods, {k} compared" + (
            "; see the paired Wilcoxon test" if k == 2 else ""
        )
    elif n < 2:
        note = f"Friedman test needs at least 2 complete blocks, {n} available"
    elif _all_tied(blocks.matrix):
        note = "all methods tied in every block: no difference to test"
    if note:
        return {"statistic": math.nan, "p_value": math.nan, "note": note}
    res = friedmanchisquare(*(blocks.matrix[m].to_numpy() for m in blocks.methods))
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "note": ""}


def critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Nemenyi critical difference of average ranks: q_alpha * sqrt(k (k+1) / (6 n)) (Demšar 2006, eq. 5).

    ``q_alpha`` is the studentized range quantile over sqrt(2), from scipy; it is the threshold that makes
    scikit-posthocs' Nemenyi p-values fall below ``alpha`` exactly when two average ranks differ by more than it.
    """
    from scipy.stats import studentized_range

    if k < 2 or n < 1:
        return math.nan
    q_alpha = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q_alpha * math.sqrt(k * (k + 1) / (6 * n)))


def nemenyi(blocks: Blocks) -> pd.DataFrame:
    """Nemenyi post-hoc p-values (methods x methods) after Friedman, from scikit-posthocs."""
    import scikit_posthocs as sp

    p = sp.posthoc_nemenyi_friedman(blocks.matrix.reset_index(drop=True))
    return p.reindex(index=blocks.methods, columns=blocks.methods)


def rank_biserial(a: np.ndarray, b: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation (Kerby 2014) of ``b - a``: +1 when ``a`` is lower in every pair.

    ``(R+ - R-) / (R+ + R-)`` with R+/R- the sums of the ranks of |b - a| over pairs where ``a`` is lower/higher;
    zero differences are left out, as in the Wilcoxon test with ``zero_method='wilcox'``. NaN if all are zero.
    """
    from scipy.stats import rankdata

    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return math.nan
    r = rankdata(np.abs(d))
    plus, minus = r[d > 0].sum(), r[d < 0].sum()
    return float((plus - minus) / (plus + minus))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (statsmodels); NaN entries stay NaN and do not count as tests."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def comparison_pairs(
    methods: Sequence[str], best: str | None, roles: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """The family of pairwise tests: ``best`` vs every other method, then the pairs among the methods that have a
    role in the image / text / blank comparison (``roles``: method name -> role, from the registry's kinds)."""
    roles = roles or {}
    pairs = [(best, m) for m in methods if best is not None and m != best]
    present = sorted((m for m in methods if roles.get(m) in ROLE_ORDER), key=lambda m: ROLE_ORDER.index(roles[m]))
    for i, a in enumerate(present):
        for b in present[i + 1 :]:
            if (a, b) not in pairs and (b, a) not in pairs:
                pairs.append((a, b))
    return pairs


def best_method(blocks: Blocks) -> str | None:
    """Lowest average rank (ties broken by lower median regret, then by name); None without blocks, and None when
    every method ties in every block (e.g. at a budget inside the shared initial design: naming a "best" there would
    only report the tie-break)."""
    if blocks.n_blocks == 0 or not blocks.methods:
        return None
    if (blocks.matrix.nunique(axis=1) <= 1).all():
        return None
    ranks = average_ranks(blocks.matrix)
    med = blocks.matrix.median(axis=0)
    return min(blocks.methods, key=lambda m: (round(float(ranks[m]), 12), float(med[m]), m))


def wilcoxon_pairs(blocks: Blocks, pairs: Iterable[tuple[str, str]], alpha: float = ALPHA) -> pd.DataFrame:
    """Two-sided Wilcoxon signed-rank test per pair, paired on (benchmark, seed), Holm-adjusted over the family.

    Columns: method_a, method_b, n_blocks, wins_a, wins_b, ties, median_diff (b - a), statistic, p_value, p_holm,
    significant, rank_biserial (> 0: ``method_a`` has lower regret), note.
    """
    from scipy.stats import wilcoxon

    rows = []
    for a, b in pairs:
        x, y = blocks.matrix[a].to_numpy(float), blocks.matrix[b].to_numpy(float)
        d = y - x
        n_nonzero = int((d != 0).sum())
        row = {
            "method_a": a,
            "method_b": b,
            "n_blocks": int(d.size),
            "wins_a": int((d > 0).sum()),
            "wins_b": int((d < 0).sum()),
            "ties": int((d == 0).sum()),
            "median_diff": float(np.median(d)) if d.size else math.nan,
            "statistic": math.nan,
            "p_value": math.nan,
            "rank_biserial": rank_biserial(x, y),
            "note": "",
        }
        if d.size == 0:
            row["note"] = "no complete blocks"
        elif n_nonzero == 0:
            row["note"] = "identical regret in every block: no test"
        else:
            res = wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
            row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
            if n_nonzero < WILCOXON_MIN_PAIRS:
                row["note"] = f"only {n_nonzero} non-tied pair(s): p < {alpha:g} is unreachable"
        rows.append(row)
    cols = [
        "method_a",
        "method_b",
        "n_blocks",
        "wins_a",
        "wins_b",
        "ties",
        "median_diff",
        "statistic",
        "p_value",
        "p_holm",
        "significant",
        "rank_biserial",
        "note",
    ]
    out = pd.DataFrame(rows, columns=[c for c in cols if c not in ("p_holm", "significant")])
    out["p_holm"] = holm(out["p_value"].to_numpy()) if len(out) else []
    out["significant"] = out["p_holm"] < alpha
    return out[cols]
