"""``llm``: a text LLM proposes each configuration from the task, the search space and the history.

Every call goes through :mod:`hpo.llm.client` (OpenAI protocol, reply cache). Replies are parsed, validated and
repaired (:mod:`hpo.llm.repair`); if still unusable the model is asked again with the error, up to ``max_reasks``
times, and then a seeded random sample is used. Each trial records its origin (llm / repaired / fallback), attempts,
tokens, latency, cost, cache hits, the raw reply and the model's rationale.

**Repetition guard** (every LLM kind: they all propose through :meth:`LLMOptimizer.converse`): on a deterministic
benchmark a proposal equal to an evaluated configuration is asked again, then replaced by the seeded fallback
(:mod:`hpo.optimizers.llm_guard`). Each trial counts its parsed proposals (``proposals``) and how many of them were
duplicates (``duplicates``; null on noisy benchmarks, where a repeat is a legitimate new measurement).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from hpo.core.space import config_dict, stable_seed
from hpo.optimizers.base import Optimizer, Proposal, object_schema
from hpo.optimizers.llm_guard import Check, RepetitionGuard

if TYPE_CHECKING:
    from ConfigSpace import Configuration

    from hpo.llm.client import Reply

T = TypeVar("T")


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


@dataclass
class Usage:
    """Model usage summed over calls (the trajectory's LLM columns of one trial)."""

    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_latency: float = 0.0
    llm_cost: float = 0.0
    cache_hits: int = 0
    raw_reply: str | None = None

    def add(self, reply: Reply) -> None:
        self.attempts += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.llm_latency += reply.latency
        self.llm_cost += reply.cost
        self.cache_hits += int(reply.cached)
        self.raw_reply = reply.text

    def merge(self, other: Usage) -> None:
        """Add ``other``'s counts; its raw reply (if any) becomes the last one."""
        for f in fields(self):
            if f.name != "raw_reply":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        if other.raw_reply is not None:
            self.raw_reply = other.raw_reply

    def columns(self) -> dict[str, Any]:
        return asdict(self)


class LLMOptimizer(RepetitionGuard, Optimizer):
    """Text-only LLM optimizer."""

    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(LLM_PARAMS)
    USES_IMAGES: ClassVar[bool] = False

    def setup(self) -> None:
        from ConfigSpace import ConfigurationSpace

        from hpo.llm.cache import ReplyCache
        from hpo.llm.client import LLMClient
        from hpo.llm.endpoint import EMBEDDED, EndpointConfig
        from hpo.llm.prompt import task_text
        from hpo.llm.space_text import allowed_values

        ctx = self.context
        self.endpoint = EndpointConfig.from_dict(self.params["endpoint"] or EMBEDDED, self.params["endpoint_config"])
        refused = self.embedded_refusal(ctx.kind or type(self).__name__) if self.endpoint.embedded else None
        if refused:
            raise ValueError(refused)
        if self.USES_IMAGES and not self.endpoint.vision:
            raise ValueError(
                f"method kind {ctx.kind or 'mm_llm'} sends images, but endpoint "
                f"{self.endpoint.name!r} ({self.endpoint.model}) has no `vision: true`"
            )
        self.client = LLMClient(
            self.endpoint,
            ReplyCache(ctx.cache_dir, self.params["cache"]),
            self.seed,
            server_log=ctx.server_log,
        )
        self.task = task_text(ctx.benchmark, ctx.info, self.space, self.n_trials)
        self.history: list[Any] = []
        self.evaluated: dict[str, Any] = {}  # config_key -> its first Observation (repetition guard)
        self._grids = {name: allowed_values(hp) for name, hp in self.space.items()}
        self._queue: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self._fallback = ConfigurationSpace(seed=stable_seed("llm-fallback", self.seed))
        self._fallback.add(list(self.space.values()))
        self.artifacts = ctx.artifacts_dir

    @property
    def uses_shared_initial_design(self) -> bool:
        return self.params["init"] == "shared"

    @classmethod
    def calls_per_trial(cls, params: dict[str, Any]) -> float:
        """Expected model requests per optimizer-phase trial without re-asks (the planning-time cost estimate)."""
        return 1.0

    @classmethod
    def embedded_refusal(cls, kind: str) -> str | None:
        """None if the embedded model may run this kind, else the one line that refuses it (planning, via
        :func:`hpo.study.endpoints.resolve_endpoints`, and the run job say the same)."""
        return None

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
    def design_size(self) -> int | None:
        """How many configurations the next model prompt asks for: the rest of a zero-shot initial design, else None.

        One decision for the proposals and for the insight job, which must rebuild exactly the run's prompt.
        """
        n_init = self.context.n_init
        if not self.uses_shared_initial_design and len(self.history) < n_init:
            return n_init - len(self.history)
        return None

    def ask(self) -> Proposal:
        from ConfigSpace import Configuration

        if not self._queue and (n_configs := self.design_size()) is not None:
            self._queue = self._propose(n_configs=n_configs)
        values, info = self._queue.pop(0) if self._queue else self.propose_next()
        origin = info.pop("origin")
        return Proposal(Configuration(self.space, values=values), origin=origin, extras=info)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        from hpo.llm.prompt import Observation

        obs = Observation(len(self.history) + 1, config_dict(config), float(loss))
        self.history.append(obs)
        self.evaluated.setdefault(self.config_key(config), obs)

    def close(self) -> None:
        self.client.close()

    def propose_next(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """One configuration after the initial design, with its trajectory columns (``origin`` included).

        The hook that subclasses with another proposal procedure override (LLAMBO: sampler + surrogate).
        """
        return self._propose()[0]

    # -- shared machinery: conversations, concurrency (the repetition guard: hpo.optimizers.llm_guard) -----------------
    def converse(
        self,
        messages: list[dict[str, Any]],
        schema: dict[str, Any],
        check: Check[T],
        sampling: dict[str, Any] | None = None,
    ) -> tuple[T, Usage]:
        """Ask, check the reply, and re-ask with the check's message (up to ``max_reasks`` times).

        Returns the last check result (usable or not) and the usage of every call; ``sampling`` overrides request
        fields (e.g. a per-request seed, :meth:`hpo.llm.client.LLMClient.complete`). Safe to run in worker threads:
        it only reads the optimizer's state.
        """
        usage = Usage()
        result: T
        for _ in range(1 + int(self.params["max_reasks"])):
            reply = self.client.complete(messages, schema, sampling)
            usage.add(reply)
            result, reask = check(reply.text)
            if reask is None:
                break
            messages = [
                *messages,
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": reask},
            ]
        return result, usage

    def parallel(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Run independent model conversations of one trial, concurrently up to the endpoint's ``concurrency``.

        Results come back in job order, so a trial's outcome does not depend on which call finished first.
        """
        workers = self.endpoint.concurrency
        if workers == 1 or len(jobs) <= 1:
            return [job() for job in jobs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            return list(pool.map(lambda job: job(), jobs))

    def _propose(self, n_configs: int | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        from hpo.llm.space_text import proposal_schema

        schema = proposal_schema(self.space, n_configs)
        want = n_configs or 1
        counts = {"proposals": 0, "duplicates": 0}
        rationale: list[str | None] = [None]
        check = self.proposal_check(n_configs, counts, rationale)
        good, usage = self.converse(self.build_messages(self.prompt_text(n_configs)), schema, check)
        first = {
            **usage.columns(),
            "rationale": rationale[0],
            "proposals": counts["proposals"],
            "duplicates": counts["duplicates"] if self.guard else None,
        }
        rest = {**{k: 0 for k in first if k not in ("raw_reply", "rationale")}, "llm_latency": 0.0, "llm_cost": 0.0}
        if not self.guard:
            rest["duplicates"] = None
        out = []
        taken = {self.config_key(p.values) for p in good if p.values is not None}
        for i in range(want):
            info = dict(first if i == 0 else rest)
            if i < len(good) and good[i].values is not None:
                info["origin"] = "repaired" if good[i].repaired else "llm"
                out.append((good[i].values, info))
            else:
                info["origin"] = "fallback"
                values = self.fallback_config(taken)
                taken.add(self.config_key(values))
                out.append((values, info))
        return out
