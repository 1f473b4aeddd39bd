"""The embedded llama.cpp server: setup's build check, and a server that dies mid-study is named, not retried.

A llama-cpp-python wheel built for another CPU (e.g. ``-march=native`` with AMX, reused from pip's cache) starts,
answers ``/models`` and dies on its first chat request; without these checks that shows up as "connection refused"
in every LLM run job. Real server, real SmolLM2 model on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpo.llm.cache import ReplyCache
from hpo.llm.client import EndpointError, LLMClient
from hpo.llm.endpoint import EndpointConfig

pytest.importorskip("llama_cpp")
pytestmark = pytest.mark.slow  # the real llama.cpp server
ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def test_setup_check_generates_a_token() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hpo.llm.server", "--check"], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "embedded llama.cpp server: OK (1 token generated)"


def test_a_dead_server_is_named_with_its_signal_and_log_not_retried(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    endpoint = EndpointConfig.from_dict("embedded", {"embedded": True, "max_tokens": 8, "retries": 2})
    client = LLMClient(endpoint, ReplyCache(tmp_path / "cache"), seed=0, server_log=str(log))
    try:
        first = client.complete([{"role": "user", "content": "Answer in JSON: hello"}], SCHEMA)
        assert first.completion_tokens > 0 and not first.cached
        os.killpg(client._server.proc.pid, signal.SIGILL)  # what a foreign instruction does to the process
        client._server.proc.wait(timeout=10)
        t0 = time.monotonic()
        with pytest.raises(EndpointError) as err:
            client.complete([{"role": "user", "content": "Answer in JSON: another question"}], SCHEMA)
        message = str(err.value)
        assert "\n" not in message
        assert "embedded llama.cpp server died (killed by SIGILL" in message and str(log) in message
        assert "after 1 attempt " in message  # no retry: a dead local server does not come back
        assert time.monotonic() - t0 < 5
    finally:
        client.close()
