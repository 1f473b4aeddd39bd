"""Per-trial cost of ``llambo`` (published protocol), ``llambo_lite``, ``llm`` and ``llm_tpe`` with the embedded model
(printed, not asserted; issue 16's cost table in docs/notes/issue16-llambo.md).

Every model call is timed and counted by role (the client's ``complete`` wrapped; nothing else changes). ``llambo``
at its published sizes makes ~210 calls per trial (minutes on the one-thread embedded model), so it runs one trial
at reduced sample counts and its per-call times are extrapolated to the published counts (its
``calls_per_trial``): sampler calls x the measured sampler seconds per call + surrogate calls x the measured
surrogate seconds per call (repeats of one prompt with a new seed included, which llama.cpp's prompt cache
shortens). Token counts per call are extrapolated the same way.

Usage: python perf/llambo_costs.py [--benchmark mlp-credit_g] [--n-init 5]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# kind -> (optimizer-phase trials, parameters): tiny budgets, the embedded server decodes with one thread.
PLAN: dict[str, tuple[int, dict[str, Any]]] = {
    "llm": (3, {}),
    "llm_tpe": (4, {}),
    "llambo_lite": (2, {}),
    "llambo": (1, {"n_samples": 2, "min_candidates": 2, "max_rounds": 1, "surrogate_samples": 3}),
}
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00)}  # USD per 1M tokens (input, output), 2025 list


def _role(schema: dict[str, Any] | None, messages: list[dict[str, Any]]) -> str:
    if schema is None:  # the published llambo: free-text answers; its sampler asks for a target performance
        return "sampler" if "Recommend a configuration" in messages[-1]["content"] else "surrogate"
    props = schema.get("properties", {})
    return "sampler" if "config" in props or "configs" in props else "surrogate"


def measure(benchmark: str, n_init: int) -> dict[str, dict[str, Any]]:
    import hpo.benchmarks as B
    from hpo.llm.client import LLMClient
    from hpo.llm.server import EmbeddedServer
    from hpo.optimizers import params_schema
    from hpo.run.harness import RunSpec, run
    from hpo.study.config import fill_defaults

    calls: list[tuple[str, str, float, int, int]] = []
    current = {"kind": ""}
    original = LLMClient.complete

    def timed(self: Any, messages: Any, schema: Any, sampling: Any = None) -> Any:
        t0 = time.perf_counter()
        reply = original(self, messages, schema, sampling)
        calls.append(
            (
                current["kind"],
                _role(schema, messages),
                time.perf_counter() - t0,
                reply.prompt_tokens,
                reply.completion_tokens,
            )
        )
        return reply

    LLMClient.complete = timed  # type: ignore[method-assign]
    out = {}
    for kind, (n_after, extra) in PLAN.items():
        current["kind"] = kind
        with contextlib.ExitStack() as stack:
            if kind == "llambo":  # refused on the embedded model: the same server, named as a loopback endpoint
                url = stack.enter_context(EmbeddedServer())
                ep = {"base_url": url, "model": "SmolLM2-135M-Instruct", "structured_output": "none", "timeout": 600}
                base = {"endpoint": "loopback", "endpoint_config": ep, "cache": "off", **extra}
            else:
                base = {"endpoint": "embedded", "endpoint_config": {"embedded": True}, "cache": "off", **extra}
            params = fill_defaults(params_schema(kind), base)
            spec = RunSpec(benchmark, kind, kind, seed=0, n_trials=n_init + n_after, n_init=n_init, params=params)
            cache = stack.enter_context(tempfile.TemporaryDirectory())
            df = run(spec, B.make(benchmark), cache_dir=cache)[0].to_pandas()
        wall = df["wall_time"].diff().iloc[n_init:].tolist()
        out[kind] = {"df": df, "wall": wall, "params": params}
    LLMClient.complete = original  # type: ignore[method-assign]
    for kind in out:
        by_role: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
        for k, role, sec, pt, ct in calls:
            if k == kind:
                by_role[role].append((sec, pt, ct))
        out[kind]["roles"] = by_role
    return out


def report(out: dict[str, dict[str, Any]]) -> None:
    from hpo.optimizers import get_class

    print(
        "| kind | trials measured | calls/trial | prompt tok/trial | completion tok/trial | wall s/trial | "
        "gpt-4o-mini $/trial | gpt-4o $/trial |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind, m in out.items():
        df, n_after = m["df"], len(m["wall"])
        after = df.iloc[len(df) - n_after :]
        calls, pt, ct = (after[c].fillna(0).mean() for c in ("attempts", "prompt_tokens", "completion_tokens"))
        wall = statistics.fmean(m["wall"])
        note = "measured"
        if kind == "llambo":  # extrapolate the reduced trial to the published counts, per role
            p = get_class("llambo").PARAMS_SCHEMA["properties"]
            published = {k: v["default"] for k, v in p.items() if "default" in v}
            t, n, s = published["n_templates"], published["n_samples"], published["surrogate_samples"]
            counts = {"sampler": t * n, "surrogate": t * n * t * s}
            calls = sum(counts.values())
            wall = pt = ct = 0.0
            for role, k in counts.items():
                rows = m["roles"][role]
                wall += k * statistics.fmean(r[0] for r in rows)
                pt += k * statistics.fmean(r[1] for r in rows)
                ct += k * statistics.fmean(r[2] for r in rows)
            seen = {r: len(v) for r, v in m["roles"].items()}
            note = f"extrapolated from {seen} calls of one reduced trial"
        cost = {name: (pt * a + ct * b) / 1e6 for name, (a, b) in PRICES.items()}
        print(
            f"| {kind} | {n_after} ({note}) | {calls:.1f} | {pt:,.0f} | {ct:,.0f} | {wall:.1f} | "
            f"{cost['gpt-4o-mini']:.4f} | {cost['gpt-4o']:.4f} |"
        )
    for kind, m in out.items():
        for role, rows in m["roles"].items():
            secs = [r[0] for r in rows]
            print(
                f"  {kind} {role}: {len(rows)} calls, {statistics.fmean(secs):.2f} s/call "
                f"(median {statistics.median(secs):.2f}, max {max(secs):.2f}), "
                f"{statistics.fmean(r[1] for r in rows):.0f} prompt + {statistics.fmean(r[2] for r in rows):.1f} "
                "completion tokens/call"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--benchmark", default="mlp-credit_g")
    ap.add_argument("--n-init", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    report(measure(args.benchmark, args.n_init))
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
