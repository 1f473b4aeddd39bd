"""optuna-dashboard export (issue 17): every trial of a finished small study (classical methods and an LLM method
against a scripted endpoint, a tabular benchmark with ordinal grids and a continuous one) is in results/optuna.db
with the parameters and loss of its Parquet row, read back with ``optuna.load_study``.

Issue 26: the export is native to optuna-dashboard: real parameter values under the ConfigSpace's distributions (no
grid indices), trial times from the recorded wall times, the metric named, the run's identity as study attributes;
checked through Optuna and through the dashboard's own JSON API (its WSGI app, in-process)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import fake_endpoints as fe
import pandas as pd
import pytest
import yaml
from conftest import snakemake
from fake_openai import FakeOpenAI

import hpo.benchmarks as B


@pytest.mark.slow
def test_every_trial_is_in_the_optuna_storage(tmp_path: Path, table_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ConfigSpace as CS
    import optuna

    monkeypatch.setenv("HPO_FAKE_KEY", fe.KEY)
    with FakeOpenAI(fe.good) as fake:
        study = {
            "benchmarks": ["synth-branin", "mlp-car"],
            "methods": {"random_search": {"kind": "random_search"},
                        "llm": {"kind": "llm", "params": {"endpoint": "fake"}}},
            "seeds": [0, 1],
            "n_trials": 5,
            "n_init": 3,
            "endpoints": {"fake": {"base_url": fake.url, "model": fe.MODEL, "api_key_env": "HPO_FAKE_KEY"}
                          | {"price_prompt_per_1k": 0.15, "price_completion_per_1k": 0.6, "retries": 0}},
        }  # fmt: skip
        (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
        snakemake(tmp_path, "results/optuna.db", "--configfile", str(tmp_path / "study.yaml"))
    storage = f"sqlite:///{tmp_path / 'results' / 'optuna.db'}"
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert names == sorted(f"{b}/{m}/{s}" for b in study["benchmarks"] for m in study["methods"] for s in (0, 1))
    for name in names:
        benchmark, method, seed = name.split("/")
        rows = pd.read_parquet(tmp_path / "results" / "runs" / benchmark / method / f"{seed}.parquet")
        trials = optuna.load_study(study_name=name, storage=storage).get_trials()
        assert len(trials) == len(rows) == 5
        space = B.make(benchmark).space
        for trial, row in zip(trials, rows.sort_values("trial").itertuples()):
            config = json.loads(row.config)
            assert trial.value == pytest.approx(row.loss) and trial.user_attrs["origin"] == row.origin
            assert json.loads(trial.user_attrs["config"]) == config
            for hp, value in config.items():
                got, dist = trial.params[hp], trial.distributions[hp]
                assert got == pytest.approx(value)  # the value itself, ordinal grids included
                if isinstance(space[hp], CS.OrdinalHyperparameter):
                    assert got in list(space[hp].sequence)
                if isinstance(space[hp], CS.UniformFloatHyperparameter):
                    assert dist.log == space[hp].log and (dist.low, dist.high) == (space[hp].lower, space[hp].upper)
            if method == "llm" and row.origin != "initial_design":
                assert trial.user_attrs["prompt_tokens"] == row.prompt_tokens > 0
                assert math.isclose(trial.user_attrs["llm_cost"], row.llm_cost) and row.llm_cost > 0


def _get(app, path: str) -> dict:  # noqa: ANN001 - a WSGI application
    """GET ``path`` from a WSGI app in-process (no server, no socket): the decoded JSON reply."""
    import io
    from wsgiref.util import setup_testing_defaults

    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith("200"), (path, status, body[:300])
    return json.loads(body)


def test_the_dashboard_reads_real_values_times_and_the_metric(tmp_path: Path, table_dir: Path) -> None:
    """A real random_search run on mlp-car (ordinal grids, one an integer range) read by Optuna and optuna-dashboard."""
    import datetime

    import optuna
    from optuna.distributions import CategoricalDistribution, IntDistribution
    from optuna_dashboard import wsgi

    from hpo.analysis.optuna_export import EPOCH, export
    from hpo.core import trajectory
    from hpo.run.harness import run_to_file
    from hpo.run.provenance import build_spec

    spec = build_spec(benchmark="mlp-car", method="rs", kind="random_search", seed=0, n_trials=6, n_init=3)
    run = run_to_file(spec, tmp_path / "runs" / "mlp-car" / "rs" / "0.parquet")
    meta, rows = trajectory.read_meta(run), pd.read_parquet(run).sort_values("trial")
    metric = meta["benchmark_info"]["loss"]
    assert metric == "1 - validation balanced accuracy"
    db = tmp_path / "optuna.db"
    assert export([run], db) == 6
    storage = f"sqlite:///{db}"
    space = B.make("mlp-car").space
    grid = {hp.name: [v.item() if hasattr(v, "item") else v for v in hp.sequence] for hp in space.values()}

    # Optuna: values from the grid under categorical / integer-range distributions, times from the wall times
    study = optuna.load_study(study_name="mlp-car/rs/0", storage=storage)
    assert study.metric_names == [metric]
    assert study.user_attrs == {"benchmark": "mlp-car", "method": "rs", "seed": 0, "kind": "random_search",
                                "n_trials": 6, "n_init": 3, "fingerprint": spec.fingerprint}  # fmt: skip
    trials = study.get_trials()
    assert study.best_trial.params["learning_rate_init"] in grid["learning_rate_init"]
    for trial, row in zip(trials, rows.itertuples()):
        config = json.loads(row.config)
        assert trial.params == pytest.approx(config) and all(trial.params[k] in grid[k] for k in grid)
        assert trial.distributions["learning_rate_init"] == CategoricalDistribution(grid["learning_rate_init"])
        assert trial.distributions["depth"] == IntDistribution(1, 3)  # {1, 2, 3}: an evenly spaced range
        assert trial.user_attrs["trial"] == row.trial and trial.user_attrs["origin"] == row.origin
        assert trial.user_attrs["true_loss"] == pytest.approx(row.true_loss)
        assert trial.user_attrs["regret"] == pytest.approx(row.regret) and "fidelity" not in trial.user_attrs
    ends = [(t.datetime_complete - EPOCH).total_seconds() for t in trials]
    starts = [(t.datetime_start - EPOCH).total_seconds() for t in trials]
    assert ends == pytest.approx(list(rows.wall_time), abs=1e-5) and starts == pytest.approx([0.0, *ends[:-1]])
    assert len({t.datetime_complete for t in trials}) == 6  # not all the export time

    # optuna-dashboard's own API: what its pages show
    app = wsgi(storage)
    (summary,) = _get(app, "/api/studies")["study_summaries"]
    assert summary["study_name"] == "mlp-car/rs/0"
    assert {a["key"]: a["value"] for a in summary["user_attrs"]}["benchmark"] == "mlp-car"
    detail = _get(app, f"/api/studies/{summary['study_id']}")
    assert detail["objective_names"] == [metric]
    shown = {p["name"]: p for p in detail["best_trials"][0]["params"]}
    assert float(shown["learning_rate_init"]["param_external_value"]) in grid["learning_rate_init"]
    assert shown["learning_rate_init"]["distribution"]["type"] == "CategoricalDistribution"
    assert shown["depth"]["distribution"] | {"step": 1} == {"type": "IntDistribution", "low": 1, "high": 3,
                                                            "step": 1, "log": False}  # fmt: skip
    for got, row in zip(detail["trials"], rows.itertuples()):
        config = json.loads(row.config)
        assert {p["name"]: float(p["param_external_value"]) for p in got["params"]} == pytest.approx(config)
        start, end = (datetime.datetime.fromisoformat(got[k]) for k in ("datetime_start", "datetime_complete"))
        assert (end - EPOCH).total_seconds() == pytest.approx(row.wall_time, abs=1e-5) and end > start
    _get(app, f"/api/studies/{summary['study_id']}/param_importances")  # the importance panel computes
