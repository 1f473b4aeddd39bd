"""Spending cap (issue 17): two jobs sharing one ledger stop at the cap together, the calls they make are exactly
those the cap allows (counted at a fake endpoint that checks what it receives), each fails with one line, and a rerun
with a raised cap completes from the cache without paying twice. Real runs (``python -m hpo run``) in parallel
processes; the study's caps reach them the way Snakemake jobs get them (the ``HPO_LLM_SPEND`` environment)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI

from hpo.llm.cache import ReplyCache
from hpo.llm.client import LLMClient
from hpo.llm.endpoint import EndpointConfig
from hpo.llm.ledger import SPEND_ENV, Ledger, SpendingCapReached, prompt_tokens_bound, spend_env

PRICE = 1.0  # USD per 1k completion tokens; the fake reports 20 completion tokens = max_tokens: $0.02 a call
CALL = 0.02
N_TRIALS, N_INIT = 6, 2  # 4 model calls per run


def branin_reply(request: dict[str, Any]) -> str:
    """A new valid synth-branin configuration per history row, so no re-ask; checks the request's format."""
    assert request["max_tokens"] == 20 and request["response_format"]["type"] == "json_schema"
    rows = sum(1 for line in request["messages"][-1]["content"].splitlines() if re.match(r"^\d+,", line))
    return json.dumps({"rationale": "walk", "config": {"x0": -4.0 + rows, "x1": 1.0 + rows}})


def _jobs(url: str, tmp: Path, cap: float) -> list[subprocess.CompletedProcess]:
    endpoint = {"base_url": url, "model": "m", "retries": 0, "timeout": 10.0, "max_tokens": 20}
    endpoint |= {"price_completion_per_1k": PRICE}
    params = json.dumps({"endpoint": "paid", "endpoint_config": endpoint})
    env = {**os.environ, "PYTHONPATH": str(ROOT), SPEND_ENV: spend_env(tmp / "spend", {"paid": cap})}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hpo", "run", "synth-branin", "llm", "--seed", str(seed), "--n-trials",
             str(N_TRIALS), "--n-init", str(N_INIT), "--params", params, "--cache", str(tmp / "cache"),
             "--out", str(tmp / f"runs/{seed}.parquet")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed in (0, 1)
    ]  # fmt: skip
    return [subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in procs]


def _spent(ledger: Path) -> float:
    return sum(json.loads(line)["usd"] for line in ledger.read_text().splitlines())


def test_parallel_jobs_stop_at_the_cap_and_resume_from_the_cache(tmp_path: Path) -> None:
    allowed = 3  # fewer than either job needs (4), so neither can finish
    with FakeOpenAI(branin_reply) as fake:
        first = _jobs(fake.url, tmp_path, cap=allowed * CALL)
        assert len(fake.requests) == allowed
        ledger = tmp_path / "spend" / "paid.jsonl"
        for job in first:
            assert job.returncode == 1, job.stderr
            line = job.stderr.strip().splitlines()[-1]
            assert line == (
                f"error: endpoint 'paid': spending cap max_cost ${allowed * CALL:.4f} reached: spent "
                f"${allowed * CALL:.4f}, the next call may cost up to ${CALL:.4f}; ledger {ledger} (raise max_cost "
                "and rerun: replies already paid for come from the cache)"
            )
        assert not list((tmp_path / "runs").glob("*.parquet"))
        assert _spent(ledger) == pytest.approx(allowed * CALL)
        second = _jobs(fake.url, tmp_path, cap=2 * (N_TRIALS - N_INIT) * CALL)
        assert [j.returncode for j in second] == [0, 0], second[0].stderr + second[1].stderr
        assert len(fake.requests) == 2 * (N_TRIALS - N_INIT)  # every call paid once, over both attempts
        assert len({json.dumps(r, sort_keys=True) for r in fake.requests}) == len(fake.requests)
    assert _spent(ledger) == pytest.approx(2 * (N_TRIALS - N_INIT) * CALL)
    assert len(ledger.read_text().splitlines()) == 2 * (N_TRIALS - N_INIT)  # reservations equal to the bill


def test_reservation_is_an_upper_bound_settled_to_the_reported_cost(tmp_path: Path) -> None:
    """Hand-computed: 30 characters of text -> ceil(30/3) + 8 = 18 prompt tokens; 100 max_tokens.
    Prices $1/1k prompt, $2/1k completion: reserve 0.018 + 0.2 = 0.218; the fake reports 100 + 20 tokens:
    0.1 + 0.04 = 0.14, so a -0.078 line settles it; a cap of 0.3 then refuses the next call (0.14 + 0.218 > 0.3)."""
    messages = [{"role": "user", "content": "x" * 30}]
    assert prompt_tokens_bound(messages) == 18
    values = {"model": "m", "retries": 0, "max_tokens": 100, "max_cost": 0.3}
    values |= {"price_prompt_per_1k": 1.0, "price_completion_per_1k": 2.0}
    with FakeOpenAI(lambda req: "fine") as fake:
        ep = EndpointConfig.from_dict("e", {**values, "base_url": fake.url})
        client = LLMClient(ep, ReplyCache(tmp_path / "cache"), seed=0)
        try:
            assert client.complete(messages, {}).cost == pytest.approx(0.14)
            assert client.complete(messages, {}).cached  # free: no line
            lines = [json.loads(x) for x in (tmp_path / "cache" / "spend" / "e.jsonl").read_text().splitlines()]
            assert [(x["what"], round(x["usd"], 6)) for x in lines] == [("reserve", 0.218), ("settle", -0.078)]
            with pytest.raises(SpendingCapReached, match=r"max_cost \$0\.3000 reached: spent \$0\.1400"):
                client.complete([{"role": "user", "content": "y" * 30}], {})
        finally:
            client.close()
        assert len(fake.requests) == 1
    assert Ledger(tmp_path / "cache" / "spend" / "e.jsonl", "e", 0.3).spent() == pytest.approx(0.14)
