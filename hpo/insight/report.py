"""The report's insight section: one verdict sentence per question, from the insight tables alone.

The questions, in order: is the model better than chance? better than the data analysis? do images help
understanding (the same model about the same history, with and without its images)? does seeing images help beyond
echoing them? Each answer gives its effect (difference of chance-normalized scores, 0 = chance, 1 = the
truth's ranking), its t interval over benchmarks, n (benchmarks, the unit of inference), the p-value (the primary at
full alpha, the others Holm-adjusted behind the primary's gate) and the direction in words ("below chance"), or
says plainly why the question cannot be answered in this study, including "untestable" where n is too small for
any test to reach alpha. Where the test does not decide, the interval's side is the verdict: entirely below 0
"below chance", entirely above "above chance", containing 0 "not established". The primary contrast (config
``insight.primary_contrast``) comes first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from hpo.insight.inference import IMAGES_CONTRAST
from hpo.stats.comparison import ALPHA
from hpo.stats.paired import interval_side, interval_words

__all__ = ["direction", "effect_phrase", "insight_content", "insight_verdicts"]

INSIGHT_TITLE = "Do the models understand the problem?"
INSIGHT_LEGEND = (
    "Each source states an importance weight per hyperparameter, scored against the true main effects (functional "
    "ANOVA of the rank-transformed loss: exact on a table's full grid, Sobol indices elsewhere). Scores are "
    "chance-normalized: 0 = a uniformly random statement, 1 = the truth's ranking. The baseline ladder: chance, the "
    "model's own prior (budget 0), image_echo (the ordering the images plot), data_fanova (fANOVA of the same "
    "history, ranks, on the truth's measure), data_fanova_random (fANOVA of as many random-search trials), "
    "prior_data (mean of prior and data_fanova); 'deeper insight' = the model beats the best rung. Seeds are "
    "averaged within a benchmark; tests (paired two-sided Wilcoxon) and 95% Student t intervals are across "
    "benchmarks; the primary contrast is tested at full α, the others are Holm-adjusted and count only if it is "
    "significant."
)
INSIGHT_MISSING = "Not computed: no insight tables in results/stats/ (rule insight_stats)."
NO_IMAGES = (
    "not answerable: no multimodal (image) method stated an importance in this study (mm_llm needs an endpoint with "
    "vision: true; without one it is skipped)"
)


def _read(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()
    for col in ("flag", "note", "role", "kind", "a", "b", "family"):
        if col in df.columns:
            df[col] = df[col].astype("string").fillna("")
    return df


def _true(values: pd.Series) -> pd.Series:
    return values.astype(str).str.lower() == "true"


def effect_phrase(row: pd.Series | dict[str, Any], alpha: float = ALPHA) -> str:
    """ "effect +0.31 [0.12, 0.47], n = 4 benchmarks, p = 0.5 (primary, full alpha; not significant at α = 0.05)"."""
    n = int(row["n_benchmarks"])
    text = f"effect {row['effect']:+.2f}"
    text += f" [{row['ci_low']:.2f}, {row['ci_high']:.2f}]" if pd.notna(row["ci_low"]) else " (no interval: n < 2)"
    text += f", n = {n} benchmark{'s' if n != 1 else ''}"
    if pd.notna(row["p_adjusted"]):
        sig = "significant" if _true(pd.Series([row["significant"]])).iloc[0] else "not significant"
        how = "primary, full α" if str(row.get("tier", "")) == "primary" else "Holm, behind the primary's gate"
        text += f", p = {row['p_adjusted']:.3g} ({how}; {sig} at α = {alpha:g})"
    else:
        text += f", no test ({row['note'] or 'no p-value'})"
    return text


def direction(row: pd.Series | dict[str, Any]) -> str:
    """The effect's sign in words: "the model scores below chance", "above data_fanova", "equal to"."""
    effect, a, b = row["effect"], str(row["a"]), str(row["b"])
    if pd.isna(effect):
        return "no estimate"
    where = "above" if effect > 0 else "below" if effect < 0 else "level with"
    if str(row["contrast"]).startswith("gain over prior"):
        more = "more" if effect > 0 else "less" if effect < 0 else "as much"
        return f"{a} gains {more} over its own prior than {b}"
    if str(row["contrast"]).startswith("echo rate"):
        return f"{a} echoes the plotted pair {'more' if effect > 0 else 'less' if effect < 0 else 'as'} often than {b}"
    return f"the {a} scores {where} {b.replace('+', ' / ')}"


def _test_status(row: pd.Series) -> str:
    """Why the test did not decide: too few benchmarks for any p below alpha, a closed gate, no test, or its p."""
    note = str(row.get("note", ""))
    if "untestable at n" in note:
        return f"untestable with this many benchmarks ({note.split(';')[0].strip()})"
    if "gate closed" in note:
        return "not tested: the primary contrast is not significant, so this is exploratory"
    if pd.isna(row["p_adjusted"]):
        return "no test"
    return "the test is not significant"


def _answer(row: pd.Series, alpha: float) -> str:
    """yes / no (with the direction) when the test decides; else the interval's side: "the model scores below
    chance" when the t interval lies entirely below 0 (above likewise), "not established" when it contains 0, each
    with why the test did not decide. Why the interval: at n <= 5 no Wilcoxon p reaches alpha, and "not
    established" alone hid an interval of [-0.50, -0.16] against chance (issue 26)."""
    if _true(pd.Series([row["significant"]])).iloc[0]:
        return f"yes ({direction(row)})" if row["effect"] > 0 else f"no: {direction(row)}"
    where, status = interval_words(row["ci_low"], row["ci_high"]), _test_status(row)
    if interval_side(row["ci_low"], row["ci_high"]):
        return f"{direction(row)}: {where}; {status}"
    return f"not established: {where}; {status}; point estimate: {direction(row)}"


def _pick(tests: pd.DataFrame, **where: Any) -> pd.Series | None:
    sub = tests
    for k, v in where.items():
        sub = sub[sub[k] == v]
    return sub.iloc[0] if len(sub) else None


def insight_verdicts(tests: pd.DataFrame, alpha: float = ALPHA) -> list[str]:
    """The primary contrast, then one sentence per question (see the module docstring)."""
    tested = tests[tests["family"] == "all"] if len(tests) else tests
    primary = tested[_true(tested["primary"])] if len(tested) else tested
    if primary.empty:
        why = "no primary contrast (no LLM method stated an importance with a ground truth to score it against, or "
        why += "the configured primary method has none; see results/stats/insight_tests.md)"
        return [
            f"**Better than chance?** not answerable: {why}.",
            f"**Better than the data analysis?** not answerable: {why}.",
            f"**Do images help understanding (same model, same history)?** {NO_IMAGES}.",
            f"**Does seeing images help beyond echoing them?** {NO_IMAGES}.",
        ]
    p = primary.iloc[0]
    m, budget, metric = p["method"], int(p["budget"]), p["metric"]
    at = {"method": m, "budget": budget, "metric": metric}
    lines = [
        f"**Primary contrast** ({m} model vs the best baseline rung, here {p['b']}, normalized {metric}, budget "
        f"{budget}): {_answer(p, alpha)}; {effect_phrase(p, alpha)}."
    ]
    for question, contrast in (
        ("Better than chance?", "model vs chance"),
        ("Better than the data analysis?", "model vs data_fanova"),
    ):
        row = _pick(tested, contrast=contrast, **at)
        if row is None:
            lines.append(f"**{question}** not answerable: no {contrast} contrast for {m} at budget {budget}.")
        else:
            lines.append(f"**{question}** {_answer(row, alpha)}: {m} {contrast}, {effect_phrase(row, alpha)}.")
    images = tested[(tested["contrast"] == IMAGES_CONTRAST) & (tested["role"] == "image")]
    images = images[_true(images["primary"])] if _true(images["primary"]).any() else images
    question = "**Do images help understanding (same model, same history)?**"
    if images.empty:
        lines.append(f"{question} {NO_IMAGES}.")
    else:
        row = images.iloc[0]
        lines.append(
            f"{question} {_answer(row, alpha)}: {row['method']} asked about each history with its images and "
            f"without them, normalized {row['metric']}, budget {int(row['budget'])}, {effect_phrase(row, alpha)}."
        )
    did = _pick(tested, contrast="gain over prior: image vs text", budget=budget)
    if did is None:
        lines.append(f"**Does seeing images help beyond echoing them?** {NO_IMAGES}.")
        return lines
    image = did["a"]
    echo = _pick(tested, contrast="model vs image_echo", method=image, budget=budget, metric=metric)
    rate = _pick(tested, contrast="echo rate: image vs text", budget=budget)
    text = f"**Does seeing images help beyond echoing them?** {_answer(did, alpha)}: the image method's gain over its "
    text += f"own prior minus the text method's, {effect_phrase(did, alpha)}"
    if echo is not None:
        text += f"; {image} model vs image_echo, {effect_phrase(echo, alpha)}"
    if rate is not None:
        text += f"; echo rate {rate['mean_a']:.2f} (image) vs {rate['mean_b']:.2f} (text)"
    lines.append(text + ".")
    return lines


def insight_content(stats_dir: str | Path, alpha: float = ALPHA) -> dict[str, object]:
    """The report section's content: verdicts, a table of the final budget's normalized scores, notes."""
    stats_dir = Path(stats_dir)
    if not (stats_dir / "insight_summary.csv").exists():
        return {"ok": False, "table": pd.DataFrame(), "verdicts": [], "notes": [INSIGHT_MISSING]}
    summary, tests = _read(stats_dir / "insight_summary.csv"), _read(stats_dir / "insight_tests.csv")
    notes = []
    table = pd.DataFrame()
    if len(summary):
        final = summary[(summary["family"] == "all") & (summary["budget"] == summary["budget"].max())]
        metric = next((c[: -len("_norm_ci_low")] for c in summary.columns if c.endswith("_norm_ci_low")), "")
        cols = ["budget", "method", "kind", "source", "n_benchmarks", f"{metric}_norm", f"{metric}_norm_ci_low"]
        cols += [f"{metric}_norm_ci_high", "ndcg_norm", "js_distance_norm", "echo_rate", "share_fallback"]
        table = final[[c for c in cols if c in final.columns]]
    else:
        notes.append("No LLM method stated an importance (none in the study, or skipped): nothing is scored.")
    fam = tests[(tests["family"] != "all")] if len(tests) else tests
    if len(fam):
        parts = [f"{r.family} {r.effect:+.2f} (n = {int(r.n_benchmarks)})" for r in fam.itertuples()]
        notes.append("Primary contrast per family (effect, untested): " + "; ".join(parts) + ".")
    notes.append("Every contrast with its interval and adjusted p: results/stats/insight_tests.md.")
    return {"ok": True, "table": table, "verdicts": insight_verdicts(tests, alpha), "notes": notes}
