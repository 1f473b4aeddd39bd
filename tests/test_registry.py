"""The method registry is the one list of kinds: the config schema, LLM/vision handling, fingerprints and the
image/text/blank comparison all derive from it; the CLI and the workflow build the same spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT

from hpo.core import trajectory
from hpo.optimizers import registry
from hpo.optimizers.base import Optimizer
from hpo.run.provenance import build_spec, method_digest
from hpo.study.config import SCHEMA_PATH, StudyConfigError, load_schema, validate_study


def kind_enum(schema: dict) -> list[str]:
    return schema["properties"]["methods"]["additionalProperties"]["properties"]["kind"].get("enum", [])


def test_schema_kinds_are_the_registry() -> None:
    assert kind_enum(load_schema()) == list(registry.KINDS)
    # the file itself lists no kinds: a new kind is registered in one place only
    assert kind_enum(yaml.safe_load(SCHEMA_PATH.read_text())) == []


@pytest.mark.parametrize("name", list(registry.KINDS))
def test_every_entry_is_consistent(name: str) -> None:
    entry = registry.KINDS[name]
    cls = entry.cls()
    assert issubclass(cls, Optimizer)
    schema = entry.params_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    defaults = {k: v["default"] for k, v in schema.get("properties", {}).items() if "default" in v}
    jsonschema.validate(defaults, schema)  # the defaults are valid parameters
    assert not entry.vision or entry.llm, "a kind that sends images calls an LLM"
    assert (entry.role is not None) <= entry.llm
    files = entry.code_files()
    assert Path(sys.modules[cls.__module__].__file__).resolve() in files
    assert not any(f.parts[-2] == "benchmarks" for f in files), "methods never import benchmarks"
    if entry.vision:
        assert any(f.name == "images.py" for f in files), "the image rendering is part of a vision kind's code"


def test_adding_a_kind_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new entry (reusing a class, as a new module would) is accepted by the study and fingerprinted."""
    new = registry.MethodKind("my_search", "hpo.optimizers.random_search:RandomSearch", "test kind")
    monkeypatch.setitem(registry.KINDS, "my_search", new)
    study = {"benchmarks": ["mlp-car"], "methods": {"mine": {"kind": "my_search"}}, "seeds": [0], "n_trials": 3}
    study["n_init"] = 1
    assert validate_study(study)["methods"]["mine"]["params"] == {}
    assert method_digest("my_search") != method_digest("random_search")  # the entry itself is fingerprinted
    with pytest.raises(StudyConfigError, match="config error: .*kind.*'nope'"):
        validate_study({**study, "methods": {"x": {"kind": "nope"}}})


def test_cli_and_workflow_build_the_same_spec(tmp_path: Path, table_dir: Path) -> None:
    out = tmp_path / "run.parquet"
    cmd = [sys.executable, "-m", "hpo", "run", "mlp-car", "optuna_tpe", "--seed", "1", "--n-trials", "4"]
    subprocess.run([*cmd, "--n-init", "2", "--out", str(out)], check=True, cwd=ROOT, capture_output=True)
    spec = trajectory.read_meta(out)["spec"]
    study = validate_study(
        {
            "benchmarks": ["mlp-car"],
            "methods": {"optuna_tpe": {"kind": "optuna_tpe"}},
            "seeds": [1],
            "n_trials": 4,
            "n_init": 2,
        }
    )
    workflow = build_spec(
        benchmark="mlp-car",
        method="optuna_tpe",
        kind="optuna_tpe",
        seed=1,
        n_trials=4,
        n_init=2,
        params=study["methods"]["optuna_tpe"]["params"],
    )
    assert spec["params"] == workflow.params and spec["params"]["n_ei_candidates"] == 24  # defaults filled
    assert spec["fingerprint"] == workflow.fingerprint and spec["provenance"] == workflow.provenance
    assert set(spec["provenance"]) == {"params", "method", "benchmark", "harness"}
