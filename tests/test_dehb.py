"""The ``dehb`` kind on the multi-fidelity Hartmann 3 (``mfh3-good``): the fidelities are DEHB's ladder, its first
bracket is successive halving with top-1/eta promotions (read from the trajectory's rows), regret is recomputed from
the function, and the library leaves no file behind. Reproducibility across processes and the refusal on a benchmark
without fidelity are tested with the other multi-fidelity kinds (tests/test_smac_mf.py)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

import hpo.benchmarks as B
from hpo.optimizers.dehb import dehb_ladder
from hpo.run.harness import RunSpec, run


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> object:
    cwd = Path.cwd()
    work = tmp_path_factory.mktemp("dehb-cwd")
    os.chdir(work)  # DEHB's default output path is the current directory: nothing may land there
    try:
        spec = RunSpec("mfh3-good", "dehb", "dehb", seed=0, n_trials=10, n_init=0, params={})
        df = run(spec, B.make("mfh3-good"))[0].to_pandas()
    finally:
        os.chdir(cwd)
    assert list(work.iterdir()) == []
    return df


def test_ladder_is_dehbs_own() -> None:
    """[1, 100], eta 3: s_max = floor(log_3 100) = 4, levels 100 * 3**-k (k = 4..0)."""
    assert dehb_ladder(1.0, 100.0, 3) == pytest.approx([100 / 81, 100 / 27, 100 / 9, 100 / 3, 100.0])


def test_first_bracket_is_successive_halving_with_top_third_promotions(rows: object) -> None:
    df = rows
    ladder = dehb_ladder(1.0, 100.0, 3)
    assert set(df["fidelity"]) <= set(ladder)
    sizes = [81, 27, 9, 3, 1]  # bracket s_max: ceil((s_max + 1) / (s + 1) * eta**s) at level 0, then / eta
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    for k in range(len(sizes)):
        assert set(df["fidelity"].iloc[bounds[k] : bounds[k + 1]]) == {ladder[k]}
    for k in range(len(sizes) - 1):
        below = df.iloc[bounds[k] : bounds[k + 1]].sort_values("loss")["config"].tolist()
        assert set(df["config"].iloc[bounds[k + 1] : bounds[k + 2]]) == set(below[: sizes[k + 1]])
    assert set(df["origin"]) == {"optimizer"}  # no shared initial design


def test_budget_and_regret(rows: object) -> None:
    df = rows
    bench = B.make("mfh3-good")
    assert 10 - 1e-9 <= df["cum_eval_cost"].iloc[-1] < 11
    costs = [0.05 + 0.95 * (f / 100) ** 2 for f in df["fidelity"]]
    assert df["eval_cost"].tolist() == pytest.approx(costs)
    last = df.iloc[-1]
    incumbent = json.loads(last["incumbent"])
    assert last["regret"] == pytest.approx(bench.true_loss(incumbent) - bench.reference.f_star)
    assert math.isfinite(last["regret"]) and last["regret"] >= 0
