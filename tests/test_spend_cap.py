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
import yaml
from conftest import ROOT, snakemake
from fake_openai import FakeOpenAI, envelope

from hpo.llm.cache import ReplyCache
from hpo.llm.client import EndpointError, LLMClient
from hpo.llm.endpoint import EndpointConfig
from hpo.llm.ledger import SPEND_ENV, Ledger, LedgerError, SpendingCapReached, prompt_tokens_bound, spend_env

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


@pytest.mark.slow
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


# --- trust (issue 28): no reply, ledger line or config can lift the cap ---------------------------------------------


def _usage(prompt: Any, completion: Any) -> Any:
    """A scripted reply: a well-formed completion whose usage reports these counts."""
    body = envelope("fine")
    body["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion}
    return lambda request: ("envelope", body)


@pytest.mark.parametrize(
    ("prompt", "completion", "says"),
    [
        (-10_000_000, 20, "usage.prompt_tokens is -10000000"),
        (float("nan"), 20, "usage.prompt_tokens is nan"),
        (100, float("inf"), "usage.completion_tokens is inf"),
        (100, 12.5, "usage.completion_tokens is 12.5"),
        (100, "20", "usage.completion_tokens is '20'"),
        (10_000_001, 20, "usage.prompt_tokens is 10000001"),
        (100, 100 + 64 + 1, "usage.completion_tokens is 165"),  # max_tokens 100 + slack 64 + 1
    ],
)
def test_impossible_usage_is_an_endpoint_fault_never_a_credit(
    tmp_path: Path, prompt: Any, completion: Any, says: str
) -> None:
    """The reply's usage is what the ledger settles: a count that is no count of one call fails the call with one
    line naming the endpoint and the field, is not retried (retries: 2), and leaves the reservation charged, so a
    cap of 1.5 reservations refuses the next call instead of being lifted by a credit."""
    messages = [{"role": "user", "content": "x" * 30}]  # reserve 0.018 + 0.2 = $0.218 (as above)
    values = {"model": "m", "retries": 2, "max_tokens": 100, "price_prompt_per_1k": 1.0, "price_completion_per_1k": 2.0}
    with FakeOpenAI(_usage(prompt, completion)) as fake:
        ep = EndpointConfig.from_dict("e", {**values, "base_url": fake.url, "max_cost": 1.5 * 0.218})
        client = LLMClient(ep, ReplyCache(tmp_path / "cache"), seed=0)
        try:
            with pytest.raises(EndpointError) as raised:
                client.complete(messages, {})
            assert len(fake.requests) == 1, "an impossible count is not retried"
            line = str(raised.value)
            assert line.startswith(f"endpoint 'e' ({fake.url}, model m) failed after 1 attempt (retries: 2): ")
            assert says in line and "\n" not in line
            with pytest.raises(SpendingCapReached, match=r"spent \$0\.2180"):
                client.complete([{"role": "user", "content": "y" * 30}], {})
            assert len(fake.requests) == 1
        finally:
            client.close()
    assert Ledger(tmp_path / "cache" / "spend" / "e.jsonl", "e", 1.0).spent() == pytest.approx(0.218)
    assert not list((tmp_path / "cache").glob("*/*.json")), "the reply was not cached"


@pytest.mark.slow
def test_negative_usage_fails_each_job_with_one_line_and_lifts_no_cap(tmp_path: Path) -> None:
    """The found case through real jobs: an endpoint reporting prompt_tokens -10000000 used to settle -$6 per call,
    so 4 calls passed a one-call cap. Now each job's first call fails with one line and the ledger holds the two
    reservations ($0.02 each), nothing less."""
    with FakeOpenAI(_usage(-10_000_000, 20)) as fake:
        jobs = _jobs(fake.url, tmp_path, cap=1.5 * CALL * 2)
        assert len(fake.requests) == 2
    for job in jobs:
        assert job.returncode == 1
        line = job.stderr.strip().splitlines()[-1]
        assert line.startswith(f"error: endpoint 'paid' ({fake.url}, model m) failed after 1 attempt (retries: 0): ")
        assert "the reply's usage.prompt_tokens is -10000000, not a token count of one call" in line
    assert _spent(tmp_path / "spend" / "paid.jsonl") == pytest.approx(2 * CALL)


def _ledger_line(what: str, usd: Any, key: str = "k") -> str:
    return json.dumps({"t": 0, "what": what, "usd": usd, "key": key, "job": "hand"})


@pytest.mark.parametrize(
    ("lines", "bad", "says"),
    [
        ([_ledger_line("reserve", -6.0)], 1, "a reserve of $-6 (a reservation is >= 0)"),
        (
            [_ledger_line("reserve", 0.02, "a"), _ledger_line("settle", -6.0, "b")],
            2,
            "a settle of $-6 takes key 'b' below $0 (a settle lowers only what its key reserved)",
        ),
        (
            [_ledger_line("reserve", 0.02, "a"), _ledger_line("settle", -0.03, "a")],
            2,
            "a settle of $-0.03 takes key 'a' below $0",
        ),
        ([_ledger_line("reserve", 0.02), _ledger_line("reserve", float("nan"))], 2, "`usd` is nan, not a finite"),
        (['{"t": 0, "what": "reserve", "usd": 0.02, "key": "k", "job": "h\x01st"}'], 1, "not JSON (Invalid control"),
        ([_ledger_line("refund", 0.02)], 1, "`what` is 'refund', not 'reserve' or 'settle'"),
    ],
)
def test_a_ledger_line_that_is_no_charge_stops_every_call_naming_the_file_and_line(
    tmp_path: Path, lines: list[str], bad: int, says: str
) -> None:
    ledger = tmp_path / "cache" / "spend" / "e.jsonl"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("\n".join(lines) + "\n")
    values = {"model": "m", "retries": 0, "max_tokens": 20, "price_completion_per_1k": PRICE, "max_cost": 1.0}
    with FakeOpenAI(lambda req: "fine") as fake:
        client = LLMClient(
            EndpointConfig.from_dict("e", {**values, "base_url": fake.url}), ReplyCache(ledger.parent.parent), 0
        )
        with pytest.raises(LedgerError) as raised:
            client.complete([{"role": "user", "content": "x"}], {})
        assert fake.requests == [], "nothing is sent while the bill is unknown"
    line = str(raised.value)
    assert line.startswith(f"endpoint 'e': spending ledger {ledger} line {bad}: {says}") and "\n" not in line
    assert line.endswith("correct or delete that line (the jobs write only reserve >= 0 and settle lines), then rerun")
    assert len(ledger.read_text().splitlines()) == len(lines), "nothing appended"


def test_a_settle_that_lowers_its_own_reservation_is_accepted(tmp_path: Path) -> None:
    """The legitimate negative line: a settle down to the reported cost (here to $0, a free call)."""
    ledger = tmp_path / "e.jsonl"
    ledger.write_text(_ledger_line("reserve", 0.3, "a") + "\n" + _ledger_line("settle", -0.3, "a") + "\n")
    assert Ledger(ledger, "e", 1.0).spent() == pytest.approx(0.0)


@pytest.mark.slow
def test_a_corrupt_ledger_line_fails_the_jobs_with_one_line_naming_it(tmp_path: Path) -> None:
    """The found case through real jobs: a corrupt line used to fail every capped job with "Invalid control
    character at: line 1 column 56", naming no file."""
    ledger = tmp_path / "spend" / "paid.jsonl"
    ledger.parent.mkdir()
    ledger.write_text('{"t": 1.0, "what": "reserve", "usd": 0.02, "key": "abc", "job": "h\x01st:1"}\n')
    with FakeOpenAI(branin_reply) as fake:
        jobs = _jobs(fake.url, tmp_path, cap=1.0)
        assert fake.requests == []
    for job in jobs:
        assert job.returncode == 1
        assert (
            job.stderr.strip()
            .splitlines()[-1]
            .startswith(
                f"error: endpoint 'paid': spending ledger {ledger} line 1: not JSON (Invalid control character at: "
            )
        )


def _study(**endpoints: dict[str, Any]) -> dict[str, Any]:
    return {
        "benchmarks": ["synth-branin"],
        "methods": {n: {"kind": "llm", "params": {"endpoint": n}} for n in endpoints},
        "seeds": [0],
        "n_trials": 4,
        "n_init": 2,
        "endpoints": endpoints,
    }


PRICED = {"model": "gpt-x", "price_prompt_per_1k": 0.15, "price_completion_per_1k": 0.6}


def test_max_cost_without_prices_is_a_planning_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hpo.study.config import StudyConfigError, validate_study

    monkeypatch.chdir(tmp_path)
    study = _study(free={"base_url": "http://127.0.0.1:9/v1", "model": "m", "max_cost": 5})
    with pytest.raises(StudyConfigError) as raised:
        validate_study(study)
    line = str(raised.value)
    assert line.startswith("config error: endpoints.free") and "\n" not in line
    assert "max_cost: $5 caps nothing, the endpoint has no prices" in line
    assert line.endswith("set its prices in USD per 1k tokens, or drop max_cost")
    study["endpoints"]["free"]["price_completion_per_1k"] = 0.6
    assert validate_study(study)["endpoints"]["free"]["max_cost"] == 5


@pytest.mark.slow
def test_two_capped_names_for_one_endpoint_warn_at_planning(tmp_path: Path) -> None:
    """Each name has its own ledger, so the provider may bill the sum of the caps: real ``snakemake -n`` prints one
    line naming both and the sum; a third name at another model is not in it."""
    study = _study(
        a={"base_url": "https://API.example.com:443/v1/", "max_cost": 5, **PRICED},
        b={"base_url": "https://api.example.com/v1", "max_cost": 3, **PRICED},
        c={"base_url": "https://api.example.com/v1", "max_cost": 2, **PRICED, "model": "gpt-y"},
    )
    study |= {"results": str(tmp_path / "results"), "logs": str(tmp_path / "logs")}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    proc = snakemake(tmp_path, "--configfile", str(tmp_path / "study.yaml"), "-n")
    lines = [x for x in proc.stdout.splitlines() if "are one endpoint" in x]
    assert lines == [
        "endpoints 'a' (max_cost $5) and 'b' (max_cost $3) are one endpoint (https://api.example.com/v1, model "
        "gpt-x) with a ledger each: the study may spend up to $8 there, the sum of their caps; to cap it once, let "
        "the methods share one endpoint name"
    ], proc.stdout[-3000:]
