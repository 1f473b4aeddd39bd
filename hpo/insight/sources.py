"""Who states an importance ranking: the models' statements and the baseline ladder they must beat.

Every *source* states one weight per hyperparameter for a (benchmark, seed, budget, LLM method), and is scored
exactly like the model (:mod:`hpo.insight.table`):

* ``model``: the LLM method's answer after ``budget`` trials (``{seed}_insight.json``, written by rule insight);
* ``prior``: the same question before any trial (budget 0): what the model knew without a history;
* ``chance``: a uniformly random statement (permutation null). It has no weights: its scores *are* the chance
  levels of the scores, so its normalized scores are 0 by construction;
* ``image_echo``: the ordering the multimodal images plot (:func:`hpo.core.influence.influence_scores` of the same
  history, turned into weights), for every LLM method whether it saw images or not: "the model repeated the plot";
* ``data_fanova``: Optuna's fANOVA on the same history, with the truth's transform (losses rank-transformed, since
  the truth is the functional ANOVA of the rank-transformed loss) and on the truth's measure (log-scale values on
  their log, integers and grid indices as equal-width cells, so grid end points do not get half weight);
* ``data_fanova_random``: the same analysis of as many trials of the study's random-search run on the same
  (benchmark, seed): what a standard analysis of an *undirected* history of that size says (absent, with a note,
  when the study has no random-search method);
* ``prior_data``: the mean of the prior's and ``data_fanova``'s weights: knowledge plus a table analysis, the
  cheapest combination a user could make without the model's budget-time answer.

PED-ANOVA is not a rung: its default is *local* (top-quantile) importance, a different quantity from the main
effects the ladder is scored against, estimated from one to three "top" trials at small budgets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpo.core.identity import check_insight, insight_run_file
from hpo.core.trajectory import read_meta
from hpo.insight.optuna_encoding import FANOVA_SEED, optuna_distributions, optuna_params
from hpo.insight.truth.importance import rank_transform, space_of

MODEL_SOURCES = ("model", "prior", "model_text")  # model_text: an image kind asked the same text without images
LADDER = ("chance", "prior", "image_echo", "data_fanova", "data_fanova_random", "prior_data")
SOURCES = ("model", "model_text", *LADDER)
RANDOM_KIND = "random_search"
NO_WEIGHTS_NOTE = "analysis found no importance: uniform weights"


# --- the models' statements ----------------------------------------------------------------------------------------


def load_insight(path: str | Path) -> dict[str, Any]:
    """One run's stated-importance file, checked; a one-line error naming the file and what is wrong.

    Layout (rule insight, :mod:`hpo.insight.ask`): ``benchmark``, ``method``, ``kind``, ``seed``, ``hyperparameters``
    and ``statements``: a list of ``{budget, source ("prior" at budget 0 | "model" | "model_text": an image kind's
    same history without images), weights {hp: w >= 0},
    top_interaction ([a, b] or None), best_region, repaired, fallback, ...}``, always under the real names.
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
        pair = st.get("top_interaction")
        if pair is not None and (not isinstance(pair, list) or len(pair) != 2 or not set(pair) <= set(hps)):
            raise ValueError(f"{where}: top_interaction must be null or two of the hyperparameters, got {pair!r}")
    run = insight_run_file(path)
    fingerprint = read_meta(run).get("spec", {}).get("fingerprint") if run is not None and run.exists() else None
    check_insight(data, path, fingerprint)  # identity of the run job its path names; weights sum to 1
    return data


def model_rows(records: Sequence[dict[str, Any]], roles: dict[str, str]) -> pd.DataFrame:
    """One row per statement of the LLM runs (model and prior), in the layout every source shares."""
    rows = []
    for rec in records:
        for st in rec["statements"]:
            rows.append(
                _row(
                    rec["benchmark"],
                    int(rec["seed"]),
                    int(st["budget"]),
                    rec["method"],
                    st["source"],
                    {k: float(v) for k, v in st["weights"].items()},
                    kind=rec.get("kind", rec["method"]),
                    role=roles.get(rec["method"], ""),
                    n_used=int(st["budget"]),
                    top_interaction=st.get("top_interaction"),
                    best_region=st.get("best_region") or None,
                    fallback=bool(st.get("fallback", False)),
                    repaired=bool(st.get("repaired", False)),
                    note="reply unusable: uniform fallback weights" if st.get("fallback") else "",
                )
            )
    return pd.DataFrame(rows)


def _row(
    bench: str, seed: int, budget: int, method: str, source: str, weights: dict[str, float] | None, **kw: Any
) -> dict[str, Any]:
    """One statement in the layout every source shares (None where a source has no such facet)."""
    base = {"top_interaction": None, "best_region": None, "plotted_pair": None, "fallback": False, "repaired": False}
    key = {"benchmark": bench, "seed": seed, "budget": budget, "method": method, "source": source}
    return {**key, "weights": weights, **base, **kw}


# --- the analyses of a history ------------------------------------------------------------------------------------


def normalized(raw: dict[str, float], names: Sequence[str]) -> tuple[dict[str, float], str]:
    """Non-negative weights summing to 1 over ``names``; uniform with a note when nothing is positive."""
    vals = {n: max(float(raw.get(n, 0.0)), 0.0) for n in names}
    total = sum(vals.values())
    if not math.isfinite(total) or total <= 0:
        return {n: 1.0 / len(names) for n in names}, NO_WEIGHTS_NOTE
    return {n: v / total for n, v in vals.items()}, ""


def measure_study(space: Any, configs: Sequence[dict[str, Any]], values: Sequence[float]) -> Any:
    """An Optuna study of these trials encoded on the truth's measure.

    Optuna's fANOVA integrates over the raw parameter range (its search-space transform runs with
    ``transform_log=False, transform_step=False``): a log-scale range would be weighted by its largest values and an
    integer or grid index range would give its end points half a cell. So log-scale values enter as their log, and
    every integer (grid indices included) as a float in ``[low - step/2, high + step/2]``: each value one equal cell.
    """
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists, encode = {}, {}
    for name, d in optuna_distributions(space).items():
        if isinstance(d, IntDistribution):
            lo, hi = d.low - d.step / 2, d.high + d.step / 2
            if d.log:
                dists[name], encode[name] = FloatDistribution(math.log(max(lo, 0.5)), math.log(hi)), math.log
            else:
                dists[name], encode[name] = FloatDistribution(lo, hi), float
        elif isinstance(d, FloatDistribution) and d.log:
            dists[name], encode[name] = FloatDistribution(math.log(d.low), math.log(d.high)), math.log
        else:
            dists[name], encode[name] = d, (lambda v: v)
    study = optuna.create_study(direction="minimize")
    trials = []
    for c, v in zip(configs, values):
        params = {k: encode[k](x) for k, x in optuna_params(space, c).items()}
        trials.append(optuna.trial.create_trial(params=params, distributions=dists, value=float(v)))
    study.add_trials(trials)
    return study


def data_fanova(space: Any, configs: Sequence[dict[str, Any]], losses: Sequence[float]) -> tuple[dict, str]:
    """fANOVA main effects (seeded) of these trials' rank-transformed losses on the truth's measure, as weights."""
    import warnings

    from optuna.importance import FanovaImportanceEvaluator

    names = list(optuna_distributions(space))
    ranks = rank_transform(np.asarray(losses, dtype=float))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw, failed = FanovaImportanceEvaluator(seed=FANOVA_SEED).evaluate(measure_study(space, configs, ranks)), ""
        except RuntimeError as exc:  # zero variance in every tree (all losses equal)
            raw, failed = {}, f"analysis failed ({exc})"
    weights, note = normalized(raw, names)
    said = "; ".join(dict.fromkeys(str(w.message).split(". ")[0] for w in caught))
    return weights, "; ".join(filter(None, [failed, note, said]))


def echo(space: Any, configs: Sequence[dict[str, Any]], losses: Sequence[float]) -> tuple[dict, list[str], str]:
    """What the images show: influence scores as weights, the plotted pair (their top two), and a note."""
    from hpo.core.influence import influence_scores, order

    names = list(optuna_distributions(space))
    scores = influence_scores(space, configs, losses)  # once: the weights and the plotted pair come from the same
    weights, note = normalized(scores, names)
    return weights, order(scores)[:2], note


# --- the ladder over every LLM run -------------------------------------------------------------------------------


def prefixes(
    df: pd.DataFrame, benches: Sequence[str], budgets: Sequence[int], methods: Sequence[str] | None = None
) -> Iterator[tuple[str, str, int, int, pd.DataFrame]]:
    """(benchmark, method, seed, budget, the run's finite rows up to that budget) for every run of ``methods`` (all
    when None) on ``benches`` and every budget the run reached (one it did not reach is missing, never its last)."""
    want = df[df["benchmark"].isin(benches)]
    if methods is not None:
        want = want[want["method"].isin(methods)]
    for (bench, method, seed), run in want.groupby(["benchmark", "method", "seed"], sort=True):
        run = run.sort_values("trial")
        for budget in budgets:
            prefix = run[run["trial"] <= budget]
            if int(prefix["trial"].max() if len(prefix) else 0) >= budget:
                finite = prefix[np.isfinite(prefix["loss"].astype(float))]
                yield str(bench), str(method), int(seed), int(budget), finite


def ladder_rows(
    df: pd.DataFrame,
    importance: dict[str, dict[str, Any]],
    budgets: Sequence[int],
    statements: pd.DataFrame,
    roles: dict[str, str],
    kinds: dict[str, str],
) -> tuple[pd.DataFrame, list[str]]:
    """The ladder's statements (all but ``prior``, which is the model's own) for every LLM run and budget, and notes.

    LLM runs = the methods with a statement; identical histories (the shared initial design) are analysed once.
    """
    notes: list[str] = []
    llm = sorted(set(statements["method"])) if len(statements) else []
    if not llm or df.empty:
        return pd.DataFrame(), notes
    spaces = {b: space_of(rec) for b, rec in importance.items()}
    random_methods = [m for m, k in kinds.items() if k == RANDOM_KIND and m in set(df["method"])]
    if not random_methods:
        notes.append("data_fanova_random absent: the study has no random_search run of the same (benchmark, seed)")
    random = {(b, s, n): p for b, m, s, n, p in prefixes(df, list(importance), budgets, random_methods[:1])}
    priors = statements[statements["source"] == "prior"].set_index(["benchmark", "method", "seed"])["weights"]
    cache: dict[tuple, Any] = {}

    def cached(kind: str, bench: str, rows: pd.DataFrame) -> Any:
        key = (kind, bench, tuple(rows["config"]), tuple(rows["loss"].astype(float)))
        if key not in cache:
            fn = data_fanova if kind == "fanova" else echo
            cache[key] = fn(spaces[bench], [json.loads(c) for c in rows["config"]], rows["loss"].astype(float).tolist())
        return cache[key]

    rows = []
    for bench, method, seed, budget, prefix in prefixes(df, list(importance), budgets, llm):
        common = {"kind": kinds.get(method, method), "role": roles.get(method, ""), "n_used": len(prefix)}
        ew, pair, enote = cached("echo", bench, prefix)
        fw, fnote = cached("fanova", bench, prefix)
        rows.append(_row(bench, seed, budget, method, "chance", None, **common, note=""))
        rows.append(_row(bench, seed, budget, method, "image_echo", ew, **common, plotted_pair=pair, note=enote))
        rows.append(_row(bench, seed, budget, method, "data_fanova", fw, **common, note=fnote))
        rand = random.get((bench, seed, budget))
        if rand is not None:
            rw, rnote = cached("fanova", bench, rand)
            rnote = "; ".join(filter(None, [f"{random_methods[0]}'s first {budget} trials", rnote]))
            rand_common = {**common, "n_used": len(rand)}
            rows.append(_row(bench, seed, budget, method, "data_fanova_random", rw, **rand_common, note=rnote))
        prior = priors.get((bench, method, seed))
        if prior is not None:
            mixed = {k: (prior[k] + fw[k]) / 2 for k in fw}
            rows.append(_row(bench, seed, budget, method, "prior_data", mixed, **common, note="mean of prior and data"))
    return pd.DataFrame(rows), notes
