"""What the LLM methods cost and how often their proposals were usable.

A trial was driven by a model when its ``attempts`` column is not null (:mod:`hpo.trajectory`); its ``origin`` then
says whether the model's proposal was valid as given (``llm``), had to be repaired into the search space
(``repaired``), or was replaced by a fallback sample (``fallback``). A method that wins only because its fallback
sampler did the work should be visible as such, hence the shares next to the token, latency and cost numbers.
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
    "prompt_tokens_per_trial",
    "completion_tokens_per_trial",
    "latency_mean_s",
    "latency_median_s",
    "cost_per_trial",
    "cost_total",
    "cache_hit_share",
]
NO_LLM_NOTE = "no LLM-driven trials in this study (no row has a non-null `attempts`)"


def llm_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of trials proposed by a model (``attempts`` not null); empty if the column is absent."""
    if "attempts" not in df.columns or df.empty:
        return df.iloc[0:0]
    return df[df["attempts"].notna()]


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
        attempts = pd.to_numeric(g["attempts"], errors="coerce")
        out.append(
            {
                "method": method,
                "n_trials": n,
                **{f"share_{o}": origin.get(o, 0) / n for o in LLM_ORIGINS},
                "attempts_per_trial": attempts.mean(),
                "prompt_tokens_per_trial": pd.to_numeric(g["prompt_tokens"], errors="coerce").mean(),
                "completion_tokens_per_trial": pd.to_numeric(g["completion_tokens"], errors="coerce").mean(),
                "latency_mean_s": g["llm_latency"].mean(),
                "latency_median_s": g["llm_latency"].median(),
                "cost_per_trial": g["llm_cost"].mean(),
                "cost_total": g["llm_cost"].sum(min_count=1),
                "cache_hit_share": pd.to_numeric(g["cache_hits"], errors="coerce").sum() / attempts.sum()
                if attempts.sum() > 0
                else float("nan"),
            }
        )
    return pd.DataFrame(out, columns=COLUMNS)
