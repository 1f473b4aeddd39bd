"""Unit checks of the repair rules against real ConfigSpace spaces."""

from __future__ import annotations

from pathlib import Path

import ConfigSpace as CS
import pytest

import hpo.benchmarks as B
from hpo.llm.repair import extract_json, parse_reply, repair_config
from hpo.llm.space_text import describe, is_log_scale, proposal_schema


def test_log_grids_snap_in_log_space(table_dir: Path) -> None:
    space = B.make("mlp-car").space
    assert is_log_scale(space["alpha"]) and is_log_scale(space["width"]) and not is_log_scale(space["depth"])
    base = {"alpha": 1e-8, "batch_size": 4, "depth": 1, "learning_rate_init": 1e-5, "width": 16}
    # Values between the geometric and the arithmetic mean of two grid points: log-space snapping goes up,
    # linear snapping would go down. 2.8e-7 lies between 7.74e-8 and 5.99e-7 (geometric mean 2.15e-7, mean 3.4e-7).
    p = repair_config(space, {**base, "alpha": 2.8e-7})
    assert p.values["alpha"] == 5.994842e-7 and p.repaired
    p = repair_config(space, {**base, "width": 32})  # between 25 and 40: geometric mean 31.6, mean 32.5
    assert p.values["width"] == 40
    assert repair_config(space, {**base, "depth": 99}).values["depth"] == 3


def test_continuous_clip_round_and_categories() -> None:
    space = CS.ConfigurationSpace()
    space.add(
        [
            CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True),
            CS.UniformIntegerHyperparameter("n", 1, 9),
            CS.CategoricalHyperparameter("act", ["relu", "tanh"]),
        ]
    )
    p = repair_config(space, {"lr": 5.0, "n": 3.6, "act": "TANH", "bogus": 1})
    assert p.values == {"lr": 0.1, "n": 4, "act": "tanh"} and p.repaired
    assert any("dropped unknown keys ['bogus']" in n for n in p.notes)
    assert "act: 'sigmoid' is not one of" in repair_config(space, {"lr": 0.01, "n": 2, "act": "sigmoid"}).error
    assert "missing hyperparameters ['n']" in repair_config(space, {"lr": 0.01, "act": "relu"}).error
    assert "is not a number" in repair_config(space, {"lr": [1], "n": 2, "act": "relu"}).error
    assert "float in [0.0001, 0.1], log scale" in describe(space["lr"])
    schema = proposal_schema(space)
    assert schema["properties"]["config"]["properties"]["n"] == {"type": "integer", "minimum": 1, "maximum": 9}


def test_parse_reply_accepts_fences_and_top_level() -> None:
    space = CS.ConfigurationSpace()
    space.add([CS.CategoricalHyperparameter("act", ["relu", "tanh"])])
    assert extract_json('Here:\n```json\n{"config": {"act": "relu"}}\n```') == {"config": {"act": "relu"}}
    [p] = parse_reply(space, '{"act": "relu", "rationale": "why not"}')
    assert p.values == {"act": "relu"} and p.rationale == "why not" and not p.repaired
    [p] = parse_reply(space, "[1, 2]")
    assert p.error == "reply is not a JSON object"
    with pytest.raises(ValueError):
        extract_json("no json here")


def _grid_space() -> CS.ConfigurationSpace:
    """A log grid (given unsorted, as nothing obliges a grid to be sorted), a linear grid and two ranges."""
    space = CS.ConfigurationSpace()
    space.add(
        [
            CS.OrdinalHyperparameter("width", [16, 25, 40, 64, 101, 161, 256, 406, 645, 1024]),
            CS.CategoricalHyperparameter("units", [64, 8, 512, 1]),  # numeric choices, out of order
            CS.OrdinalHyperparameter("depth", [1, 2, 3]),
            CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True),
            CS.UniformIntegerHyperparameter("n", 1, 9),
        ]
    )
    return space


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("width", float("inf"), 1024),  # was 16: abs(v - inf) ties for every level and the first level won
        ("width", 1e308, 1024),  # was 16 too: abs(v - 1e308) rounds to 1e308 for every level
        ("width", "Infinity", 1024),
        ("width", 5000, 1024),
        ("width", float("-inf"), 16),
        ("width", -3, 16),  # no logarithm: below every level of a log grid
        ("width", 0, 16),
        ("width", 1e-300, 16),
        ("units", float("inf"), 512),  # the largest, not the last-listed or first-listed choice
        ("units", float("-inf"), 1),
        ("depth", float("inf"), 3),
        ("depth", -1e308, 1),
        ("lr", float("inf"), 0.1),
        ("lr", 1e308, 0.1),
        ("lr", float("-inf"), 1e-4),
        ("lr", 0.0, 1e-4),
        ("n", float("inf"), 9),
        ("n", float("-inf"), 1),
    ],
)
def test_infinite_and_huge_values_go_to_the_nearer_end(name: str, value: object, expected: object) -> None:
    space = _grid_space()
    base = {"width": 64, "units": 8, "depth": 2, "lr": 0.01, "n": 3}
    p = repair_config(space, {**base, name: value})
    assert p.error is None and p.values[name] == expected and p.repaired, (p.values, p.error)
    assert {k: v for k, v in p.values.items() if k != name} == {k: v for k, v in base.items() if k != name}
    CS.Configuration(space, values=p.values).check_valid_configuration()


def test_json_infinity_from_a_model_reply_snaps_to_the_top_of_the_grid(table_dir: Path) -> None:
    """The reported case on the real mlp-car space: a model writes the JSON token ``Infinity`` for ``width``."""
    space = B.make("mlp-car").space
    reply = '{"config": {"alpha": -Infinity, "batch_size": 4, "depth": Infinity, "learning_rate_init": 1e308, '
    [p] = parse_reply(space, reply + '"width": Infinity}}')
    assert p.error is None, p.error
    assert p.values["width"] == max(space["width"].sequence) == 1024
    assert p.values["depth"] == 3 and p.values["alpha"] == min(space["alpha"].sequence)
    assert p.values["learning_rate_init"] == max(space["learning_rate_init"].sequence)
    assert "width: snapped inf to 1024" in p.notes


def test_nan_is_not_a_direction_and_is_asked_again() -> None:
    space = _grid_space()
    base = {"width": 64, "units": 8, "depth": 2, "lr": 0.01, "n": 3}
    for name in base:
        p = repair_config(space, {**base, name: float("nan")})
        assert p.values is None and f"{name}: nan is not a number" in p.error
