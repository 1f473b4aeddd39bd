"""Names and help (issue 26): "did you mean" for every unknown name, a documented command line, a described list.

An unknown benchmark id, method kind, endpoint, config key or parameter names its closest allowed name (the standard
library's :func:`difflib.get_close_matches`, one helper: :mod:`hpo.util.suggest`) in the same one line as before; with
no
close match the line lists what is allowed, as before. ``python -m hpo <command> --help`` documents every argument,
and ``python -m hpo list`` describes every benchmark and method kind on a line of its own, grouped by family.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from test_config_errors import BASE  # the smallest valid study

from hpo import benchmarks, optimizers
from hpo.__main__ import build_parser, main
from hpo.study.config import StudyConfigError, validate_study
from hpo.util.suggest import LIST_HINT, close_match, unknown

GPT = {"base_url": "https://api.openai.com/v1", "model": "gpt-4o", "api_key_env": "OPENAI_API_KEY"}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config_error(**overrides: Any) -> str:
    with pytest.raises(StudyConfigError) as err:
        validate_study({**BASE, **overrides})
    message = str(err.value)
    assert message.startswith("config error: ") and "\n" not in message, message
    return message


def test_the_helper() -> None:
    assert close_match("mlp-cra", benchmarks.available()) == "mlp-car"
    assert close_match("mlp-nope", benchmarks.available()) is None  # no far-fetched guess
    assert close_match(3, ["3"]) is None
    assert unknown("thing", "ab", ["abc", "xyz"]) == "unknown thing 'ab'; did you mean 'abc'? (allowed: abc, xyz)"
    assert unknown("thing", "q", ["abc", "xyz"]) == "unknown thing 'q'; allowed: abc, xyz"
    assert unknown("thing", "ab", ["abc"], LIST_HINT).endswith(f"did you mean 'abc'? ({LIST_HINT})")


TYPOS = [
    (
        {"benchmarks": ["mlp-cra"]},
        "config error: benchmarks: unknown benchmark 'mlp-cra'; did you mean 'mlp-car'? (python -m hpo list shows all)",
    ),
    (
        {"methods": {"rs": {"kind": "random_serch"}}},
        "config error: methods.rs.kind: unknown method kind 'random_serch'; did you mean 'random_search'? "
        "(python -m hpo list shows all)",
    ),
    (
        {"methods": {"l": {"kind": "llm", "params": {"endpoint": "gpt4o"}}}, "endpoints": {"gpt-4o": GPT}},
        "config error: methods.l.params.endpoint: unknown endpoint 'gpt4o'; did you mean 'gpt-4o'? "
        "(allowed: embedded, gpt-4o)",
    ),
    ({"n_trails": 4}, "config error: <top level>: unknown key 'n_trails'; did you mean 'n_trials'? (allowed keys: "),
    (
        {"methods": {"rf": {"kind": "smac_rf", "params": {"n_tree": 3}}}},
        "config error: methods.rf.params: unknown key 'n_tree'; did you mean 'n_trees'? (allowed keys: logging_level, "
        "n_trees, random_probability)",
    ),
    (
        {"methods": {"text": {"kind": "llm"}, "image": {"kind": "llm"}}, "groups": {"g": {"arms": ["text", "imgae"]}}},
        "config error: groups.g.arms: unknown method 'imgae'; did you mean 'image'? (allowed: text, image)",
    ),
]


@pytest.mark.parametrize(("override", "message"), TYPOS, ids=lambda v: str(v)[:40])
def test_a_typo_gets_its_suggestion(override: dict[str, Any], message: str) -> None:
    got = config_error(**override)
    assert got.startswith(message), got
    assert got.count("allowed keys") <= 1 and "takes:" not in got  # the keys are listed once


def test_no_close_match_keeps_the_list() -> None:
    assert config_error(benchmarks=["nope"]).startswith(
        "config error: benchmarks: unknown benchmark 'nope'; allowed: mlp-australian, "
    )
    assert config_error(methods={"rs": {"kind": "nope"}}).startswith(
        "config error: methods.rs.kind: 'nope' is not one of ['random_search'"
    )
    assert "was unexpected); allowed keys: anonymize" in config_error(bogus_key=1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mlp-cra", "random_search"], "error: unknown benchmark 'mlp-cra'; did you mean 'mlp-car'?"),
        (["mlp-car", "random_serch"], "error: unknown method kind 'random_serch'; did you mean 'random_search'?"),
    ],
)
def test_the_command_line_suggests_too(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *argv, "--out", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and LIST_HINT in err
    assert not (tmp_path / "x.parquet").exists()


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_argument_of_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _subparsers(build_parser())
    assert {"list", "run", "check-endpoint", "estimate"} <= set(commands)
    for name, parser in commands.items():
        for action in parser._actions:
            assert action.help and action.help.strip(), (name, action.dest)
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    run_args = [a for a in commands["run"]._actions if not isinstance(a, argparse._HelpAction)]
    assert len(run_args) == 10
    for action in run_args:
        assert (action.option_strings[0] if action.option_strings else action.dest) in text
        assert action.help.split("%")[0].split()[0] in text  # the help text, not just the name


def test_list_describes_every_name_grouped_by_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids, kinds = benchmarks.available(), optimizers.available()
    assert lines[0] == f"benchmarks ({len(ids)}):" and f"method kinds ({len(kinds)}):" in lines
    headings = [ln.strip() for ln in lines if ln.startswith("  ") and not ln.startswith("    ")]
    for family in ("tabular: HPOBench MLP", "tabular: HPOLib FCNet", "tabular: NAS-Bench-201", "Live ML", "Synthetic"):
        assert any(h.startswith(family) for h in headings), headings
    assert {"classical:", "LLM (text):", "LLM (multimodal):"} <= set(headings)
    rows = {ln.split()[0]: ln for ln in lines if ln.startswith("    ")}
    assert list(rows) == [*ids, *kinds]  # each name once, in the registries' order
    for line in rows.values():
        assert len(line.split()) > 2, line  # described
    assert "car (1728 samples" in rows["mlp-car"] and rows["random_search"].endswith("uniform random sampling")
    mlp = lines.index(next(ln for ln in lines if "tabular: HPOBench MLP" in ln))
    assert lines[mlp + 1].split()[0] == "mlp-australian"  # the family's ids under its heading


def test_list_ids_stays_machine_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--ids"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"benchmarks: {' '.join(benchmarks.available())}",
        f"optimizers: {' '.join(optimizers.available())}",
    ]
