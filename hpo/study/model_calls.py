"""Planning-time cost check: how many model calls a resolved study's LLM methods are expected to make, and a
warning line for each method that would keep the embedded one-thread model busy for more than a day (or send more
than 100,000 calls to a remote endpoint), so a days-long study never starts silently (issue 16).

Calls = runs x optimizer-phase trials x the kind's ``calls_per_trial`` (re-asks, stagnation turns and the insight
jobs not counted); model time = calls x the measured seconds per embedded call.
"""

from __future__ import annotations

from typing import Any

# Seconds per model call of the embedded SmolLM2 (one llama.cpp thread): a published
# llambo trial's 210 calls took 1,502 s on a shared 2-core machine (perf/llambo_costs.py; the llm kind's
# calls 24 s each, docs/notes/issue16-llambo.md); and the model time in hours above which planning warns.
EMBEDDED_SECONDS_PER_CALL = 7.0
WARN_HOURS = 24.0
WARN_REMOTE_CALLS = 100_000


def expected_model_calls(cfg: dict[str, Any], name: str) -> float:
    """Model requests a resolved study's method ``name`` is expected to make: runs x optimizer-phase trials x its
    kind's ``calls_per_trial`` (re-asks, stagnation turns and the insight jobs not counted)."""
    from hpo import optimizers

    method = cfg["methods"][name]
    per_trial = getattr(optimizers.get_class(method["kind"]), "calls_per_trial", None)
    if per_trial is None:
        return 0.0
    runs = len(cfg["benchmarks"]) * len(cfg["seeds"])
    return runs * (cfg["n_trials"] - cfg["n_init"]) * per_trial(method["params"])


def model_call_warnings(cfg: dict[str, Any]) -> list[str]:
    """One line per LLM method whose expected calls would keep the embedded model busy for more than a day (or a
    remote endpoint for more than 100,000 calls), naming the calls, so a days-long study never starts silently."""
    lines = []
    for name, method in cfg["methods"].items():
        if name in cfg.get("skipped", {}):
            continue
        calls = expected_model_calls(cfg, name)
        endpoint = method["params"].get("endpoint_config") or {}
        hours = calls * EMBEDDED_SECONDS_PER_CALL / 3600
        if endpoint.get("embedded") and hours > WARN_HOURS:
            lines.append(
                f"methods.{name} ({method['kind']}): ~{calls:,.0f} model calls on the embedded one-thread model, "
                f"~{hours:,.0f} h of model time at {EMBEDDED_SECONDS_PER_CALL:g} s per call; use a remote endpoint "
                + ("or llambo_lite (see config/paper.yaml)" if method["kind"] == "llambo" else "or a smaller study")
            )
        elif not endpoint.get("embedded") and calls > WARN_REMOTE_CALLS:
            lines.append(
                f"methods.{name} ({method['kind']}): ~{calls:,.0f} model calls to endpoint "
                f"{method['params'].get('endpoint')!r}; check the cost before running"
            )
    return lines
