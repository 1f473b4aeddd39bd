"""The score table ``results/stats/insight.csv``: every statement of every source scored against the ground truth.

One row per benchmark x seed x budget x LLM method x source (:mod:`hpo.insight.sources`). Every score comes
raw, with its chance level and chance-normalized (:func:`hpo.insight.scores.score`), against the truth's
primary (rank-transform) main effects and the pairs whose order they leave unresolved; ``{m}_total_norm`` scores
the same statement against the total-order shares (secondary: the question asks for main effects);
``pair_hit`` scores the model's stated top interaction
against the exact pair terms, ``region_*`` its best region against the top-gamma set
(:func:`hpo.insight.truth.region.region_hit`). ``echo`` says whether the two hyperparameters a source weights highest
are the two the images plot as most influential (``plotted_pair``): the model may only have repeated the picture;
it is left empty where the plotted pair is also the true top pair (a model stating the truth would match it anyway).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from hpo.insight.sources import MODEL_SOURCES, SOURCES
from hpo.insight.truth.importance import PRIMARY, pair_key

FAMILIES = ("mlp", "fcnet", "nb201", "live_ml", "synthetic")
PAIR_COLUMNS = ["pair_hit", "pair_hit_chance", "pair_hit_norm"]
REGION_COLUMNS = ["region_share", "region_base_rate", "region_norm"]
KEY_COLUMNS = ["benchmark", "family", "seed", "budget", "method", "kind", "role", "source"]
TAIL_COLUMNS = ["stated_top", "true_top", "stated_pair", "plotted_pair", "echo", "fallback", "repaired", "weights"]
TAIL_COLUMNS += ["flag", "note"]
TOTAL_SUFFIX = "_total_norm"  # normalized scores against the total-order truth (secondary)


def metrics() -> tuple[str, ...]:
    """The rank/calibration scores of a weight statement (:data:`hpo.insight.scores.METRICS`)."""
    from hpo.insight.scores import METRICS

    return tuple(METRICS)


def score_columns() -> list[str]:
    """The table's columns, in the order of the issue's contract; the total-order scores only normalized (the
    pooled quantity), so the table stays readable."""
    cols = [*KEY_COLUMNS, "n_hyperparameters", "n_trials_used"]
    for m in metrics():
        cols += [m, f"{m}_chance", f"{m}_norm"]
    cols += [f"{m}{TOTAL_SUFFIX}" for m in metrics()]
    return [*cols, *PAIR_COLUMNS, *REGION_COLUMNS, *TAIL_COLUMNS]


def family(benchmark: str) -> str:
    """The benchmark's family for the per-family breakdown: mlp | fcnet | nb201 | live_ml | synthetic |
    mf_synthetic | other."""
    from hpo.benchmarks import live_ml, mf_synthetic

    prefix = benchmark.partition("-")[0]
    if prefix in ("mlp", "fcnet", "nb201"):
        return prefix
    if prefix == "synth":
        return "synthetic"
    if mf_synthetic.parse(benchmark) is not None:
        return "mf_synthetic"
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
    """The primary transform's entry of an importance record (main, total, pairs, unresolved_pairs, ...), None
    without truth."""
    if not record:
        return None
    return record["transforms"][record.get("primary_transform", PRIMARY)]


def _scores(st: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """Every score of one statement; for ``chance``, the chance levels themselves (normalized 0)."""
    from hpo.insight.scores import pair_score, score

    truth = truth_of(record)
    nan = {c: math.nan for c in score_columns() if c.startswith(tuple(metrics())) or c in PAIR_COLUMNS + REGION_COLUMNS}
    if truth is None or not any(math.isfinite(float(v)) for v in truth["main"].values()):
        return {**nan, "note": "no ground truth for this benchmark"}
    names = list(truth["main"])
    stated = st["weights"] if st["weights"] is not None else dict.fromkeys(names, 1.0 / len(names))
    try:
        out = score(stated, truth["main"], unresolved=truth.get("unresolved_pairs"))
        total = (
            score(stated, truth["total"], unresolved=truth.get("total_unresolved_pairs")) if "total" in truth else {}
        )
    except ValueError as exc:
        where = f"{st['benchmark']} / {st['method']} / seed {st['seed']} / budget {st['budget']} ({st['source']})"
        raise ValueError(f"{where}: {exc}") from None
    out = {**nan, **out}
    for m in metrics() if total else ():  # the chance row's own total score is its chance level: normalized 0
        chance_row = st["source"] == "chance" and math.isfinite(total[f"{m}_chance"])
        out[f"{m}{TOTAL_SUFFIX}"] = 0.0 if chance_row else total[f"{m}_norm"]
    pairs = truth.get("pairs") or {}
    if pairs and st["source"] in MODEL_SOURCES + ("chance",):  # rungs state no pair: NaN, not a miss
        out.update(pair_score(st.get("top_interaction"), pairs))
    region = st.get("best_region")
    if region:
        from hpo.insight.truth.region import region_hit

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


def dropped_notes(importance: dict[str, dict[str, Any]]) -> list[str]:
    """How many pairs each benchmark's truth resolves, and every benchmark whose rank scores are NaN, with the
    reason: a benchmark leaves the rank-score tests only when its truth resolves no pair, and never silently."""
    from hpo.insight.scores import unresolved_matrix
    from hpo.insight.truth.importance import components

    resolved, notes = [], []
    for bench, rec in sorted(importance.items()):
        truth = truth_of(rec)
        main = {k: float(v) for k, v in (truth or {}).get("main", {}).items()}
        t = np.array([main[n] for n in sorted(main)])
        if not len(t) or not np.isfinite(t).all():
            notes.append(f"{bench} left out of every test: no ground truth (no record, or a constant loss)")
            continue
        if len(t) < 2:
            notes.append(f"{bench} left out of every test: one hyperparameter, rankings do not apply")
            continue
        tied = unresolved_matrix(t, sorted(main), truth.get("unresolved_pairs"))
        n_pairs, n_open = len(t) * (len(t) - 1) // 2, int((tied.sum() - len(t)) // 2)
        resolved.append(f"{bench} {n_pairs - n_open}/{n_pairs}")
        if n_open == n_pairs:
            notes.append(
                f"{bench} left out of the rank-score tests (kendall_tau, weighted_tau, ndcg, top1_hit are NaN): its "
                f"truth resolves none of its {n_pairs} pairs (every interval of a difference of main effects "
                "contains 0); js_distance is still scored"
            )
        elif len(np.unique(components(tied))) == 1:
            notes.append(
                f"{bench} left out of the ndcg tests: its unresolved pairs chain every hyperparameter into one class"
            )
    head = "pairs of hyperparameters whose order the truth resolves (main effects, primary transform): "
    return ([head + ", ".join(resolved)] if resolved else []) + notes
