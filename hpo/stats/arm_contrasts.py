"""Do images help optimization? Paired contrasts of a group's arms, and of each arm vs a classical reference.

The efficiency claim ("a multimodal LLM that sees plots of its history optimizes better than the same LLM reading
text, and than random search") is tested per arm group (:mod:`hpo.study.groups`: one model, one sampling setup):
every pair of arms (mm_llm vs llm, mm_llm vs mm_llm_blank, mm_llm_blank vs llm, ablations) and every arm vs the
group's classical reference, at every reporting budget, on normalized regret.

* **Unit**: the benchmark. Seeds of one benchmark share it, so they are not independent: a benchmark's value is its
  arms' regret averaged over the seeds where both arms have a result (paired seeds), and n = benchmarks.
* **Effect**: the mean over benchmarks of the paired difference ``regret(arm_a) - regret(arm_b)``; < 0 means arm_a
  reached lower regret. The mean (not the median) because its interval has a calibrated small-sample form.
* **Interval**: Student t (95 % for alpha = 0.05) on the benchmark differences: exact coverage for normal
  differences at every n >= 2, where a percentile bootstrap covers 76 % at n = 3 and 88 % at n = 8.
* **Test**: two-sided Wilcoxon signed-rank over benchmarks (zero differences dropped). With n non-zero differences
  no p below 2 / 2**n exists: at n <= 5 (p >= 0.0625) the row says "too few benchmarks to test".
* **Verdict**: significant, else the interval's side: entirely below or above 0 gives the direction ("mm_llm lower
  regret than llm by the interval"), containing 0 "not established"; each says why the test did not decide.
* **Inference**: each group's pre-registered primary contrast is tested at full alpha; every other row is a
  secondary, Holm-adjusted over all secondary rows of the table (``p_holm``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpo.stats.comparison import ALPHA
from hpo.stats.paired import interval_side, interval_words

COLUMNS = [
    "group",
    "budget",
    "family",
    "versus",
    "arm_a",
    "arm_b",
    "n_benchmarks",
    "n_pairs",
    "effect",
    "ci_low",
    "ci_high",
    "wins_a",
    "wins_b",
    "statistic",
    "p_value",
    "min_p",
    "p_holm",
    "direction",
    "verdict",
    "note",
    "flag",
]
NOTE = (
    "effect = mean over benchmarks of regret(arm_a) - regret(arm_b), seeds averaged within a benchmark over the seeds "
    "both arms ran (< 0: arm_a lower regret); ci = Student t interval; p = two-sided Wilcoxon signed-rank over "
    "benchmarks; min_p = the smallest p the test can give at this n; the primary row is tested at full alpha, "
    "secondary rows are Holm-adjusted over all secondary rows (p_holm)"
)


def paired_by_benchmark(at: pd.DataFrame, budget: int, a: str, b: str) -> pd.DataFrame:
    """Per benchmark: arm ``a``'s and ``b``'s regret at ``budget`` averaged over the seeds both have, and how many."""
    sub = at[(at["budget"] == budget) & at["method"].isin([a, b])]
    wide = sub.pivot_table(index=["benchmark", "seed"], columns="method", values="normalized_regret", aggfunc="first")
    if a not in wide.columns or b not in wide.columns:
        return pd.DataFrame(columns=["a", "b", "n_seeds"])
    both = wide[[a, b]].dropna(how="any")
    out = both.groupby(level="benchmark").mean().set_axis(["a", "b"], axis=1)
    out["n_seeds"] = both.groupby(level="benchmark").size()
    return out


def min_p(n_nonzero: int) -> float:
    """Smallest two-sided p of an exact Wilcoxon signed-rank test on n non-zero differences: all of one sign."""
    return min(1.0, 2.0 / 2**n_nonzero) if n_nonzero > 0 else math.nan


def contrast(d: Sequence[float], alpha: float = ALPHA) -> dict[str, Any]:
    """Effect, t interval, Wilcoxon p and the smallest reachable p of the paired differences ``d`` (one per unit)."""
    from scipy import stats as st

    d = np.asarray(d, dtype=float)
    n, nonzero = d.size, int(np.count_nonzero(d))
    row: dict[str, Any] = {"n_benchmarks": n, "effect": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    row |= {"wins_a": int((d < 0).sum()), "wins_b": int((d > 0).sum()), "statistic": math.nan, "p_value": math.nan}
    row |= {"min_p": min_p(nonzero), "note": ""}
    if n == 0:
        row["note"] = "no benchmark where both arms have a result"
        return row
    row["effect"] = float(d.mean())
    if n >= 2:
        half = float(st.t.ppf(1 - alpha / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
        row["ci_low"], row["ci_high"] = row["effect"] - half, row["effect"] + half
    if nonzero == 0:
        row["note"] = "identical regret on every benchmark: no test"
        return row
    res = st.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
    return row


def direction(a: str, b: str, effect: float) -> str:
    """The effect's sign in words, e.g. "mm_llm lower regret than llm"."""
    if math.isnan(effect):
        return ""
    if effect == 0:
        return f"{a} and {b} equal regret"
    return f"{a} {'lower' if effect < 0 else 'higher'} regret than {b}"


def verdict(row: Mapping[str, Any], alpha: float = ALPHA) -> str:
    """The row's conclusion in words: significant, else the interval's side (entirely below or above 0: the
    direction, "by the interval"; containing 0: not established) with why the test did not decide (too few
    benchmarks, its p), or not tested. Why the interval: at n <= 5 no Wilcoxon p reaches alpha, and "too few
    benchmarks" alone hid an interval that already excludes 0 (issue 26)."""
    n, p = row["n_benchmarks"], row["p_holm"] if row["family"] == "secondary" else row["p_value"]
    if n == 0 or (math.isnan(p) and not row["direction"]):
        return f"not tested: {row['note']}" if row["note"] else "not tested"
    if math.isnan(row["min_p"]):  # every difference is 0
        return f"no difference to test: {row['direction']} on all {n} benchmarks"
    if row["min_p"] < alpha and p < alpha:
        return f"{row['direction']} (significant at α = {alpha:g})"
    if row["min_p"] < alpha:
        why = f"not significant at n = {n} (p = {p:.3g})"
    else:
        why = f"too few benchmarks to test (n = {n}: a two-sided Wilcoxon cannot go below p = {row['min_p']:.3g} "
        why += f"> α = {alpha:g})"
    where = interval_words(row["ci_low"], row["ci_high"], 1 - alpha)
    if interval_side(row["ci_low"], row["ci_high"]):
        return f"{row['direction']} by the interval: {where}; {why}"
    return f"not established: {where}; {why}; observed: {row['direction']}"


def planned(groups: Mapping[str, Mapping[str, Any]], budgets: Sequence[int]) -> list[dict[str, Any]]:
    """Every contrast of every group at every budget: arm pairs (first = shown more), then arm vs reference.

    A pair that an earlier group already tests (an arm in two groups with one reference, e.g. ``llm_mf`` vs
    ``hyperband`` in the multi-fidelity study's image group and budget group) is tested once, in the first group:
    a repeated row would only add a duplicate p-value to the Holm family. A group's primary is always kept.
    """
    out: list[dict[str, Any]] = []
    seen: set[frozenset[str]] = set()
    for name, group in groups.items():
        arms, ref, primary = list(group["arms"]), group.get("reference"), group.get("primary")
        pairs = [(a, b, "arm") for i, a in enumerate(arms) for b in arms[i + 1 :]]
        pairs += [(a, ref, "reference") for a in arms if ref]
        if primary:  # the primary's own orientation, whatever the arm order
            key = {primary["arm"], primary["versus"]}
            pairs = [p for p in pairs if {p[0], p[1]} != key]
            pairs.insert(0, (primary["arm"], primary["versus"], "arm"))
        keep = {frozenset((primary["arm"], primary["versus"]))} if primary else set()
        pairs = [p for p in pairs if frozenset(p[:2]) in keep or frozenset(p[:2]) not in seen]
        seen |= {frozenset(p[:2]) for p in pairs}
        for budget in budgets:
            for a, b, versus in pairs:
                is_primary = bool(primary) and (a, b, budget) == (primary["arm"], primary["versus"], primary["budget"])
                family = "primary" if is_primary else "secondary"
                out.append({"group": name, "budget": budget, "family": family, "versus": versus, "arm_a": a})
                out[-1]["arm_b"] = b
    return out


def arm_contrasts(
    at: pd.DataFrame,
    groups: Mapping[str, Mapping[str, Any]],
    budgets: Sequence[int],
    flags: Mapping[str, str] | None = None,
    alpha: float = ALPHA,
) -> tuple[pd.DataFrame, list[str]]:
    """The table of every planned contrast (see the module docstring) and its notes.

    ``at`` is normalized regret per benchmark x method x seed x budget (:func:`hpo.stats.comparison.regret_at_budgets`);
    ``flags`` say why a method has fewer runs (skipped, missing), named in the row of a contrast it cannot enter.
    """
    from hpo.stats.comparison import holm

    flags = flags or {}
    rows = []
    for plan in planned(groups, budgets):
        a, b = plan["arm_a"], plan["arm_b"]
        pairs = paired_by_benchmark(at, plan["budget"], a, b)
        row = {**plan, **contrast((pairs["a"] - pairs["b"]).to_numpy(float), alpha)}
        row["n_pairs"] = int(pairs["n_seeds"].sum()) if len(pairs) else 0
        row["direction"] = direction(a, b, row["effect"])
        row["flag"] = "; ".join(f"{m}: {flags[m]}" for m in (a, b) if flags.get(m))  # skipped, missing runs
        if row["n_benchmarks"] == 0:
            row["note"] = row["flag"] or row["note"]
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    secondary = (table["family"] == "secondary").to_numpy()
    table["p_holm"] = np.where(secondary, math.nan, table["p_value"])
    if secondary.any():
        table.loc[secondary, "p_holm"] = holm(table.loc[secondary, "p_value"].to_numpy())
    table["verdict"] = [verdict(r, alpha) for r in table.to_dict("records")]
    notes = [NOTE, f"alpha = {alpha:g}"]
    if not groups:
        notes.insert(0, "no arm group: the study has no llm + mm_llm arms to compare (config key `groups`)")
    return table, notes


# --- the report's section -------------------------------------------------------------------------------------------

ARMS_TITLE = "Do images help optimization?"
ARMS_LEGEND = (
    "Each row pairs two methods on the benchmarks where both ran: effect = mean over benchmarks of the difference in "
    "normalized regret (arm_a − arm_b; seeds averaged within a benchmark; < 0: arm_a lower regret), with its 95% "
    "Student t interval; p = two-sided Wilcoxon signed-rank test over benchmarks. Arms of a group share one model "
    "and one sampling setup (checked at planning). The primary contrast was fixed in the config (`groups`) and is "
    "tested at full α; the other rows are secondary, Holm-adjusted over all of them (p_holm)."
)
REPORT_COLUMNS = ["group", "budget", "family", "arm_a", "arm_b", "n_benchmarks", "effect", "ci", "p_value", "p_holm"]


def primary_line(row: Mapping[str, Any], alpha: float = ALPHA) -> str:
    """The answer: the primary contrast's direction in words, effect, interval, n, p and verdict."""
    head = f"**Primary (pre-registered, group {row['group']})**: {row['arm_a']} vs {row['arm_b']} at budget "
    head += f"{int(row['budget'])}: "
    n = int(row["n_benchmarks"])
    if n == 0:
        return head + f"not answered: {row['note'] or 'no benchmark where both arms ran'}."
    interval = (
        f"{1 - alpha:.0%} t interval [{row['ci_low']:+.3g}, {row['ci_high']:+.3g}]"
        if pd.notna(row["ci_low"])
        else "no interval (n < 2)"
    )
    p = f"Wilcoxon p = {row['p_value']:.3g}" if pd.notna(row["p_value"]) else "no Wilcoxon test"
    return (
        f"{head}{row['direction']}: effect {row['effect']:+.3g} (mean paired difference in normalized regret), "
        f"{interval}, n = {n} benchmark{'s' if n != 1 else ''}, {p}. Verdict: {row['verdict']}."
    )


def answer(table: pd.DataFrame, alpha: float = ALPHA) -> dict[str, Any]:
    """The section's content from ``arm_contrasts.csv``: one line per group (its primary first), the rows."""
    if table.empty or "group" not in table.columns:
        return {"lines": [], "table": pd.DataFrame(), "note": "No arm contrasts: the study has no arm group."}
    for col in ("direction", "verdict", "note", "family", "versus"):
        table[col] = table[col].astype("string").fillna("")
    lines = []
    for group, rows in table.groupby("group", sort=False):
        primary = rows[rows["family"] == "primary"]
        if len(primary):
            lines.append(primary_line(primary.iloc[0].to_dict(), alpha))
        else:
            lines.append(f"Group {group}: no primary contrast declared (`groups.{group}.primary`).")
    shown = table.copy()
    shown["ci"] = [
        f"[{lo:+.3g}, {hi:+.3g}]" if pd.notna(lo) else "–" for lo, hi in zip(shown["ci_low"], shown["ci_high"])
    ]
    shown = shown[[*REPORT_COLUMNS, "verdict"]]
    return {"lines": lines, "table": shown, "note": ""}


def read_answer(path: str | Any, alpha: float = ALPHA) -> dict[str, Any]:
    """:func:`answer` of the table at ``path`` (a missing table says so)."""
    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return {"lines": [], "table": pd.DataFrame(), "note": f"Not computed: {path} is missing (rule stats)."}
    return answer(table, alpha)
