"""Planning time of large studies (printed, not asserted): ``snakemake -n`` for 2,400 and 24,000 run jobs.

A study of many seeds is planned from scratch (empty working directory: every job is planned) by the real workflow,
as a researcher would before submitting it. Goal: <= 30 s. The same number of jobs is also planned from a bare
Snakefile (one rule per run job with one lambda param and a log, plus a target rule: Snakemake's own cost for that
DAG), and the ratio printed; target <= 1.5 x at 24,000 jobs. ``--profile`` runs the dry run under cProfile and prints
where the time goes, grouped by source file (Snakemake's DAG code vs. this workflow's input/params functions).

Usage: python perf/dryrun_scale.py [--jobs 2400 24000] [--profile] [--timeout 900]
"""

from __future__ import annotations

import argparse
import math
import pstats
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


def dry_run(n_jobs: int, workdir: Path, profile: Path | None, timeout: float, bare: bool = False) -> tuple[float, int]:
    """Seconds for ``snakemake -n`` of the study, and the number of run jobs it planned (``bare``: the bare
    Snakefile instead of the workflow)."""
    workdir.mkdir(exist_ok=True)
    cfg = workdir / "study.yaml"
    cfg.write_text(yaml.safe_dump(study(n_jobs)))
    snakefile = ROOT / "Snakefile"
    if bare:
        snakefile = workdir / "Snakefile.bare"
        snakefile.write_text(BARE_SNAKEFILE)
    smk = ["-m", "snakemake", "-s", str(snakefile), "-d", str(workdir / "wd"), "-n", "--quiet", "rules"]
    smk += ["--configfile", str(cfg)]
    cmd = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if profile else []), *smk]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"dry run of {n_jobs} jobs failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    planned = 0
    for line in (proc.stdout + proc.stderr).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "run" and parts[1].isdigit():
            planned = int(parts[1])
    return seconds, planned


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[2400, 24000])
    ap.add_argument("--profile", action="store_true", help="run under cProfile and print the hot spots")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per dry run before giving up")
    args = ap.parse_args()
    print(f"{'run jobs':>9} {'planned':>8} {'seconds':>8} {'x 30 s goal':>11} {'bare s':>7} {'x bare (<= 1.5)':>15}")
    for n_jobs in args.jobs:
        with tempfile.TemporaryDirectory(prefix="dryrun-scale-") as tmp:
            profile = Path(tmp) / "profile.out" if args.profile else None
            try:
                seconds, planned = dry_run(n_jobs, Path(tmp), profile, args.timeout)
            except subprocess.TimeoutExpired:
                print(f"{n_jobs:>9} {'?':>8} {'>' + str(int(args.timeout)):>8} {args.timeout / GOAL_S:>10.1f}+")
                continue
            bare, bare_planned = dry_run(n_jobs, Path(tmp) / "bare", None, args.timeout, bare=True)
            if bare_planned != planned:
                raise SystemExit(f"the bare Snakefile planned {bare_planned} run jobs, the workflow {planned}")
            ratio = seconds / bare
            print(f"{n_jobs:>9} {planned:>8} {seconds:>8.1f} {seconds / GOAL_S:>11.2f} {bare:>7.1f} {ratio:>15.2f}")
            if profile:
                print(f"  own time by file (cProfile, {n_jobs} jobs):")
                for name, secs in top_by_file(profile):
                    print(f"    {secs:8.2f} s  {name}")
                print(top_functions(profile))


if __name__ == "__main__":
    main()
