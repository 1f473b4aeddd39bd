"""Inference on the score table at the right unit: benchmarks, not (benchmark, seed) blocks.

Every seed of a benchmark shares one ground truth and a nearly identical prior prompt, so seeds are not independent
replicates: scores are first averaged over seeds within a benchmark, and every test and interval is across
benchmarks (n = number of benchmarks). A contrast compares two contestants of one LLM method at one budget on one
chance-normalized score: paired two-sided Wilcoxon signed-rank test on the benchmark means and a Student t interval
of the mean difference (:mod:`hpo.stats.paired`, which says why).

What is tested, and how errors are controlled (issue 22):

* One pre-registered primary per question, each tested at full alpha: "does the model understand?" (config
  ``insight.primary_contrast``) and, where an image method ran, "do images help understanding?": the first image
  method's statement with its images vs its statement on the same history without them (same model, same
  history: :data:`IMAGES_CONTRAST`, at the primary's budget and metric). The other contrasts form the secondary
  family, Holm-adjusted among themselves and counted only when every primary is significant (the gate,
  :func:`hpo.stats.paired.gatekeep`).
* The *best rung* is chosen among the rungs built from what the model had (:data:`POOL`: its prior, the plotted
  ordering, an fANOVA of the same history, their mean); ``data_fanova_random`` (trials the model never saw) is
  reported, never chosen. Its effect and interval are cross-fitted (each benchmark against the rung best on the
  *other* benchmarks); its p-value accounts for the choice (:func:`best_rung_test`: better than every rung, or worse
  than some rung after Bonferroni), so picking the maximum of several equal rungs no longer reads as "worse".
* A rung whose scores equal an earlier rung's on every benchmark (``data_fanova_random`` is ``data_fanova`` while
  the budget is within the shared initial design) is reported once, not tested twice.

The per-family breakdown repeats the primary contrast per benchmark family as effect and interval only (too few
benchmarks per family for a test; outside the tested family).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from hpo.insight.sources import LADDER
from hpo.insight.table import FAMILIES
from hpo.stats import comparison as stats
from hpo.stats.paired import gatekeep, paired, t_interval

RUNGS = tuple(s for s in LADDER if s != "chance")  # every reported rung (chance has its own row)
POOL = tuple(r for r in RUNGS if r != "data_fanova_random")  # the best rung's candidates: built from what it had
TEST_METRICS = ("kendall_tau", "ndcg", "js_distance")
IMAGES_CONTRAST = "images, same history: model vs model_text"  # the images question's primary (first image method)
DEFAULTS = {"method": None, "versus": "best_rung", "metric": "kendall_tau", "budget": None}
GROUP = ["benchmark", "family", "budget", "method", "kind", "role", "source"]
TEST_COLUMNS = ["primary", "tier", "family", "contrast", "method", "kind", "role", "budget", "metric", "a", "b"]
TEST_COLUMNS += ["n_benchmarks", "mean_a", "mean_b", "effect", "ci_low", "ci_high", "wins_a", "wins_b", "ties"]
TEST_COLUMNS += ["statistic", "p_value", "p_adjusted", "significant", "flag", "note"]


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


def crossfit_best(wide: pd.DataFrame) -> tuple[pd.Series, str]:
    """Per benchmark with a model score: the score of the :data:`POOL` rung with the highest mean over the *other*
    benchmarks (ties: ladder order), and a label of the rungs chosen.

    Why cross-fitted: choosing the maximum of several equally good rungs on the same benchmarks biases the model's
    difference downward (with 5 equal rungs, "model worse" was concluded in 8 % of null studies at a nominal 2.5 %);
    a rung chosen without a benchmark's own scores leaves that benchmark's difference unbiased. A single benchmark
    has no other to choose on: it is compared with ``data_fanova`` (else the first pool rung it has).
    """
    rungs = [r for r in POOL if r in wide.columns]
    have = wide["model"].dropna().index if "model" in wide.columns else wide.index[:0]
    values, chosen = {}, {}
    for bench in have:
        others = have.drop(bench)
        means = {r: wide.loc[others, r].mean() for r in rungs if wide.loc[others, r].notna().any()}
        if means:
            rung = max(means, key=lambda r: (means[r], -POOL.index(r)))
        else:
            own = [r for r in ("data_fanova", *rungs) if r in rungs and pd.notna(wide.loc[bench, r])]
            if not own:
                continue
            rung = own[0]
        values[bench], chosen[bench] = wide.loc[bench, rung], rung
    counts = pd.Series(chosen, dtype=object).value_counts()
    label = "+".join(counts.index) if len(counts) else ""
    return pd.Series(values, dtype=float), label


def best_rung_test(wide: pd.DataFrame) -> dict[str, Any]:
    """The p-value of "model vs best rung", calibrated for the choice among the :data:`POOL` rungs.

    "Better than the best rung" means better than every rung: an intersection-union test, the largest of the
    per-rung two-sided Wilcoxon p-values when every rung's mean difference is positive (level alpha, no
    correction needed). "Worse than the best rung" means worse than some rung: Bonferroni over the k rungs, k times
    the smallest p among rungs the model is below. Why not the test against the rung chosen on the same data: with
    5 equal rungs it concluded "worse" in 6 % of null studies (cross-fitting alone: 4 %) at a nominal 2.5 %.
    """
    rungs = [r for r in POOL if r in wide.columns and wide[r].notna().any()]
    tested = {r: paired(wide["model"], wide[r]) for r in rungs}
    tested = {r: t for r, t in tested.items() if pd.notna(t["p_value"])}
    if not tested:
        return {}
    below = {r: t["p_value"] for r, t in tested.items() if t["effect"] < 0}
    if below:
        p = min(1.0, len(rungs) * min(below.values()))
        how = f"worse than some rung: Bonferroni over {len(rungs)} rungs (smallest p: {min(below, key=below.get)})"
    else:
        p = max(t["p_value"] for t in tested.values())
        how = f"better than every rung: intersection-union over {len(rungs)} rungs (largest p)"
    return {"p_value": p, "statistic": math.nan, "test": how}


def _versus(wide: pd.DataFrame, b: str) -> tuple[pd.Series, str]:
    """The contestant ``b`` of a contrast: a rung's column, or the cross-fitted best rung (``best_rung``)."""
    return crossfit_best(wide) if b == "best_rung" else (wide[b], b)


def contrasts(
    means: pd.DataFrame,
    budgets: Sequence[int],
    methods: Sequence[str],
    roles: dict[str, str],
    primary: dict[str, Any],
    flags: dict[str, str] | None = None,
    alpha: float = stats.ALPHA,
) -> pd.DataFrame:
    """Every reported contrast: the primary first (full alpha), the secondary family behind the gate (Holm), then
    the primary's per-family breakdown."""
    flags = flags or {}
    rows: list[dict[str, Any]] = []
    meta = means.drop_duplicates("method").set_index("method") if len(means) else pd.DataFrame()

    def add(contrast: str, method: str, budget: int, metric: str, b: str, x: pd.Series, y: pd.Series) -> None:
        kind = meta.loc[method, "kind"] if method in meta.index else ""
        row = {"family": "all", "contrast": contrast, "method": method, "kind": kind, "role": roles.get(method, "")}
        row.update(budget=budget, metric=metric, a="model", b=b, flag=flags.get(method, ""))
        rows.append({**row, **paired(x, y)})

    for method, budget, metric in itertools.product(methods, budgets, TEST_METRICS):
        wide = _wide(means, method, budget, f"{metric}_norm")
        if "model" not in wide.columns:
            continue
        model, seen = wide["model"], {}
        for rung in (r for r in LADDER if r in wide.columns):
            on = wide[rung][model.notna()]
            twin = next((r for r, v in seen.items() if v.equals(on)), None)
            if twin is not None:  # the same scores on every benchmark: one test, not two
                add(f"model vs {rung}", method, budget, metric, rung, model, wide[rung])
                rows[-1].update(statistic=math.nan, p_value=math.nan)
                rows[-1]["note"] = f"identical to model vs {twin} here (same scores): reported, not tested twice"
                continue
            seen[rung] = on
            add(f"model vs {rung}", method, budget, metric, rung, model, wide[rung])
        if "model_text" in wide.columns:  # an image kind asked the same history without images (same model)
            add(IMAGES_CONTRAST, method, budget, metric, "model_text", model, wide["model_text"])
            rows[-1]["a"] = "model"
        best, label = crossfit_best(wide)
        if len(best):
            add("model vs best rung", method, budget, metric, label, model, best)
            rows[-1].update(best_rung_test(wide))
            how = rows[-1].pop("test", "")
            effect = "effect and interval cross-fitted (each benchmark vs the rung best on the others)"
            rows[-1]["note"] = "; ".join(x for x in (f"p: {how}" if how else "", effect, rows[-1]["note"]) if x)
    rows += multimodal_contrasts(means, budgets, methods, roles, primary["metric"])
    out = pd.DataFrame(
        rows, columns=[c for c in TEST_COLUMNS if c not in ("primary", "tier", "p_adjusted", "significant")]
    )
    versus = "model vs best rung" if primary["versus"] == "best_rung" else f"model vs {primary['versus']}"
    at = (out["budget"] == primary["budget"]) & (out["metric"] == primary["metric"])
    first = (out["contrast"] == versus) & (out["method"] == primary["method"]) & at
    images = out[(out["contrast"] == IMAGES_CONTRAST) & (out["role"] == "image") & at & out["p_value"].notna()]
    second = out.index == (images.index[0] if len(images) else -1)  # the images question's primary
    out.insert(0, "primary", first | second)
    order = [*out.index[first], *out.index[second], *out.index[~(first | second)]]
    out = out.loc[order].reset_index(drop=True)
    out = gatekeep(out, out["primary"], alpha)
    return pd.concat([out, family_breakdown(means, out)], ignore_index=True)[TEST_COLUMNS]


def family_breakdown(means: pd.DataFrame, tests: pd.DataFrame) -> pd.DataFrame:
    """The primary contrast per benchmark family (effect and interval, no test): the primary's own per-benchmark
    pairs (its cross-fitted rung choices included), restricted to the family's benchmarks."""
    first = tests[tests["primary"]]
    if first.empty:
        return pd.DataFrame(columns=TEST_COLUMNS)
    p = first.iloc[0]
    wide = _wide(means, p["method"], int(p["budget"]), f"{p['metric']}_norm")
    versus = "best_rung" if p["contrast"] == "model vs best rung" else p["b"]
    other, _ = _versus(wide, versus)
    family_of = means.drop_duplicates("benchmark").set_index("benchmark")["family"]
    rows = []
    for fam in FAMILIES:
        in_fam = [b for b in wide.index if family_of.get(b) == fam]
        if not in_fam:
            continue
        row = {**p.to_dict(), "primary": False, "tier": "breakdown", "family": fam}
        row.update(p_adjusted=math.nan, significant=False)
        rows.append({**row, **paired(wide.loc[in_fam, "model"], other.reindex(in_fam), test=False)})
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
    means: pd.DataFrame, budgets: Sequence[int], methods: Sequence[str], roles: dict[str, str], metric: str
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
            rows.append({**row, **paired(gains(means, ma, budget, metric), gains(means, mb, budget, metric))})
        if "image" in by_role and "text" in by_role:
            ma, mb = by_role["image"], by_role["text"]
            row = {"family": "all", "contrast": "echo rate: image vs text", "method": f"{ma} vs {mb}"}
            row.update(kind="", role="image vs text", budget=budget, metric="echo", a=ma, b=mb, flag="")
            rows.append({**row, **paired(echo_rates(means, ma, budget), echo_rates(means, mb, budget))})
    return rows


def summary(means: pd.DataFrame, metric: str) -> pd.DataFrame:
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
            row[f"{metric}_norm_ci_low"], row[f"{metric}_norm_ci_high"] = t_interval(v)
            row.update(echo_rate=g["echo"].mean(), share_fallback=g["fallback"].mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=cols)
