"""One model per contrast (issue 22, item 1): arm groups are checked at planning, each refusal one line.

The arms of a group (text, image, blank image, ablations) must be asked of one model with one sampling setup, or
"images vs text" compares two models. A text arm that names no endpoint asks the study's vision endpoint; without
one (the default study) it asks the embedded model, the image arms are skipped and the group has nothing to compare,
which is reported, not refused. Every case calls :func:`hpo.study.config.validate_study` (what the Snakefile calls).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from test_config_errors import config_error

from hpo.study.config import validate_study

URL = "http://127.0.0.1:9/v1"
VISION = {"base_url": URL, "model": "big", "vision": True}
MM = {"mm_llm": {"kind": "mm_llm"}, "mm_llm_blank": {"kind": "mm_llm_blank"}}


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def study(methods: dict[str, Any], endpoints: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    cfg = {"benchmarks": ["synth-branin"], "seeds": [0], "n_trials": 4, "n_init": 2, "budgets": [3]}
    return {**cfg, "methods": {"rs": {"kind": "random_search"}, **methods}, "endpoints": endpoints or {}, **more}


REFUSED = [
    (  # two models behind one URL
        {"llm": {"kind": "llm", "params": {"endpoint": "small"}}, **MM},
        {"small": {"base_url": URL, "model": "small"}, "vision": VISION},
        "config error: groups.images: arms differ in model: llm 'small' (endpoint 'small'), mm_llm 'big' (endpoint "
        "'vision'); a contrast needs one model and one sampling setup: give every arm the same params.endpoint and "
        "settings",
    ),
    (  # the embedded model named explicitly for the text arm
        {"llm": {"kind": "llm", "params": {"endpoint": "embedded"}}, **MM},
        {"vision": VISION},
        "config error: groups.images: arms differ in endpoint: llm 'embedded:SmolLM2-135M-Instruct' (endpoint "
        "'embedded'), mm_llm 'http://127.0.0.1:9/v1' (endpoint 'vision'); a contrast needs",
    ),
    (  # one model, two temperatures
        {"llm": {"kind": "llm"}, "mm_llm": {"kind": "mm_llm", "params": {"endpoint": "hot"}}},
        {"vision": VISION, "hot": {**VISION, "temperature": 1.5}},
        "config error: groups.images: arms differ in temperature: llm 0.7 (endpoint 'vision'), mm_llm 1.5 (endpoint "
        "'hot'); a contrast needs",
    ),
    (  # one endpoint, a different prompt protocol
        {"llm": {"kind": "llm", "params": {"max_reasks": 0}}, **MM},
        {"vision": VISION},
        "config error: groups.images: arms differ in params.max_reasks: llm 0 (endpoint 'vision'), mm_llm 2",
    ),
]


@pytest.mark.parametrize(("methods", "endpoints", "message"), REFUSED)
def test_a_group_whose_arms_differ_in_model_or_sampling_is_refused(
    methods: dict[str, Any], endpoints: dict[str, Any], message: str
) -> None:
    assert config_error(study(methods, endpoints)).startswith(message)


def test_a_declared_group_is_checked_and_its_mistakes_named() -> None:
    two = {"llm": {"kind": "llm", "params": {"endpoint": "embedded"}}, **MM}
    groups = {"mine": {"arms": ["mm_llm", "mm_llm_blank"], "primary": {"arm": "mm_llm", "versus": "mm_llm_blank"}}}
    cfg = validate_study(study(two, {"vision": VISION}, groups=groups))  # llm on another model, but in no group
    primary = {"arm": "mm_llm", "versus": "mm_llm_blank", "budget": 4}  # budget null: n_trials
    assert cfg["groups"] == {"mine": {"arms": ["mm_llm", "mm_llm_blank"], "reference": "rs", "primary": primary}}
    assert validate_study(study(two, {"vision": VISION}, groups={}))["groups"] == {}  # {} declares none
    bad = {"g": {"arms": ["mm_llm", "rs"]}}
    assert config_error(study(MM, {"vision": VISION}, groups=bad)) == (
        "config error: groups.g.arms: rs (kind random_search) is not an LLM method; a classical method is a group's "
        "`reference`"
    )
    bad = {"g": {"arms": ["mm_llm", "mm_llm_blank"], "primary": {"arm": "mm_llm", "versus": "llm", "budget": 2}}}
    assert config_error(study(MM, {"vision": VISION}, groups=bad)) == (
        "config error: groups.g.primary.versus: 'llm' is not an arm; arms: mm_llm, mm_llm_blank"
    )
    bad["g"]["primary"]["versus"] = "mm_llm_blank"
    assert config_error(study(MM, {"vision": VISION}, groups=bad)) == (
        "config error: groups.g.primary.budget: 2 is not a reporting budget; allowed: 3, 4"
    )


def test_the_text_arm_asks_the_vision_endpoint_and_the_default_group_is_derived() -> None:
    """No endpoint named anywhere: llm, mm_llm and mm_llm_blank all ask the one vision endpoint; other text kinds
    (llm_tpe) keep the embedded model; the default group is the text arm and every image arm, image first."""
    methods = {"llm": {"kind": "llm"}, "tpe": {"kind": "llm_tpe"}, **MM}
    cfg = validate_study(study(methods, {"vision": VISION, "other": {**VISION, "model": "x"}}))
    endpoint = {m: cfg["methods"][m]["params"]["endpoint"] for m in methods}
    assert endpoint == {"llm": "vision", "tpe": "embedded", "mm_llm": "vision", "mm_llm_blank": "vision"}
    assert cfg["methods"]["llm"]["params"]["endpoint_config"]["model"] == "big"
    assert cfg["groups"] == {
        "images": {
            "arms": ["mm_llm", "mm_llm_blank", "llm"],
            "reference": "rs",
            "primary": {"arm": "mm_llm", "versus": "llm", "budget": 4},
        }
    }


def test_the_default_study_keeps_working_without_a_vision_endpoint() -> None:
    """config/config.yaml: llm on the embedded model, the mm arms skipped, its declared group valid (one runnable
    arm: nothing to compare, which the statistics report)."""
    cfg = validate_study(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    assert cfg["methods"]["llm"]["params"]["endpoint"] == "embedded"
    assert set(cfg["skipped"]) == {"mm_llm", "mm_llm_blank"}
    primary = {"arm": "mm_llm", "versus": "llm", "budget": cfg["n_trials"]}
    assert cfg["groups"]["images"] == {
        "arms": ["mm_llm", "mm_llm_blank", "llm"],
        "reference": "random_search",
        "primary": primary,
    }


def test_the_default_group_is_single_fidelity_and_a_multi_fidelity_group_is_declared() -> None:
    """llm_mf shares the text role but not the question: listed first, it neither joins nor breaks the derived
    ``images`` group; its own group (image, blank, text arms vs hyperband) is declared and checked the same way."""
    mf = {
        "llm_mf": {"kind": "llm_mf"},
        "mm_llm_mf": {"kind": "mm_llm_mf"},
        "mm_llm_mf_blank": {"kind": "mm_llm_mf_blank"},
    }
    methods = {"hb": {"kind": "hyperband"}, **mf, "llm": {"kind": "llm"}, **MM}
    cfg = validate_study(study(methods, {"vision": VISION}, benchmarks=["mfh3-good"]))
    assert list(cfg["groups"]) == ["images"] and cfg["groups"]["images"]["arms"] == ["mm_llm", "mm_llm_blank", "llm"]
    declared = {"budgets": {"arms": ["llm_mf", "mm_llm_mf_blank", "mm_llm_mf"], "reference": "hb"}}
    cfg = validate_study(study(methods, {"vision": VISION}, benchmarks=["mfh3-good"], groups=declared))
    assert cfg["groups"] == {
        "budgets": {
            "arms": ["mm_llm_mf", "mm_llm_mf_blank", "llm_mf"],
            "reference": "hb",
            "primary": {"arm": "mm_llm_mf", "versus": "llm_mf", "budget": 4},
        }
    }
