"""Paired inference across benchmarks with honest error rates at small n: intervals, tests and the testing order.

Why these choices (issue 22):

* **Intervals are Student t intervals of the mean paired difference** (``scipy.stats.ttest_1samp``). A percentile
  bootstrap over benchmarks covered 76 % at n = 3, 80 % at n = 4 and 88 % at n = 8 (nominal 95 %), BCa 81 % and 91 %
  at n = 4 and 8; the t interval is exact for normal differences and covered 92 % at n = 8 for exponential ones
  (``tests/test_insight_inference.py::test_t_interval_coverage_is_nominal_at_n_8``).
* **Tests are paired two-sided Wilcoxon signed-rank tests** (``scipy.stats.wilcoxon``, exact at small n). With n
  non-zero differences its smallest p-value is 2 / 2^n, so below :data:`MIN_TESTABLE` benchmarks no result can reach
  alpha = 0.05: the row says so (:func:`untestable`) instead of reading as "no effect".
* **One pre-registered primary per question, then a gate** (:func:`gatekeep`): each primary is tested at full
  alpha; the secondary family is Holm-adjusted and counts only when every primary was significant. Holm over
  hundreds of tests took the primary's power from 0.79 to 0.09 at n = 34 and a 0.5 SD effect.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hpo.stats import comparison as stats

CI_LEVEL = 0.95
MIN_TESTABLE = 6  # fewest non-zero pairs whose smallest two-sided Wilcoxon p (2 / 2^n) is below 0.05


def t_interval(d: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    """Student t interval of the mean of ``d``; NaN below 2 values, the value itself when all are equal."""
    from scipy.stats import ttest_1samp

    d = np.asarray(d, float)
    if len(d) < 2:
        return math.nan, math.nan
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):  # equal up to rounding: no spread to estimate
        return float(d.mean()), float(d.mean())
    ci = ttest_1samp(d, 0.0).confidence_interval(level)
    return float(ci.low), float(ci.high)


def interval_side(low: float, high: float) -> int:
    """-1 when the interval lies entirely below 0, +1 entirely above, 0 when it contains 0 or is missing (n < 2).

    Why a verdict needs it: at small n the Wilcoxon test cannot reach alpha while the t interval already excludes 0;
    "not established" alone would then hide that, e.g., a model scores below chance (issue 26).
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return 0
    return -1 if high < 0 else 1 if low > 0 else 0


def interval_words(low: float, high: float, level: float = CI_LEVEL) -> str:
    """Where the interval lies, in words: "its 95% interval lies entirely below 0", "… contains 0", "no interval"."""
    side = interval_side(low, high)
    if side:
        return f"its {level:.0%} interval lies entirely {'below' if side < 0 else 'above'} 0"
    if math.isfinite(low) and math.isfinite(high):
        return f"its {level:.0%} interval contains 0"
    return "no interval (n < 2)"


def min_p(n: int) -> float:
    """The smallest two-sided exact Wilcoxon p-value with ``n`` non-zero differences."""
    return min(1.0, 2.0 / 2**n) if n > 0 else 1.0


def untestable(n: int, alpha: float = stats.ALPHA) -> str:
    """The note of a contrast that no result could make significant, or "" when one could."""
    if n >= MIN_TESTABLE or min_p(n) < alpha:
        return ""
    return f"untestable at n = {n}: the smallest possible p is {min_p(n):.3g} > alpha = {alpha:g}"


def paired(a: pd.Series, b: pd.Series, test: bool = True) -> dict[str, Any]:
    """Paired comparison of ``a`` and ``b`` (indexed by benchmark) on the benchmarks where both are finite: means,
    mean difference with its t interval, wins, and the Wilcoxon test (``test=False``: effect and interval only)."""
    from scipy.stats import wilcoxon

    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    d = (both["a"] - both["b"]).to_numpy(float)
    low, high = t_interval(d)
    row = {"n_benchmarks": len(d), "mean_a": both["a"].mean(), "mean_b": both["b"].mean()}
    row.update(effect=float(d.mean()) if len(d) else math.nan, ci_low=low, ci_high=high)
    row.update(wins_a=int((d > 0).sum()), wins_b=int((d < 0).sum()), ties=int((d == 0).sum()))
    row.update(statistic=math.nan, p_value=math.nan, note="")
    if not test:
        row["note"] = "per-family breakdown: effect and interval only, not tested (outside the tested family)"
    elif len(d) == 0:
        row["note"] = "no benchmark has both scores"
    elif not (d != 0).any():
        row["note"] = "identical scores on every benchmark: no test"
    else:
        res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
        row["note"] = untestable(int((d != 0).sum()))
    return row


def gatekeep(tests: pd.DataFrame, primary: pd.Series, alpha: float = stats.ALPHA) -> pd.DataFrame:
    """Adjusted p-values and significance: the primaries at full alpha, the rest behind their gate.

    ``primary`` marks the primaries, one per question (each question's error rate is alpha). Each primary's
    ``p_adjusted`` is its own p. The other tested rows are Holm-adjusted among themselves and significant only if
    every primary was (else their note says the gate is closed). Adds ``tier``, ``p_adjusted``, ``significant``.
    """
    out = tests.copy()
    is_primary = primary.to_numpy(bool)
    out["tier"] = np.where(is_primary, "primary", "secondary")
    out["p_adjusted"] = math.nan
    out["significant"] = False
    out.loc[is_primary, "p_adjusted"] = out.loc[is_primary, "p_value"]
    out.loc[is_primary, "significant"] = out.loc[is_primary, "p_value"] < alpha
    open_gate = bool(out.loc[is_primary, "significant"].all())
    rest = ~is_primary
    if rest.any():
        out.loc[rest, "p_adjusted"] = stats.holm(out.loc[rest, "p_value"].to_numpy(float))
        out.loc[rest, "significant"] = open_gate & (out.loc[rest, "p_adjusted"] < alpha)
        if not open_gate:
            tested = rest & out["p_value"].notna().to_numpy()
            closed = "gate closed (a primary contrast is not significant): exploratory only"
            out.loc[tested, "note"] = [f"{n}; {closed}" if n else closed for n in out.loc[tested, "note"]]
    out["significant"] = out["significant"].astype(bool)
    return out
