"""Seconds per model call: the one number behind every time the study commands predict (the planning warning,
``python -m hpo estimate``, ``python -m hpo plan``), so they cannot disagree about it (issue 26).

Where the number comes from, first found wins:

1. **measured in this study's results**: the method's finished run files (or, for the insight job's calls, its
   ``<seed>_insight.json`` files) record each call's latency (``llm_latency`` over the calls that were not cache
   hits) — what this machine and endpoint really took;
2. **the preflight** of a remote endpoint (``<results>/endpoints/<name>.json``, ``python -m hpo check-endpoint``),
   scaled by the kind's :data:`KIND_SCALE` (an insight call as is);
3. **the embedded model's measured latency**, :data:`EMBEDDED_SECONDS_PER_CALL` scaled likewise, or
   :data:`EMBEDDED_INSIGHT_SECONDS_PER_CALL` (not measured here: shown with ``*``).

The embedded model's insight call is much slower than its proposal: the reply follows the insight JSON schema, which
llama.cpp enforces token by token with a grammar, and is longer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "EMBEDDED_INSIGHT_SECONDS_PER_CALL",
    "EMBEDDED_SECONDS_PER_CALL",
    "KIND_SCALE",
    "Latency",
    "call_latency",
    "measured_latency",
]

# The embedded SmolLM2-135M (one llama.cpp thread) on a 2-core machine: the default study's llm calls took
# 7.0-9.3 s each with two jobs side by side (docs/performance.md); a published llambo trial's 210 calls 1,502 s.
EMBEDDED_SECONDS_PER_CALL = 7.0
# A kind's seconds per call relative to the llm kind's (measured together with the embedded model, perf/llambo_costs.py:
# llm 25.6 s, llm_tpe 26.6 s, llambo_lite 20.0 s, llambo 7.1 s per call on one loaded machine): a call's time is
# mostly its completion tokens, and LLAMBO's surrogate replies are short.
KIND_SCALE: dict[str, float] = {"llm_tpe": 1.04, "llambo_lite": 0.78, "llambo": 0.28}
# The embedded model's insight call: 43 s per call in the default study on a 2-core machine slowed 2.5x (proposals
# 17.6 s there, 7 s idle), i.e. 17 s; a 4-statement insight job took 57-71 s on an idle one (docs/getting-started.md).
EMBEDDED_INSIGHT_SECONDS_PER_CALL = 17.0
MAX_FILES = 8  # run files read per method for a measurement: enough for a mean, cheap at planning time


@dataclass(frozen=True)
class Latency:
    """Seconds per call and where they come from (``measured``: this study or a preflight, not the default)."""

    seconds: float
    source: str
    measured: bool


COLUMNS = ("attempts", "cache_hits", "llm_latency")


def _records(path: Path) -> dict[str, list[Any]]:
    """The call columns of a run file (one row per trial) or an insight file (one statement per row)."""
    if path.suffix == ".json":
        statements = json.loads(path.read_text())["statements"]
        return {c: [s.get(c) for s in statements] for c in COLUMNS}
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=list(COLUMNS)).to_pydict()


def measured_latency(files: list[Path]) -> tuple[float, int] | None:
    """(seconds per call, calls) recorded in finished run or insight files, cache hits left out; None without a
    fresh call."""
    latency, calls = 0.0, 0
    for path in files[:MAX_FILES]:
        try:
            table = _records(path)
        except (OSError, ValueError, KeyError, TypeError):  # a file being written, or one without LLM columns
            continue
        calls += sum(a or 0 for a in table["attempts"]) - sum(h or 0 for h in table["cache_hits"])
        latency += sum(x or 0.0 for x in table["llm_latency"])
    return (latency / calls, calls) if calls > 0 and latency > 0 else None


def call_latency(study: dict[str, Any], method: str, insight: bool = False) -> Latency:
    """Seconds per model call of a resolved study's LLM method, in its run jobs or (``insight``) its insight jobs;
    see the module docstring for where the number comes from."""
    entry = study["methods"][method]
    kind, params = entry["kind"], entry["params"]
    results = Path(study["results"])
    scale = 1.0 if insight else KIND_SCALE.get(kind, 1.0)
    pattern = "{}_insight.json" if insight else "{}.parquet"
    files = [results / "runs" / b / method / pattern.format(s) for b in study["benchmarks"] for s in study["seeds"]]
    found = measured_latency([p for p in files if p.is_file()])
    if found:
        what = "insight" if insight else "run"
        return Latency(found[0], f"measured: {found[1]} {what} calls in {results}/runs", True)
    name = params.get("endpoint") or "embedded"
    preflight = results / "endpoints" / f"{name}.json"
    if preflight.is_file():
        try:
            seconds = json.loads(preflight.read_text()).get("latency_s")
        except (OSError, ValueError):
            seconds = None
        if seconds:
            return Latency(float(seconds) * scale, f"preflight {preflight}", True)
    if insight and params["endpoint_config"].get("embedded"):
        return Latency(EMBEDDED_INSIGHT_SECONDS_PER_CALL, "the embedded model's measured insight latency", False)
    return Latency(EMBEDDED_SECONDS_PER_CALL * scale, "the embedded model's measured latency", False)
