"""The score table ``results/stats/insight.csv``: every statement of every source scored against the ground truth.

One row per benchmark x seed x budget x LLM method x source (:mod:`hpo.analysis.insight_sources`). Every score comes
raw, with its chance level and chance-normalized (:func:`hpo.analysis.insight_scores.score`), against the truth's
primary (rank-transform) main effects and their tie groups; ``pair_hit`` scores the model's stated top interaction
against the exact pair terms, ``region_*`` its best region against the top-gamma set
(:func:`hpo.analysis.truth_region.region_hit`). ``echo`` says whether the two hyperparameters a source weights highest
are the two the images plot as most influential (``plotted_pair``): the model may only have repeated the picture;
it is left empty where the plotted pair is also the true top pair (a model stating the truth would match it anyway).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from hpo.analysis.importance import PRIMARY, pair_key
from hpo.analysis.insight_sources import MODEL_SOURCES, SOURCES

FAMILIES = ("mlp", "fcnet", "nb201", "live_ml", "synthetic")
PAIR_COLUMNS = ["pair_hit", "pair_hit_chance", "pair_hit_norm"]
REGION_COLUMNS = ["region_share", "region_base_rate", "region_norm"]
KEY_COLUMNS = ["benchmark", "family", "seed", "budget", "method", "kind", "role", "source"]
TAIL_COLUMNS = ["stated_top", "true_top", "stated_pair", "plotted_pair", "echo", "fallback", "repaired", "weights"]
TAIL_COLUMNS += ["flag", "note"]


def metrics() -> tuple[str, ...]:
    """The rank/calibration scores of a weight statement (:data:`hpo.analysis.insight_scores.METRICS`)."""
    from hpo.analysis.insight_scores import METRICS

    return tuple(METRICS)


def score_columns() -> list[str]:
    """The table's columns, in the order of the issue's contract."""
    cols = [*KEY_COLUMNS, "n_hyperparameters", "n_trials_used"]
    for m in metrics():
        cols += [m, f"{m}_chance", f"{m}_norm"]
    return [*cols, *PAIR_COLUMNS, *REGION_COLUMNS, *TAIL_COLUMNS]


def family(benchmark: str) -> str:
    """The benchmark's family for the per-family breakdown: mlp | fcnet | nb201 | live_ml | synthetic | other."""
    from hpo.benchmarks import live_ml

    prefix = benchmark.partition("-")[0]
    if prefix in ("mlp", "fcnet", "nb201"):
        return prefix
    if prefix == "synth":
        return "synthetic"
    return "live_ml" if live_ml.parse(benchmark) is not None else "other"


def top(weights: dict[str, float] | None) -> str:
    """The highest-weighted name(s), ties joined with '='."""
    vals = {k: float(v) for k, v in (weights or {}).items() if v is not None and math.isfinite(float(v))}
    if not vals:
        return ""
    best = max(vals.values())
    return "=".join(sorted(k for k, v in vals.items() if v == best))


def top_two(weights: dict[str, float] | None) -> str:
    """The two highest-weighted names as a pair key, or "" when ties make the top two undetermined (a uniform
    statement names no pair: tie-breaking by name would match the images' own name order by accident)."""
    vals = sorted(((float(v), k) for k, v in (weights or {}).items()), reverse=True)
    if len(vals) < 2 or (len(vals) > 2 and vals[1][0] == vals[2][0]):
        return ""
    return pair_key(vals[0][1], vals[1][1])


def truth_of(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The primary transform's entry of an importance record (main, pairs, tie_groups, ...), None without truth."""
    if not record:
        return None
    return record["transforms"][record.get("primary_transform", PRIMARY)]


def _scores(st: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """Every score of one statement; for ``chance``, the chance levels themselves (normalized 0)."""
    from hpo.analysis.insight_scores import pair_score, score

    truth = truth_of(record)
    nan = {c: math.nan for c in score_columns() if c.startswith(tuple(metrics())) or c in PAIR_COLUMNS + REGION_COLUMNS}
    if truth is None or not any(math.isfinite(float(v)) for v in truth["main"].values()):
        return {**nan, "note": "no ground truth for this benchmark"}
    names = list(truth["main"])
    stated = st["weights"] if st["weights"] is not None else dict.fromkeys(names, 1.0 / len(names))
    try:
        out = score(stated, truth["main"], tie_groups=truth.get("tie_groups") or None)
    except ValueError as exc:
        where = f"{st['benchmark']} / {st['method']} / seed {st['seed']} / budget {st['budget']} ({st['source']})"
        raise ValueError(f"{where}: {exc}") from None
    out = {**nan, **out}
    pairs = truth.get("pairs") or {}
    if pairs and st["source"] in MODEL_SOURCES + ("chance",):  # rungs state no pair: NaN, not a miss
        out.update(pair_score(st.get("top_interaction"), pairs))
    region = st.get("best_region")
    if region:
        from hpo.analysis.truth_region import region_hit

        hit = region_hit(record, region)
        out.update({k: hit[k] for k in REGION_COLUMNS})
        out["note"] = "; ".join(filter(None, [out.get("note", ""), hit.get("note", "")]))
    if st["source"] == "chance":  # the permutation null: its expected scores are the chance levels
        for m in [*metrics(), "pair_hit"]:
            chance = out[f"{m}_chance"]
            out[m], out[f"{m}_norm"] = chance, 0.0 if math.isfinite(chance) else math.nan
        gamma = float((record.get("region") or {}).get("base_rate", record.get("gamma", math.nan)))
        out.update(region_share=gamma, region_base_rate=gamma, region_norm=0.0 if math.isfinite(gamma) else math.nan)
        out["note"] = "; ".join(filter(None, ["expected scores of a uniformly random statement", out.get("note")]))
    return out


def score_table(statements: pd.DataFrame, importance: dict[str, dict[str, Any]], flags: dict[str, str]) -> pd.DataFrame:
    """Score every statement; ``plotted_pair`` (from the run's image_echo row) is copied to every source of the run
    and budget, so ``echo`` can be read for the model as for the rungs."""
    cols = score_columns()
    if statements.empty:
        return pd.DataFrame(columns=cols)
    plotted = {}
    for st in statements[statements["source"] == "image_echo"].to_dict("records"):
        plotted[(st["benchmark"], st["method"], st["seed"], st["budget"])] = (
            pair_key(*st["plotted_pair"]) if len(st["plotted_pair"] or []) == 2 else ""
        )
    rows = []
    for st in statements.to_dict("records"):
        rec = importance.get(st["benchmark"])
        scored = _scores(st, rec)
        truth = truth_of(rec)
        stated_pair = top_two(st["weights"]) if st["source"] != "chance" else ""
        shown = plotted.get((st["benchmark"], st["method"], st["seed"], st["budget"]), "")
        row = {k: st[k] for k in ("benchmark", "seed", "budget", "method", "kind", "role", "source")}
        row.update(family=family(st["benchmark"]), n_trials_used=st["n_used"])
        row["n_hyperparameters"] = len(truth["main"]) if truth else len(st["weights"] or {})
        row.update({k: v for k, v in scored.items() if k != "note"})
        row.update(stated_top=top(st["weights"]), true_top=top(truth["main"] if truth else None))
        row.update(stated_pair=stated_pair, plotted_pair=shown)
        # Echo is informative only where the plotted pair is not also the true top pair: there a model that states
        # the truth would "echo" without looking (issue 22); those runs have no echo value.
        true_pair = top_two(truth["main"]) if truth else ""
        informative = shown and shown != true_pair and st["source"] != "chance"
        row["echo"] = (stated_pair == shown) if informative else math.nan
        row.update(fallback=bool(st["fallback"]), repaired=bool(st["repaired"]), flag=flags.get(st["method"], ""))
        weights = st["weights"]
        row["weights"] = json.dumps({k: round(v, 6) for k, v in sorted(weights.items())}) if weights else ""
        row["note"] = "; ".join(filter(None, [st.get("note", ""), scored.get("note", "")]))
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out["_o"] = out["source"].map({s: i for i, s in enumerate(SOURCES)})
    out = out.sort_values(["budget", "benchmark", "seed", "method", "_o"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)
