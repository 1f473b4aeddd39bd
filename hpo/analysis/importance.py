"""Ground-truth hyperparameter importance of a benchmark: what a model's stated importance is scored against.

Two estimators, one output layout (:func:`importance_json`):

* ``exact_grid`` (the tabular families). Every configuration's loss is in the table, so the functional ANOVA
  decomposition is exact: with uniform weight on every grid point, the main effect of hyperparameter *i* is the
  variance of its marginal means, ``Var_x_i(E[f | x_i])``, divided by the total variance, and the pairwise term of
  (*i*, *j*) is the variance of ``E[f | x_i, x_j] - f_i - f_j - mu`` divided by the total variance (Hooker 2007,
  Hutter et al. 2014). It is computed by reshaping the table's mean loss (mean over the table's seeds, as regret
  uses) to the grid and averaging over axes: milliseconds per table.
* ``fanova_sample`` (live ML, synthetic, custom). No table, so the decomposition is *estimated* from a seeded uniform
  sample of true losses with Optuna's :class:`~optuna.importance.FanovaImportanceEvaluator` (fixed seed; a random
  forest surrogate, Hutter et al. 2014), with percentile bootstrap intervals over resampled trials (primary
  transform; :data:`N_BOOTSTRAP` resamples, so they are rough). Optuna's evaluator gives main effects only, so
  ``pairs`` is empty there (said in ``note``). The sample (configurations and true losses) is stored in the output.

Both are computed on two loss transforms: ``rank`` (the loss replaced by its rank, ties averaged: invariant to
monotone transforms of the loss, which is all an optimizer's ranking of configurations ever sees; the primary one)
and ``raw`` (the loss itself; on FCNet a few diverged networks dominate its variance).

``top_pair`` is the two hyperparameters with the largest main effects (ties by name): what the multimodal images'
"two most influential hyperparameters" estimate from the history (:func:`hpo.influence.influence`).
``top_interaction`` is the pair with the largest pairwise term (exact grids only).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.identity import check_importance

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from hpo.benchmarks.base import Benchmark

TRANSFORMS = ("rank", "raw")
PRIMARY = "rank"
# Sample-based estimates: size of the seeded sample (live benchmarks: fewer when one evaluation is slow, so a
# benchmark costs about SAMPLE_SECONDS of fits), bootstrap resamples and interval level, Optuna's forest seed.
SAMPLE_MAX = 256
SAMPLE_MIN = 64
SAMPLE_SECONDS = 40.0
N_BOOTSTRAP = 10
CI_LEVEL = 0.90
FANOVA_SEED = 0
PAIR_SEP = "|"
ONE_HP_NOTE = "one hyperparameter: its main effect is the whole variance; rankings and their scores do not apply"


def pair_key(a: str, b: str) -> str:
    """Key of a pairwise term in the JSON (names sorted, so (a, b) and (b, a) are one key)."""
    return PAIR_SEP.join(sorted((a, b)))


def rank_transform(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` (1 = lowest loss, ties averaged), in the same shape."""
    from scipy.stats import rankdata

    arr = np.asarray(values, dtype=float)
    return rankdata(arr.ravel(), method="average").reshape(arr.shape)


def functional_anova(values: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Exact main effects and pairwise terms of ``values`` (one axis per hyperparameter, uniform weights).

    Returns ``main`` {name: share}, ``pairs`` {"a|b": share}, ``total_variance``, ``sum_main``, ``sum_pairs``; shares
    are fractions of the total variance (NaN when the function is constant).
    """
    f = np.asarray(values, dtype=float)
    if f.ndim != len(names):
        raise ValueError(f"grid has {f.ndim} axes but {len(names)} hyperparameter names were given")
    if not np.isfinite(f).all():
        raise ValueError("grid values must be finite (a table point has no loss)")
    d = f.ndim
    mu = float(f.mean())
    total = float(np.mean((f - mu) ** 2))

    def marginal(keep: tuple[int, ...]) -> np.ndarray:
        return f.mean(axis=tuple(k for k in range(d) if k not in keep)) - mu

    mains = [marginal((i,)) for i in range(d)]
    main_var = [float(np.mean(m**2)) for m in mains]
    pair_var = {}
    for i, j in itertools.combinations(range(d), 2):
        term = marginal((i, j)) - mains[i][:, None] - mains[j][None, :]
        pair_var[pair_key(names[i], names[j])] = float(np.mean(term**2))
    share = (lambda v: v / total) if total > 0 else (lambda v: math.nan)
    main = {n: share(v) for n, v in zip(names, main_var)}
    pairs = {k: share(v) for k, v in pair_var.items()}
    return {
        "main": main,
        "pairs": pairs,
        "total_variance": total,
        "sum_main": float(sum(main.values())),
        "sum_pairs": float(sum(pairs.values())),
    }


def top_pair(main: dict[str, float]) -> list[str]:
    """The two hyperparameters with the largest main effects (ties broken by name); [] with fewer than two."""
    if len(main) < 2 or any(math.isnan(v) for v in main.values()):
        return []
    return sorted(main, key=lambda n: (-main[n], n))[:2]


def top_interaction(pairs: dict[str, float]) -> list[str]:
    """The pair with the largest pairwise term, [] when there is none."""
    if not pairs or any(math.isnan(v) for v in pairs.values()):
        return []
    return min(pairs, key=lambda k: (-pairs[k], k)).split(PAIR_SEP)


def _summarize(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "top_pair": top_pair(result["main"]), "top_interaction": top_interaction(result["pairs"])}


def grid_of(benchmark_id: str) -> tuple[list[str], list[list[Any]]]:
    """Hyperparameter names and choices of a tabular benchmark, in the table's axis order (its family's grid)."""
    from hpo.benchmarks import family_of

    family, _ = family_of(benchmark_id)
    grid = family.bench_cls().search_space
    return list(grid), [list(v) for v in grid.values()]


def table_mean_loss(npz: str | Path, sizes: Sequence[int]) -> np.ndarray:
    """The converted table's mean loss over its seeds, reshaped to the grid (the .npz rows are in C order)."""
    with np.load(npz) as data:
        loss, stored = data["loss"], [int(s) for s in data["sizes"]]
    if stored != list(sizes):
        raise ValueError(f"{npz}: table grid {stored} does not match the family's grid {list(sizes)}; reconvert it")
    return np.nanmean(loss, axis=1).reshape(sizes)


def exact_importance(benchmark_id: str, npz: str | Path) -> dict[str, Any]:
    """Exact functional ANOVA of a tabular benchmark on the rank and raw transforms of its mean loss."""
    names, choices = grid_of(benchmark_id)
    f = table_mean_loss(npz, [len(c) for c in choices])
    return {
        "method": "exact_grid",
        "n_points": int(f.size),
        "transforms": {
            "rank": _summarize(functional_anova(rank_transform(f), names)),
            "raw": _summarize(functional_anova(f, names)),
        },
        "hyperparameters": names,
        "note": "",
    }


# --- Optuna helpers, shared with the data-analysis baseline (hpo.analysis.insight) -------------------------------


def optuna_distributions(space: ConfigurationSpace) -> dict[str, Any]:
    """One Optuna distribution per hyperparameter.

    Ordinal grids become ``IntDistribution`` over their *indices*: the grid points then get equal measure, as in
    the exact ground truth (uniform weight per grid point), and log-spaced grids (learning rates) are not squashed
    into their largest values, which a ``FloatDistribution`` over the raw values would do. This is also how the
    project's ``optuna_tpe`` sees ordinals. Categoricals stay categorical; numeric ranges keep their log scale.
    """
    import ConfigSpace as CS
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for hp in space.values():
        if isinstance(hp, CS.OrdinalHyperparameter):
            out[hp.name] = IntDistribution(0, len(hp.sequence) - 1)
        elif isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            out[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            out[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.Constant):
            continue  # no variance to attribute
        else:
            raise TypeError(f"hyperparameter {hp.name}: type {type(hp).__name__} has no Optuna distribution here")
    return out


def optuna_params(space: ConfigurationSpace, config: dict[str, Any]) -> dict[str, Any]:
    """A configuration in the encoding of :func:`optuna_distributions` (ordinal values -> their index)."""
    import ConfigSpace as CS

    out = {}
    for hp in space.values():
        if isinstance(hp, CS.Constant):
            continue
        value = config[hp.name]
        if isinstance(hp, CS.OrdinalHyperparameter):
            seq = list(hp.sequence)
            hits = [i for i, c in enumerate(seq) if c == value or (not isinstance(c, str) and np.isclose(c, value))]
            if not hits:
                raise ValueError(f"hyperparameter {hp.name}: value {value!r} is not in its grid {seq}")
            value = hits[0]
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            value = int(value)
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            value = float(value)
        out[hp.name] = value
    return out


def optuna_study(space: ConfigurationSpace, configs: Sequence[dict[str, Any]], values: Sequence[float]) -> Any:
    """An in-memory Optuna study holding exactly these (configuration, value) trials, built with ``create_trial``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = optuna_distributions(space)
    study = optuna.create_study(direction="minimize")
    study.add_trials(
        [
            optuna.trial.create_trial(params=optuna_params(space, c), distributions=dists, value=float(v))
            for c, v in zip(configs, values)
        ]
    )
    return study


def fanova_main_effects(space: ConfigurationSpace, configs: Sequence[dict[str, Any]], values: Sequence[float]) -> dict:
    """Optuna fANOVA main effects (fractions of variance, not renormalized) of these trials, seeded."""
    from optuna.importance import FanovaImportanceEvaluator

    study = optuna_study(space, configs, values)
    result = FanovaImportanceEvaluator(seed=FANOVA_SEED).evaluate(study)
    return {name: float(result.get(name, 0.0)) for name in optuna_distributions(space)}


# --- sample-based estimate ---------------------------------------------------------------------------------------


def sample_size(benchmark_id: str) -> int:
    """Sample size for a benchmark without a table: :data:`SAMPLE_MAX`, fewer when its stored mean evaluation time
    (reference file) says the fits would take longer than :data:`SAMPLE_SECONDS`."""
    # Through the registry, not ``hpo.benchmarks.live_ml`` directly: a family's code is part of each benchmark's own
    # fingerprint (rule importance's ``benchmark`` param), so editing a live model reruns only live benchmarks.
    from hpo import benchmarks

    live_ml = benchmarks.live_ml

    if live_ml.parse(benchmark_id) is None:
        return SAMPLE_MAX
    entry = live_ml.load_references()["benchmarks"].get(benchmark_id, {})
    per_eval = float(entry.get("eval_time_s", {}).get("mean", 0.0))
    if per_eval <= 0:
        return SAMPLE_MAX
    return int(min(SAMPLE_MAX, max(SAMPLE_MIN, SAMPLE_SECONDS // per_eval)))


def sample_importance(
    bench: Benchmark, n: int, n_bootstrap: int = N_BOOTSTRAP, ci_level: float = CI_LEVEL
) -> dict[str, Any]:
    """fANOVA main effects estimated from ``n`` seeded uniform samples of ``bench``'s true loss, with bootstrap CIs.

    The sampler is seeded like the reference values (``stable_seed("reference", id)``), so the sample is drawn the
    same way the stored f_ref was; the sample itself (configurations and true losses) is returned for reuse.
    """
    from ConfigSpace import ConfigurationSpace

    from hpo.space import config_dict, stable_seed

    if n < 2:
        raise ValueError(f"sample size must be at least 2, got {n}")
    space = bench.space
    seed = stable_seed("reference", bench.id)
    sampler = ConfigurationSpace(seed=seed)
    sampler.add(list(space.values()))
    configs = [config_dict(c) for c in sampler.sample_configuration(n)]
    t0 = time.perf_counter()
    losses = np.array([bench.true_loss(c) for c in configs], dtype=float)
    eval_seconds = time.perf_counter() - t0
    names = list(optuna_distributions(space))
    ok = np.isfinite(losses)
    kept = [c for c, k in zip(configs, ok) if k]
    kept_losses = losses[ok]
    rng = np.random.default_rng(seed)
    boot_idx = [rng.integers(0, len(kept), size=len(kept)) for _ in range(n_bootstrap)]
    transforms: dict[str, Any] = {}
    notes = [] if ok.all() else [f"{int((~ok).sum())} of {n} sampled losses are not finite and were left out"]
    for transform in TRANSFORMS:

        def target(y: np.ndarray, transform: str = transform) -> np.ndarray:
            return rank_transform(y) if transform == "rank" else y

        try:
            main = fanova_main_effects(space, kept, target(kept_losses))
        except RuntimeError as exc:  # Optuna: zero variance in every tree (constant losses)
            notes.append(f"{transform}: fANOVA not computable ({exc})")
            transforms[transform] = _summarize(
                {"main": {h: math.nan for h in names}, "pairs": {}, "sum_main": math.nan, "sum_pairs": math.nan}
            )
            continue
        boots = []
        for idx in boot_idx if transform == PRIMARY else []:  # intervals for the primary transform only (time)
            try:
                boots.append(fanova_main_effects(space, [kept[i] for i in idx], target(kept_losses[idx])))
            except RuntimeError:
                continue
        result = {"main": main, "pairs": {}, "sum_main": float(sum(main.values())), "sum_pairs": math.nan}
        if boots:
            q = [(1 - ci_level) / 2, 1 - (1 - ci_level) / 2]
            result["main_ci"] = {h: [float(v) for v in np.quantile([b[h] for b in boots], q)] for h in names}
            result["n_bootstrap_ok"] = len(boots)
        transforms[transform] = _summarize(result)
    notes.append(f"Optuna's fANOVA estimates main effects only (no pairwise terms); bootstrap intervals ({PRIMARY})")
    return {
        "method": "fanova_sample",
        "hyperparameters": names,
        "n_points": n,
        "transforms": transforms,
        "sample": {"seed": seed, "configs": configs, "loss": [float(v) for v in losses]},
        "bootstrap": {"n": n_bootstrap, "level": ci_level, "transform": PRIMARY, "fanova_seed": FANOVA_SEED},
        "eval_seconds": eval_seconds,
        "note": "; ".join(notes),
    }


def importance_json(
    benchmark_id: str,
    *,
    table: str | Path | None = None,
    bench: Benchmark | None = None,
    n_sample: int | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
) -> dict[str, Any]:
    """The ground-truth record of one benchmark: exact on a table, else sample-based on ``bench``.

    Also stores the benchmark's ConfigSpace (serialized), so later stages can build Optuna trials and the images'
    influence ordering without rebuilding the benchmark.
    """
    from hpo import benchmarks

    t0 = time.perf_counter()
    if benchmarks.needs_table(benchmark_id):
        if table is None:
            raise ValueError(f"{benchmark_id}: a tabular benchmark needs its converted table (.npz)")
        bench = bench or benchmarks.make(benchmark_id, table_path=table)
        result = exact_importance(benchmark_id, table)
    else:
        bench = bench or benchmarks.make(benchmark_id)
        result = sample_importance(bench, n_sample or sample_size(benchmark_id), n_bootstrap)
    n_hp = len(result["hyperparameters"])
    if n_hp == 1:
        result["note"] = "; ".join(filter(None, [ONE_HP_NOTE, result["note"]]))
    return {
        "benchmark": benchmark_id,
        **result,
        "n_hyperparameters": n_hp,
        "primary_transform": PRIMARY,
        "loss": bench.info.get("loss", ""),
        "space": bench.space.to_serialized_dict(),
        "seconds": time.perf_counter() - t0,
    }


def load_importance(path: str | Path) -> dict[str, Any]:
    """Read one importance JSON, with a one-line error naming the file when it is unusable."""
    import json

    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"importance file {path} unreadable: {exc}") from None
    missing = [k for k in ("benchmark", "method", "hyperparameters", "transforms", "space") if k not in data]
    if missing:
        raise ValueError(f"importance file {path} lacks keys {missing}; rerun rule importance")
    data["transforms"] = _nan_for_null(data["transforms"])  # undo write_importance's null: readers see floats
    check_importance(data, path)  # identity of the benchmark its path names; main effects >= 0
    return data


def _nan_for_null(x: Any) -> Any:
    if x is None:
        return math.nan
    if isinstance(x, dict):
        return {k: _nan_for_null(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_nan_for_null(v) for v in x]
    return x


def space_of(record: dict[str, Any]) -> ConfigurationSpace:
    """The ConfigSpace stored in an importance record (ConfigSpace's decoder consumes its input: given a copy)."""
    import copy

    from ConfigSpace import ConfigurationSpace

    return ConfigurationSpace.from_serialized_dict(copy.deepcopy(record["space"]))


def write_importance(record: dict[str, Any], out: str | Path) -> None:
    """Write an importance record as JSON, atomically (NaN as null, so it stays valid JSON)."""
    import json

    from hpo.atomic import atomic_path

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(clean(record), indent=1) + "\n")


def importance_table(records: Sequence[dict[str, Any]]) -> Any:
    """All records as one long table: one row per benchmark x transform x term (main effect or pair)."""
    import pandas as pd

    rows = []
    for rec in records:
        for transform, res in rec["transforms"].items():
            main = res["main"]
            order = sorted(main, key=lambda n: (math.isnan(main[n]), -main[n] if not math.isnan(main[n]) else 0, n))
            ci = res.get("main_ci", {})
            for name in rec["hyperparameters"]:
                lo, hi = ci.get(name, [math.nan, math.nan])
                rows.append(
                    {
                        "benchmark": rec["benchmark"],
                        "method": rec["method"],
                        "transform": transform,
                        "primary": transform == rec.get("primary_transform", PRIMARY),
                        "term": "main",
                        "hyperparameters": name,
                        "share": main[name],
                        "ci_low": lo,
                        "ci_high": hi,
                        "rank": order.index(name) + 1,
                        "n_points": rec.get("n_points"),
                        "note": rec.get("note", ""),
                    }
                )
            for key, share in res.get("pairs", {}).items():
                rows.append(
                    {
                        "benchmark": rec["benchmark"],
                        "method": rec["method"],
                        "transform": transform,
                        "primary": transform == rec.get("primary_transform", PRIMARY),
                        "term": "pair",
                        "hyperparameters": key,
                        "share": share,
                        "ci_low": math.nan,
                        "ci_high": math.nan,
                        "rank": math.nan,
                        "n_points": rec.get("n_points"),
                        "note": rec.get("note", ""),
                    }
                )
    return pd.DataFrame(rows)
