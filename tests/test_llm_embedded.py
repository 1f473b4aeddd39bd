"""End to end through Snakemake: the text LLM against the real llama.cpp server with the real SmolLM2 model on
loopback (started by the run job itself), the warm-cache rerun, and the multimodal methods against a local test
server with an API key that must never reach disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import snakemake
from fake_openai import FakeOpenAI, first_valid_config

LLM_ROWS = ["llm", "repaired", "fallback"]

pytestmark = pytest.mark.slow  # real Snakemake studies, two on the real model


@pytest.fixture(scope="module")
def embedded_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    wd = tmp_path_factory.mktemp("embedded")
    cfg = {
        "benchmarks": ["nb201-cifar10"],
        "methods": {
            "llm": {"kind": "llm"},
            "llambo_lite": {"kind": "llambo_lite"},
            "llm_tpe": {"kind": "llm_tpe", "params": {"mix": "alternate"}},
        },
        "seeds": [0],
        "n_trials": 6,
        "n_init": 3,
    }
    (wd / "study.yaml").write_text(yaml.safe_dump(cfg))
    snakemake(wd, "--configfile", str(wd / "study.yaml"), timeout=900)
    return wd


def test_real_llm_rows_carry_tokens_latency_origin(embedded_study: Path) -> None:
    df = pd.read_parquet(embedded_study / "results" / "runs" / "nb201-cifar10" / "llm" / "0.parquet")
    llm = df[df["trial"] > 3]
    assert set(llm["origin"]) <= set(LLM_ROWS) and len(llm) == 3
    assert (llm["prompt_tokens"] > 100).all() and (llm["completion_tokens"] > 0).all()
    assert (llm["llm_latency"] > 0).all() and (llm["attempts"] >= 1).all() and (llm["cache_hits"] == 0).all()
    assert llm["raw_reply"].str.contains("{").all()
    assert (embedded_study / "logs" / "runs" / "nb201-cifar10" / "llm" / "0.llama_server.log").exists()
    status = pd.read_csv(embedded_study / "results" / "run_status.csv")
    assert list(status["status"]) == ["complete"] * 3


def test_llambo_and_llm_tpe_end_to_end(embedded_study: Path) -> None:
    """The field's reference LLM methods through Snakemake against the real model: rows carry origin, calls, tokens."""
    runs = embedded_study / "results" / "runs" / "nb201-cifar10"
    llambo = pd.read_parquet(runs / "llambo_lite" / "0.parquet")  # the published llambo: ~210 calls per trial
    trials = llambo[llambo["trial"] > 3]
    assert set(trials["origin"]) <= set(LLM_ROWS) and len(trials) == 3
    # sampler + surrogate: several calls per trial, each winner with its candidates counted
    assert (trials["attempts"] >= 2).all() and (trials["prompt_tokens"] > 200).all()
    assert (trials["n_candidates"] >= 1).all() and (trials["proposals"] >= trials["n_candidates"]).all()
    hybrid = pd.read_parquet(runs / "llm_tpe" / "0.parquet")
    after_init = hybrid[hybrid["trial"] > 3].set_index("trial")
    # mix: alternate, llm_every = 2: TPE, model, TPE after the initial design (the default mix: tests/test_llambo.py)
    assert after_init.loc[4, "origin"] == "tpe" and pd.isna(after_init.loc[4, "attempts"])
    assert after_init.loc[5, "origin"] in LLM_ROWS and after_init.loc[5, "completion_tokens"] > 0
    assert after_init.loc[6, "origin"] == "tpe"
    llm_table = pd.read_csv(embedded_study / "results" / "stats" / "llm.csv").set_index("method")
    assert {"llm", "llambo_lite", "llm_tpe"} <= set(llm_table.index)
    assert llm_table.loc["llambo_lite", "attempts_per_trial"] > llm_table.loc["llm_tpe", "attempts_per_trial"]


def test_warm_cache_rerun_makes_zero_model_calls(embedded_study: Path) -> None:
    run_file = embedded_study / "results" / "runs" / "nb201-cifar10" / "llm" / "0.parquet"
    before = pd.read_parquet(run_file)
    server_log = embedded_study / "logs" / "runs" / "nb201-cifar10" / "llm" / "0.llama_server.log"
    server_log.unlink()
    proc = snakemake(embedded_study, "--configfile", str(embedded_study / "study.yaml"), "--forcerun", "run")
    assert "rule run:" in proc.stdout + proc.stderr  # the run job really ran again
    after = pd.read_parquet(run_file)
    llm = after[after["trial"] > 3]
    assert (llm["cache_hits"] == llm["attempts"]).all() and (llm["llm_latency"] == 0).all()
    # the server was never even started (Snakemake creates every declared log, so its log is there, empty)
    assert server_log.stat().st_size == 0
    assert list(after["config"]) == list(before["config"])  # the rerun reproduces the trajectory


def test_multimodal_study_skips_without_vision_and_never_writes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-live-SECRET-9f8e7d6c5b4a"
    monkeypatch.setenv("HPO_TEST_SECRET_KEY", secret)
    with FakeOpenAI(first_valid_config) as fake:
        cfg = {
            "benchmarks": ["mlp-car"],
            "methods": {
                "llm": {"kind": "llm", "params": {"endpoint": "fake"}},
                "mm_llm": {"kind": "mm_llm"},
                "mm_llm_blank": {"kind": "mm_llm_blank"},
                "rs": {"kind": "random_search"},
            },
            "endpoints": {
                "fake": {
                    "base_url": fake.url,
                    "model": "fake-vision",
                    "vision": True,
                    "structured_output": "json_schema",
                    "api_key_env": "HPO_TEST_SECRET_KEY",
                    "retries": 0,
                    "price_prompt_per_1k": 0.01,
                    "price_completion_per_1k": 0.03,
                }
            },
            "seeds": [0, 1],
            "n_trials": 6,
            "n_init": 3,
        }
        (tmp_path / "study.yaml").write_text(yaml.safe_dump(cfg))
        snakemake(tmp_path, "--configfile", str(tmp_path / "study.yaml"), "--resources", "llm_slots=3")
        schemas = [r["response_format"]["json_schema"]["schema"]["properties"] for r in fake.requests]
        proposals = [p for p in schemas if "config" in p]
        assert len(proposals) == 3 * 2 * 3  # 3 LLM methods x 2 seeds x 3 model-proposed trials
        # the rest are the insight jobs' importance questions (priors shared through the cache where identical)
        # (and the endpoint preflight's one image question, rules/endpoints.smk)
        questions = [p for p in schemas if "config" not in p and "digit" not in p]
        assert sum("digit" in p for p in schemas) == 1
        assert all("weights" in p for p in questions) and len(schemas) > len(proposals)
        assert {h["authorization"] for h in fake.headers} == {f"Bearer {secret}"}
    traj = pd.read_parquet(tmp_path / "results" / "trajectories.parquet")
    mm = traj[(traj["method"] == "mm_llm") & (traj["trial"] > 3)]
    assert (mm["llm_cost"] - (100 * 0.01 + 20 * 0.03) / 1000).abs().max() < 1e-12
    images = sorted((tmp_path / "results" / "runs" / "mlp-car" / "mm_llm").glob("*_images/*.png"))
    assert len(images) == 2 * 3 * 3
    # the secret never reaches disk: scan every file the run wrote (results, logs, cache, Snakemake metadata)
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == [], leaked

    # without a vision endpoint the mm methods are skipped, and the status table says why
    cfg["endpoints"]["fake"]["vision"] = False
    cfg["methods"] = {"mm_llm": {"kind": "mm_llm"}, "rs": {"kind": "random_search"}}
    (tmp_path / "novision.yaml").write_text(yaml.safe_dump(cfg))
    shutil.rmtree(tmp_path / "results")
    snakemake(tmp_path, "--configfile", str(tmp_path / "novision.yaml"))
    status = pd.read_csv(tmp_path / "results" / "run_status.csv").set_index("method")
    assert status.loc["mm_llm", "status"] == "skipped"
    assert "no endpoint with vision: true" in status.loc["mm_llm", "reason"]
    # ... and naming a text-only endpoint for an mm method is a one-line config error before any job
    cfg["methods"]["mm_llm"]["params"] = {"endpoint": "fake"}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
    proc = snakemake(tmp_path, "--configfile", str(tmp_path / "bad.yaml"), check=False)
    assert proc.returncode != 0
    assert (
        "config error: methods.mm_llm.params.endpoint: mm_llm sends images but endpoint 'fake' (fake-vision) "
        "has no `vision: true`"
    ) in proc.stdout
