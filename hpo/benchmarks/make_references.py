"""Compute the reference values (f_star, f_ref, f_worst) of the live ML and synthetic benchmarks, once.

Run ``python -m hpo.benchmarks.make_references`` (all ids, ~30 min on one core) or ``--ids svm-wine synth-branin``
to refresh some; results are merged into ``hpo/benchmarks/references/{live_ml,synthetic}.json``.

Why stored and not computed per job: a live benchmark has no table, so its median loss needs many real fits; every
run job would pay for them. Why from the benchmark alone: normalized regret must not depend on which methods a study
runs (see :mod:`hpo.analysis.regret`).

Live ML procedure (all losses are true losses, i.e. model seed 0):

1. ``N_RANDOM`` configurations drawn uniformly from the space (ConfigSpace sampler seeded with
   ``stable_seed("reference", id)``) plus the space's default (HPOBench's default configuration);
2. f_ref = median, f_worst = max of the losses in step 1 (the median of a uniform sample estimates the space's median);
3. a seeded local search refines the optimum: ``N_LOCAL`` Gaussian perturbations (sd ``LOCAL_SD`` in the unit-cube
   encoding) around the ``TOP_K`` best configurations; f_star = min over steps 1 and 3.

f_star is thus an upper bound of the true optimum, tight in practice because the validation loss is discrete
(1 - balanced accuracy on 59-594 points); an optimizer that beats it gets regret 0 (regret is clipped at 0).
The stored ``best_config`` lets a test re-derive f_star with one fit (it does so in ``tests/test_live_benchmarks.py``).

Synthetic procedure: f_star is analytic; f_ref/f_worst are the median/max over ``N_SYNTH`` points drawn uniformly
from the box with ``numpy.random.default_rng(0)``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

N_RANDOM = 1000
N_LOCAL = 200
TOP_K = 5
LOCAL_SD = 0.05
N_SYNTH = 100_000
SYNTH_SEED = 0
LIVE_PROCEDURE = (
    "true losses (model seed 0) of the default configuration plus n_random uniform samples (ConfigSpace sampler "
    "seeded with sample_seed): f_ref = median, f_worst = max; f_star = min over those plus n_local Gaussian "
    "perturbations (sd local_sd in the unit cube) around the top_k best. See hpo/benchmarks/make_references.py."
)
SYNTH_PROCEDURE = (
    "f_star analytic; f_ref = median and f_worst = max over n points drawn uniformly from the box with "
    "numpy.random.default_rng(seed). See hpo/benchmarks/make_references.py."
)


def _versions(names: list[str]) -> dict[str, str]:
    from hpo.util.versions import package_versions

    return package_versions(names)


def live_reference(benchmark_id: str, n_random: int = N_RANDOM, n_local: int = N_LOCAL) -> dict[str, Any]:
    """Reference values of one live benchmark by the procedure in the module docstring, with timings."""
    from ConfigSpace import Configuration, ConfigurationSpace

    from hpo import benchmarks
    from hpo.core.space import config_dict, stable_seed

    bench = benchmarks.make(benchmark_id)
    space = bench.space
    seed = stable_seed("reference", benchmark_id)
    sampler = ConfigurationSpace(seed=seed)
    sampler.add(list(space.values()))
    configs = [space.get_default_configuration()]
    configs += [Configuration(space, values=dict(c)) for c in sampler.sample_configuration(n_random)]

    fit_costs: list[float] = []
    eval_times: list[float] = []
    rng = np.random.default_rng(seed)

    def loss_of(config: Configuration) -> float:
        t0 = time.perf_counter()
        ev = bench.evaluate(config, rng)  # noisy=False: model seed 0, i.e. the true loss
        eval_times.append(time.perf_counter() - t0)
        fit_costs.append(ev.cost)
        return ev.loss

    losses = np.array([loss_of(c) for c in configs])
    top = np.argsort(losses, kind="stable")[:TOP_K]
    local_losses, local_configs = [], []
    for i in range(n_local):
        center = configs[int(top[i % TOP_K])].get_array()
        vector = np.clip(center + rng.normal(0.0, LOCAL_SD, size=center.shape), 0.0, 1.0)
        config = Configuration(space, vector=vector)
        local_configs.append(config)
        local_losses.append(loss_of(config))
    all_losses = np.concatenate([losses, local_losses])
    best = int(np.argmin(all_losses))
    best_config = (configs + local_configs)[best]
    return {
        "f_star": float(all_losses[best]),
        "f_ref": float(np.median(losses)),
        "f_worst": float(losses.max()),
        "best_config": config_dict(best_config),
        "best_of_random_sample": float(losses.min()),
        "n_random": len(configs),
        "n_local": n_local,
        "sample_seed": seed,
        "fit_time_s": {
            "mean": float(np.mean(fit_costs)),
            "median": float(np.median(fit_costs)),
            "max": float(np.max(fit_costs)),
        },
        "eval_time_s": {
            "mean": float(np.mean(eval_times)),
            "median": float(np.median(eval_times)),
            "max": float(np.max(eval_times)),
        },
    }


def synthetic_reference(benchmark_id: str, n: int = N_SYNTH) -> dict[str, Any]:
    """f_ref/f_worst of a synthetic function from a seeded uniform sample; f_star is analytic."""
    from hpo.benchmarks import synthetic

    function = synthetic.parse(benchmark_id)
    if function is None:
        raise ValueError(f"{benchmark_id!r} is not a synthetic benchmark; allowed: {', '.join(synthetic.ids())}")
    values = synthetic.reference_sample(function, n, SYNTH_SEED)
    return {
        "f_star": function.f_star,
        "f_ref": float(np.median(values)),
        "f_worst": float(values.max()),
        "sample_min": float(values.min()),
        "n": n,
        "sample_seed": SYNTH_SEED,
    }


def _merge(path: Path, header: dict[str, Any], entries: dict[str, Any]) -> None:
    from hpo.util.atomic import atomic_path

    old = json.loads(path.read_text()) if path.exists() else {}
    merged = {**header, "benchmarks": dict(sorted({**old.get("benchmarks", {}), **entries}.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
        tmp.chmod(0o644)  # package data, readable by all (the temp file is created 0600)


def main(argv: list[str] | None = None) -> None:
    """Compute and store the references of the given ids (default: every live and synthetic benchmark)."""
    from hpo.benchmarks import live_ml, synthetic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", nargs="*", help="benchmark ids (default: all live ML and synthetic ones)")
    parser.add_argument("--n-random", type=int, default=N_RANDOM)
    parser.add_argument("--n-local", type=int, default=N_LOCAL)
    parser.add_argument("--out-dir", type=Path, default=live_ml.REFERENCES.parent)
    args = parser.parse_args(argv)
    ids = args.ids or [*live_ml.ids(), *synthetic.ids()]
    unknown = [i for i in ids if i not in live_ml.ids() and i not in synthetic.ids()]
    if unknown:
        parser.error(f"not live ML or synthetic benchmarks: {', '.join(unknown)}")

    live: dict[str, Any] = {}
    synth: dict[str, Any] = {}
    for benchmark_id in ids:
        t0 = time.perf_counter()
        if benchmark_id in synthetic.ids():
            synth[benchmark_id] = entry = synthetic_reference(benchmark_id)
        else:
            live[benchmark_id] = entry = live_reference(benchmark_id, args.n_random, args.n_local)
        print(
            f"{benchmark_id}: f_star={entry['f_star']:.6g} f_ref={entry['f_ref']:.6g} "
            f"f_worst={entry['f_worst']:.6g} ({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    if live:
        header = {
            "procedure": LIVE_PROCEDURE,
            "generated_by": "python -m hpo.benchmarks.make_references",
            "settings": {
                "n_random": args.n_random,
                "n_local": args.n_local,
                "top_k": TOP_K,
                "local_sd": LOCAL_SD,
                "true_seed": 0,
                "threads": 1,
            },
            "versions": _versions(["numpy", "scikit-learn", "xgboost-cpu", "ConfigSpace", "threadpoolctl"]),
            "machine": platform.processor() or platform.machine(),
        }
        _merge(args.out_dir / "live_ml.json", header, live)
    if synth:
        header = {
            "procedure": SYNTH_PROCEDURE,
            "generated_by": "python -m hpo.benchmarks.make_references",
            "settings": {"n": N_SYNTH, "seed": SYNTH_SEED},
            "versions": _versions(["numpy"]),
        }
        _merge(args.out_dir / "synthetic.json", header, synth)


if __name__ == "__main__":
    main()
