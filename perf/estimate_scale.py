"""Time of ``python -m hpo estimate`` as the study grows (printed, not asserted): n_trials 1,000 to 100,000.

Issue 28 found the preview quadratic (the history block was rebuilt and its prefix sorted for every trial):
``n_trials: 100000`` did not finish in 240 s. Goal: <= 5 s at 100,000 trials for one LLM method on one benchmark
and seed, and time growing linearly (the printed ratio time(n) / time(n / 10) near 10, not 100).

Usage: python perf/estimate_scale.py [--trials 1000 10000 100000] [--benchmark mlp-credit_g]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import yaml

GOAL_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--benchmark", default="mlp-credit_g")
    args = parser.parse_args()
    os.environ.setdefault("HPO_LLM_SPEND", json.dumps({}))  # load_study sets the study's caps in this process
    from hpo.study.cli import load_study
    from hpo.study.estimate import estimate

    previous = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.trials:
            study = {"benchmarks": [args.benchmark], "methods": {"llm": {"kind": "llm"}}, "seeds": [0]}
            study |= {"n_trials": n, "n_init": 10, "results": f"{tmp}/results", "logs": f"{tmp}/logs"}
            path = Path(tmp) / "study.yaml"
            path.write_text(yaml.safe_dump(study))
            t0 = time.perf_counter()
            (row,) = estimate(load_study(path))
            seconds = time.perf_counter() - t0
            growth = f", x{seconds / previous[1]:.1f} for x{n / previous[0]:.0f} trials" if previous else ""
            print(
                f"n_trials {n:>7,}: {seconds:6.2f} s ({seconds / GOAL_S:.2f} of the {GOAL_S:g} s goal{growth}); "
                f"{row.calls:,.0f} calls, {row.prompt_tokens:,.0f} prompt tokens"
            )
            previous = (n, seconds)


if __name__ == "__main__":
    main()
