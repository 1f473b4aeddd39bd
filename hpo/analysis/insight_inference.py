"""Inference on the score table at the right unit: benchmarks, not (benchmark, seed) blocks.

Every seed of a benchmark shares one ground truth and a nearly identical prior prompt, so seeds are not independent
replicates: scores are first averaged over seeds within a benchmark, and every test and interval is across
benchmarks (n = number of benchmarks). A contrast compares two contestants of one LLM method at one budget on one
chance-normalized score: paired two-sided Wilcoxon signed-rank test on the benchmark means (``scipy.stats.wilcoxon``)
and a seeded percentile bootstrap interval of the mean difference that resamples benchmarks
(``scipy.stats.bootstrap``). Holm's correction runs over *every* tested contrast of the table at once (all methods,
budgets, metrics, rungs and the multimodal contrasts), so no headline escapes the family. The *primary contrast*
(config ``insight.primary_contrast``) is reported first; the per-family breakdown repeats it per benchmark family as
effect and interval only (too few benchmarks per family for a test; outside the Holm family).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpo.analysis import stats
from hpo.analysis.insight_sources import LADDER
from hpo.analysis.insight_table import FAMILIES

RUNGS = tuple(s for s in LADDER if s != "chance")  # the rungs "best rung" is chosen from (chance has its own row)
TEST_METRICS = ("kendall_tau", "ndcg", "js_distance")
DEFAULTS = {"method": None, "versus": "best_rung", "metric": "kendall_tau", "budget": None}
N_BOOTSTRAP, BOOTSTRAP_SEED, CI_LEVEL = 2000, 0, 0.95
GROUP = ["benchmark", "family", "budget", "method", "kind", "role", "source"]
TEST_COLUMNS = ["primary", "family", "contrast", "method", "kind", "role", "budget", "metric", "a", "b"]
TEST_COLUMNS += ["n_benchmarks", "mean_a", "mean_b", "effect", "ci_low", "ci_high", "wins_a", "wins_b", "ties"]
TEST_COLUMNS += ["statistic", "p_value", "p_holm", "significant", "flag", "note"]


def benchmark_means(scores: pd.DataFrame, budgets: Sequence[int]) -> pd.DataFrame:
    """Mean over seeds per (benchmark, budget, method, source) of every numeric score, and ``n_seeds``.

    The prior (budget 0) is a contestant at every budget, so its rows are repeated for each of ``budgets``.
    """
    if scores.empty:
        return pd.DataFrame(columns=[*GROUP, "n_seeds"])
    prior = scores[scores["source"] == "prior"]
    rest = scores[scores["source"] != "prior"]
    frames = [rest, *(prior.assign(budget=b) for b in budgets)]
    df = pd.concat(frames, ignore_index=True)
    df["echo"] = pd.to_numeric(df["echo"], errors="coerce")
    df["fallback"] = df["fallback"].astype(float)
    num = [c for c in df.columns if c not in GROUP and pd.api.types.is_numeric_dtype(df[c]) and c != "seed"]
    g = df.groupby(GROUP, sort=True, dropna=False)
    out = g[num].mean()
    out["n_seeds"] = g["seed"].nunique()
    return out.reset_index()


def interval(d: np.ndarray, n_bootstrap: int, seed: int = BOOTSTRAP_SEED, level: float = CI_LEVEL) -> tuple:
    """Percentile bootstrap interval of the mean of ``d`` resampling its entries (benchmarks), seeded; NaN below 2."""
    from scipy.stats import bootstrap

    if len(d) < 2:
        return math.nan, math.nan
    if np.ptp(d) == 0:
        return float(d[0]), float(d[0])
    res = bootstrap(
        (d,),
        np.mean,
        n_resamples=n_bootstrap,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def paired(a: pd.Series, b: pd.Series, n_bootstrap: int, test: bool = True) -> dict[str, Any]:
    """Paired comparison of ``a`` and ``b`` (indexed by benchmark) on the benchmarks where both are finite."""
    from scipy.stats import wilcoxon

    both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    d = (both["a"] - both["b"]).to_numpy(float)
    low, high = interval(d, n_bootstrap)
    row = {"n_benchmarks": len(d), "mean_a": both["a"].mean(), "mean_b": both["b"].mean()}
    row.update(effect=float(d.mean()) if len(d) else math.nan, ci_low=low, ci_high=high)
    row.update(wins_a=int((d > 0).sum()), wins_b=int((d < 0).sum()), ties=int((d == 0).sum()))
    row.update(statistic=math.nan, p_value=math.nan, note="")
    if not test:
        row["note"] = "per-family breakdown: effect and interval only, not tested (outside the Holm family)"
    elif len(d) == 0:
        row["note"] = "no benchmark has both scores"
    elif not (d != 0).any():
        row["note"] = "identical scores on every benchmark: no test"
    else:
        res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        row["statistic"], row["p_value"] = float(res.statistic), float(res.pvalue)
        n = int((d != 0).sum())
        if n < stats.WILCOXON_MIN_PAIRS:
            row["note"] = f"only {n} benchmark(s) differ: p < {stats.ALPHA:g} is unreachable"
    return row


def resolve_primary(config: dict[str, Any] | None, methods: Sequence[str], budgets: Sequence[int]) -> dict[str, Any]:
    """The primary contrast with its defaults filled: the study's first LLM method, the final budget."""
    primary = {**DEFAULTS, **(config or {})}
    if primary["method"] is None and methods:
        primary["method"] = methods[0]
    if primary["budget"] is None and budgets:
        primary["budget"] = max(budgets)
    if budgets and primary["budget"] not in budgets:
        raise ValueError(
            f"insight.primary_contrast.budget {primary['budget']} is not a reporting budget {list(budgets)}"
        )
    return primary


def _wide(means: pd.DataFrame, method: str, budget: int, column: str) -> pd.DataFrame:
    at = means[(means["method"] == method) & (means["budget"] == budget)]
    return at.pivot_table(index="benchmark", columns="source", values=column, aggfunc="first", dropna=False)


def best_rung(wide: pd.DataFrame) -> str | None:
    """The rung with the highest mean over the benchmarks the model has (ties: ladder order); None without any."""
    have = wide["model"].dropna().index if "model" in wide.columns else []
    means = {r: wide.loc[have, r].mean() for r in RUNGS if r in wide.columns and wide.loc[have, r].notna().any()}
    return max(means, key=lambda r: (means[r], -RUNGS.index(r))) if means else None


def contrasts(
    means: pd.DataFrame,
    budgets: Sequence[int],
    methods: Sequence[str],
    roles: dict[str, str],
    primary: dict[str, Any],
    n_bootstrap: int = N_BOOTSTRAP,
    flags: dict[str, str] | None = None,
    alpha: float = stats.ALPHA,
) -> pd.DataFrame:
    """Every reported contrast, Holm-adjusted at once; the primary one first, then its per-family breakdown."""
    flags = flags or {}
    rows: list[dict[str, Any]] = []
    meta = means.drop_duplicates("method").set_index("method") if len(means) else pd.DataFrame()

    def add(contrast: str, method: str, budget: int, metric: str, a: str, b: str, x: pd.Series, y: pd.Series) -> None:
        kind = meta.loc[method, "kind"] if method in meta.index else ""
        row = {"family": "all", "contrast": contrast, "method": method, "kind": kind, "role": roles.get(method, "")}
        row.update(budget=budget, metric=metric, a=a, b=b, flag=flags.get(method, ""))
        rows.append({**row, **paired(x, y, n_bootstrap)})

    for method, budget, metric in itertools.product(methods, budgets, TEST_METRICS):
        wide = _wide(means, method, budget, f"{metric}_norm")
        if "model" not in wide.columns:
            continue
        model = wide["model"]
        for rung in LADDER:
            if rung in wide.columns:
                add(f"model vs {rung}", method, budget, metric, "model", rung, model, wide[rung])
        best = best_rung(wide)
        if best is not None:
            add("model vs best rung", method, budget, metric, "model", best, model, wide[best])
    rows += multimodal_contrasts(means, budgets, methods, roles, primary["metric"], n_bootstrap)
    out = pd.DataFrame(rows, columns=[c for c in TEST_COLUMNS if c not in ("primary", "p_holm", "significant")])
    out["p_holm"] = stats.holm(out["p_value"].to_numpy(float)) if len(out) else []
    out["significant"] = out["p_holm"] < alpha
    versus = "model vs best rung" if primary["versus"] == "best_rung" else f"model vs {primary['versus']}"
    out.insert(
        0,
        "primary",
        (out["contrast"] == versus)
        & (out["method"] == primary["method"])
        & (out["budget"] == primary["budget"])
        & (out["metric"] == primary["metric"]),
    )
    out = pd.concat([out[out["primary"]], out[~out["primary"]]], ignore_index=True)
    return pd.concat([out, family_breakdown(means, out, n_bootstrap)], ignore_index=True)[TEST_COLUMNS]


def family_breakdown(means: pd.DataFrame, tests: pd.DataFrame, n_bootstrap: int) -> pd.DataFrame:
    """The primary contrast per benchmark family (effect and interval, no test)."""
    first = tests[tests["primary"]]
    if first.empty:
        return pd.DataFrame(columns=TEST_COLUMNS)
    p = first.iloc[0]
    rows = []
    for fam in FAMILIES:
        sub = means[means["family"] == fam]
        wide = _wide(sub, p["method"], int(p["budget"]), f"{p['metric']}_norm")
        if "model" not in wide.columns or p["b"] not in wide.columns:
            continue
        row = {**p.to_dict(), "primary": False, "family": fam, "p_holm": math.nan, "significant": False}
        rows.append({**row, **paired(wide["model"], wide[p["b"]], n_bootstrap, test=False)})
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def role_methods(methods: Sequence[str], roles: dict[str, str]) -> dict[str, str]:
    """The first method of each role (image / text / blank) among ``methods``."""
    out: dict[str, str] = {}
    for m in methods:
        if roles.get(m) in stats.ROLE_ORDER:
            out.setdefault(roles[m], m)
    return out


def gains(means: pd.DataFrame, method: str, budget: int, metric: str) -> pd.Series:
    """Per benchmark: the model's normalized score minus its own prior's (what the history added)."""
    wide = _wide(means, method, budget, f"{metric}_norm")
    if not {"model", "prior"} <= set(wide.columns):
        return pd.Series(dtype=float)
    return wide["model"] - wide["prior"]


def echo_rates(means: pd.DataFrame, method: str, budget: int) -> pd.Series:
    """Per benchmark: the share of the model's statements whose top two are the plotted pair."""
    at = means[(means["method"] == method) & (means["budget"] == budget) & (means["source"] == "model")]
    return at.set_index("benchmark")["echo"]


def multimodal_contrasts(
    means: pd.DataFrame, budgets: Sequence[int], methods: Sequence[str], roles: dict[str, str], metric: str, n: int
) -> list[dict[str, Any]]:
    """Difference-in-differences of the gain over the own prior between roles, and the echo rate of the image
    method against the text-only method, per budget (on the primary metric)."""
    by_role = role_methods(methods, roles)
    rows = []
    for budget in budgets:
        for ra, rb in itertools.combinations(stats.ROLE_ORDER, 2):
            if ra not in by_role or rb not in by_role:
                continue
            ma, mb = by_role[ra], by_role[rb]
            row = {"family": "all", "contrast": f"gain over prior: {ra} vs {rb}", "method": f"{ma} vs {mb}"}
            row.update(kind="", role=f"{ra} vs {rb}", budget=budget, metric=metric, a=ma, b=mb, flag="")
            rows.append({**row, **paired(gains(means, ma, budget, metric), gains(means, mb, budget, metric), n)})
        if "image" in by_role and "text" in by_role:
            ma, mb = by_role["image"], by_role["text"]
            row = {"family": "all", "contrast": "echo rate: image vs text", "method": f"{ma} vs {mb}"}
            row.update(kind="", role="image vs text", budget=budget, metric="echo", a=ma, b=mb, flag="")
            rows.append({**row, **paired(echo_rates(means, ma, budget), echo_rates(means, mb, budget), n)})
    return rows


def summary(means: pd.DataFrame, metric: str, n_bootstrap: int = N_BOOTSTRAP) -> pd.DataFrame:
    """Per family ("all" first) x budget x method x source: mean over benchmarks of every normalized score, the
    interval of the primary metric, the echo and fallback rates and the number of benchmarks."""
    norm = [c for c in means.columns if c.endswith("_norm")]
    cols = ["family", "budget", "method", "kind", "role", "source", "n_benchmarks", "n_seeds", *norm]
    cols += [f"{metric}_norm_ci_low", f"{metric}_norm_ci_high", "echo_rate", "share_fallback"]
    if means.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    scopes = [("all", means), *((f, means[means["family"] == f]) for f in FAMILIES)]
    for fam, sub in scopes:
        for key, g in sub.groupby(["budget", "method", "kind", "role", "source"], sort=True, dropna=False):
            row = dict(zip(["budget", "method", "kind", "role", "source"], key), family=fam)
            v = g[f"{metric}_norm"].dropna().to_numpy(float)
            row.update(n_benchmarks=len(v), n_seeds=int(g["n_seeds"].max()))
            row.update({c: g[c].mean() for c in norm})
            row[f"{metric}_norm_ci_low"], row[f"{metric}_norm_ci_high"] = interval(v, n_bootstrap)
            row.update(echo_rate=g["echo"].mean(), share_fallback=g["fallback"].mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)
