"""What the LLM methods cost and how often their proposals were usable.

A trial was driven by a model when its ``attempts`` column is not null (:mod:`hpo.core.trajectory`); its ``origin`` then
says whether the model's proposal was valid as given (``llm``), had to be repaired into the search space
(``repaired``), or was replaced by a fallback sample (``fallback``). A method that wins only because its fallback
sampler did the work should be visible as such, hence the shares next to the token, latency and cost numbers.

Also per method: ``duplicate_share`` (share of the model's parsed proposals that repeated an evaluated
configuration, on deterministic benchmarks: the repetition guard re-asked or dropped them), ``model_trial_share``
(share of the method's trials after the initial design that the model proposed: below 1 for ``llm_tpe``, whose TPE
trials make no call), calls and tokens per model-driven trial, cost per run, and for ``llambo`` the share of trials
whose surrogate gave no usable score for any of several candidates (``unscored_share``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

LLM_ORIGINS = ("llm", "repaired", "fallback")
COLUMNS = [
    "method",
    "n_trials",
    "share_llm",
    "share_repaired",
    "share_fallback",
    "attempts_per_trial",
    "tokens_per_trial",
    "prompt_tokens_per_trial",
    "completion_tokens_per_trial",
    "latency_mean_s",
    "latency_median_s",
    "cost_per_trial",
    "cost_total",
    "cost_per_run",
    "cache_hit_share",
    "duplicate_share",
    "model_trial_share",
    "unscored_share",
]
NO_LLM_NOTE = "no LLM-driven trials in this study (no row has a non-null `attempts`)"


def llm_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of trials proposed by a model (``attempts`` not null); empty if the column is absent."""
    if "attempts" not in df.columns or df.empty:
        return df.iloc[0:0]
    return df[df["attempts"].notna()]


def _numeric(g: pd.DataFrame, column: str) -> pd.Series:
    """A column as numbers; all-NaN when the trajectories predate it."""
    if column not in g.columns:
        return pd.Series(float("nan"), index=g.index)
    return pd.to_numeric(g[column], errors="coerce")


def _share(numerator: pd.Series, denominator: pd.Series) -> float:
    total = denominator.sum()
    return float(numerator.sum() / total) if total > 0 else float("nan")


def llm_usage(df: pd.DataFrame, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """Per LLM method, over all its model-driven trials: validity shares, tokens, latency, cost, cache hits."""
    rows = llm_rows(df)
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    order = [m for m in (methods or []) if m in set(rows["method"])]
    order += [m for m in dict.fromkeys(rows["method"]) if m not in order]
    out = []
    for method in order:
        g = rows[rows["method"] == method]
        n = len(g)
        origin = g["origin"].value_counts()
        attempts = _numeric(g, "attempts")
        prompt, completion = _numeric(g, "prompt_tokens"), _numeric(g, "completion_tokens")
        guarded = g[_numeric(g, "duplicates").notna()]
        ranked = g[_numeric(g, "n_candidates") >= 2]
        every = df[(df["method"] == method) & (df["origin"] != "initial_design")]
        n_runs = len(g[["benchmark", "seed"]].drop_duplicates()) if {"benchmark", "seed"} <= set(g.columns) else 1
        cost_total = g["llm_cost"].sum(min_count=1)
        out.append(
            {
                "method": method,
                "n_trials": n,
                **{f"share_{o}": origin.get(o, 0) / n for o in LLM_ORIGINS},
                "attempts_per_trial": attempts.mean(),
                "tokens_per_trial": (prompt + completion).mean(),
                "prompt_tokens_per_trial": prompt.mean(),
                "completion_tokens_per_trial": completion.mean(),
                "latency_mean_s": g["llm_latency"].mean(),
                "latency_median_s": g["llm_latency"].median(),
                "cost_per_trial": g["llm_cost"].mean(),
                "cost_total": cost_total,
                "cost_per_run": cost_total / n_runs,
                "cache_hit_share": _share(_numeric(g, "cache_hits"), attempts),
                "duplicate_share": _share(_numeric(guarded, "duplicates"), _numeric(guarded, "proposals")),
                "model_trial_share": n / len(every) if len(every) else float("nan"),
                "unscored_share": float((_numeric(ranked, "scored") == 0).mean()) if len(ranked) else float("nan"),
            }
        )
    return pd.DataFrame(out, columns=COLUMNS)
