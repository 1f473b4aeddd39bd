"""Extra model usage of the insight calls (hpo.insight.ask), per run (printed, not asserted).

For each benchmark: one ``llm`` run with the embedded model (real llama.cpp server, SmolLM2-135M, one thread), then
its insight job at the given budgets (plus the prior, budget 0), against a fresh reply cache so every call is a real
model call. Prints the run's own prompt and completion tokens, the insight calls' tokens (re-asks included), the
ratio, the insight job's wall time, and per statement: tokens, attempts, repairs, fallback and the top hyperparameter.

Usage: python perf/insight_tokens.py [--benchmarks mlp-credit_g ...] [--trials 30] [--init 10]
       [--budgets 10 20 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(benchmark: str, n_trials: int, n_init: int, budgets: list[int], seed: int, work: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from hpo.insight.ask import insight_to_file
    from hpo.run.harness import run_to_file
    from hpo.run.provenance import build_spec

    spec = build_spec(benchmark=benchmark, method="llm", kind="llm", seed=seed, n_trials=n_trials, n_init=n_init)
    cache = work / "llm_cache"
    run_file = work / benchmark / "0.parquet"
    t0 = time.perf_counter()
    run_to_file(spec, run_file, cache_dir=cache, server_log=work / f"{benchmark}.run_server.log")
    run_wall = time.perf_counter() - t0
    df = pq.read_table(run_file).to_pandas()
    llm_rows = df[df["attempts"].notna()]
    t0 = time.perf_counter()
    out = insight_to_file(
        spec, run_file, work / benchmark / "0_insight.json", budgets, cache_dir=cache, server_log=work / "srv.log"
    )
    insight_wall = time.perf_counter() - t0
    doc = json.loads(out.read_text())
    st = doc["statements"]
    return {
        "benchmark": benchmark,
        "n_hps": len(doc["hyperparameters"]),
        "run_calls": int(llm_rows["attempts"].sum()),
        "run_prompt": int(llm_rows["prompt_tokens"].sum()),
        "run_completion": int(llm_rows["completion_tokens"].sum()),
        "run_wall": run_wall,
        "insight_calls": sum(s["attempts"] for s in st),
        "insight_prompt": sum(s["prompt_tokens"] for s in st),
        "insight_completion": sum(s["completion_tokens"] for s in st),
        "insight_wall": insight_wall,
        "cache_hits": sum(s["cache_hits"] for s in st),
        "statements": st,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--benchmarks", nargs="+", default=["mlp-credit_g"])
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--init", type=int, default=10)
    ap.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 30])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for benchmark in args.benchmarks:
            r = measure(benchmark, args.trials, args.init, args.budgets, args.seed, Path(tmp))
            rows.append(r)
            print(f"\n{benchmark} ({r['n_hps']} hyperparameters), budgets 0 (prior) + {args.budgets}:")
            print("  budget  prompt  completion  attempts  repairs  fallback  top hyperparameter")
            for s in r["statements"]:
                top = max(s["weights"], key=s["weights"].get)
                print(
                    f"  {s['budget']:6d}  {s['prompt_tokens']:6d}  {s['completion_tokens']:10d}  {s['attempts']:8d}"
                    f"  {len(s['repairs']):7d}  {s['fallback']!s:8}  {top} ({s['weights'][top]:.2f})"
                )
    print(f"\nPer run ({args.trials} trials, {args.init} initial design, embedded SmolLM2-135M, fresh cache):")
    print(
        "| benchmark | run calls | run prompt tok | run completion tok | insight calls | insight prompt tok "
        "| insight completion tok | extra prompt | extra completion | run wall s | insight wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['benchmark']} | {r['run_calls']} | {r['run_prompt']:,} | {r['run_completion']:,} "
            f"| {r['insight_calls']} | {r['insight_prompt']:,} | {r['insight_completion']:,} "
            f"| {r['insight_prompt'] / r['run_prompt']:.1%} | {r['insight_completion'] / r['run_completion']:.1%} "
            f"| {r['run_wall']:.0f} | {r['insight_wall']:.0f} |"
        )


if __name__ == "__main__":
    main()
