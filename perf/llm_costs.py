"""LLM optimizer costs (printed, not asserted).

1. Prompt tokens per trial against trial index for 100 trials: the real prompts of the `llm` method for a 100-trial
   history, tokenized with SmolLM2's own tokenizer (llama.cpp, vocab only). Must flatten once the history is
   compressed (best k + most recent m).
2. Wall time per LLM trial with the embedded model (real llama.cpp server, SmolLM2-135M, one thread).
3. Model calls on a warm-cache rerun of the same run (must be 0).
4. ``llm`` vs ``llambo_lite`` vs ``llm_tpe`` with the embedded model on one benchmark of the default study (same shared
   initial design): wall time, model calls and tokens per trial after the initial design, duplicate proposals, and
   the wall time of a default-study run job extrapolated from them.
5. Cost per 100-trial run for an OpenAI-priced endpoint: prompt tokens of every call of every trial of a 100-trial
   run (the methods' real prompts for a simulated history, SmolLM2's tokenizer as a stand-in for the endpoint's),
   completion tokens and re-ask rate as measured in 4, priced at OpenAI's list prices.

Usage: python perf/llm_costs.py [--trials 12] [--kind-trials 10] [--benchmark mlp-credit_g] [--skip-legacy]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prompt_tokens_curve(benchmark: str = "mlp-car", n: int = 100) -> list[int]:
    from llama_cpp import Llama

    import hpo.benchmarks as B
    from hpo.core.space import config_dict
    from hpo.llm.prompt import SYSTEM, Observation, task_text, user_text
    from hpo.llm.server import smollm2_path

    bench = B.make(benchmark)
    space = bench.space
    space.seed(0)
    tok = Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)
    task = task_text(benchmark, bench.info, space, n)
    history: list[Observation] = []
    counts = []
    import numpy as np

    rng = np.random.default_rng(0)
    for trial in range(1, n + 1):
        text = SYSTEM + "\n" + user_text(task, history, 10, 10, None)
        counts.append(len(tok.tokenize(text.encode(), add_bos=True)))
        cfg = config_dict(space.sample_configuration())
        history.append(Observation(trial, cfg, bench.evaluate(cfg, rng).loss))
    return counts


def embedded_run(n_trials: int) -> None:
    import hpo.benchmarks as B
    from hpo.optimizers import params_schema
    from hpo.run.harness import RunSpec, run
    from hpo.study.config import fill_defaults

    params = fill_defaults(params_schema("llm"), {"endpoint": "embedded", "endpoint_config": {"embedded": True}})
    spec = RunSpec(benchmark="mlp-car", method="llm", kind="llm", seed=0, n_trials=n_trials, n_init=2, params=params)
    with tempfile.TemporaryDirectory() as cache:
        df = run(spec, B.make("mlp-car"), cache_dir=cache)[0].to_pandas()
        llm = df[df["attempts"].notna()]
        per_trial = (llm["wall_time"].diff().dropna()).tolist()
        print(
            f"embedded SmolLM2: {len(llm)} LLM trials, wall per trial median {statistics.median(per_trial):.2f} s "
            f"(min {min(per_trial):.2f}, max {max(per_trial):.2f}); model latency median "
            f"{llm['llm_latency'].median():.2f} s; origins {llm['origin'].value_counts().to_dict()}; "
            f"first job incl. server start {df['wall_time'].iloc[-1]:.1f} s"
        )
        df2 = run(spec, B.make("mlp-car"), cache_dir=cache)[0].to_pandas()
        llm2 = df2[df2["attempts"].notna()]
        calls = int((llm2["attempts"] - llm2["cache_hits"]).sum())
        print(
            f"warm-cache rerun: {calls} model calls ({int(llm2['cache_hits'].sum())} cache hits); "
            f"identical trajectory: {list(df2['config']) == list(df['config'])}; wall {df2['wall_time'].iloc[-1]:.2f} s"
        )


KINDS = ("llm", "llambo_lite", "llm_tpe")  # the published llambo: perf/llambo_costs.py
# USD per 1M tokens (input, output), OpenAI list prices of 2025.
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00)}


def kind_runs(benchmark: str, n_init: int, n_after: int) -> dict[str, Any]:
    """One embedded-model run per kind (fresh cache each): the trajectory and the job's total wall time."""
    import hpo.benchmarks as B
    from hpo.optimizers import params_schema
    from hpo.run.harness import RunSpec, run
    from hpo.study.config import fill_defaults

    out = {}
    for kind in KINDS:
        params = fill_defaults(params_schema(kind), {"endpoint": "embedded", "endpoint_config": {"embedded": True}})
        spec = RunSpec(benchmark, kind, kind, seed=0, n_trials=n_init + n_after, n_init=n_init, params=params)
        with tempfile.TemporaryDirectory() as cache:
            out[kind] = run(spec, B.make(benchmark), cache_dir=cache)[0].to_pandas()
    return out


def summarize(kind: str, df: Any, n_init: int, job_trials: int) -> dict[str, float]:
    """Per trial after the initial design: wall time, calls, tokens; plus the extrapolated job wall time."""
    after = df.iloc[n_init:]
    wall = df["wall_time"].diff().iloc[n_init:].tolist()
    wall[0] = df["wall_time"].iloc[n_init] - df["wall_time"].iloc[n_init - 1]
    calls = after["attempts"].fillna(0)
    model = after[after["attempts"].notna()]
    guarded = model[model["duplicates"].notna()]
    dup = guarded["duplicates"].sum() / guarded["proposals"].sum() if guarded["proposals"].sum() else float("nan")
    start = df["wall_time"].iloc[n_init - 1]  # server start + initial design
    row = {
        "wall_median": statistics.median(wall),
        "wall_mean": statistics.fmean(wall),
        "wall_max": max(wall),
        "calls": calls.mean(),
        "prompt_tokens": after["prompt_tokens"].fillna(0).mean(),
        "completion_tokens": after["completion_tokens"].fillna(0).mean(),
        "completion_per_call": model["completion_tokens"].sum() / max(model["attempts"].sum(), 1),
        "duplicate_share": dup,
        "job_estimate": start + statistics.fmean(wall) * (job_trials - n_init),
    }
    origins = after["origin"].value_counts().to_dict()
    print(
        f"  {kind:8s} wall/trial median {row['wall_median']:.2f} s (mean {row['wall_mean']:.2f}, max "
        f"{row['wall_max']:.2f}); calls/trial {row['calls']:.2f}; tokens/trial {row['prompt_tokens']:.0f} prompt + "
        f"{row['completion_tokens']:.0f} completion; duplicates {dup:.1%} of proposals; origins {origins}; "
        f"{job_trials}-trial job ~{row['job_estimate']:.0f} s"
    )
    return row


def run_prompt_tokens(kind: str, benchmark: str, n: int = 100, n_init: int = 10) -> list[int]:
    """Prompt tokens of every first-attempt call of each trial after the initial design of an ``n``-trial run.

    The prompts are the methods' own, built for a simulated history of uniform samples; re-asks are accounted for
    separately (measured rate). ``llm_tpe`` calls the model on every ``llm_every``-th trial only.
    """
    import numpy as np
    from llama_cpp import Llama

    import hpo.benchmarks as B
    from hpo.core.space import config_dict
    from hpo.llm import llambo_fewshot as fs
    from hpo.llm import llambo_prompts as lp
    from hpo.llm.prompt import SYSTEM, Observation, task_text, user_text
    from hpo.llm.server import smollm2_path
    from hpo.optimizers import params_schema
    from hpo.study.config import fill_defaults

    bench = B.make(benchmark)
    space = bench.space
    space.seed(0)
    tok = Llama(model_path=str(smollm2_path()), vocab_only=True, verbose=False)

    def count(system: str, text: str) -> int:
        return len(tok.tokenize((system + "\n" + text).encode(), add_bos=True))

    p = fill_defaults(params_schema(kind), {})
    task = task_text(benchmark, bench.info, space, n)
    rng = np.random.default_rng(0)
    history: list[Observation] = []
    names = sorted(space)
    per_trial = []
    for trial in range(1, n + 1):
        if trial > n_init:
            turn = trial - n_init
            if kind == "llm" or (kind == "llm_tpe" and p["llm_every"] and turn % p["llm_every"] == 0):
                per_trial.append(count(SYSTEM, user_text(task, history, 10, 10, None)))
            elif kind == "llambo_lite":
                losses = [o.loss for o in history]
                head = lp.prefix(task, lp.history_block(history, p["history_best_k"], p["history_recent_m"]))
                goals = [fs.target(losses, p["alpha"])[0]] * p["n_candidates"]
                total = sum(count(lp.SYSTEM, lp.sampler_text(head, goal)) for goal in goals)
                cands = [config_dict(c) for c in space.sample_configuration(p["n_candidates"])]
                threshold = lp.top_threshold(losses, p["top_pct"])
                total += sum(
                    count(
                        lp.SYSTEM,
                        lp.surrogate_text(head, names, cands[v:] + cands[:v], p["surrogate"], p["top_pct"], threshold),
                    )
                    for v in range(p["n_templates"])
                )
                per_trial.append(total)
            else:
                per_trial.append(0)
        cfg = config_dict(space.sample_configuration())
        history.append(Observation(trial, cfg, bench.evaluate(cfg, rng).loss))
    return per_trial


def cost_table(benchmark: str, measured: dict[str, dict[str, float]], n: int = 100) -> None:
    """Expected cost of one ``n``-trial run per kind at OpenAI's prices, from token counts."""
    print(f"cost per {n}-trial run (n_init 10) on {benchmark}, OpenAI list prices, SmolLM2-tokenizer token counts:")
    for kind in KINDS:
        tokens = run_prompt_tokens(kind, benchmark, n)
        m = measured.get(kind)
        base_calls = {"llm": 1.0, "llambo_lite": None, "llm_tpe": 0.5}[kind]
        if kind == "llambo_lite":
            from hpo.optimizers import params_schema
            from hpo.study.config import fill_defaults

            p = fill_defaults(params_schema(kind), {})
            base_calls = p["n_candidates"] + p["n_templates"]
        reask = m["calls"] / base_calls if m else 1.0  # measured calls per trial / calls without re-asks
        prompt = sum(tokens) * reask
        completion = (m["completion_per_call"] if m else 60.0) * base_calls * reask * len(tokens)
        prices = ", ".join(
            f"{name} ${(prompt * pin + completion * pout) / 1e6:.3f}" for name, (pin, pout) in PRICES.items()
        )
        print(
            f"  {kind:8s} {prompt / len(tokens):,.0f} prompt + {completion / len(tokens):,.0f} completion tokens per "
            f"trial (re-ask factor {reask:.2f}); per run {prompt / 1e3:,.0f}k + {completion / 1e3:,.1f}k tokens: "
            f"{prices}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=12, help="trials of the embedded-model run")
    parser.add_argument("--kind-trials", type=int, default=10, help="trials after the initial design, per kind")
    parser.add_argument("--benchmark", default="mlp-credit_g", help="benchmark of the per-kind comparison")
    parser.add_argument("--skip-legacy", action="store_true", help="only the per-kind comparison and costs")
    args = parser.parse_args()
    if not args.skip_legacy:
        counts = prompt_tokens_curve()
        marks = [1, 10, 20, 21, 30, 50, 75, 100]
        print("prompt tokens by trial: " + ", ".join(f"{t}: {counts[t - 1]}" for t in marks))
        print(
            f"growth trials 30->100: {counts[99] - counts[29]:+d} tokens ({counts[99] / counts[29]:.3f}x); "
            f"max {max(counts)}"
        )
        embedded_run(args.trials)
    n_init = 10
    print(f"embedded SmolLM2, {args.benchmark}, n_init {n_init}, {args.kind_trials} trials after it, seed 0:")
    runs = kind_runs(args.benchmark, n_init, args.kind_trials)
    measured = {kind: summarize(kind, df, n_init, job_trials=30) for kind, df in runs.items()}
    cost_table(args.benchmark, measured)


if __name__ == "__main__":
    main()
