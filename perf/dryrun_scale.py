"""Planning time of large studies (printed, not asserted): ``snakemake -n -q`` for 2,400 and 24,000 run jobs.

A study of many seeds is planned from scratch (empty working directory: every job is planned) by the real workflow,
as a researcher would before submitting it. Goal: <= 30 s. The same number of jobs is also planned from a bare
Snakefile (one rule per run job with one lambda param and a log, plus a target rule: Snakemake's own cost for that
DAG), and the ratio printed; target <= 1.5 x at 24,000 jobs.

Both sides run with ``-q`` (no job listing, no progress): printing the listing costs as much on both sides (~14 s at
24,000 jobs) and would hide the workflow's own cost in the ratio. The runs are paired (workflow, then bare, then
workflow again...), ``--repeats`` pairs per size, so a shared machine's load hits both sides alike; each pair's ratio
and their median are printed, for wall time and for CPU time (user + system of the ``snakemake`` process: what a
loaded machine distorts least). ``-q`` prints no job counts, so the number of planned run jobs is checked once per size
in a separate, untimed ``--quiet rules`` run of each side (``--no-check`` skips it). ``--bare-script`` adds a third
side: the bare Snakefile with its run rule as a ``script:`` rule like the workflow's (Snakemake reads and checks a
script rule's source once per job at planning; the workflow has it checked once per rule, rules/common.smk).
``--profile`` runs the workflow's dry run under cProfile and prints where the time goes, grouped by source file
(Snakemake's DAG code vs. this workflow's input/params functions).

Usage: python perf/dryrun_scale.py [--jobs 2400 24000] [--repeats 3] [--bare-script] [--profile] [--timeout 900]
"""

from __future__ import annotations

import argparse
import math
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 30.0
BENCHMARKS = [
    "mlp-australian",
    "mlp-blood_transfusion",
    "mlp-car",
    "mlp-credit_g",
    "mlp-kc1",
    "mlp-phoneme",
    "mlp-segment",
    "mlp-vehicle",
    "fcnet-naval_propulsion",
    "fcnet-parkinsons_telemonitoring",
    "fcnet-protein_structure",
    "fcnet-slice_localization",
    "nb201-cifar10",
    "nb201-cifar100",
    "nb201-imagenet",
]
METHODS = {m: {"kind": m} for m in ("random_search", "smac_rf", "smac_gp", "optuna_tpe")}


def study(n_jobs: int) -> dict[str, object]:
    """The paper's 15 benchmarks x 4 classical methods, with as many seeds as ``n_jobs`` run jobs need."""
    seeds = math.ceil(n_jobs / (len(BENCHMARKS) * len(METHODS)))
    return {
        "benchmarks": BENCHMARKS,
        "methods": METHODS,
        "seeds": list(range(seeds)),
        "n_trials": 100,
        "n_init": 10,
    }


# Snakemake's own planning cost for the same number of run jobs: the study's config, no library, no validation.
BARE_SNAKEFILE = """
rule all:
    input:
        expand("runs/{b}/{m}/{s}.parquet", b=config["benchmarks"], m=list(config["methods"]), s=config["seeds"]),


rule run:
    output:
        "runs/{b}/{m}/{s}.parquet",
    log:
        "logs/{b}/{m}/{s}.log",
    params:
        spec=lambda wildcards: {"method": wildcards.m, "n_trials": config["n_trials"]},
    shell:
        "touch {output} {log}"
"""


# The same with the run rule as a script rule, as the workflow's is (what Snakemake's per-job script check costs).
BARE_SCRIPT_SNAKEFILE = BARE_SNAKEFILE.replace(
    'shell:\n        "touch {output} {log}"', 'script:\n        "bare_run.py"'
)
BARE_SCRIPT = "from pathlib import Path\n\nfor f in [*snakemake.output, *snakemake.log]:\n    Path(f).touch()\n"


def dry_run(
    n_jobs: int, workdir: Path, profile: Path | None, timeout: float, side: str = "workflow", count: bool = False
) -> tuple[float, float, int]:
    """Wall and CPU (user + system) seconds of ``snakemake -n -q`` of the study by ``side`` (the workflow, or a bare
    Snakefile: ``bare`` with a shell run rule, ``bare_script`` with a script run rule), and the number of run jobs it
    planned: with ``count``, from the job stats of a ``--quiet rules`` run instead (-q prints none); otherwise -1.
    CPU seconds are what a loaded machine distorts least (the wall time also waits for a core)."""
    workdir.mkdir(exist_ok=True)
    cfg = workdir / "study.yaml"
    cfg.write_text(yaml.safe_dump(study(n_jobs)))
    snakefile = ROOT / "Snakefile"
    if side == "bare":
        snakefile = workdir / "Snakefile.bare"
        snakefile.write_text(BARE_SNAKEFILE)
    elif side == "bare_script":
        snakefile = workdir / "Snakefile.bare_script"
        snakefile.write_text(BARE_SCRIPT_SNAKEFILE)
        (workdir / "bare_run.py").write_text(BARE_SCRIPT)
    quiet = ["--quiet", "rules"] if count else ["-q"]
    smk = ["-m", "snakemake", "-s", str(snakefile), "-d", str(workdir / f"wd-{side}"), "-n", *quiet]
    smk += ["--configfile", str(cfg)]
    cmd = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []), *smk]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"dry run of {n_jobs} jobs ({side}) failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    planned = -1
    for line in (proc.stdout + proc.stderr).splitlines() if count else []:
        parts = line.split()
        if len(parts) == 2 and parts[0] == "run" and parts[1].isdigit():
            planned = int(parts[1])
    return seconds, cpu, planned


def top_by_file(profile: Path, n: int = 12) -> list[tuple[str, float]]:
    """Own (not cumulative) seconds summed per source file, largest first."""
    stats = pstats.Stats(str(profile))
    per_file: dict[str, float] = {}
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = filename.split("site-packages/")[-1] if "site-packages/" in filename else filename
        per_file[key] = per_file.get(key, 0.0) + tottime
    return sorted(per_file.items(), key=lambda kv: -kv[1])[:n]


def top_functions(profile: Path, n: int = 15) -> str:
    import io

    out = io.StringIO()
    pstats.Stats(str(profile), stream=out).sort_stats("cumulative").print_stats(n)
    return out.getvalue()


def median_ratio(times: dict[str, list[float]], side: str) -> float:
    """Median over the pairs of the workflow's time / ``side``'s time in the same pair."""
    return statistics.median(w / b for w, b in zip(times["workflow"], times[side], strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[2400, 24000])
    ap.add_argument("--repeats", type=int, default=3, help="paired runs (workflow, then bare) per size")
    ap.add_argument("--bare-script", action="store_true", help="also time the bare Snakefile with a script run rule")
    ap.add_argument("--no-check", action="store_true", help="skip the untimed runs that check the planned job counts")
    ap.add_argument("--profile", action="store_true", help="run the workflow under cProfile and print the hot spots")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per dry run before giving up")
    args = ap.parse_args()
    sides = ["workflow", "bare", *(["bare_script"] if args.bare_script else [])]
    for n_jobs in args.jobs:
        with tempfile.TemporaryDirectory(prefix="dryrun-scale-") as tmp:
            if not args.no_check:
                planned = {side: dry_run(n_jobs, Path(tmp), None, args.timeout, side, count=True)[2] for side in sides}
                if len(set(planned.values())) != 1:
                    raise SystemExit(f"{n_jobs} jobs: run jobs planned differ between the sides: {planned}")
                print(f"{n_jobs} run jobs: each side plans {planned['workflow']} (--quiet rules, untimed)")
            wall: dict[str, list[float]] = {side: [] for side in sides}
            cpu: dict[str, list[float]] = {side: [] for side in sides}
            for i in range(args.repeats):
                for side in sides:
                    try:
                        seconds, cpu_seconds, _ = dry_run(n_jobs, Path(tmp), None, args.timeout, side)
                    except subprocess.TimeoutExpired as err:
                        msg = f"{n_jobs} jobs: the {side} dry run took more than {args.timeout:.0f} s"
                        raise SystemExit(msg) from err
                    wall[side].append(seconds)
                    cpu[side].append(cpu_seconds)
                pair = ", ".join(f"{side} {wall[side][-1]:.1f} s (CPU {cpu[side][-1]:.1f} s)" for side in sides)
                ratio = wall["workflow"][-1] / wall["bare"][-1]
                cpu_ratio = cpu["workflow"][-1] / cpu["bare"][-1]
                load = os.getloadavg()[0]
                print(f"  pair {i + 1}: {pair}; workflow / bare {ratio:.2f} x (CPU {cpu_ratio:.2f} x), load {load:.1f}")
            wf = statistics.median(wall["workflow"])
            line = f"{n_jobs:>6} run jobs: workflow {wf:.1f} s ({wf / GOAL_S:.2f} x the {GOAL_S:.0f} s goal), "
            line += f"bare {statistics.median(wall['bare']):.1f} s; median of {args.repeats} pairs: workflow / bare "
            line += f"{median_ratio(wall, 'bare'):.2f} x, CPU {median_ratio(cpu, 'bare'):.2f} x (target <= 1.5)"
            if args.bare_script:
                line += f"; / bare script rule {median_ratio(wall, 'bare_script'):.2f} x, "
                line += f"CPU {median_ratio(cpu, 'bare_script'):.2f} x"
            print(line, flush=True)
            if args.profile:
                profile = Path(tmp) / "profile.out"
                dry_run(n_jobs, Path(tmp), profile, args.timeout)
                print(f"  own time by file (cProfile, workflow, {n_jobs} jobs):")
                for name, secs in top_by_file(profile):
                    print(f"    {secs:8.2f} s  {name}")
                print(top_functions(profile))


if __name__ == "__main__":
    main()
