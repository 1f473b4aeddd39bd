"""A job's own parse of the workflow takes the study the planning process resolved (hpo.study.handoff).

Under SLURM each job is a Snakemake process (``--mode remote``, steps inside it ``--mode subprocess``) that parses
the Snakefile again. The real workflow is parsed here through Snakemake's API in each execution mode, each parse in
a fresh Python process, counting the calls of :func:`hpo.study.config.validate_study`: the planning process validates
(always, a handed-off file or not), a job process with the planning process's file does not, one without it
validates, and every process ends with the same ``STUDY`` and the same ``config``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, run_bounded

from hpo.study.handoff import HANDOFF_DIR, load_resolved, save_resolved, study_key

# Parses the workflow in one execution mode and prints what the rule files resolved and how often they validated.
PARSE = """
import json, sys
from pathlib import Path

import hpo.study.config

calls = []
validate_study = hpo.study.config.validate_study
# rules/common.smk imports it after this
hpo.study.config.validate_study = lambda cfg: calls.append(1) or validate_study(cfg)

from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings, WorkflowSettings
from snakemake_interface_executor_plugins.settings import ExecMode

root, workdir, configfile, mode = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), ExecMode[sys.argv[4]]
with SnakemakeApi(OutputSettings()) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(configfiles=[configfile]),
        workflow_settings=WorkflowSettings(exec_mode=mode),
        snakefile=root / "Snakefile",
        workdir=workdir,
    )._workflow
    out = {"study": workflow.globals["STUDY"], "config": dict(workflow.config), "validations": len(calls)}
print("PARSED " + json.dumps(out, sort_keys=True))
"""

STUDY = {
    "benchmarks": ["mlp-car", "synth-branin"],
    "methods": {"rs": {"kind": "random_search"}, "llm": {"kind": "llm", "params": {"max_reasks": 1}}},
    "seeds": [0, 1],
    "n_trials": 6,
    "n_init": 2,
    "budgets": [3],  # n_trials is added by the resolution: the handed-off study must carry the resolved list
}


def parse(tmp_path: Path, mode: str, check: bool = True) -> dict[str, Any] | str:
    """Parse the workflow in ``mode`` (DEFAULT: planning; SUBPROCESS, REMOTE: a job's process); its output when it
    fails and ``check`` is False."""
    script = tmp_path / "parse.py"
    script.write_text(PARSE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(script), str(ROOT), str(tmp_path / "wd"), str(tmp_path / "study.yaml"), mode]
    proc = run_bounded(cmd, timeout=300, cwd=tmp_path, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("PARSED ")]
    if not lines:
        assert not check, proc.stdout[-4000:]
        return proc.stdout
    return json.loads(lines[-1].removeprefix("PARSED "))


@pytest.mark.slow
def test_a_job_process_takes_the_resolved_study_and_planning_still_validates(tmp_path: Path) -> None:
    (tmp_path / "wd").mkdir()
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(STUDY))
    unplanned = parse(tmp_path, "SUBPROCESS")  # no planning process yet: the job validates for itself
    planned = parse(tmp_path, "DEFAULT")
    replanned = parse(tmp_path, "DEFAULT")  # a handed-off study exists: planning validates all the same
    jobs = [parse(tmp_path, mode) for mode in ("SUBPROCESS", "REMOTE")]
    assert [p["validations"] for p in (unplanned, planned, replanned, *jobs)] == [1, 1, 1, 0, 0]
    assert planned["study"]["budgets"] == [3, 6] and planned["config"]["llm_cache"] == "results/llm_cache"
    for other in (unplanned, replanned, *jobs):
        assert other["study"] == planned["study"] and other["config"] == planned["config"]
    assert len(list((tmp_path / "wd" / HANDOFF_DIR).glob("study-*.json"))) == 1

    # the study file edited after planning (here: into a contradiction): a job has no file for its config and
    # validates it, and planning refuses it with one line
    (tmp_path / "study.yaml").write_text(yaml.safe_dump({**STUDY, "n_init": 7}))
    for mode in ("SUBPROCESS", "DEFAULT"):
        out = parse(tmp_path, mode, check=False)
        assert isinstance(out, str) and "config error: n_init: 7 exceeds n_trials=6" in out, out[-3000:]


def test_the_key_follows_the_config_as_given() -> None:
    assert study_key(dict(STUDY)) == study_key(json.loads(json.dumps(STUDY)))
    assert study_key(STUDY) != study_key({**STUDY, "seeds": [0]})
    assert study_key(STUDY) != study_key({**STUDY, "n_trials": 6.0})  # a float the schema refuses is another config


def test_only_what_survives_json_is_handed_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_resolved("k") is None  # nothing planned: validate
    assert save_resolved("k", {"a": 1}, {"budgets": [3, 6]})
    assert load_resolved("k") == {"config": {"a": 1}, "study": {"budgets": [3, 6]}}
    assert not save_resolved("t", {"a": 1}, {"budgets": (3, 6)})  # a tuple would come back a list
    assert not save_resolved("i", {1: "a"}, {})  # an int key would come back a string
    assert load_resolved("t") is None and load_resolved("i") is None
    (tmp_path / HANDOFF_DIR / "study-bad.json").write_text('{"config": {}')  # cut short
    assert load_resolved("bad") is None
    assert sorted(p.name for p in (tmp_path / HANDOFF_DIR).iterdir()) == ["study-bad.json", "study-k.json"]  # no temp
