"""LLM optimizer costs (printed, not asserted).

1. Prompt tokens per trial against trial index for 100 trials: the real prompts of the `llm` method for a 100-trial
   history, tokenized with SmolLM2's own tokenizer (llama.cpp, vocab only). Must flatten once the history is
   compressed (best k + most recent m).
2. Wall time per LLM trial with the embedded model (real llama.cpp server, SmolLM2-135M, one thread).
3. Model calls on a warm-cache rerun of the same run (must be 0).

Usage: python benchmarks/llm_costs.py [--trials 12]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def prompt_tokens_curve(benchmark: str = "mlp-car", n: int = 100) -> list[int]:
    from llama_cpp import Llama

    import hpo.benchmarks as B
    from hpo.llm.prompt import SYSTEM, Observation, task_text, user_text
    from hpo.llm.server import smollm2_path
    from hpo.space import config_dict

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
    from hpo.runner import RunSpec, run
    from hpo.study import fill_defaults

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=12, help="trials of the embedded-model run")
    args = parser.parse_args()
    counts = prompt_tokens_curve()
    marks = [1, 10, 20, 21, 30, 50, 75, 100]
    print("prompt tokens by trial: " + ", ".join(f"{t}: {counts[t - 1]}" for t in marks))
    print(
        f"growth trials 30->100: {counts[99] - counts[29]:+d} tokens ({counts[99] / counts[29]:.3f}x); "
        f"max {max(counts)}"
    )
    embedded_run(args.trials)


if __name__ == "__main__":
    main()
