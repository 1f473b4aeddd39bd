"""How many model calls a resolved study's LLM methods make, and a warning line for each method that would keep the
embedded one-thread model busy for more than a day (or send more than 100,000 calls to a remote endpoint), so a
days-long study never starts silently (issue 16).

The counts here are the ones ``python -m hpo estimate`` and ``python -m hpo plan`` use too (issue 26: the warning
once said "~60 h at 7 s per call" where the estimate's table said 114 h): a run job's calls are its optimizer-phase
trials x the kind's ``calls_per_trial`` (or the kind's cap per run), an insight job's one per statement; model time
is calls x :func:`hpo.study.latency.call_latency` (:func:`model_hours`).
"""

from __future__ import annotations

from typing import Any

WARN_HOURS = 24.0
WARN_REMOTE_CALLS = 100_000
# The insight job: one call per statement (the prior and one per budget, two for image kinds), re-asks included.
INSIGHT_CALLS_PER_STATEMENT = 1.0


def proposal_trials(study: dict[str, Any], params: dict[str, Any]) -> int:
    """Trials of one run that ask the model: those after the initial design, plus the zero-shot initial design's
    one request."""
    return study["n_trials"] - study["n_init"] + (params.get("init") == "zero_shot")


def run_calls(study: dict[str, Any], method: str) -> float:
    """Model calls of one run job of ``method``: trials x ``calls_per_trial``, or the kind's ``calls_per_run`` cap
    (llm_hb: on multi-fidelity benchmarks its cheap evaluations outnumber n_trials, so the cap is the bound)."""
    from hpo import optimizers

    entry = study["methods"][method]
    cls = optimizers.get_class(entry["kind"])
    per_trial = getattr(cls, "calls_per_trial", None)
    if per_trial is None:
        return 0.0
    trials = proposal_trials(study, entry["params"])
    per_run = getattr(cls, "calls_per_run", None)
    if per_run is not None and trials:
        return float(per_run(entry["params"]))
    return per_trial(entry["params"]) * trials


def insight_statements(study: dict[str, Any], method: str) -> int:
    """Statements one insight job asks for: the prior and one per budget; an image kind asks each budget twice
    (with its images and without them)."""
    from hpo.optimizers import VISION_KINDS

    budgets = len(set(study["budgets"]) - {0})
    return 1 + budgets * (2 if study["methods"][method]["kind"] in VISION_KINDS else 1)


def insight_calls(study: dict[str, Any], method: str) -> float:
    """Model calls of one insight job of ``method``."""
    return INSIGHT_CALLS_PER_STATEMENT * insight_statements(study, method)


def expected_model_calls(cfg: dict[str, Any], name: str) -> float:
    """Model calls of a resolved study's method ``name``, all its run and insight jobs (0 for a classical method)."""
    from hpo.optimizers import LLM_KINDS

    if cfg["methods"][name]["kind"] not in LLM_KINDS:
        return 0.0
    runs = len(cfg["benchmarks"]) * len(cfg["seeds"])
    return runs * (run_calls(cfg, name) + insight_calls(cfg, name))


def model_hours(study: dict[str, Any], method: str, run_jobs: int, insight_jobs: int) -> float:
    """Hours one model thread is busy with ``run_jobs`` run jobs and ``insight_jobs`` insight jobs of ``method``
    (before jobs and concurrent requests share them out): each call at its seconds from
    :func:`hpo.study.latency.call_latency`."""
    from hpo.study.latency import call_latency

    run = run_jobs * run_calls(study, method) * call_latency(study, method).seconds
    insight = insight_jobs * insight_calls(study, method) * call_latency(study, method, insight=True).seconds
    return (run + insight) / 3600


def model_call_warnings(cfg: dict[str, Any]) -> list[str]:
    """One line per LLM method whose calls would keep the embedded model busy for more than a day (or a remote
    endpoint for more than 100,000 calls), naming the calls and hours exactly as ``python -m hpo estimate``'s table
    does, so a days-long study never starts silently."""
    lines = []
    for name, method in cfg["methods"].items():
        if name in cfg.get("skipped", {}):
            continue
        calls = expected_model_calls(cfg, name)
        if not calls:
            continue
        endpoint = method["params"].get("endpoint_config") or {}
        if endpoint.get("embedded"):
            runs = len(cfg["benchmarks"]) * len(cfg["seeds"])
            hours = model_hours(cfg, name, runs, runs)
            if hours > WARN_HOURS:
                lines.append(
                    f"methods.{name} ({method['kind']}): ~{calls:,.0f} model calls on the embedded one-thread model, "
                    f"~{hours:,.0f} h of model time ({hours * 3600 / calls:.1f} s per call); use a remote endpoint "
                    + ("or llambo_lite (see config/paper.yaml)" if method["kind"] == "llambo" else "or a smaller study")
                )
        elif calls > WARN_REMOTE_CALLS:
            lines.append(
                f"methods.{name} ({method['kind']}): ~{calls:,.0f} model calls to endpoint "
                f"{method['params'].get('endpoint')!r}; check the cost before running"
            )
    return lines
