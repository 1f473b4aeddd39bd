"""Calibrate the cost curves of the multi-fidelity live benchmarks (``mf-<model>-<dataset>``), once.

Run ``python -m hpo.benchmarks.make_mf_costs`` (all ids, a few minutes on one core) or ``--ids mf-rf-wine`` to
refresh some; results are merged into ``hpo/benchmarks/references/live_mf.json``.

Why a stored curve and not the measured fit time: the study's budget on a multi-fidelity benchmark is normalized
cost, so a cost measured per evaluation would make where a run stops, and everything after, differ between two
processes on the same machine. Procedure, per id:

1. ``N_CONFIGS`` configurations: the space's default plus uniform samples (ConfigSpace sampler seeded with
   ``stable_seed("cost-calibration", id)``);
2. ``N_LEVELS`` fidelity levels spaced geometrically from the minimum to the maximum (counts rounded to integers);
3. each (configuration, level) is fit ``REPEATS`` times with model seed 0 on one thread; its time is the minimum
   CPU time of the fit (the least disturbed by other work on the machine);
4. relative cost of a level = median over configurations of time(level) / time(maximum), made non-decreasing and at
   most 1 (1.0 at the maximum by construction).

The benchmark interpolates linearly between the levels. The median fit CPU seconds per level and the CPU time of a
maximum-fidelity evaluation (fit and predict) are kept for the record, with the machine and library versions.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

N_CONFIGS = 12
N_LEVELS = 6
REPEATS = 3
PROCEDURE = (
    "fit CPU seconds (model seed 0, one thread, min of repeats fits) of the default configuration plus n_configs - 1 "
    "uniform samples (ConfigSpace sampler seeded with sample_seed) at n_levels geometrically spaced fidelities; "
    "relative_cost = median over configurations of time(level) / time(max), non-decreasing, 1.0 at the maximum; "
    "the benchmark interpolates linearly. See hpo/benchmarks/make_mf_costs.py."
)


def levels(low: float, high: float, integer: bool, n: int = N_LEVELS) -> list[float]:
    """``n`` geometrically spaced fidelities from ``low`` to ``high`` (distinct integers for a count fidelity)."""
    grid = np.geomspace(low, high, n)
    grid = np.unique(np.round(grid)) if integer else np.round(grid, 4)
    grid[0], grid[-1] = low, high
    return [float(v) for v in grid]


def calibrate(benchmark_id: str, n_configs: int = N_CONFIGS, repeats: int = REPEATS) -> dict[str, Any]:
    """The cost curve of one multi-fidelity live benchmark by the procedure in the module docstring."""
    from ConfigSpace import ConfigurationSpace

    from hpo.benchmarks import live_mf
    from hpo.benchmarks.ml_models import FAMILIES
    from hpo.core.space import config_dict, stable_seed

    parsed = live_mf.parse(benchmark_id)
    if parsed is None:
        raise ValueError(
            f"{benchmark_id!r} is not a multi-fidelity live benchmark; allowed: {', '.join(live_mf.ids())}"
        )
    fid, dataset = parsed
    space = live_mf.LiveMFBenchmark(id=benchmark_id, fid=fid, dataset=dataset).space
    seed = stable_seed("cost-calibration", benchmark_id)
    sampler = ConfigurationSpace(seed=seed)
    sampler.add(list(space.values()))
    configs = [config_dict(space.get_default_configuration())]
    configs += [config_dict(c) for c in sampler.sample_configuration(n_configs - 1)]
    grid = levels(fid.low, fid.high, fid.integer)
    model = FAMILIES[fid.model]

    def seconds(config: dict[str, Any], level: float) -> float:
        return min(live_mf.fit_at(model, fid, dataset, config, 0, level)[1] for _ in range(repeats))

    times = np.array([[seconds(c, level) for level in grid] for c in configs])  # configs x levels
    eval_times = []
    for c in configs:
        t0 = time.process_time()
        live_mf.fit_at(model, fid, dataset, c, 0, fid.high)
        eval_times.append(time.process_time() - t0)
    relative = np.minimum(np.maximum.accumulate(np.median(times / times[:, -1:], axis=0)), 1.0)
    relative[-1] = 1.0
    return {
        "fidelity": fid.name,
        "levels": grid,
        "relative_cost": [float(v) for v in relative],
        "median_fit_cpu_s": [float(v) for v in np.median(times, axis=0)],
        "eval_cpu_s_at_max": {"mean": float(np.mean(eval_times)), "max": float(np.max(eval_times))},
        "n_configs": len(configs),
        "sample_seed": seed,
    }


def main(argv: list[str] | None = None) -> None:
    """Calibrate and store the cost curves of the given ids (default: every multi-fidelity live benchmark)."""
    from hpo.benchmarks import live_mf
    from hpo.benchmarks.make_references import _merge, _versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", nargs="*", help="benchmark ids (default: all mf-<model>-<dataset>)")
    parser.add_argument("--n-configs", type=int, default=N_CONFIGS)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--out", type=Path, default=live_mf.COSTS)
    args = parser.parse_args(argv)
    ids = args.ids or live_mf.ids()
    unknown = [i for i in ids if i not in live_mf.ids()]
    if unknown:
        parser.error(f"not multi-fidelity live benchmarks: {', '.join(unknown)}")
    entries: dict[str, Any] = {}
    for benchmark_id in ids:
        t0 = time.perf_counter()
        entries[benchmark_id] = entry = calibrate(benchmark_id, args.n_configs, args.repeats)
        curve = " ".join(f"{lv:g}:{c:.3f}" for lv, c in zip(entry["levels"], entry["relative_cost"]))
        print(f"{benchmark_id}: {curve} ({time.perf_counter() - t0:.1f} s)", flush=True)
    header = {
        "procedure": PROCEDURE,
        "generated_by": "python -m hpo.benchmarks.make_mf_costs",
        "settings": {"n_configs": args.n_configs, "n_levels": N_LEVELS, "repeats": args.repeats, "threads": 1},
        "versions": _versions(["numpy", "scikit-learn", "xgboost-cpu", "ConfigSpace", "threadpoolctl"]),
        "machine": platform.processor() or platform.machine(),
    }
    _merge(args.out, header, entries)


if __name__ == "__main__":
    main()
