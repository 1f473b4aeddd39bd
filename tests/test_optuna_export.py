"""optuna-dashboard export (issue 17): every trial of a finished small study (classical methods and an LLM method
against a scripted endpoint, a tabular benchmark with ordinal grids and a continuous one) is in results/optuna.db
with the parameters and loss of its Parquet row, read back with ``optuna.load_study``."""

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
                if isinstance(space[hp], CS.OrdinalHyperparameter):  # the grid index (hpo.analysis.importance)
                    assert list(space[hp].sequence)[got] == pytest.approx(value)
                else:
                    assert got == pytest.approx(value)
                    if isinstance(space[hp], CS.UniformFloatHyperparameter):
                        assert dist.log == space[hp].log and (dist.low, dist.high) == (space[hp].lower, space[hp].upper)
            if method == "llm" and row.origin != "initial_design":
                assert trial.user_attrs["prompt_tokens"] == row.prompt_tokens > 0
                assert math.isclose(trial.user_attrs["llm_cost"], row.llm_cost) and row.llm_cost > 0
