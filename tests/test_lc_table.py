"""The learning-curve tables (``lc-mlp-<dataset>``): built once by the function the workflow's ``convert_table``
rule calls, every lookup exact, Hyperband's and Optuna's rungs read from the table at the epochs they ask for,
regret recomputed from the table, and one-line errors for a fidelity outside the range or a missing table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hpo.benchmarks as B
from hpo.benchmarks import lc_mlp
from hpo.optimizers import params_schema
from hpo.run.harness import RunSpec, run
from hpo.util.defaults import fill_defaults

pytestmark = pytest.mark.slow  # trains the whole learning-curve grid (~20 s on 2 cores)
BENCH = "lc-mlp-wine"  # the smallest dataset: the whole grid trains in seconds


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return B.convert(BENCH, tmp_path_factory.mktemp("lc") / f"{BENCH}.npz")


def test_registered_as_a_multi_fidelity_table_benchmark() -> None:
    assert set(lc_mlp.ids()) <= set(B.available()) and set(lc_mlp.ids()) <= set(B.multi_fidelity_ids())
    assert B.reads_table(BENCH) and not B.needs_table(BENCH)  # built, not a shipped HPOBench table
    assert Path(lc_mlp.__file__) in B.provenance_files(BENCH)


def test_lookups_are_the_stored_curves(table: Path) -> None:
    bench = B.make(BENCH, table_path=table)
    data = np.load(table)
    configs = lc_mlp.configurations()
    assert data["losses"].shape == (len(configs), lc_mlp.EPOCHS) == data["seconds"].shape
    assert np.all(np.diff(data["seconds"], axis=1) > 0)  # cumulative fit time grows every epoch
    rng = np.random.default_rng(0)
    for row in (0, 17, len(configs) - 1):
        config = configs[row]
        for epoch in (1, 3, 9, 27):
            ev = bench.evaluate_at(config, float(epoch), rng)
            assert ev.loss == data["losses"][row, epoch - 1] and ev.cost == pytest.approx(epoch / 27)
        assert bench.true_loss(config) == data["losses"][row, -1]
    # one training run of a configuration reproduces its stored curve exactly (the table is what it says)
    losses, _ = lc_mlp.learning_curve("wine", configs[17])
    assert losses.tolist() == data["losses"][17].tolist()
    final = data["losses"][:, -1]
    assert bench.reference.f_star == final.min() and bench.reference.f_worst == final.max()


@pytest.mark.parametrize("kind", ["hyperband", "optuna_hb", "dehb"])
def test_multi_fidelity_kinds_read_the_table_at_their_rungs(table: Path, kind: str) -> None:
    bench = B.make(BENCH, table_path=table)
    spec = RunSpec(BENCH, kind, kind, seed=0, n_trials=4, n_init=0, params=fill_defaults(params_schema(kind), {}))
    df = run(spec, bench)[0].to_pandas()
    assert set(df["fidelity"].round(9)) <= {1.0, 3.0, 9.0, 27.0}
    assert 4 - 1e-9 <= df["cum_eval_cost"].iloc[-1] < 5
    last = df.iloc[-1]
    assert last["regret"] == pytest.approx(bench.true_loss(json.loads(last["incumbent"])) - bench.reference.f_star)


def test_bad_fidelity_and_missing_table_are_one_line(table: Path, tmp_path: Path) -> None:
    bench = B.make(BENCH, table_path=table)
    with pytest.raises(ValueError, match=r"epochs 28\.0 is outside \[1\.0, 27\.0\]") as err:
        bench.evaluate_at(lc_mlp.configurations()[0], 28.0, np.random.default_rng(0))
    assert "\n" not in str(err.value)
    with pytest.raises(FileNotFoundError, match="rule convert_table") as err:
        B.make(BENCH, table_path=tmp_path / "absent.npz").true_loss(lc_mlp.configurations()[0])
    assert "\n" not in str(err.value)
