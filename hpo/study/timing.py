"""How long each job of a study takes, and the whole study on a number of cores: ``python -m hpo plan``'s wall time.

Seconds per job come from measured profiles (the default study on a 2-core machine, ``.snakemake/metadata``'s start
and end times per job; ``perf/plan_accuracy.py`` prints them and compares a finished study with the prediction):

* a **run job**: :data:`JOB_START_S` (a Snakemake script job: the interpreter, the imports, the benchmark) + its
  trials x (the optimizer's seconds per trial, :data:`TRIAL_S`, + the benchmark's seconds per evaluation,
  :data:`EVAL_S`) + its model calls x :func:`hpo.study.latency.call_latency`, divided by the calls one trial sends
  at once;
* an **insight job**: the start, its calls x the insight latency, and the analyses of the history
  (:data:`ANALYSIS_S` per statement);
* a **ground-truth importance job**: :data:`IMPORTANCE_S` by benchmark family; every other rule :data:`RULE_S`.

Once the study's results hold a measured latency of the embedded model, every CPU-bound second is scaled by
:func:`machine_speed` (measured / profiled seconds per call): the model is CPU-bound too, so its slowdown on a busy or
slow machine is the machine's.

The jobs are then placed on ``cores`` (a remote LLM job claims no core but one of ``llm_slots``) longest first, an
insight job after its run, the analysis rules after all of them: :func:`wall_seconds`.
"""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ANALYSIS_S",
    "EVAL_S",
    "IMPORTANCE_S",
    "JOB_START_S",
    "RULE_S",
    "TRIAL_S",
    "Job",
    "machine_speed",
    "wall_seconds",
]

# Measured: the default study (config/config.yaml) on a 2-core machine that other work slowed 2.5x (its embedded
# model's proposals took 17.6 s, the profile's 7 s), each job's time divided by that factor (perf/plan_accuracy.py).
JOB_START_S = 2.5  # a script job that does (almost) nothing: random search on a table, 20 trials: 6.4 s there
# optimizer seconds per trial over a 20-trial run (8 initial-design trials; GP fits grow with the history)
TRIAL_S: dict[str, float] = {"random_search": 0.0, "optuna_tpe": 0.01, "smac_rf": 0.26, "smac_gp": 0.58}
DEFAULT_TRIAL_S = 0.4  # a kind not profiled: between the model-based ones
# benchmark seconds per evaluation, by id prefix (a table lookup is ~0; live models train)
EVAL_S: dict[str, float] = {"xgb": 0.08, "svm": 0.05, "lr": 0.05, "rf": 0.2, "histgb": 0.3}
DEFAULT_EVAL_S = 0.01
ANALYSIS_S = 1.0  # the insight job's fANOVA of the history at one budget (an insight job: 11 s there beyond its calls)
# ground truth per benchmark family: exact ANOVA of a table (mlp 19 s, fcnet 22 s, nb201 2 s there), Sobol indices of
# a live model (xgb 315 s there; its budget of true evaluations is 60 s, but each evaluation trains)
IMPORTANCE_S: dict[str, float] = {"mlp": 8.0, "fcnet": 9.0, "nb201": 1.0, "xgb": 125.0, "synth": 15.0}
DEFAULT_IMPORTANCE_S = 60.0  # a live model not profiled
# the analysis after the runs (there: stats 8.7 s, insight_stats 13.9 s, optuna_export 59.5 s, a figure 3-15 s)
RULE_S: dict[str, float] = {
    "all": 0.0,
    "convert_table": 1.3,
    "aggregate": 1.0,
    "optuna_export": 24.0,
    "stats": 3.5,
    "insight_stats": 5.5,
    "importance_table": 0.5,
    "report_md": 0.5,
}
DEFAULT_RULE_S = 3.0  # a figure (1.1-6 s), or a rule not profiled


@dataclass
class Job:
    """One job to place: its rule, seconds, whether it claims a core (a remote LLM job claims an llm slot) and the
    job it must follow (an insight job its run)."""

    rule: str
    seconds: float
    core: bool = True
    after: int | None = None  # index of the job that must finish first
    stage: int = 0  # 0: runs, insight, tables, ground truth; 1: the analysis after all of them


def machine_speed(study: dict[str, Any]) -> float:
    """Measured / profiled seconds per call of the study's embedded-model methods whose finished runs measured it
    (the median; 1.0 without a measurement): how much slower this machine runs CPU-bound work than the profiles'."""
    from hpo.study.latency import EMBEDDED_SECONDS_PER_CALL, KIND_SCALE, call_latency

    ratios = []
    for method, entry in study["methods"].items():
        embedded = (entry["params"].get("endpoint_config") or {}).get("embedded")
        if embedded and method not in study["skipped"]:
            latency = call_latency(study, method)
            if latency.measured:
                ratios.append(latency.seconds / (EMBEDDED_SECONDS_PER_CALL * KIND_SCALE.get(entry["kind"], 1.0)))
    return statistics.median(ratios) if ratios else 1.0


def wall_seconds(jobs: list[Job], cores: int, llm_slots: int = 4) -> float:
    """Seconds until the last job ends: stage 0 placed longest first on ``cores`` cores and ``llm_slots`` slots
    (a job waits for the one it follows), then stage 1 likewise (Snakemake runs the analysis after the runs)."""
    end = 0.0
    for stage in (0, 1):
        index = [i for i, j in enumerate(jobs) if j.stage == stage]
        end = _place(jobs, index, max(1, cores), max(1, llm_slots), end)
    return end


def _place(jobs: list[Job], index: list[int], cores: int, slots: int, start: float) -> float:
    """List scheduling of ``jobs[index]`` from ``start``: whenever a core (slot) frees, the longest ready job."""
    free = {True: [start] * cores, False: [start] * slots}
    done: dict[int, float] = {}
    waiting = sorted(index, key=lambda i: -jobs[i].seconds)
    last = start
    while waiting:
        ready = [i for i in waiting if jobs[i].after is None or jobs[i].after in done or jobs[i].after not in index]
        if not ready:  # cannot happen for a well-formed list; place the rest in order rather than loop
            ready = waiting[:1]
        i = ready[0]
        waiting.remove(i)
        pool = free[jobs[i].core]
        begin = max(heapq.heappop(pool), done.get(jobs[i].after, start) if jobs[i].after is not None else start)
        done[i] = begin + jobs[i].seconds
        heapq.heappush(pool, done[i])
        last = max(last, done[i])
    return last
