"""``llm``: a text LLM proposes each configuration from the task, the search space and the history.

Every call goes through :mod:`hpo.llm.client` (OpenAI protocol, reply cache). Replies are parsed, validated and
repaired (:mod:`hpo.llm.repair`); if still unusable the model is asked again with the error, up to ``max_reasks``
times, and then a seeded random sample is used. Each trial records its origin (llm / repaired / fallback), attempts,
tokens, latency, cost, cache hits, the raw reply and the model's rationale.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.optimizers.base import Optimizer
from hpo.space import config_dict, stable_seed

if TYPE_CHECKING:
    from ConfigSpace import Configuration

REASK = (
    "Your answer could not be used: {error}. Answer again with one JSON object in the required format, "
    "using only the allowed values."
)

LLM_PARAMS: dict[str, Any] = {
    "endpoint": {
        "type": ["string", "null"],
        "default": "embedded",
        "description": "name of an entry of the study's `endpoints`, or `embedded` (local SmolLM2)",
    },
    "endpoint_config": {"type": "object", "default": {}, "description": "resolved by the workflow; do not set"},
    "history_best_k": {"type": "integer", "minimum": 0, "default": 10},
    "history_recent_m": {"type": "integer", "minimum": 1, "default": 10},
    "max_reasks": {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
    "init": {"enum": ["shared", "zero_shot"], "default": "shared"},
    "cache": {"enum": ["off", "read", "readwrite"], "default": "readwrite"},
}


class LLMOptimizer(Optimizer):
    """Text-only LLM optimizer."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": LLM_PARAMS,
        "additionalProperties": False,
    }
    USES_IMAGES: ClassVar[bool] = False

    def setup(self) -> None:
        from ConfigSpace import ConfigurationSpace

        from hpo.llm.cache import ReplyCache
        from hpo.llm.client import LLMClient
        from hpo.llm.endpoint import EndpointConfig
        from hpo.llm.prompt import task_text

        ctx = self.context
        self.endpoint = EndpointConfig.from_dict(
            self.params.get("endpoint") or "embedded", self.params.get("endpoint_config") or {}
        )
        if self.USES_IMAGES and not self.endpoint.vision:
            raise ValueError(
                f"method kind {ctx.get('kind', 'mm_llm')} sends images, but endpoint "
                f"{self.endpoint.name!r} ({self.endpoint.model}) has no `vision: true`"
            )
        self.client = LLMClient(
            self.endpoint,
            ReplyCache(ctx.get("cache_dir"), self.params["cache"]),
            self.seed,
            server_log=ctx.get("server_log"),
        )
        self.task = task_text(ctx.get("benchmark", "?"), ctx.get("info", {}), self.space, self.n_trials)
        self.history: list[Any] = []
        self._queue: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._fallback = ConfigurationSpace(seed=stable_seed("llm-fallback", self.seed))
        self._fallback.add(list(self.space.values()))
        self.artifacts = Path(ctx["artifacts_dir"]) if ctx.get("artifacts_dir") else None

    @property
    def uses_shared_initial_design(self) -> bool:
        return self.params["init"] == "shared"

    # -- prompt --------------------------------------------------------------------------------------------------
    def prompt_text(self, n_configs: int | None = None) -> str:
        from hpo.llm.prompt import user_text

        return user_text(
            self.task,
            self.history,
            self.params["history_best_k"],
            self.params["history_recent_m"],
            n_configs,
        )

    def build_messages(self, text: str) -> list[dict[str, Any]]:
        from hpo.llm.prompt import messages

        return messages(text)

    # -- ask/tell ------------------------------------------------------------------------------------------------
    def ask(self) -> Configuration:
        from ConfigSpace import Configuration

        n_init = int(self.context.get("n_init", 0))
        if not self.uses_shared_initial_design and not self._queue and len(self.history) < n_init:
            self._queue = self._propose(n_configs=n_init - len(self.history))
        values, info = self._queue.pop(0) if self._queue else self._propose()[0]
        self.last_ask_info = info
        return Configuration(self.space, values=values)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        from hpo.llm.prompt import Observation

        self.history.append(Observation(len(self.history) + 1, config_dict(config), float(loss)))

    def close(self) -> None:
        self.client.close()

    # -- the parse / repair / re-ask / fallback loop --------------------------------------------------------------
    def _propose(self, n_configs: int | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        from hpo.llm.repair import parse_reply
        from hpo.llm.space_text import proposal_schema

        schema = proposal_schema(self.space, n_configs)
        msgs = self.build_messages(self.prompt_text(n_configs))
        stats = {
            "attempts": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "llm_latency": 0.0,
            "llm_cost": 0.0,
            "cache_hits": 0,
            "raw_reply": None,
            "rationale": None,
        }
        want = n_configs or 1
        good: list[Any] = []
        for _ in range(1 + int(self.params["max_reasks"])):
            reply = self.client.complete(msgs, schema)
            stats["attempts"] += 1
            stats["prompt_tokens"] += reply.prompt_tokens
            stats["completion_tokens"] += reply.completion_tokens
            stats["llm_latency"] += reply.latency
            stats["llm_cost"] += reply.cost
            stats["cache_hits"] += int(reply.cached)
            stats["raw_reply"] = reply.text
            parsed = parse_reply(self.space, reply.text, "configs" if n_configs else "config")
            stats["rationale"] = next((p.rationale for p in parsed if p.rationale), None)
            good = [p for p in parsed if p.values is not None][:want]
            if good:
                break
            error = next(p.error for p in parsed if p.error)
            msgs = [
                *msgs,
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": REASK.format(error=error)},
            ]
        out = []
        for i in range(want):
            info = (
                dict(stats)
                if i == 0
                else {
                    **{k: 0 for k in stats if k not in ("raw_reply", "rationale")},
                    "llm_latency": 0.0,
                    "llm_cost": 0.0,
                }
            )
            if i < len(good):
                info["origin"] = "repaired" if good[i].repaired else "llm"
                out.append((good[i].values, info))
            else:
                info["origin"] = "fallback"
                out.append((config_dict(self._fallback.sample_configuration()), info))
        return out
