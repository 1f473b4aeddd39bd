"""The API key never reaches a log (issue 28): an endpoint that echoes the request's ``Authorization`` header in a 401
or 500 body used to put the key in the transport error, hence in the job log, ``logs/run_status.csv``, the traceback
Snakemake prints and the CLI's ``error:`` line.

The study tests run real Snakemake against the fake endpoint (tests/fake_openai.py), which checks that it received
the key, then read every file under the study directory, and what Snakemake printed, for any run of 8 characters of
the key. The unit tests pin :func:`hpo.util.redact.redact` (cut, URL-encoded and JSON-escaped keys, header values of a
key the study never named) and :func:`hpo.util.logs.job_log` (a key printed in two pieces, logged, raised).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from conftest import snakemake
from fake_openai import FakeOpenAI, first_valid_config

from hpo.__main__ import main
from hpo.llm.ledger import SPEND_ENV
from hpo.util.logs import job_log
from hpo.util.redact import MIN_FRAGMENT, REDACTED, redact, register_key_env

ENV = "HPO_SECRET_TEST_KEY"
KEY = "sk-hpo-SECRET-7c1e9a4b2f6d8035e1a7b9c3d5f70246"  # no run of 8 of its characters occurs by chance
ENV2, KEY2 = "HPO_SECRET_TEST_KEY2", "Qz/Wx+Vy=Ut4k9m2p7r5"  # a key whose URL-encoded form differs


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, KEY)
    monkeypatch.setenv(ENV2, KEY2)
    monkeypatch.setenv(SPEND_ENV, "{}")  # check-endpoint installs the study's caps; undone after each test
    register_key_env(ENV)
    register_key_env(ENV2)


def leaks(data: bytes | str) -> list[str]:
    """The runs of MIN_FRAGMENT characters of KEY that ``data`` holds."""
    raw = data.encode() if isinstance(data, str) else data
    runs = {KEY[i : i + MIN_FRAGMENT] for i in range(len(KEY) - MIN_FRAGMENT + 1)}
    return sorted(r for r in runs if r.encode() in raw)


def echo_401(headers: dict[str, str]) -> str:
    """A 401 whose body quotes the Authorization header it received, placed so that the error's first 120 bytes
    cut the key after 20 characters (the quote ends inside the key)."""
    pad = "." * (100 - len('{"error": {"message": "Incorrect API key", "authorization": "Bearer '))
    body = f'{{"error": {{"message": "Incorrect API key{pad}", "authorization": "{headers["authorization"]}"}}}}'
    assert body.index(KEY) == 100
    return body


def echo_500(headers: dict[str, str]) -> str:
    """A 500 that names the credential it received: the bare key, no header name, no ``Bearer``."""
    return json.dumps({"error": {"message": f"credential {headers['authorization'][7:]} rejected upstream"}})


def _study(tmp: Path, url: str) -> Path:
    study = {
        "benchmarks": ["synth-branin"],
        "methods": {"llm": {"kind": "llm", "params": {"endpoint": "fake"}}},
        "seeds": [0],
        "n_trials": 4,  # trial 3 is the preflight's cached prompt; trial 4 calls the endpoint
        "n_init": 2,
        "budgets": [4],
        "results": str(tmp / "results"),
        "logs": str(tmp / "logs"),
        "endpoints": {"fake": {"base_url": url, "model": "m", "api_key_env": ENV, "retries": 1, "timeout": 20.0}},
    }
    path = tmp / "study.yaml"
    path.write_text(yaml.safe_dump(study))
    return path


def _good(request: dict[str, Any]) -> str:
    """A valid answer: equal weights to the insight question, a synth-branin configuration to a proposal."""
    if "weights" in request["response_format"]["json_schema"]["schema"]["properties"]:
        return first_valid_config(request)
    return json.dumps({"rationale": "centre", "config": {"x0": 1.0, "x1": 2.0}})


def _after_preflight(n_ok: int, fault: Any) -> Any:
    """Well-formed replies to the first ``n_ok`` requests (the preflight's proposal and insight), then ``fault``."""
    seen: list[int] = []

    def reply(request: dict[str, Any]) -> Any:
        seen.append(1)
        return _good(request) if len(seen) <= n_ok else fault

    return reply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "n_ok", "fault", "failed_log"),
    [
        ("401 at the preflight", 0, ("echo", 401, echo_401), "logs/endpoints/fake.log"),
        ("500 in a run job", 2, ("echo", 500, echo_500), "logs/runs/synth-branin/llm/0.log"),
    ],
)
def test_an_echoed_key_reaches_no_file_and_no_output(
    tmp_path: Path, case: str, n_ok: int, fault: Any, failed_log: str
) -> None:
    with FakeOpenAI(_after_preflight(n_ok, fault)) as fake:
        study = _study(tmp_path, fake.url)
        proc = snakemake(tmp_path, "--configfile", str(study), "--keep-going", check=False)
    assert proc.returncode != 0
    assert len(fake.requests) > n_ok and {h["authorization"] for h in fake.headers} == {f"Bearer {KEY}"}
    # The endpoint's error did reach the failed job's log and the failure report, redacted.
    error_lines = [x for x in (tmp_path / failed_log).read_text().splitlines() if "EndpointError:" in x]
    assert error_lines and REDACTED in error_lines[-1], (tmp_path / failed_log).read_text()[-3000:]
    if n_ok:
        said = f'HTTP 500, content-type application/json, body b\'{{"error": {{"message": "credential {REDACTED}'
        assert said in error_lines[-1]
        assert REDACTED in (tmp_path / "logs" / "run_status.csv").read_text()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert list((tmp_path / ".snakemake" / "log").glob("*.log")), "Snakemake's own log is among the files read"
    assert {p: leaks(p.read_bytes()) for p in files if leaks(p.read_bytes())} == {}
    assert leaks(proc.stdout) == [], proc.stdout[-3000:]


def test_the_cli_error_line_holds_no_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAI(lambda request: ("echo", 401, echo_401)) as fake:
        assert main(["check-endpoint", "--configfile", str(_study(tmp_path, fake.url))]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: endpoint 'fake' ") and f'"authorization": "Bearer {REDACTED}' in err, err
    assert len(err.strip().splitlines()) == 1 and leaks(err) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'body b\'{{"x": "{KEY[:20]}\'... (300 bytes)', f'body b\'{{"x": "{REDACTED}\'... (300 bytes)'),  # cut
        (f"url ?k={quote(KEY2, safe='')}&x=1", f"url ?k={REDACTED}&x=1"),  # URL-encoded
        (json.dumps({"m": f"\u00e9 {KEY}"}), f'{{"m": "\\u00e9 {REDACTED}"}}'),
        (f"tail {KEY[-12:]}", f"tail {REDACTED}"),  # any 8 consecutive characters of the key
        ("Authorization: Bearer sk-other-key-0123456789", f"Authorization: Bearer {REDACTED}"),  # not the study's
        ("{'x-api-key': 'abcdef0123456789'}", f"{{'x-api-key': '{REDACTED}'}}"),
        ('{\\"api-key\\": \\"abcdef0123456789\\"}', f'{{\\"api-key\\": \\"{REDACTED}\\"}}'),
        ("proxy: bearer abcdefgh12345678==", f"proxy: bearer {REDACTED}"),
        (f"Authorization: Bearer {REDACTED}", f"Authorization: Bearer {REDACTED}"),  # idempotent
        ("api_key_env: OPENAI_API_KEY; sk-hpo-", "api_key_env: OPENAI_API_KEY; sk-hpo-"),  # 7 characters of the key
        ("the Authorization header is missing", "the Authorization header is missing"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_job_log_redacts_prints_logging_and_the_raised_error(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    with pytest.raises(RuntimeError) as raised, job_log(log):
        print(f"sent {KEY[:10]}", end="")  # one line in two writes: neither half alone is the key
        print(f"{KEY[10:]} to the endpoint")
        logging.getLogger("hpo.test").warning("server said %s", {"authorization": f"Bearer {KEY}"})
        raise RuntimeError(f"endpoint answered 401: {KEY}")
    assert str(raised.value) == f"endpoint answered 401: {REDACTED}"
    text = log.read_text()
    assert leaks(text) == [], text
    assert f"sent {REDACTED} to the endpoint" in text
    assert f"server said {{'authorization': 'Bearer {REDACTED}'}}" in text
    assert f"RuntimeError: endpoint answered 401: {REDACTED}" in text  # the traceback's last line
