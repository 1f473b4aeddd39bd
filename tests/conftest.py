"""Shared fixtures: the project root, converted tables, and a helper to run real Snakemake in a temp dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


@pytest.fixture(scope="session")
def table_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A per-session table cache so tests convert each table at most once. Under pytest-xdist the workers share one
    (the run's common temp folder): tables are written atomically, so two workers converting one table both succeed."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = base.parent / "tables"  # base is <run>/popen-gwN: one cache per run, not per worker
        path.mkdir(exist_ok=True)
    else:
        path = tmp_path_factory.mktemp("tables")
    os.environ["HPO_TABLE_CACHE"] = str(path)
    return path


def snakemake(workdir: Path, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real workflow of this repository with ``workdir`` as working directory (output in ``stdout``, stderr
    merged; on timeout Snakemake and its jobs are killed, see :func:`run_bounded`)."""
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
    proc = run_bounded(cmd, timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-9000:]}")
    return proc


def run_bounded(
    cmd: list[str], timeout: float, *, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group, stderr merged into stdout; on timeout SIGKILL the whole group and fail.

    Snakemake ignores SIGTERM while jobs run, and ``subprocess.run``'s timeout kills only the parent: its jobs (an
    embedded llama.cpp server among them) would outlive the test.
    """
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise AssertionError(f"timed out after {timeout} s: {' '.join(cmd)}\n{out[-4000:]}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")
