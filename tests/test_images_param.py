"""The ``images`` parameter of the multimodal kinds: which of the three history plots are sent.

Checked at planning (one line naming the key), out of the fingerprint when unset, and against the local test server
(tests/fake_openai.py), which records what the client really sent: an ablated run sends exactly the selected plots,
byte-identical to the same plots of a full run with the same history, in proposals and insight requests alike.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, first_valid_config, vision_endpoint
from PIL import Image

from hpo.insight.ask import insight_to_file
from hpo.llm.images import IMAGE_NAMES, PLOTS
from hpo.run.harness import RunSpec, run_to_file
from hpo.run.provenance import build_spec
from hpo.study.config import StudyConfigError, validate_study

N_TRIALS, N_INIT = 7, 4


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, table_dir: Path) -> None:
    monkeypatch.setenv("HPO_TEST_KEY", "sk-test-not-secret")


def _spec(kind: str, url: str, **params: Any) -> RunSpec:
    endpoint = vision_endpoint(url)
    p = {"endpoint": "fake", "endpoint_config": endpoint, "cache": "off", **params}
    return build_spec(benchmark="mlp-car", method=kind, kind=kind, seed=0, n_trials=N_TRIALS, n_init=N_INIT, params=p)


def _pngs(request: dict[str, Any]) -> list[bytes]:
    content = request["messages"][1]["content"]
    if isinstance(content, str):
        return []
    return [base64.b64decode(p["image_url"]["url"].split(",", 1)[1]) for p in content[1:]]


def _study(tmp_path: Path, images: Any) -> dict[str, Any]:
    return {
        "benchmarks": ["mlp-car"],
        "methods": {"mm": {"kind": "mm_llm", "params": {"images": images}}},
        "seeds": [0],
        "n_trials": 5,
        "n_init": 2,
        "results": str(tmp_path / "results"),
        "logs": str(tmp_path / "logs"),
    }


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([], "should be non-empty"),
        (["per_hyperparameter", "histogram"], "'histogram' is not one of"),
        (["top_two", "top_two"], "has non-unique elements"),
        ("top_two", "is not of type 'array'"),
    ],
)
def test_bad_selections_fail_at_planning_with_one_line(tmp_path: Path, images: Any, message: str) -> None:
    with pytest.raises(StudyConfigError) as err:
        validate_study(_study(tmp_path, images))
    text = str(err.value)
    assert "\n" not in text and text.startswith("config error: methods.mm.params.images") and message in text


def test_a_selection_is_a_parameter_and_unset_changes_no_fingerprint(tmp_path: Path) -> None:
    cfg = validate_study(_study(tmp_path, ["top_two", "best_so_far"]))
    assert cfg["methods"]["mm"]["params"]["images"] == ["top_two", "best_so_far"]
    unset = _study(tmp_path, None)
    del unset["methods"]["mm"]["params"]
    assert "images" not in validate_study(unset)["methods"]["mm"]["params"]  # no default is filled in

    url = "http://127.0.0.1:9/v1"
    full, ablated = _spec("mm_llm", url), _spec("mm_llm", url, images=["top_two"])
    assert "images" not in full.params and ablated.params["images"] == ["top_two"]
    # the selection is hashed with the other parameters; code and benchmark parts are the same
    assert full.provenance["params"] != ablated.provenance["params"]
    assert {k: v for k, v in full.provenance.items() if k != "params"} == {
        k: v for k, v in ablated.provenance.items() if k != "params"
    }


def test_only_the_selected_plots_are_sent_and_kept_in_proposals_and_insight(tmp_path: Path) -> None:
    runs: dict[str, list[dict[str, Any]]] = {}
    with FakeOpenAI(first_valid_config) as fake:
        for name, params in (
            ("full", {}),
            ("top_two", {"images": ["top_two"]}),
            ("two", {"images": ["top_two", "per_hyperparameter"]}),
        ):
            before = len(fake.requests)
            spec = _spec("mm_llm", fake.url, **params)
            run_file = tmp_path / name / "0.parquet"
            run_to_file(spec, run_file)
            runs[name] = fake.requests[before:]
            if name == "top_two":
                before = len(fake.requests)
                insight_to_file(spec, run_file, tmp_path / name / "0_insight.json", [4, 6])
                insight_requests = fake.requests[before:]
    # first_valid_config answers from the prompt alone, so the three runs have the same history
    assert len(runs["full"]) == len(runs["top_two"]) == len(runs["two"]) == N_TRIALS - N_INIT
    order = list(PLOTS)
    for full, one, two in zip(runs["full"], runs["top_two"], runs["two"]):
        sent = _pngs(full)
        assert len(sent) == 3
        # the selected plots, byte for byte those of the full run, always in PLOTS order (not the listed order)
        assert _pngs(one) == [sent[order.index("top_two")]]
        assert _pngs(two) == [sent[order.index("per_hyperparameter")], sent[order.index("top_two")]]
        assert full["messages"][1]["content"][0] == one["messages"][1]["content"][0]  # the same text part
    kept = sorted(p.name for p in (tmp_path / "top_two" / "0_images").iterdir())
    assert kept == [f"trial_{t:03d}_top_two.png" for t in range(N_INIT + 1, N_TRIALS + 1)]
    two_kept = {p.name for p in (tmp_path / "two" / "0_images").iterdir()}
    assert two_kept == {f"trial_{t:03d}_{n}.png" for t in (5, 6, 7) for n in (PLOTS["per_hyperparameter"], "top_two")}
    assert set(IMAGE_NAMES) == set(PLOTS.values())

    # the insight job rebuilds the run's optimizer: the prior has no image, each budget the run's one plot
    assert len(insight_requests) == 5 and _pngs(insight_requests[0]) == []
    assert _pngs(insight_requests[2]) == _pngs(insight_requests[4]) == []  # the same histories without images
    for req, trial in ((insight_requests[1], 5), (insight_requests[3], 7)):
        (png,) = _pngs(req)
        assert png == (tmp_path / "top_two" / "0_images" / f"trial_{trial:03d}_top_two.png").read_bytes()
        with Image.open(io.BytesIO(png)) as im:
            assert im.format == "PNG" and im.size == (640, 480)
    doc = json.loads((tmp_path / "top_two" / "0_insight.json").read_text())
    assert [s["budget"] for s in doc["statements"]] == [0, 4, 4, 6, 6]


def test_the_blank_control_blanks_only_the_selected_plots(tmp_path: Path) -> None:
    with FakeOpenAI(first_valid_config) as fake:
        run_to_file(_spec("mm_llm_blank", fake.url, images=["best_so_far"]), tmp_path / "0.parquet")
        sent = list(fake.requests)
    for req in sent:
        (png,) = _pngs(req)
        with Image.open(io.BytesIO(png)) as im:
            assert im.size == (640, 480) and set(im.convert("L").getextrema()) == {255}
