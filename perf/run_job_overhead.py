"""Whole-process cost of run jobs (printed, not asserted).

1. Wall time of one random-search run job (100 trials, tabular) as a whole process (`python -m hpo run ...`).
   Reference: CARP-S takes 2.2-2.7 s for the same kind of run on a 2-core machine. Goal: <= 1.2 s.
2. Harness overhead of a SMAC run job: process wall time / time spent inside SMAC's ask + tell. Goal: <= 1.1.
   SMAC's import (~1.8 s) is part of the process, so the ratio is reported for 100 trials with and without it.

Usage: python perf/run_job_overhead.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def timed_run(benchmark: str, kind: str, out: Path, table: Path, n_trials: int = 100) -> float:
    cmd = [
        sys.executable,
        "-m",
        "hpo",
        "run",
        benchmark,
        kind,
        "--n-trials",
        str(n_trials),
        "--out",
        str(out),
        "--table",
        str(table),
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--benchmark", default="fcnet-naval_propulsion")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import hpo.benchmarks as B

    with tempfile.TemporaryDirectory() as tmp:
        table = B.convert(args.benchmark, Path(tmp) / "table.npz")
        out = Path(tmp) / "run.parquet"
        timed_run(args.benchmark, "random_search", out, table)  # warm the OS file cache
        walls = [timed_run(args.benchmark, "random_search", out, table) for _ in range(args.repeats)]
        med = statistics.median(walls)
        print(
            f"random_search, 100 trials, {args.benchmark}: median {med:.3f} s over {args.repeats} processes "
            f"(min {min(walls):.3f}); goal 1.2 s -> ratio {med / 1.2:.2f}; vs CARP-S 2.2-2.7 s -> "
            f"{med / 2.2:.2f}-{med / 2.7:.2f}"
        )
        for kind in ("smac_rf",):
            wall = timed_run(args.benchmark, kind, out, table)
            df = pq.read_table(out).to_pandas()
            inside = df["optimizer_time"].sum()
            job = df["wall_time"].iloc[-1]
            print(
                f"{kind}, 100 trials: process wall {wall:.2f} s, in-harness wall {job:.2f} s, ask+tell {inside:.2f} s"
                f" -> process/ask+tell {wall / inside:.3f}, harness/ask+tell {job / inside:.3f} (goal <= 1.1)"
            )


if __name__ == "__main__":
    main()
