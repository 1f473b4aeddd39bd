"""The SLURM profile against a real SLURM: Debian's slurm-wlm + munge as a single-node cluster on localhost.

scripts/slurm-cluster.sh starts munged, slurmctld and slurmd with all state under a temp dir; the study runs through
``--profile profiles/slurm`` exactly as on a cluster (sbatch per job or group, srun inside, squeue for job state).
Needs root and the Debian packages (scripts/setup-system.sh installs both in CI); elsewhere it skips, in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, run_bounded

CLUSTER = ROOT / "scripts" / "slurm-cluster.sh"
PROFILE = ROOT / "profiles" / "slurm" / "profile.yaml"
BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scontrol", "sinfo")


def _missing_requirement() -> str | None:
    if os.geteuid() != 0:
        return "needs root (slurmd runs jobs as the submitting user)"
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        return f"Debian slurm-wlm/munge not installed ({', '.join(missing)}); run scripts/setup-system.sh as root"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm not installed (requirements.txt)"
    return None


@pytest.fixture(scope="module")
def slurm_env() -> Iterator[dict[str, str]]:
    """A running single-node cluster for this module; every daemon is stopped afterwards, even on failure."""
    why = _missing_requirement()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"SLURM test cannot run in CI: {why}")
        pytest.skip(why)
    # Short path: the munge socket lives under it and unix socket paths are limited to ~108 bytes.
    cluster = Path(tempfile.mkdtemp(prefix="hpo-slurm-", dir="/tmp"))
    try:
        started = run_bounded(["bash", str(CLUSTER), "start", str(cluster)], timeout=120)
        assert started.returncode == 0, f"cluster did not start:\n{started.stdout}"
        env = dict(os.environ)
        env["SLURM_CONF"] = str(cluster / "slurm.conf")
        env["PATH"] = f"{cluster / 'bin'}{os.pathsep}{env['PATH']}"
        env["CLUSTER_DIR"] = str(cluster)
        yield env
    finally:
        pids = [p.read_text().strip() for p in (cluster / "run").glob("*.pid")] if (cluster / "run").is_dir() else []
        stopped = run_bounded(["bash", str(CLUSTER), "stop", str(cluster)], timeout=90)
        alive = [pid for pid in pids if pid.isdigit() and Path(f"/proc/{pid}").exists()]
        shutil.rmtree(cluster, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stdout
        assert not alive, f"daemons still running after stop: {alive}"


def test_profile_names_real_rules_and_resources() -> None:
    """set-resources and groups must name existing rules: a renamed rule would silently fall back to defaults."""
    profile = yaml.safe_load(PROFILE.read_text())
    rules_text = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    assert profile["executor"] == "slurm"
    assert {"runtime", "mem_mb", "cpus_per_task"} <= set(profile["default-resources"])
    for rule, res in profile["set-resources"].items():
        assert f"\nrule {rule}:" in rules_text, f"set-resources names unknown rule {rule}"
        assert {"runtime", "mem_mb", "cpus_per_task"} <= set(res), rule
    for rule, group in profile["groups"].items():
        assert f"\nrule {rule}:" in rules_text, f"groups names unknown rule {rule}"
        assert profile["group-components"][group] > 1
    assert profile["retries"] >= 1


def _squeue(env: dict[str, str]) -> pd.DataFrame:
    out = run_bounded(["squeue", "-h", "--states=all", "-o", "%i|%T|%k"], timeout=30, env=env)
    assert out.returncode == 0, out.stdout
    rows = [line.split("|", 2) for line in out.stdout.splitlines() if line.strip()]
    return pd.DataFrame(rows, columns=["jobid", "state", "comment"])


def _scontrol(env: dict[str, str], jobid: str) -> str:
    out = run_bounded(["scontrol", "show", "job", jobid], timeout=30, env=env)
    assert out.returncode == 0, out.stdout
    return out.stdout


@pytest.mark.slow
def test_study_runs_on_slurm(slurm_env: dict[str, str], tmp_path: Path) -> None:
    munge = run_bounded(
        [
            "bash",
            "-c",
            f"munge -n --socket={slurm_env['CLUSTER_DIR']}/munge/munge.socket | unmunge "
            f"--socket={slurm_env['CLUSTER_DIR']}/munge/munge.socket",
        ],
        timeout=30,
    )
    assert munge.returncode == 0 and "STATUS:" in munge.stdout and "Success" in munge.stdout, munge.stdout
    assert _squeue(slurm_env).empty

    study = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    study.update(methods={"random_search": {"kind": "random_search"}, "smac_rf": {"kind": "smac_rf"}})
    study.update(n_trials=6, n_init=2, budgets=[3])
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    targets = ["results/run_status.csv", "results/summary.csv", "results/figures/anytime_regret.png"]
    proc = run_bounded(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "-d",
            str(tmp_path),
            "--profile",
            "profiles/slurm",
            "--configfile",
            str(tmp_path / "study.yaml"),
            # poll every few seconds (the profile's 20 s suit a real queue); MinJobAge is 3600 s
            "--slurm-init-seconds-before-status-checks",
            "2",
            *targets,
        ],
        timeout=480,
        env=slurm_env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "submitted with SLURM jobid" in proc.stdout

    runs = sorted((tmp_path / "results" / "runs").rglob("*.parquet"))
    assert len(runs) == 2 * 2 * 2
    for target in targets:
        assert (tmp_path / target).stat().st_size > 0, target
    status = pd.read_csv(tmp_path / "results" / "run_status.csv")
    assert (status["status"] == "complete").all(), status

    jobs = _squeue(slurm_env)
    assert (jobs["state"] == "COMPLETED").all(), jobs
    kinds = jobs["comment"].str.replace(r"_wildcards_.*$", "", regex=True).value_counts().to_dict()
    # 8 run jobs in one submission (group "runs", 16 components); everything else one submission per job.
    assert kinds == {
        "rule_convert_table": 2,
        "rule_runs_run": 1,
        "rule_aggregate": 1,
        "rule_plot_anytime_regret": 1,
    }, kinds

    # The profile's resources reached sbatch: the group is as wide as `cores` (2, profiles/default) and stacks
    # 8 jobs in 4 layers of 20 min; convert_table has its own set-resources.
    group = _scontrol(slurm_env, jobs.loc[jobs["comment"] == "rule_runs_run", "jobid"].item())
    assert "TimeLimit=01:20:00" in group and "cpu=2,mem=4000M" in group, group
    convert = _scontrol(slurm_env, jobs.loc[jobs["comment"].str.startswith("rule_convert_table"), "jobid"].iloc[0])
    assert "TimeLimit=00:10:00" in convert and "cpu=1,mem=4000M" in convert, convert
