"""``python -m hpo plan``'s wall time vs a finished study's (printed, not asserted): goal within +-30 % (issue 26).

A finished study's working directory holds what each job took: Snakemake records every output's job start and end
in ``.snakemake/metadata`` (the rules have no ``benchmark:`` files; the logs have no durations). The measured wall
time is the first job's start to the last job's end (Snakemake's own planning, ~2 s, not included). The prediction
is the plan of the same study from scratch (``snakemake -n --forceall``, every run and insight job), twice: with the
default per-call latencies (what a user sees before the study) and with the latencies the study's results measured
(what ``plan`` and ``estimate`` use once runs exist). Per rule, the predicted and measured job seconds are printed
too, which is how the profiles in :mod:`hpo.study.timing` were set.

Usage: .venv/bin/python perf/plan_accuracy.py --workdir /tmp/study [--configfile STUDY] [--cores 2]
    (a finished default study: cd /tmp/study && snakemake -s /path/to/Snakefile --cores 2)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 0.30


def measured_jobs(workdir: Path) -> list[tuple[str, float, float, str]]:
    """(rule, start, end, an output) of every job the study ran, from ``.snakemake/metadata`` (one record per
    output file, a job's records share its ``job_hash``; the earliest start and latest end of them)."""
    jobs: dict[tuple[str, float], tuple[str, float, float, str]] = {}
    for path in (workdir / ".snakemake" / "metadata").iterdir():
        record = json.loads(path.read_text())
        if record.get("starttime") is None or record.get("endtime") is None:
            continue
        output = base64.b64decode(path.name.replace("@", "/")).decode(errors="replace")
        key = (record["rule"], record.get("job_hash") or record["starttime"])  # one job, many outputs
        rule, start, end, first = jobs.get(key, (record["rule"], record["starttime"], record["endtime"], output))
        jobs[key] = (rule, min(start, record["starttime"]), max(end, record["endtime"]), first)
    return sorted(jobs.values(), key=lambda j: j[1])


def kind_of(rule: str, output: str, study: dict[str, Any]) -> str:
    """``run/<kind>`` for a run job (the method's kind), else the rule."""
    parts = Path(output).parts
    if rule in ("run", "insight") and "runs" in parts:
        method = parts[parts.index("runs") + 2]
        return f"{rule}/{study['methods'].get(method, {}).get('kind', method)}"
    return rule


def predicted(study: dict[str, Any], counts: dict[str, int], cores: int, llm_slots: int) -> tuple[float, list[Any]]:
    from hpo.study.plan import plan_jobs
    from hpo.study.timing import wall_seconds

    jobs = plan_jobs(study, counts, everything=True)
    return wall_seconds(jobs, cores, llm_slots), jobs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="working directory of a finished study")
    parser.add_argument("--configfile", default=None, help="its study file (default: config/config.yaml)")
    parser.add_argument("--cores", type=int, default=2, help="the cores it ran on (snakemake --cores)")
    parser.add_argument("--llm-slots", type=int, default=4, help="its llm_slots (snakemake --resources)")
    args = parser.parse_args()
    os.environ.setdefault("HPO_LLM_SPEND", "{}")
    os.chdir(args.workdir)  # the study's relative results/ and logs/ are the workdir's, as for snakemake
    from hpo.study.cli import load_study
    from hpo.study.latency import call_latency
    from hpo.study.plan import DEFAULT_CONFIG, job_counts, start_dry_run

    study = load_study(args.configfile or DEFAULT_CONFIG)
    counts = job_counts(start_dry_run(args.configfile, args.cores, args.llm_slots, forceall=True))
    jobs = measured_jobs(Path.cwd())
    if not jobs:
        print(f"no finished job in {args.workdir}/.snakemake/metadata")
        return 1
    wall = max(j[2] for j in jobs) - min(j[1] for j in jobs)
    with_measured, planned = predicted(study, counts, args.cores, args.llm_slots)
    fresh = {**study, "results": tempfile.mkdtemp(prefix="plan-accuracy-")}  # no results: the default latencies
    with_default, _ = predicted(fresh, counts, args.cores, args.llm_slots)
    for method, entry in study["methods"].items():
        if method not in study["skipped"] and "endpoint_config" in entry["params"]:
            run, insight = call_latency(study, method), call_latency(study, method, insight=True)
            print(f"latency {method}: run {run.seconds:.1f} s ({run.source}), insight {insight.seconds:.1f} s")
    seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])  # predicted, measured, jobs measured
    for rule, start, end, output in jobs:
        seconds[kind_of(rule, output, study)][1] += end - start
        seconds[kind_of(rule, output, study)][2] += 1
    each = _predicted_each(study, planned)
    for key, row in seconds.items():  # as many jobs as ran, each at its mean prediction (importance: by family)
        row[0] = sum(each.get(key, [])) / max(1, len(each.get(key, []))) * row[2]
    print(f"{'rule (kind)':<28} {'jobs':>5} {'predicted s':>12} {'measured s':>11} {'ratio':>6}")
    for key, (pred, meas, n) in sorted(seconds.items(), key=lambda kv: -kv[1][1]):
        ratio = f"{pred / meas:.2f}" if meas else "-"
        print(f"{key:<28} {n:>5} {pred:>12.1f} {meas:>11.1f} {ratio:>6}")
    print(f"measured wall time: {wall:.0f} s ({len(jobs)} jobs, {args.workdir})")
    for label, value in (("default latencies", with_default), ("latencies measured in results", with_measured)):
        ratio = value / wall
        verdict = "within" if abs(ratio - 1) <= GOAL else "outside"
        print(f"predicted ({label}): {value:.0f} s, ratio predicted/measured {ratio:.2f} ({verdict} +-30 %)")
    return 0


def _predicted_each(study: dict[str, Any], planned: list[Any]) -> dict[str, list[float]]:
    """Predicted seconds of each job by rule, and of run and insight jobs by ``rule/kind`` (plan_jobs lists them
    method by method in the study's order, benchmarks x seeds each, the insight job after its run)."""
    each: dict[str, list[float]] = defaultdict(list)
    methods = [m for m in study["methods"] if m not in study["skipped"]]
    per_method = len(study["benchmarks"]) * len(study["seeds"])
    counted: dict[str, int] = defaultdict(int)
    for job in planned:
        if job.rule in ("run", "insight"):
            llm = [m for m in methods if job.rule == "run" or "endpoint_config" in study["methods"][m]["params"]]
            method = llm[counted[job.rule] // per_method]
            counted[job.rule] += 1
            each[f"{job.rule}/{study['methods'][method]['kind']}"].append(job.seconds)
        else:
            each[job.rule].append(job.seconds)
    return each


if __name__ == "__main__":
    sys.exit(main())
