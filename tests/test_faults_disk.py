"""Faults of the disk under a finished study (issue 18): a full disk, and a run file deleted behind the workflow.

A full disk used to end a job in a writer's traceback (``OSError: [Errno 28]``, worded differently by pyarrow, numpy
and pandas); now every atomic result write (:func:`hpo.util.atomic.atomic_path`) ends in one line naming the file and
the
space left, still without a partial file. A deleted run file whose aggregate remains was silently kept (Snakemake
does not recreate a missing intermediate when everything it feeds is up to date); now planning names it and the
fix it prints, ``--forcerun aggregate``, recreates exactly that run. The real full disk is a 64 KiB tmpfs (root only).
"""

from __future__ import annotations

import errno
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from conftest import snakemake

from hpo.analysis.aggregate import missing_runs_note
from hpo.core import trajectory
from hpo.util.atomic import DiskFullError, atomic_path


def test_a_full_disk_is_one_line_naming_the_file_and_free_space(tmp_path: Path) -> None:
    target = tmp_path / "summary.csv"
    target.write_text("finished\n")
    with pytest.raises(DiskFullError) as err, atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    message = str(err.value)
    assert "\n" not in message and err.value.errno == errno.ENOSPC
    assert message.startswith(f"cannot write {target}: no space left on device (")
    assert f" free in {tmp_path}); free space there, then rerun" in message
    assert target.read_text() == "finished\n", "the previous file is kept"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"], "no temp file is left"


def test_other_os_errors_pass_through(tmp_path: Path) -> None:
    with pytest.raises(PermissionError), atomic_path(tmp_path / "x") as _:
        raise PermissionError(errno.EACCES, "denied")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 64 KiB file system (tmpfs), or a skip where this process may not mount one."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_trajectory_on_a_really_full_disk(tiny_disk: Path) -> None:
    rows = 5000
    table = pa.table(
        {n: pa.array([None] * rows, type=t) for n, t, _ in trajectory.COLUMNS}, schema=trajectory.SCHEMA
    ).set_column(4, "config", pa.array([os.urandom(16).hex() for _ in range(rows)]))  # ~170 KB, incompressible
    out = tiny_disk / "runs" / "0.parquet"
    with pytest.raises(DiskFullError) as err:
        trajectory.write(table, out, {"spec": {"benchmark": "b"}})
    assert str(err.value).startswith(f"cannot write {out}: no space left on device (")
    assert list(out.parent.iterdir()) == [], "no partial file"


def test_the_cli_reports_a_full_disk_in_one_line(tiny_disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hpo.__main__ import main

    (tiny_disk / "filler").write_bytes(b"\0" * (60 * 1024 - 512))
    out = tiny_disk / "run.parquet"
    assert main(["run", "synth-branin", "random_search", "--n-trials", "200", "--n-init", "5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot write {out}: no space left on device (") and "\n" not in err
    assert not out.exists()


# --- a run file deleted while its aggregate remains ---------------------------------------------------------------


def test_missing_runs_note_names_the_missing_files(tmp_path: Path) -> None:
    runs = [tmp_path / f"{s}.parquet" for s in range(3)]
    agg = tmp_path / "trajectories.parquet"
    assert missing_runs_note(runs, agg) is None  # a fresh study: nothing aggregated yet
    agg.write_text("x")
    runs[1].write_text("x")
    note = missing_runs_note(runs, agg)
    assert note is not None and "\n" not in note
    assert note.startswith(f"warning: {runs[0]} and 1 more missing, but {agg} still holds the old run(s)")
    assert note.endswith("rerun it with --forcerun aggregate")
    for p in runs:
        p.write_text("x")
    assert missing_runs_note(runs, agg) is None


@pytest.mark.slow
def test_a_deleted_run_is_named_at_planning_and_the_fix_recreates_only_it(tmp_path: Path) -> None:
    study = {
        "benchmarks": ["synth-branin"],
        "methods": {"rs": {"kind": "random_search"}},
        "seeds": [0, 1],
        "n_trials": 4,
        "n_init": 2,
        "budgets": [3],
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    args = ["results/summary.csv", "--configfile", str(tmp_path / "study.yaml")]
    snakemake(tmp_path, *args)
    runs = tmp_path / "results" / "runs" / "synth-branin" / "rs"
    kept = (runs / "1.parquet").stat().st_mtime_ns
    (runs / "0.parquet").unlink()

    plan = snakemake(tmp_path, "-n", *args)
    assert "warning: results/runs/synth-branin/rs/0.parquet missing, but results/trajectories.parquet" in plan.stdout
    assert "rerun it with --forcerun aggregate" in plan.stdout

    fixed = snakemake(tmp_path, *args, "--forcerun", "aggregate")
    assert fixed.stdout.count("(Rule: run)") == 1, fixed.stdout[-3000:]
    assert (runs / "0.parquet").exists() and (runs / "1.parquet").stat().st_mtime_ns == kept
    assert "warning:" not in snakemake(tmp_path, "-n", *args).stdout
