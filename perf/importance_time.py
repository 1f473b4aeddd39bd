"""Time the exact functional ANOVA (rank and raw transforms, main effects and all pairs) of every shipped table.

    python perf/importance_time.py                  # all 15 tables, converted into a temp dir first
    python perf/importance_time.py --tables results/tables --ids mlp-car nb201-cifar10

Table conversion is not timed (the workflow does it once, in rule convert_table); the time covers what rule
``importance`` computes: loading the .npz, averaging over the table's seeds, rank transform, decomposition.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hpo import benchmarks
from hpo.insight.truth.exact import exact_importance


def main(argv: list[str] | None = None) -> None:
    tabular = [b for b in benchmarks.available() if benchmarks.needs_table(b)]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, help="folder of converted tables <id>.npz (default: a temp dir)")
    parser.add_argument("--ids", nargs="*", default=tabular, help="tabular benchmark ids (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions; the best is reported")
    args = parser.parse_args(argv)
    unknown = [b for b in args.ids if b not in tabular]
    if unknown:
        parser.error(f"not tabular benchmarks: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.tables or Path(tmp)
        for b in args.ids:
            if not (folder / f"{b}.npz").exists():
                benchmarks.convert(b, folder / f"{b}.npz")
        exact_importance(args.ids[0], folder / f"{args.ids[0]}.npz")  # warm-up: imports
        best: dict[str, float] = {}
        for _ in range(max(args.repeat, 1)):
            for b in args.ids:
                t0 = time.perf_counter()
                exact_importance(b, folder / f"{b}.npz")
                best[b] = min(best.get(b, float("inf")), time.perf_counter() - t0)
        for b in args.ids:
            print(f"{b:34s} {best[b] * 1000:8.1f} ms")
        total = sum(best.values())
        print(f"exact importance of {len(args.ids)} tables: {total:.3f} s (sum of the best of {args.repeat} per table)")


if __name__ == "__main__":
    main()
