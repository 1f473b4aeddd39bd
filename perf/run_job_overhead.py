"""Whole-process cost of a run job against its floors (printed, not asserted).

1. A 100-trial random-search run job (`python -m hpo run ... random_search`, tabular) as a whole process: wall time
   and peak memory (max RSS), median over ``--repeats`` processes, as ratios to
   - the import floor: `python -c "import ConfigSpace, pyarrow.parquet"`, what any run job must import to read its
     space and write its trajectory (targets: <= 1.3 x its wall time, <= 1.15 x its memory);
   - the same optimizer kind outside the harness: a script that builds the same benchmark, samples 100 configurations
     with ConfigSpace and evaluates them, with no spec, provenance, initial design, trajectory or file.
2. ``--smac``: harness overhead of a SMAC run job: process wall time / time spent inside SMAC's ask + tell (goal
   <= 1.1; SMAC's import, ~1.8 s, is part of the process).

Usage: python perf/run_job_overhead.py [--repeats 5] [--benchmark fcnet-naval_propulsion] [--smac]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import ConfigSpace, pyarrow.parquet"
# The same optimizer kind outside the harness: argv = benchmark id, converted table, trials.
OUTSIDE = """
import sys
import numpy as np
from hpo import benchmarks
bench = benchmarks.make(sys.argv[1], table_path=sys.argv[2])
space, rng = bench.space, np.random.default_rng(0)
space.seed(0)
losses = [bench.evaluate(c, rng).loss for c in space.sample_configuration(int(sys.argv[3]))]
print(min(losses))
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one process, read from the kernel's accounting of that child."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024  # Linux reports KiB


def median_of(cmd: list[str], repeats: int) -> tuple[float, float]:
    measure(cmd)  # warm the OS file cache
    runs = [measure(cmd) for _ in range(repeats)]
    return statistics.median(w for w, _ in runs), statistics.median(m for _, m in runs)


def run_cmd(benchmark: str, kind: str, out: Path, table: Path, n_trials: int) -> list[str]:
    return [sys.executable, "-m", "hpo", "run", benchmark, kind, "--n-trials", str(n_trials), "--out", str(out),
            "--table", str(table)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--benchmark", default="fcnet-naval_propulsion")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--smac", action="store_true", help="also measure the harness overhead of a SMAC run job")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import hpo.benchmarks as B

    with tempfile.TemporaryDirectory() as tmp:
        table = B.convert(args.benchmark, Path(tmp) / "table.npz")
        out = Path(tmp) / "run.parquet"
        floor = median_of([sys.executable, "-c", FLOOR], args.repeats)
        job = median_of(run_cmd(args.benchmark, "random_search", out, table, args.trials), args.repeats)
        outside = median_of([sys.executable, "-c", OUTSIDE, args.benchmark, str(table), str(args.trials)], args.repeats)
        print(f"median of {args.repeats} processes each; {args.trials} trials of {args.benchmark}")
        print(f"  import floor ({FLOOR}):      {floor[0]:.3f} s  {floor[1]:.0f} MiB")
        print(f"  random search outside the harness:  {outside[0]:.3f} s  {outside[1]:.0f} MiB")
        print(f"  random-search run job (hpo run):    {job[0]:.3f} s  {job[1]:.0f} MiB")
        print(
            f"  run job / floor:   wall {job[0] / floor[0]:.2f} x (target <= 1.3), "
            f"memory {job[1] / floor[1]:.2f} x (target <= 1.15)"
        )
        print(f"  run job / outside: wall {job[0] / outside[0]:.2f} x, memory {job[1] / outside[1]:.2f} x")
        if args.smac:
            import pyarrow.parquet as pq

            wall, _ = measure(run_cmd(args.benchmark, "smac_rf", out, table, args.trials))
            cols = pq.read_table(out, columns=["optimizer_time", "wall_time"]).to_pydict()
            inside, in_job = sum(cols["optimizer_time"]), cols["wall_time"][-1]
            print(
                f"smac_rf, {args.trials} trials: process wall {wall:.2f} s, in-harness wall {in_job:.2f} s, "
                f"ask+tell {inside:.2f} s -> process/ask+tell {wall / inside:.3f}, "
                f"harness/ask+tell {in_job / inside:.3f} (goal <= 1.1)"
            )


if __name__ == "__main__":
    main()
