"""Study configs that used to pass validation and fail later, or end in a traceback (issue 12), and the safe replay.

Each bad input must stop the study before any job with one line ``config error: <key>: ...`` naming the key (or the
path): whole-number floats where integers are meant (JSON Schema's ``integer`` accepts ``6.0``, which later named a
figure ``cd_diagram_budget6.0.png``), a budget too large to ever finish, and output locations that cannot be used.
Most cases call :func:`hpo.study.config.validate_study` directly (what the Snakefile calls at DAG-build time); a few run
real ``snakemake`` to prove that the one line reaches the user and that no job runs. The last test proves that the
documented replay of a study from its LLM cache leaves every finished file of the original study untouched, even
when the replay fails.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, snakemake
from fake_openai import FakeOpenAI, first_valid_config
from snakemake.cli import parse_config

from hpo.core import trajectory
from hpo.study.config import StudyConfigError, coerce_cli_lists, load_schema, validate_study

BASE: dict[str, Any] = {
    "benchmarks": ["synth-branin"],
    "methods": {"rs": {"kind": "random_search"}},
    "seeds": [0],
    "n_trials": 4,
    "n_init": 2,
}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Relative output paths (``results``, ``logs``) resolve in a fresh folder, as under ``snakemake -d``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def study(**overrides: Any) -> dict[str, Any]:
    return {**BASE, **overrides}


def config_error(cfg: dict[str, Any]) -> str:
    """The one-line message ``validate_study`` stops ``cfg`` with."""
    with pytest.raises(StudyConfigError) as err:
        validate_study(cfg)
    message = str(err.value)
    assert message.startswith("config error: ") and "\n" not in message, message
    return message


# --- Integers are integers ----------------------------------------------------------------------------------------

WHOLE_FLOATS = [
    ({"n_trials": 6.0}, "n_trials: 6.0 is not of type 'integer' (write 6: a whole number"),
    ({"n_trials": 1e9}, "n_trials: 1000000000.0 is not of type 'integer' (write 1000000000: a whole number"),
    ({"seeds": [0, 1.0]}, "seeds.1: 1.0 is not of type 'integer' (write 1: a whole number"),
    ({"budgets": [3.0]}, "budgets.0: 3.0 is not of type 'integer' (write 3: a whole number"),
    ({"n_init": 2.0}, "n_init: 2.0 is not of type 'integer'"),
    ({"n_init": 2.5}, "n_init: 2.5 is not of type 'integer'"),
    ({"n_trials": True}, "n_trials: True is not of type 'integer'"),
    (
        {"methods": {"rf": {"kind": "smac_rf", "params": {"n_trees": 10.0}}}},
        "methods.rf.params.n_trees: 10.0 is not of type 'integer' (write 10: a whole number, without a decimal "
        "point or exponent) (kind smac_rf takes: n_trees",
    ),
    (
        {"methods": {"tpe": {"kind": "optuna_tpe", "params": {"n_ei_candidates": 24.0}}}},
        "methods.tpe.params.n_ei_candidates: 24.0 is not of type 'integer'",
    ),
    (
        {"methods": {"llm": {"kind": "llm", "params": {"history_best_k": 10.0}}}},
        "methods.llm.params.history_best_k: 10.0 is not of type 'integer'",
    ),
]


@pytest.mark.parametrize(("override", "message"), WHOLE_FLOATS)
def test_whole_number_floats_are_not_integers(override: dict[str, Any], message: str) -> None:
    assert config_error(study(**override)).startswith(f"config error: {message}")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("n_trials=1e9", "n_trials: 1000000000.0 is not of type 'integer'"),
        ("n_trials=6.0", "n_trials: 6.0 is not of type 'integer'"),
        ("n_init=2.5", "n_init: 2.5 is not of type 'integer'"),
        ("seeds=[1.0]", "seeds.0: '1.0' is not of type 'integer' (write 1: a whole number"),
        ("budgets=[3.0]", "budgets.0: '3.0' is not of type 'integer' (write 3: a whole number"),
        ("budgets=[3,x]", "budgets.1: 'x' is not of type 'integer'"),
    ],
)
def test_snakemake_config_overrides_are_checked_as_parsed(entry: str, message: str) -> None:
    """What ``snakemake --config KEY=VALUE`` hands the Snakefile (Snakemake's own parser), through the same path."""
    cfg = coerce_cli_lists(load_schema(), {**BASE, **parse_config([entry])})
    assert config_error(cfg).startswith(f"config error: {message}")


def test_integers_stay_integers() -> None:
    cli = coerce_cli_lists(load_schema(), {**BASE, **parse_config(["n_trials=6", "seeds=[0,1]", "budgets=[3]"])})
    cfg = validate_study(cli)
    assert cfg["n_trials"] == 6 and cfg["seeds"] == [0, 1] and cfg["budgets"] == [3, 6]
    assert all(type(v) is int for v in [cfg["n_trials"], cfg["n_init"], *cfg["seeds"], *cfg["budgets"]])


# --- A budget that can finish ---------------------------------------------------------------------------------------


def test_budget_has_a_documented_upper_bound() -> None:
    message = config_error(study(n_trials=10**9))
    assert message.startswith("config error: n_trials: 1000000000 is greater than the maximum of 100000 (")
    assert "whole trajectory in memory" in message
    cfg = validate_study(study(n_trials=100_000))
    assert cfg["n_trials"] == 100_000


# --- Output locations ------------------------------------------------------------------------------------------------


def test_results_blocked_by_a_file(in_tmp: Path) -> None:
    (in_tmp / "results").write_text("not a folder")
    assert config_error(study()) == (
        "config error: results: 'results' is a file, not a directory; move it away or choose another `results`"
    )
    assert config_error(study(results="results/sub")) == (
        "config error: results: 'results' is a file, not a directory (needed for 'results/sub'); "
        "move it away or choose another `results`"
    )
    assert (in_tmp / "results").read_text() == "not a folder"


@pytest.mark.parametrize(
    ("blocked", "message"),
    [
        ("results/runs", "results: 'results/runs' is a file, not a directory; move it away"),
        ("results/runs/synth-branin", "results: 'results/runs/synth-branin' is a file, not a directory (needed for"),
        ("results/figures", "results: 'results/figures' is a file, not a directory;"),
        ("logs", "logs: 'logs' is a file, not a directory; move it away or choose another `logs`"),
        ("logs/runs/synth-branin/rs", "logs: 'logs/runs/synth-branin/rs' is a file, not a directory;"),
        ("results/importance", "results: 'results/importance' is a file, not a directory;"),
        ("logs/importance", "logs: 'logs/importance' is a file, not a directory;"),
        ("logs/insight", "logs: 'logs/insight' is a file, not a directory;"),
    ],
)
def test_output_folders_blocked_by_files(in_tmp: Path, blocked: str, message: str) -> None:
    path = in_tmp / blocked
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    assert config_error(study()).startswith(f"config error: {message}")


def test_checked_folders_are_the_folders_the_rules_write() -> None:
    """RESULT_DIRS / LOG_DIRS are a list kept by hand: every `{RESULTS}/x/` and `{LOGS}/x/` of rules/*.smk is in it."""
    from hpo.study.config import LOG_DIRS, RESULT_DIRS

    text = "".join(p.read_text() for p in sorted((ROOT / "rules").glob("*.smk")))
    for root, checked in (("RESULTS", RESULT_DIRS), ("LOGS", LOG_DIRS)):
        written = set(re.findall(r"\{" + root + r"\}/([a-z_]+)/", text))
        assert written == set(checked), f"{root}: rules write {sorted(written)}, checked {sorted(checked)}"


def test_insight_log_folders_are_checked_for_llm_methods_only(in_tmp: Path) -> None:
    (in_tmp / "logs" / "insight" / "synth-branin").mkdir(parents=True)
    (in_tmp / "logs" / "insight" / "synth-branin" / "llm").write_text("x")
    validate_study(study())  # no LLM method: that insight folder is not the study's (raises if it were checked)
    assert config_error(study(methods={"llm": {"kind": "llm"}})).startswith(
        "config error: logs: 'logs/insight/synth-branin/llm' is a file, not a directory;"
    )


def test_llm_cache_blocked_only_matters_to_llm_methods(in_tmp: Path) -> None:
    (in_tmp / "cache").write_text("x")
    llm = {"llm": {"kind": "llm"}}
    assert config_error(study(methods=llm, llm_cache="cache")).startswith(
        "config error: llm_cache: 'cache' is a file, not a directory"
    )
    validate_study(study(llm_cache="cache"))  # no method reads the cache


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_folder_that_cannot_be_created(in_tmp: Path) -> None:
    # /proc accepts no new entries, not even from root, whatever its permission bits say.
    assert config_error(study(results="/proc/hpo-results")).startswith(
        "config error: results: cannot create '/proc/hpo-results' in '/proc': "
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_write_permission(in_tmp: Path) -> None:
    (in_tmp / "ro").mkdir(mode=0o555)
    try:
        assert config_error(study(logs="ro")) == "config error: logs: cannot write to 'ro': Permission denied"
        assert config_error(study(logs="ro/logs")).startswith("config error: logs: cannot create 'ro/logs' in 'ro'")
    finally:
        (in_tmp / "ro").chmod(0o755)


def test_checking_outputs_creates_nothing(in_tmp: Path) -> None:
    validate_study(study(results="new/results", logs="new/logs"))
    assert list(in_tmp.iterdir()) == []


# --- The same through real Snakemake: one line, no job ----------------------------------------------------------------


def assert_stopped_before_any_job(proc: subprocess.CompletedProcess, message: str) -> None:
    assert proc.returncode != 0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("config error: ")]
    assert lines == [message], proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout and "rule run" not in proc.stdout, proc.stdout[-3000:]


@pytest.mark.slow
def test_snakemake_rejects_a_float_budget_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(BASE))
    proc = snakemake(tmp_path, "--configfile", str(tmp_path / "study.yaml"), "--config", "n_trials=1e9", check=False)
    assert_stopped_before_any_job(
        proc,
        "config error: n_trials: 1000000000.0 is not of type 'integer' (write 1000000000: a whole number, without "
        "a decimal point or exponent)",
    )
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()


@pytest.mark.slow
def test_snakemake_rejects_a_blocked_results_folder_and_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "runs").write_text("a file where the run folders go")
    (tmp_path / "results" / "summary.csv").write_text("finished,work\n")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "results").iterdir()}
    proc = snakemake(tmp_path, "--configfile", str(tmp_path / "study.yaml"), check=False)
    assert_stopped_before_any_job(
        proc,
        "config error: results: 'results/runs' is a file, not a directory; move it away or choose another `results`",
    )
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "results").iterdir()} == before
    assert not (tmp_path / "logs").exists()


def test_snakemake_names_the_close_match_and_points_at_the_config_only(tmp_path: Path) -> None:
    """A typo'd benchmark id under ``snakemake -n``: the one line with its suggestion, no pointer into project code."""
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study(benchmarks=["mlp-cra"])))
    proc = snakemake(tmp_path, "-n", "--configfile", str(tmp_path / "study.yaml"), check=False)
    assert_stopped_before_any_job(
        proc,
        "config error: benchmarks: unknown benchmark 'mlp-cra'; did you mean 'mlp-car'? (python -m hpo list shows all)",
    )
    assert "rules/common.smk" not in proc.stdout and "WorkflowError" not in proc.stdout, proc.stdout[-3000:]


# --- Replaying a study from its LLM cache without risking finished results --------------------------------------------

# The README's replay command: a separate results (and logs) folder that reads the original study's reply cache.
REPLAY = ["--config", "results=results_replay", "logs=logs_replay", "llm_cache=results/llm_cache"]


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file below ``folder``: content hash and modification time."""
    return {
        str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.glob("runs/*/*/*.parquet"))}


@pytest.mark.slow
def test_replay_from_the_cache_never_touches_the_finished_study(tmp_path: Path) -> None:
    with FakeOpenAI(first_valid_config) as fake:
        cfg = {
            "benchmarks": ["mlp-car"],
            "methods": {
                "rs": {"kind": "random_search"},
                "llm": {"kind": "llm", "params": {"endpoint": "fake", "max_reasks": 0}},
            },
            "endpoints": {"fake": {"base_url": fake.url, "model": "fake-model", "retries": 0}},
            "seeds": [0, 1],
            "n_trials": 3,
            "n_init": 1,
            "budgets": [2],
        }
        (tmp_path / "study.yaml").write_text(yaml.safe_dump(cfg))
        config = ["--configfile", str(tmp_path / "study.yaml")]
        snakemake(tmp_path, "results/summary.csv", *config)  # the finished part that matters (no figures)
        results = tmp_path / "results"
        original = run_files(results)
        assert len(original) == 4 and (results / "summary.csv").exists()
        calls = len(fake.requests)
        assert calls > 0

        # One corrupt cache entry: the replay job that needs it must fail (the cache never serves it).
        # The newest entry: a run's last reply, read by that run only (the endpoint preflight's entries are older).
        entry = max((results / "llm_cache").rglob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        entry.write_text("{not json")
        before = snapshot(results)
        logs_before = snapshot(tmp_path / "logs")

        replay = snakemake(tmp_path, "results_replay/summary.csv", *config, *REPLAY, check=False)  # what the study ran
        assert replay.returncode != 0, replay.stdout[-4000:]
        assert "corrupt LLM cache entry" in replay.stdout, replay.stdout[-4000:]
        # The original study is exactly as it was: no file removed, rewritten or touched; no new run file.
        assert snapshot(results) == before
        assert snapshot(tmp_path / "logs") == logs_before
        assert len(fake.requests) == calls  # a replay: every other reply came from the cache
        replayed = run_files(tmp_path / "results_replay")
        assert len(replayed) == 3 and set(replayed) < set(original)
        for name, path in replayed.items():  # what could be replayed is identical to what the study found
            columns = ["trial", "config", "origin", "loss", "raw_reply"]
            assert trajectory.read(path).select(columns) == trajectory.read(original[name]).select(columns)
        (failed,) = set(original) - set(replayed)

        # What the README warns about: --forcerun deletes each forced job's trajectory when the job starts, so the
        # same corrupt entry costs the original study that finished run.
        forced = snakemake(tmp_path, "results/summary.csv", *config, "--forcerun", "run", check=False)
        assert forced.returncode != 0
        assert not (results / failed).exists()
        assert all((results / name).exists() for name in replayed)
