"""Everything decidable before a job is decided at planning (issue 18), each with one ``config error:`` line.

Cases that used to pass ``snakemake -n`` and fail later (or never): a method whose parameters contradict each other
(each kind's ``check_params``, next to its schema), an endpoint temperature the API rejects at the first call, a
method or benchmark name that is not a safe folder name (``..`` wrote ``results/runs/0.parquet`` for every
benchmark), ``results`` and ``logs`` being one folder or nested (the success hook then deleted
``results/run_status.csv``), and credentials inside a ``base_url`` (written to every trajectory's metadata, the job
logs and ``.snakemake/metadata``). Most cases call :func:`hpo.study.config.validate_study` (what the Snakefile calls);
one
runs real ``snakemake -n`` to prove the line reaches the user and no job is planned.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import snakemake
from test_config_errors import (
    BASE,  # the smallest valid study
    config_error,
)

from hpo.optimizers.registry import KINDS
from hpo.study.config import validate_study

REMOTE = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def study(**overrides: Any) -> dict[str, Any]:
    return {**BASE, **overrides}


# --- cross-field rules of method parameters -----------------------------------------------------------------------

CONTRADICTIONS = [
    (
        {"kind": "llm_tpe", "params": {"mix": "alternate", "llm_every": 0, "llm_after_stale": 0}},
        "config error: methods.m.params: the model would never propose (llm_every or p_llm is 0 and "
        "llm_after_stale is 0); use optuna_tpe",
    ),
    (
        {"kind": "llambo_lite", "params": {"score_each": True, "variants": "tail"}},
        "config error: methods.m.params: score_each: true needs variants: history (a one-candidate request has no "
        "order to vary)",
    ),
    (  # the default of `variants` is tail: the rule applies to resolved parameters, defaults included
        {"kind": "llambo_lite", "params": {"score_each": True}},
        "config error: methods.m.params: score_each: true needs variants: history",
    ),
]


@pytest.mark.parametrize(("method", "message"), CONTRADICTIONS)
def test_contradicting_parameters_fail_at_planning(method: dict[str, Any], message: str) -> None:
    assert config_error(study(methods={"m": method})).startswith(message)


@pytest.mark.parametrize(
    "method",
    [
        {"kind": "llm_tpe", "params": {"llm_every": 0, "llm_after_stale": 3}},
        {"kind": "llm_tpe", "params": {"llm_every": 2, "llm_after_stale": 0}},
        {"kind": "llambo_lite", "params": {"score_each": True, "variants": "history"}},
        {"kind": "llambo_lite", "params": {"score_each": False, "variants": "tail"}},
    ],
)
def test_consistent_parameters_pass(method: dict[str, Any]) -> None:
    assert validate_study(study(methods={"m": method}))["methods"]["m"]["params"]["endpoint"] == "embedded"


def test_the_job_refuses_what_planning_refuses() -> None:
    """Library users bypass validate_study: the optimizer applies the same rule (one source, two callers)."""
    from ConfigSpace import ConfigurationSpace

    cls = KINDS["llm_tpe"].cls()
    with pytest.raises(ValueError, match="the model would never propose"):
        cls(
            ConfigurationSpace({"x": (0.0, 1.0)}),
            seed=0,
            n_trials=3,
            params={"mix": "alternate", "llm_every": 0, "llm_after_stale": 0},
        )


def test_every_kind_declares_its_cross_field_rules_as_a_classmethod() -> None:
    """The hook exists on every kind and passes each kind's defaults (a rule that rejects the defaults is a bug)."""
    from hpo.util.defaults import fill_defaults

    for name, entry in KINDS.items():
        cls = entry.cls()
        assert cls.check_params(fill_defaults(cls.PARAMS_SCHEMA, {})) is None, name


# --- endpoints --------------------------------------------------------------------------------------------------


def llm_study(**endpoint: Any) -> dict[str, Any]:
    return study(
        methods={"m": {"kind": "llm", "params": {"endpoint": "remote"}}},
        endpoints={"remote": {**REMOTE, **endpoint}},
    )


def test_temperature_outside_the_api_range_fails_at_planning() -> None:
    message = config_error(llm_study(temperature=5))
    assert message.startswith("config error: endpoints.remote.temperature: 5 is greater than the maximum of 2")
    assert "accept temperatures from 0 to 2" in message
    assert validate_study(llm_study(temperature=2))["endpoints"]["remote"]["temperature"] == 2


# --- seeds and budgets (issue 28) -----------------------------------------------------------------------------------


def test_a_seed_outside_the_optimizers_range_fails_at_planning() -> None:
    message = config_error(study(seeds=[0, 2**32]))
    assert message.startswith("config error: seeds.1: 4294967296 is greater than the maximum of 4294967295")
    assert "SMAC, Optuna and numpy take seeds in [0, 2**32)" in message
    assert validate_study(study(seeds=[2**32 - 1]))["seeds"] == [2**32 - 1]


def test_a_budget_above_n_trials_fails_at_planning_and_the_default_is_clipped() -> None:
    message = config_error(study(budgets=[2, 5, 9]))
    assert message == (
        "config error: budgets: [5, 9] exceed n_trials=4 (a run has no trial there); lower them or raise n_trials"
    )
    assert validate_study(study(budgets=[2]))["budgets"] == [2, 4]
    assert validate_study(study())["budgets"] == [4]  # the schema's default [10, 30] is for any study size


def test_a_removed_key_says_why_in_one_line() -> None:
    message = config_error(study(insight={"n_bootstrap": 2000}))
    assert message.startswith("config error: insight.n_bootstrap: removed: insight intervals are Student t intervals")
    assert message.endswith("delete the key")


SECRET = "sk-test-0123456789abcdef"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        (f"http://user:{SECRET}@127.0.0.1:9/v1", "user:password@ before the host"),
        (f"http://{SECRET}@127.0.0.1:9/v1", "user:password@ before the host"),
        (f"https://host.example/v1?api_key={SECRET}", "query parameter 'api_key'"),
    ],
)
def test_credentials_in_the_url_are_refused_and_never_echoed(url: str, where: str) -> None:
    message = config_error(llm_study(base_url=url))
    assert message == (
        f"config error: endpoints.remote.base_url: contains credentials ({where}); remove them and put the key in "
        "the environment variable named by `api_key_env`"
    )
    assert SECRET not in message


def test_a_url_without_credentials_passes() -> None:
    cfg = validate_study(llm_study(base_url="https://host.example:8443/v1?api-version=2024", api_key_env="KEY"))
    assert cfg["methods"]["m"]["params"]["endpoint_config"]["base_url"].startswith("https://host.example:8443")


# --- names that become folders ------------------------------------------------------------------------------------

UNSAFE = ["..", ".", "a/b", "a b", ""]


@pytest.mark.parametrize("name", UNSAFE)
def test_unsafe_method_names_are_refused(name: str) -> None:
    message = config_error(study(methods={name: {"kind": "random_search"}}))
    assert message == (
        f"config error: methods: name {name!r} cannot be a folder name; use letters, digits, `_`, `-` and `.` "
        "(not `.` or `..` alone, no `/`)"
    )


@pytest.mark.parametrize("name", ["..", "x/y"])
def test_unsafe_benchmark_names_are_refused(name: str) -> None:
    assert config_error(study(benchmarks=[name])).startswith(f"config error: benchmarks: name {name!r} cannot be")
    custom = {name: {"class": "x:Y", "f_star": 0, "f_ref": 1}}
    assert config_error(study(custom_benchmarks=custom)).startswith(
        f"config error: custom_benchmarks: name {name!r} cannot be"
    )


def test_safe_names_pass() -> None:
    methods = {n: {"kind": "random_search"} for n in ("rs", "rs-2", "rs_3", "r.s", "..rs")}
    assert list(validate_study(study(methods=methods))["methods"]) == list(methods)


# --- results and logs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("results", "logs", "message"),
    [
        ("out", "out", "config error: logs: 'out' is the results folder 'out'; choose separate folders"),
        ("out", "./out/", "config error: logs: './out/' is the results folder 'out'; choose separate folders"),
        (
            "out",
            "out/logs",
            "config error: logs: 'out/logs' lies inside results 'out'; choose folders that do not nest",
        ),
        ("out/res", "out", "config error: results: 'out/res' lies inside logs 'out'; choose folders that do not nest"),
    ],
)
def test_results_and_logs_must_be_separate(results: str, logs: str, message: str, in_tmp: Path) -> None:
    assert config_error(study(results=results, logs=logs)) == message
    assert list(in_tmp.iterdir()) == []


def test_results_and_logs_side_by_side_pass() -> None:
    cfg = validate_study(study(results="out/results", logs="out/logs"))
    assert (cfg["results"], cfg["logs"]) == ("out/results", "out/logs")


# --- the same through real Snakemake ------------------------------------------------------------------------------


@pytest.mark.slow
def test_snakemake_dry_run_stops_on_a_contradiction_with_one_line(tmp_path: Path) -> None:
    cfg = study(methods={"rs": {"kind": "random_search"}, "mix": {"kind": "llm_tpe", "params": {"p_llm": 0.0}}})
    cfg["methods"]["mix"]["params"]["llm_after_stale"] = 0
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(cfg))
    proc: subprocess.CompletedProcess = snakemake(
        tmp_path, "-n", "--configfile", str(tmp_path / "study.yaml"), check=False
    )
    assert proc.returncode != 0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("config error: ")]
    assert lines == [
        "config error: methods.mix.params: the model would never propose (llm_every or p_llm is 0 and "
        "llm_after_stale is 0); use optuna_tpe"
    ], proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout and "rule run" not in proc.stdout
    # fixed as the line says: the same study plans
    cfg["methods"]["mix"]["params"]["llm_after_stale"] = 2
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(cfg))
    fixed = snakemake(tmp_path, "-n", "--configfile", str(tmp_path / "study.yaml"), check=False)
    assert fixed.returncode == 0 and "rule run" in fixed.stdout, fixed.stdout[-3000:]
