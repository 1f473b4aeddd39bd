"""``python -m hpo plan``: one screen on what a study will do before it runs (issue 26) — jobs per stage, the methods
skipped and why, the model calls and their cost, and an estimated wall time on the given cores.

The job counts are Snakemake's own: its dry run (``snakemake -n --quiet rules``, in a subprocess: the library never
imports the workflow engine) of the same Snakefile, config and working directory, so they cannot drift from the
workflow, and a resumed study shows only what is left. Calls, cost and model hours are ``python -m hpo estimate``'s
(:func:`hpo.study.estimate.estimate`); seconds per job and the placement on cores are :mod:`hpo.study.timing`'s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from hpo.util.codebase import PACKAGE_ROOT

__all__ = ["DEFAULT_CONFIG", "SNAKEFILE", "STAGES", "job_counts", "plan_jobs", "plan_text"]

SNAKEFILE = PACKAGE_ROOT.parent / "Snakefile"
DEFAULT_CONFIG = PACKAGE_ROOT.parent / "config" / "config.yaml"  # the Snakefile's own default
# Stage of each rule, in the order the study runs them; a rule not named here is shown under "other", by name.
STAGES: dict[str, tuple[str, ...]] = {
    "preflight": ("endpoint_check", "estimate"),
    "tables": ("convert_table",),
    "runs": ("run",),
    "insight": ("insight",),
    "ground truth": ("importance", "importance_table"),
    "aggregation": ("aggregate", "optuna_export"),
    "statistics": ("stats", "insight_stats"),
    "figures": ("plot_",),  # every rule whose name starts with plot_
    "report": ("report_md",),
    "target": ("all",),
}
BEFORE_ANALYSIS = {"endpoint_check", "convert_table", "run", "insight", "importance"}
TIMEOUT_S = 300


def stage_of(rule: str) -> str:
    """The stage a rule belongs to (:data:`STAGES`), ``other`` for one not listed."""
    for stage, rules in STAGES.items():
        if rule in rules or any(r.endswith("_") and rule.startswith(r) for r in rules):
            return stage
    return "other"


def start_dry_run(configfile: str | None, cores: int, llm_slots: int, forceall: bool = False) -> subprocess.Popen[str]:
    """Start ``snakemake -n`` of the study in this directory (in the background: the estimate runs meanwhile);
    ``forceall``: every job, finished ones too (perf/plan_accuracy.py predicts a finished study)."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-n",
        "--quiet",
        "rules",
        "-s",
        str(SNAKEFILE),
        *["--forceall"] * forceall,
    ]
    cmd += ["--cores", str(cores), "--resources", f"llm_slots={llm_slots}"]
    if configfile:
        cmd += ["--configfile", str(Path(configfile).resolve())]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=os.getcwd())


def job_counts(proc: subprocess.Popen[str]) -> dict[str, int]:
    """Jobs per rule that ``snakemake --cores CORES`` would run now in this directory (the dry run's job stats, the
    target rule ``all`` included); {} when nothing is left to do. One line (ValueError) when Snakemake fails."""
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ValueError(f"snakemake -n took over {TIMEOUT_S} s") from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
        why = next((ln for ln in reversed(lines) if "error" in ln.lower()), lines[-1] if lines else "no output")
        raise ValueError(f"snakemake -n failed: {why}")
    counts: dict[str, int] = {}
    lines = out.splitlines()
    if "Job stats:" not in lines:
        return counts  # "Nothing to be done"
    for line in lines[lines.index("Job stats:") + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit() or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def _prefix_seconds(table: dict[str, float], benchmark: str, default: float) -> float:
    return table.get(benchmark.partition("-")[0], default)


def plan_jobs(study: dict[str, Any], counts: dict[str, int], everything: bool = False) -> list[Any]:
    """The jobs Snakemake counted, each with its seconds (:mod:`hpo.study.timing`): run and insight jobs one by one
    (those whose file is missing or stale, as ``estimate`` counts them; ``everything``: all), every other rule from
    its count."""
    from hpo.llm.endpoint import EndpointConfig
    from hpo.optimizers import LLM_KINDS
    from hpo.run.provenance import build_spec
    from hpo.study import timing
    from hpo.study.estimate import PROFILES, finished
    from hpo.study.latency import call_latency
    from hpo.study.model_calls import insight_calls, insight_statements, run_calls

    results = Path(study["results"])
    speed = timing.machine_speed(study)  # CPU-bound seconds on this machine / the profiles'
    jobs: list[Any] = []
    for method, entry in study["methods"].items():
        if method in study["skipped"]:
            continue
        kind, params = entry["kind"], entry["params"]
        llm = kind in LLM_KINDS
        core, overlap, run_s, insight_s = True, 1, 0.0, 0.0
        if llm:
            ep = EndpointConfig.from_dict(params["endpoint"], params["endpoint_config"])
            core = ep.embedded  # a remote LLM job waits on the network under llm_slots, claiming no core
            overlap = max(1, min(ep.concurrency, PROFILES[kind].overlap if kind in PROFILES else 1))
            run_s = run_calls(study, method) * call_latency(study, method).seconds / overlap
            insight_s = insight_calls(study, method) * call_latency(study, method, insight=True).seconds
            insight_s += speed * (timing.ANALYSIS_S * insight_statements(study, method) + timing.JOB_START_S)
        per_trial = 0.0 if llm else timing.TRIAL_S.get(kind, timing.DEFAULT_TRIAL_S)
        for benchmark in study["benchmarks"]:
            evaluate = _prefix_seconds(timing.EVAL_S, benchmark, timing.DEFAULT_EVAL_S)
            seconds = speed * (timing.JOB_START_S + study["n_trials"] * (per_trial + evaluate)) + run_s
            fingerprint = None
            for seed in study["seeds"]:
                run_file = results / "runs" / benchmark / method / f"{seed}.parquet"
                insight_file = run_file.with_name(f"{seed}_insight.json")
                if fingerprint is None and not everything and (run_file.exists() or insight_file.exists()):
                    fingerprint = build_spec(
                        benchmark=benchmark,
                        method=method,
                        kind=kind,
                        seed=seed,
                        n_trials=study["n_trials"],
                        n_init=study["n_init"],
                        params=params,
                        noisy=study["noisy"],
                        benchmark_def=study["custom_benchmarks"].get(benchmark),
                        anonymize=study.get("anonymize", False),
                    ).fingerprint
                run_left = fingerprint is None or not finished(run_file, fingerprint)
                if run_left:
                    jobs.append(timing.Job("run", seconds, core))
                if llm and (fingerprint is None or not finished(insight_file, fingerprint)):
                    jobs.append(timing.Job("insight", insight_s, core, after=len(jobs) - 1 if run_left else None))
    missing = [b for b in study["benchmarks"] if everything or not (results / "importance" / f"{b}.json").exists()]
    for rule, n in counts.items():
        if rule in ("run", "insight"):
            continue
        for i in range(n):
            if rule == "importance":
                benchmark = missing[i] if i < len(missing) else ""
                seconds = _prefix_seconds(timing.IMPORTANCE_S, benchmark, timing.DEFAULT_IMPORTANCE_S)
            else:
                seconds = timing.RULE_S.get(rule, timing.DEFAULT_RULE_S)
            stage = int(rule not in BEFORE_ANALYSIS)
            jobs.append(timing.Job(rule, speed * seconds, rule != "endpoint_check", stage=stage))
    return jobs


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:,.1f} h"


def plan_text(configfile: str | None = None, cores: int = 2, llm_slots: int = 4) -> str:
    """The text of ``python -m hpo plan``: jobs per stage (Snakemake's counts), skipped methods and why, model calls
    and cost, and the estimated wall time on ``cores``."""
    from hpo.study import timing
    from hpo.study.cli import load_study
    from hpo.study.estimate import estimate

    if cores < 1 or llm_slots < 1:
        raise ValueError(f"--cores {cores}, --llm-slots {llm_slots}: both must be at least 1")
    path = configfile or str(DEFAULT_CONFIG)
    study = load_study(path)
    dry_run = start_dry_run(configfile, cores, llm_slots)
    try:
        rows = estimate(study, llm_slots=llm_slots, cores=cores)
    except BaseException:
        dry_run.kill()
        dry_run.communicate()
        raise
    counts = job_counts(dry_run)
    jobs = plan_jobs(study, counts)
    shape = (
        f"{len(study['benchmarks'])} benchmarks x {len(study['methods']) - len(study['skipped'])} methods x "
        f"{len(study['seeds'])} seeds, {study['n_trials']} trials"
    )
    lines = [f"plan of {path} -> {study['results']}/ ({shape})", ""]
    total = sum(counts.values())
    lines.append(f"jobs to run ({total}, from snakemake -n; finished jobs are not counted):")
    by_stage: dict[str, list[str]] = {}
    for rule, n in counts.items():
        by_stage.setdefault(stage_of(rule), []).append(f"{rule} {n}")
    for stage in [*STAGES, "other"]:
        if stage in by_stage:
            n = sum(counts[r.rsplit(" ", 1)[0]] for r in by_stage[stage])
            rules = textwrap.wrap(", ".join(by_stage[stage]), 96)
            lines += [f"  {stage:<13} {n:>6}  {rules[0]}", *(f"{'':23}{more}" for more in rules[1:])]
    if not counts:
        lines.append("  none: the study is complete")
    lines.append("")
    if study["skipped"]:
        lines.append("skipped methods (no jobs; run_status.csv reports them):")
        lines += [f"  {m}: {why}" for m, why in study["skipped"].items()]
    else:
        lines.append("skipped methods: none")
    lines.append("")
    if rows:
        calls = sum(r.calls for r in rows)
        hours = sum(r.model_hours for r in rows)
        known = [r.usd for r in rows if r.usd is not None]
        usd = f"${sum(known):,.2f}" if len(known) == len(rows) else "unknown (an endpoint without prices)"
        mark = "" if all(r.latency_measured for r in rows) else " (latency not measured yet: the embedded model's)"
        per = ", ".join(f"{r.method} {r.calls:,.0f}" for r in rows)
        lines.append(f"model calls: {calls:,.0f} ({per}), {hours:,.2f} h of model time{mark}; cost {usd}")
    else:
        lines.append("model calls: none (no LLM method left to run)")
    wall = timing.wall_seconds(jobs, cores, llm_slots)
    work = {stage: 0.0 for stage in ("runs", "insight")}
    for job in jobs:
        if job.rule in ("run", "insight"):
            work["runs" if job.rule == "run" else "insight"] += job.seconds
    speed = timing.machine_speed(study)
    machine = f"; this machine {speed:.1f}x the profiles' time, from the measured latency" if speed != 1.0 else ""
    lines.append(
        f"estimated wall time on {cores} cores: {_minutes(wall)} (run jobs {_minutes(work['runs'])}, insight jobs "
        f"{_minutes(work['insight'])} of work; profiles measured on 2 cores, hpo.study.timing{machine})"
    )
    return "\n".join(lines)
