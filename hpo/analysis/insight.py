"""Do the models understand the problem? Stated hyperparameter importance scored against the ground truth.

Who states an importance ranking, per (benchmark, seed, budget, method) — a *source*:

* ``model``: an LLM method's answer at a reporting budget (``{seed}_insight.json`` next to its trajectory, written
  by the run; one extra structured call that never changes what is proposed);
* ``prior``: the same question asked before any trial (budget 0): textbook knowledge, no history;
* ``data_fanova`` / ``data_pedanova``: a standard analysis of exactly the trials the method had run by that budget,
  Optuna's :class:`~optuna.importance.FanovaImportanceEvaluator` (seeded) and
  :class:`~optuna.importance.PedAnovaImportanceEvaluator` (defaults) on the observed losses, for every method's
  history (classical ones too). "Insight" should mean more than what reading the table gives.

Each statement is scored against the ground truth's primary (rank-transform) main effects
(:mod:`hpo.analysis.importance`): Kendall τ-b and Spearman ρ (scipy), top-1 hit, and NDCG with the true shares as
gains (scikit-learn's ``ndcg_score``). A statement without a ranking (all weights equal: the uniform fallback of an
unusable reply, or an analysis that could not run) scores τ = ρ = 0 — "no information" — instead of dropping out,
so failures count against their source; ties in a statement are scored by their expectation over random
tie-breaking (top-1 hit: the share of tied leaders that are the true top; NDCG: scikit-learn's tie averaging).

Paired two-sided Wilcoxon tests with Holm correction (reusing :func:`hpo.analysis.stats.wilcoxon_pairs`), pooled over
benchmarks and seeds (a block = one (benchmark, seed)) at each budget: per LLM method its model vs. its prior vs.
the data analyses of its own history, and the image / text / blank methods' models pairwise (by role, never by
name). Finally, for the image methods, whether the pair of hyperparameters their third image shows as "most
influential" (:func:`hpo.influence.influence`) is the true top pair.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo.analysis import stats
from hpo.analysis.importance import PRIMARY, load_importance, optuna_study, space_of
from hpo.identity import check_insight

MODEL_SOURCES = ("model", "prior")
DATA_SOURCES = ("data_fanova", "data_pedanova")
SOURCES = (*MODEL_SOURCES, *DATA_SOURCES)
SCORES = ("kendall_tau", "spearman", "top1_hit", "ndcg")
TEST_METRICS = ("kendall_tau", "ndcg")
# Pairs of roles whose models are compared with each other (the multimodal question).
ROLE_PAIRS = tuple(itertools.combinations(stats.ROLE_ORDER, 2))  # image-text, image-blank, text-blank
TABLES = ("insight", "insight_summary", "insight_tests", "insight_pairs")
TITLES = {
    "insight": "Stated vs. true hyperparameter importance: scores per benchmark x seed x budget x method x source",
    "insight_summary": "Importance scores per budget, method and source (mean and median over blocks)",
    "insight_tests": "Paired two-sided Wilcoxon tests of importance scores (Holm-adjusted per budget and metric)",
    "insight_pairs": "Image methods: is the pair shown as 'most influential' the true top pair?",
}
NO_RANKING = "stated weights all equal (no ranking): kendall_tau and spearman scored 0"
TRAJECTORY_COLUMNS = ["benchmark", "method", "seed", "trial", "config", "loss"]
SCORE_COLUMNS = [
    "benchmark",
    "seed",
    "budget",
    "method",
    "role",
    "source",
    "n_hyperparameters",
    "n_trials_used",
    "kendall_tau",
    "spearman",
    "top1_hit",
    "ndcg",
    "stated_top",
    "true_top",
    "fallback",
    "repaired",
    "weights",
    "flag",
    "note",
]


# --- scores ------------------------------------------------------------------------------------------------------


def score(stated: dict[str, float], true: dict[str, float]) -> dict[str, Any]:
    """Kendall τ-b, Spearman ρ, top-1 hit and NDCG of ``stated`` weights against ``true`` importances.

    Both map every hyperparameter to a number (the keys must match). Returns the four scores and a ``note``; NaN
    where a score does not apply (one hyperparameter, no ground truth, all true importances equal).
    """
    from scipy.stats import kendalltau, spearmanr
    from sklearn.metrics import ndcg_score

    if set(stated) != set(true):
        raise ValueError(f"stated hyperparameters {sorted(stated)} differ from the true ones {sorted(true)}")
    names = sorted(true)
    s = np.array([stated[n] for n in names], dtype=float)
    t = np.array([true[n] for n in names], dtype=float)  # None (no ground truth) becomes NaN
    out: dict[str, Any] = {k: math.nan for k in SCORES}
    if len(names) < 2:
        return {**out, "note": "one hyperparameter: rankings and their scores do not apply"}
    if not np.isfinite(t).all():
        return {**out, "note": "no ground truth for this benchmark"}
    if not np.isfinite(s).all():
        return {**out, "note": "stated weights are not all finite"}
    if np.ptp(t) == 0:
        return {**out, "note": "all true importances equal: nothing to rank"}
    notes = []
    if np.ptp(s) == 0:
        out["kendall_tau"] = out["spearman"] = 0.0
        notes.append(NO_RANKING)
    else:
        out["kendall_tau"] = float(kendalltau(s, t, variant="b").statistic)
        out["spearman"] = float(spearmanr(s, t).statistic)
    leaders = s == s.max()
    out["top1_hit"] = float((leaders & (t == t.max())).sum() / leaders.sum())
    out["ndcg"] = float(ndcg_score(np.clip(t, 0, None)[None, :], s[None, :]))
    return {**out, "note": "; ".join(notes)}


def _top(weights: dict[str, float]) -> str:
    """The highest-weighted name(s), ties joined with '='."""
    if not weights:
        return ""
    vals = {k: (math.nan if v is None else float(v)) for k, v in weights.items()}
    finite = [v for v in vals.values() if math.isfinite(v)]
    if not finite:
        return ""
    best = max(finite)
    return "=".join(sorted(k for k, v in vals.items() if v == best))


# --- inputs ------------------------------------------------------------------------------------------------------


def load_insight(path: str | Path) -> dict[str, Any]:
    """One run's stated-importance file, checked; a one-line error naming the file and what is wrong.

    Layout (written by the LLM methods): ``benchmark``, ``method``, ``kind``, ``seed``, ``hyperparameters`` and
    ``statements``: a list of ``{budget, source ("prior" at budget 0 | "model"), weights {hp: w >= 0, sum 1},
    repaired, fallback, ...}``.
    """
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"insight file {path} unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"insight file {path}: expected a JSON object, got {type(data).__name__}")
    missing = [k for k in ("benchmark", "method", "seed", "hyperparameters", "statements") if k not in data]
    if missing:
        raise ValueError(f"insight file {path} lacks keys {missing}")
    hps = data["hyperparameters"]
    for i, st in enumerate(data["statements"]):
        where = f"insight file {path}: statement {i}"
        if not isinstance(st, dict) or not {"budget", "source", "weights"} <= set(st):
            raise ValueError(f"{where} needs budget, source and weights")
        if st["source"] not in MODEL_SOURCES:
            raise ValueError(f"{where}: source {st['source']!r} is not one of {list(MODEL_SOURCES)}")
        w = st["weights"]
        if not isinstance(w, dict) or set(w) != set(hps):
            raise ValueError(f"{where}: weights must name exactly the hyperparameters {sorted(hps)}")
        bad = [k for k, v in w.items() if not isinstance(v, int | float) or isinstance(v, bool) or not v >= 0]
        if bad:
            raise ValueError(f"{where}: weights of {bad} are not non-negative numbers")
    check_insight(data, path)  # identity of the run job its path names; weights sum to 1
    return data


def model_rows(records: Sequence[dict[str, Any]], roles: dict[str, str]) -> pd.DataFrame:
    """One row per statement of the LLM runs: benchmark, seed, budget, method, role, source, weights, flags."""
    rows = []
    for rec in records:
        for st in rec["statements"]:
            rows.append(
                {
                    "benchmark": rec["benchmark"],
                    "seed": int(rec["seed"]),
                    "budget": int(st["budget"]),
                    "method": rec["method"],
                    "role": roles.get(rec["method"], ""),
                    "source": st["source"],
                    "n_trials_used": int(st["budget"]),
                    "weights": {k: float(v) for k, v in st["weights"].items()},
                    "fallback": bool(st.get("fallback", False)),
                    "repaired": bool(st.get("repaired", False)),
                    "note": "reply unusable: uniform fallback weights" if st.get("fallback") else "",
                }
            )
    return pd.DataFrame(rows)


# --- the data-analysis baseline -------------------------------------------------------------------------------


def _normalized(raw: dict[str, float], names: Sequence[str]) -> tuple[dict[str, float], str]:
    vals = {n: max(float(raw.get(n, 0.0)), 0.0) for n in names}
    total = sum(vals.values())
    if not math.isfinite(total) or total <= 0:
        return {n: 1.0 / len(names) for n in names}, "analysis found no importance: uniform weights"
    return {n: v / total for n, v in vals.items()}, ""


def data_importance(space: Any, configs: Sequence[dict[str, Any]], losses: Sequence[float]) -> dict[str, Any]:
    """What Optuna's fANOVA (seeded) and PED-ANOVA say about these trials: {source: (weights summing to 1, note)}.

    An analysis that cannot run (e.g. all losses equal) yields uniform weights and a note (scored "no information").
    """
    import warnings

    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    from hpo.analysis.importance import FANOVA_SEED, optuna_distributions

    names = list(optuna_distributions(space))
    study = optuna_study(space, configs, losses)
    out = {}
    for source, evaluator in (
        ("data_fanova", FanovaImportanceEvaluator(seed=FANOVA_SEED)),
        ("data_pedanova", PedAnovaImportanceEvaluator()),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                raw, failed = evaluator.evaluate(study), ""
            except RuntimeError as exc:  # fANOVA: zero variance in every tree (all losses equal)
                raw, failed = {}, f"analysis failed ({exc})"
        weights, note = _normalized(raw, names)
        said = "; ".join(dict.fromkeys(str(w.message).split(". ")[0] for w in caught))
        out[source] = (weights, "; ".join(filter(None, [failed, note, said])))
    return out


def data_rows(
    df: pd.DataFrame, importance: dict[str, dict[str, Any]], budgets: Sequence[int], roles: dict[str, str]
) -> pd.DataFrame:
    """The data-analysis statements of every run's history prefix at every budget (identical prefixes, e.g. the
    shared initial design, are analysed once)."""
    rows: list[dict[str, Any]] = []
    cache: dict[tuple, dict[str, Any]] = {}
    spaces = {b: space_of(rec) for b, rec in importance.items()}
    for bench, method, seed, budget, prefix in _prefixes(df, importance, budgets):
        finite = prefix[np.isfinite(prefix["loss"].astype(float))]
        key = (bench, tuple(finite["config"]), tuple(finite["loss"].astype(float)))
        if key not in cache:
            configs = [json.loads(c) for c in finite["config"]]
            cache[key] = data_importance(spaces[bench], configs, finite["loss"].astype(float).tolist())
        for source, (weights, note) in cache[key].items():
            rows.append(
                {
                    "benchmark": bench,
                    "seed": seed,
                    "budget": budget,
                    "method": method,
                    "role": roles.get(method, ""),
                    "source": source,
                    "n_trials_used": int(len(finite)),
                    "weights": weights,
                    "fallback": False,
                    "repaired": False,
                    "note": note,
                }
            )
    return pd.DataFrame(rows)


def _prefixes(
    df: pd.DataFrame, importance: dict[str, dict[str, Any]], budgets: Sequence[int]
) -> Iterator[tuple[str, str, int, int, pd.DataFrame]]:
    """(benchmark, method, seed, budget, the run's rows up to that budget) for every run of a benchmark with a
    ground truth and every budget the run reached (one it did not reach is missing, never its last value)."""
    for (bench, method, seed), run in df.groupby(["benchmark", "method", "seed"], sort=True):
        if bench not in importance:
            continue
        run = run.sort_values("trial")
        for budget in budgets:
            prefix = run[run["trial"] <= budget]
            if int(prefix["trial"].max() if len(prefix) else 0) >= budget:
                yield bench, method, int(seed), int(budget), prefix


# --- tables --------------------------------------------------------------------------------------------------------


def score_table(statements: pd.DataFrame, importance: dict[str, dict[str, Any]], flags: dict[str, str]) -> pd.DataFrame:
    """Score every statement against its benchmark's primary ground truth."""
    rows = []
    for st in statements.to_dict("records"):
        rec = importance.get(st["benchmark"])
        true = rec["transforms"][rec.get("primary_transform", PRIMARY)]["main"] if rec else None
        if true is None:
            scored = {**{k: math.nan for k in SCORES}, "note": "no ground truth for this benchmark"}
        else:
            try:
                scored = score(st["weights"], true)
            except ValueError as exc:
                where = (
                    f"{st['benchmark']} / {st['method']} / seed {st['seed']} / budget {st['budget']} ({st['source']})"
                )
                raise ValueError(f"{where}: {exc}") from None
        rows.append(
            {
                **{k: st[k] for k in ("benchmark", "seed", "budget", "method", "role", "source", "n_trials_used")},
                "n_hyperparameters": len(st["weights"]),
                **{k: scored[k] for k in SCORES},
                "stated_top": _top(st["weights"]),
                "true_top": _top(true or {}),
                "fallback": st["fallback"],
                "repaired": st["repaired"],
                "weights": json.dumps({k: round(v, 6) for k, v in sorted(st["weights"].items())}),
                "flag": flags.get(st["method"], ""),
                "note": "; ".join(filter(None, [st["note"], scored["note"]])),
            }
        )
    out = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    order = {s: i for i, s in enumerate(SOURCES)}
    out["_o"] = out["source"].map(order)
    out = out.sort_values(["budget", "benchmark", "seed", "method", "_o"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


def summary_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean and median of every score per (budget, method, role, source), with the number of scored blocks."""
    cols = ["budget", "method", "role", "source", "n_blocks"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (budget, method, role, source), g in scores.groupby(["budget", "method", "role", "source"], sort=True):
        row = {"budget": budget, "method": method, "role": role, "source": source}
        row["n_blocks"] = int(g["kendall_tau"].notna().sum())
        for k in SCORES:
            row[f"{k}_mean"] = float(g[k].mean()) if g[k].notna().any() else math.nan
            row[f"{k}_median"] = float(g[k].median()) if g[k].notna().any() else math.nan
        row["share_fallback"] = float(g["fallback"].mean())
        row["flag"] = g["flag"].iloc[0]
        rows.append(row)
    out = pd.DataFrame(rows)
    order = {s: i for i, s in enumerate(SOURCES)}
    out["_o"] = out["source"].map(order)
    return out.sort_values(["budget", "method", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _contestant(method: str, source: str) -> str:
    return f"{method}:{source}"


def comparison_pairs(llm_methods: Sequence[str], roles: dict[str, str]) -> list[tuple[str, str]]:
    """The family of comparisons: per LLM method its model and prior against each other and against both data
    analyses of its history, then the models across roles (image vs text, image vs blank, text vs blank)."""
    pairs = []
    for m in llm_methods:
        for i, a in enumerate(SOURCES):
            for b in SOURCES[i + 1 :]:
                if a in MODEL_SOURCES:  # the two analyses are not compared with each other: not about the model
                    pairs.append((_contestant(m, a), _contestant(m, b)))
    for ra, rb in ROLE_PAIRS:
        for ma in [m for m in llm_methods if roles.get(m) == ra]:
            for mb in [m for m in llm_methods if roles.get(m) == rb]:
                pairs.append((_contestant(ma, "model"), _contestant(mb, "model")))
    return pairs


def wilcoxon_table(
    scores: pd.DataFrame,
    roles: dict[str, str],
    budgets: Sequence[int],
    n_expected: int | None,
    flags: dict[str, str],
    alpha: float = stats.ALPHA,
) -> tuple[pd.DataFrame, list[str]]:
    """Paired Wilcoxon tests per budget and metric on the (benchmark, seed) blocks complete for every contestant.

    Contestants are ``method:source`` of the LLM methods (by role); the prior (budget 0) enters every budget.
    Scores are higher-is-better, so ``rank_biserial > 0`` and ``wins_a`` mean ``contestant_a`` scored higher and
    ``median_diff`` is a - b.
    """
    llm_methods = [m for m in dict.fromkeys(scores["method"]) if roles.get(m)] if len(scores) else []
    notes: list[str] = []
    if not llm_methods:
        return pd.DataFrame(), ["no LLM method has scores: no test (LLM methods absent or skipped)"]
    pairs = comparison_pairs(llm_methods, roles)
    wanted = list(dict.fromkeys(c for p in pairs for c in p))
    prior = scores[scores["source"] == "prior"]
    frames = []
    for budget in budgets:
        at = scores[(scores["budget"] == budget) & (scores["source"] != "prior")]
        at = pd.concat([at, prior.assign(budget=budget)], ignore_index=True)
        at = at[at["method"].isin(llm_methods)]
        at = at.assign(contestant=[_contestant(m, s) for m, s in zip(at["method"], at["source"])])
        for metric in TEST_METRICS:
            wide = at.pivot_table(index=stats.BLOCK, columns="contestant", values=metric, aggfunc="first")
            present = [c for c in wanted if c in wide.columns and wide[c].notna().any()]
            absent = [c for c in wanted if c not in present]
            complete = wide.reindex(columns=present).dropna(how="any")
            seen = len(wide)
            expected = max(n_expected if n_expected is not None else seen, seen)
            complete.columns.name = None
            blocks = stats.Blocks(budget, -complete, expected, expected - len(complete))
            fam = [(a, b) for a, b in pairs if a in present and b in present]
            if metric == TEST_METRICS[0]:
                line = f"budget {budget}: {blocks.coverage_note()}"
                if absent:
                    line += "; no scores for " + ", ".join(absent)
                notes.append(line)
            if not fam:
                continue
            w = stats.wilcoxon_pairs(blocks, fam, alpha)
            w = w.rename(columns={"method_a": "contestant_a", "method_b": "contestant_b"})
            w.insert(0, "metric", metric)
            w.insert(0, "budget", budget)
            w.insert(3, "role_a", [roles.get(c.split(":")[0], "") for c in w["contestant_a"]])
            w.insert(5, "role_b", [roles.get(c.split(":")[0], "") for c in w["contestant_b"]])
            w["n_blocks_expected"] = expected
            w["n_blocks_dropped"] = blocks.n_dropped
            w["flag"] = [
                "; ".join(f"{m}: {flags[m]}" for m in dict.fromkeys(c.split(":")[0] for c in pair) if flags.get(m))
                for pair in zip(w["contestant_a"], w["contestant_b"])
            ]
            frames.append(w)
    notes.append(
        "two-sided, paired on (benchmark, seed), zero differences dropped (zero_method='wilcox'); Holm-adjusted "
        f"over each (budget, metric) family; rank_biserial > 0 means contestant_a scores higher; alpha={alpha:g}"
    )
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), notes


def pair_table(
    df: pd.DataFrame, importance: dict[str, dict[str, Any]], budgets: Sequence[int], roles: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Per run of an image method and budget: the pair its images show as most influential vs. the true top pair."""
    from hpo.influence import influence

    image_methods = [m for m, r in roles.items() if r == "image"]
    cols = ["benchmark", "seed", "budget", "method", "image_pair", "true_top_pair", "overlap", "match"]
    cols += ["true_top_interaction", "matches_top_interaction", "note"]
    if not image_methods:
        return pd.DataFrame(columns=cols), ["the study has no image (multimodal) method: not applicable"]
    runs = df[df["method"].isin(image_methods)] if len(df) else df
    if runs.empty:
        return pd.DataFrame(columns=cols), [
            f"no runs of the image methods ({', '.join(image_methods)}): absent or skipped; not applicable"
        ]
    rows = []
    spaces = {b: space_of(rec) for b, rec in importance.items()}
    for bench, method, seed, budget, prefix in _prefixes(runs, importance, budgets):
        rec = importance[bench]
        truth = rec["transforms"][rec.get("primary_transform", PRIMARY)]
        true_pair, interaction = truth["top_pair"], truth["top_interaction"]
        shown = influence(spaces[bench], [json.loads(c) for c in prefix["config"]], prefix["loss"].to_numpy(float))[:2]
        row = {"benchmark": bench, "seed": seed, "budget": budget, "method": method}
        row["image_pair"] = " & ".join(shown)
        row["true_top_pair"] = " & ".join(true_pair)
        row["true_top_interaction"] = " & ".join(interaction)
        if len(shown) < 2 or len(true_pair) < 2:
            row.update(overlap=math.nan, match=math.nan, matches_top_interaction=math.nan)
            row["note"] = (
                "fewer than two hyperparameters: no pair"
                if len(rec["hyperparameters"]) < 2
                else "no ground truth for this benchmark: no true pair"
            )
        else:
            row["overlap"] = len(set(shown) & set(true_pair))
            row["match"] = set(shown) == set(true_pair)
            row["matches_top_interaction"] = set(shown) == set(interaction) if interaction else math.nan
            row["note"] = "" if interaction else "no pairwise terms in this benchmark's ground truth"
        rows.append(row)
    return pd.DataFrame(rows, columns=cols), [
        "image_pair = the two hyperparameters with the largest |Spearman| with the observed loss over the first "
        "`budget` trials (hpo.influence.influence, what the third image plots); true_top_pair = the two largest "
        f"{PRIMARY}-transform main effects; match = same two names"
    ]


def compute(
    df: pd.DataFrame,
    importance: dict[str, dict[str, Any]],
    insight: Sequence[dict[str, Any]],
    budgets: Sequence[int],
    roles: dict[str, str],
    *,
    llm_methods: Sequence[str] = (),
    status: pd.DataFrame | None = None,
    alpha: float = stats.ALPHA,
) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """All insight tables keyed by :data:`TABLES`, and per table the notes that explain missing values.

    ``roles`` maps LLM method names to image / text / blank; ``llm_methods`` are the study's runnable LLM methods
    (those without any statement are named in a note).
    """
    from hpo.analysis.coverage import STATUS_COLUMNS, expected_blocks, method_flags

    status = status if status is not None else pd.DataFrame(columns=STATUS_COLUMNS)
    methods = list(dict.fromkeys([*(df["method"].unique() if len(df) else []), *roles]))
    flags = method_flags(status, methods)
    notes: dict[str, list[str]] = {name: [] for name in TABLES}
    general: list[str] = []
    budgets = sorted({int(b) for b in budgets})
    unknown = sorted({r["benchmark"] for r in insight} - set(importance))
    if unknown:
        general.append(f"no ground truth for {', '.join(unknown)}: their statements are not scored")
    for bench, rec in importance.items():
        if rec.get("note"):
            notes["insight"].append(f"{bench} ground truth ({rec['method']}): {rec['note']}")
    with_statements = {r["method"] for r in insight}
    for m in llm_methods:
        if m not in with_statements:
            general.append(f"{m}: no stated-importance file (insight JSON) found: model and prior sources absent")
    for m, role in roles.items():
        if m not in llm_methods and flags.get(m, "").startswith("skipped"):
            general.append(f"{m} ({role}): {flags[m]}")
    statements = pd.concat(
        [model_rows(insight, roles), data_rows(df, importance, budgets, roles) if len(df) else pd.DataFrame()],
        ignore_index=True,
    )
    if statements.empty:
        scores = pd.DataFrame(columns=SCORE_COLUMNS)
        general.append("no statement to score (no finished run and no insight file)")
    else:
        scores = score_table(statements, importance, flags)
    n_expected = expected_blocks(status)
    tests, test_notes = wilcoxon_table(scores, roles, budgets, n_expected, flags, alpha)
    pairs, pair_notes = pair_table(df, importance, budgets, roles)
    notes["insight_tests"] += test_notes
    notes["insight_pairs"] += pair_notes
    notes["insight"].insert(
        0,
        f"scores against the {PRIMARY}-transform main effects; kendall_tau = Kendall tau-b, ndcg gains = the true "
        "shares; top1_hit = share of the stated leaders (ties) that are the true top; prior = budget 0",
    )
    for name in TABLES:
        notes[name] = general + notes[name]
    tables = {
        "insight": scores,
        "insight_summary": summary_table(scores),
        "insight_tests": tests,
        "insight_pairs": pairs,
    }
    return tables, notes


def write_insight(
    trajectories: str | Path | pd.DataFrame,
    importance_paths: Sequence[str | Path],
    insight_paths: Sequence[str | Path],
    out_dir: str | Path,
    budgets: Sequence[int],
    roles: dict[str, str],
    *,
    llm_methods: Sequence[str] = (),
    status_path: str | Path | None = None,
    alpha: float = stats.ALPHA,
) -> dict[str, pd.DataFrame]:
    """Compute every table and write ``<name>.csv``, ``.md`` and ``.html`` of each of :data:`TABLES`, atomically.

    Missing insight files are skipped (with a note naming the method); unreadable ones stop with their path.
    """
    from hpo.analysis.coverage import read_status
    from hpo.analysis.stats_tables import load_trajectories, write_tables

    df, traj_note = load_trajectories(trajectories, TRAJECTORY_COLUMNS, "data analysis")
    status, status_note = read_status(status_path)
    importance = {}
    for p in importance_paths:
        rec = load_importance(p)
        importance[rec["benchmark"]] = rec
    insight = [load_insight(p) for p in insight_paths if Path(p).exists()]
    tables, notes = compute(
        df, importance, insight, budgets, roles, llm_methods=llm_methods, status=status, alpha=alpha
    )
    write_tables(out_dir, tables, TITLES, notes, [n for n in (traj_note, status_note) if n])
    return tables
