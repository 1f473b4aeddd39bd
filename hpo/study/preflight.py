"""Endpoint preflight: before any run job, ask the endpoint what the study will ask it, once per endpoint identity.

Why: many OpenAI-compatible servers accept what they cannot do. They take OpenAI's ``json_schema`` and answer prose,
they take ``image_url`` parts and ignore them (the ``mm_llm`` results would then be a text method under another
name), or a model name is misspelt and every one of hundreds of jobs fails the same way. The preflight finds each
with a handful of calls and one line, and measures what the estimate needs (latency, tokens, cost per call):

1. the study's real first proposal prompt: the first LLM method using the endpoint, on the study's first benchmark
   and seed, told the shared initial design exactly as the run will be (so the run's first call is then a cache
   hit: the preflight's answer is not paid twice);
2. one insight request (the history prompt plus :func:`hpo.llm.insight_prompt.request_text`);
3. for ``vision: true``: one rendered image with a single right answer (a large digit); a wrong answer fails with
   "the endpoint does not read images".

A reply counts as parsed when it holds a JSON object (:func:`hpo.llm.repair.extract_json`); whether its values are
usable is recorded, not failed on (the runs repair and re-ask). When the configured ``structured_output`` dialect
fails (no JSON, or HTTP 400/422: the server rejects the ``response_format``), the other dialects are tried and the
one that works is named (llama-cpp-python's server answers ``json_schema`` with HTTP 500 naming response_format).
Calls go through :class:`~hpo.llm.client.LLMClient`: cached, retried, charged to the ledger.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo.llm.client import EndpointError, LLMClient
from hpo.llm.endpoint import DIALECTS, EndpointConfig
from hpo.util.suggest import unknown

if TYPE_CHECKING:
    from hpo.benchmarks.base import Benchmark
    from hpo.llm.client import Reply
    from hpo.optimizers.llm import LLMOptimizer
    from hpo.run.harness import RunSpec

NOT_READING = "the endpoint does not read images"
DIGITS = (2, 3, 4, 5, 7, 8)  # drawn large, none is a rotation or mirror of another
DIGIT_SCHEMA = {
    "type": "object",
    "properties": {"digit": {"type": "integer", "minimum": 0, "maximum": 9}},
    "required": ["digit"],
}
DIGIT_QUESTION = 'Which single digit (0-9) is drawn in the image? Answer with one JSON object: {"digit": <the digit>}.'
# The server refuses the request's format: OpenAI-style 400/422, or (llama-cpp-python's server) HTTP 500 with a
# validation error naming response_format.
REJECTED_FORMAT = re.compile(r"HTTP (400|422)\b|response_format")


class PreflightError(RuntimeError):
    """The endpoint cannot serve the study; the message is one line naming the endpoint and what failed."""


def endpoint_digest(endpoint: EndpointConfig) -> str:
    """What a preflight result stands for: every setting but the name and the spending cap."""
    values = {k: v for k, v in endpoint.as_dict().items() if k not in ("name", "max_cost")}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def digit_png(digit: int) -> bytes:
    """A 256 x 256 PNG with ``digit`` drawn black on white, filling most of the image (matplotlib, Agg)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.56, 2.56), dpi=100)
    fig.text(0.5, 0.5, str(digit), fontsize=150, ha="center", va="center", family="DejaVu Sans", weight="bold")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def _record(reply: Reply, usable: bool | None = None, error: str | None = None) -> dict[str, Any]:
    out = {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "latency": reply.paid_latency,  # of the call that paid for it, also when it came from the cache
        "cost": reply.cost,
        "cached": reply.cached,
    }
    if usable is not None:
        out |= {"usable": usable, "error": error}
    return out


def _json_object(text: str) -> dict[str, Any] | None:
    from hpo.llm.repair import extract_json

    try:
        obj = extract_json(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _first_prompt(opt: LLMOptimizer, spec: RunSpec, bench: Benchmark) -> str:
    """Tell ``opt`` the shared initial design as the run does; its next-proposal prompt text."""
    import numpy as np

    from hpo.core.space import initial_design, stable_seed

    if opt.uses_shared_initial_design:
        rng = np.random.default_rng(stable_seed("evaluation-noise", spec.benchmark, spec.seed))
        for config in initial_design(bench.space, spec.n_init, spec.benchmark, spec.seed):
            ev = bench.evaluate(config, rng)
            opt.tell(config, ev.loss, ev.cost)
    return opt.prompt_text(opt.design_size())


def _other_dialect(opt: LLMOptimizer, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str | None:
    """The first other dialect under which the same request yields a JSON object, or None."""
    from dataclasses import replace

    for dialect in DIALECTS:
        if dialect == opt.endpoint.structured_output:
            continue
        client = LLMClient(replace(opt.endpoint, structured_output=dialect), opt.client.cache, opt.seed)
        try:
            if _json_object(client.complete(messages, schema).text) is not None:
                return dialect
        except EndpointError:
            continue
        finally:
            client.close()
    return None


def _dialect_failure(opt: LLMOptimizer, messages: list[dict[str, Any]], schema: dict[str, Any], why: str) -> None:
    ep = opt.endpoint
    works = _other_dialect(opt, messages, schema)
    fix = f"structured_output {works} works: set `structured_output: {works}`" if works else "no dialect works"
    raise PreflightError(f"{ep.label()}: structured_output {ep.structured_output} fails ({why}); {fix}")


def _proposal(opt: LLMOptimizer, text: str) -> dict[str, Any]:
    from hpo.llm.repair import parse_reply
    from hpo.llm.space_text import proposal_schema

    n_configs = opt.design_size()
    schema = proposal_schema(opt.space, n_configs)
    messages = opt.build_messages(text)
    try:
        reply = opt.client.complete(messages, schema)
    except EndpointError as err:
        if REJECTED_FORMAT.search(str(err)):
            detail = re.sub(r"^.*?\(retries: \d+\): ", "", str(err))[:160]  # what the server said
            _dialect_failure(opt, messages, schema, f"the server rejects it: {detail}")
        raise
    if _json_object(reply.text) is None:
        _dialect_failure(opt, messages, schema, f"the reply holds no JSON object: {reply.text[:80]!r}")
    parsed = parse_reply(opt.space, reply.text, "configs" if n_configs else "config")
    usable = any(p.values is not None for p in parsed)
    return _record(reply, usable, None if usable else next((p.error for p in parsed if p.error), None))


def _insight(opt: LLMOptimizer, text: str) -> dict[str, Any]:
    from hpo.llm.insight_prompt import insight_schema, parse_insight, request_text

    reply = opt.client.complete(opt.build_messages(f"{text}\n\n{request_text(opt.space)}"), insight_schema(opt.space))
    if _json_object(reply.text) is None:
        raise PreflightError(f"{opt.endpoint.label()}: the insight reply holds no JSON object: {reply.text[:80]!r}")
    parsed = parse_insight(opt.space, reply.text)
    return _record(reply, parsed.weights is not None, parsed.error)


def _vision(client: LLMClient) -> dict[str, Any]:
    from hpo.llm.prompt import messages

    ep = client.endpoint
    digit = DIGITS[int(hashlib.sha256(ep.identity.encode()).hexdigest(), 16) % len(DIGITS)]
    reply = client.complete(messages(DIGIT_QUESTION, [digit_png(digit)], detail="low"), DIGIT_SCHEMA)
    obj = _json_object(reply.text) or {}
    answer = obj.get("digit")
    if str(answer).strip() != str(digit):
        raise PreflightError(
            f"{ep.label()}: {NOT_READING}: asked which digit a test image shows ({digit}), it answered "
            f"{reply.text[:60]!r}; use an endpoint whose model reads images, or drop `vision: true`"
        )
    return _record(reply)


def preflight(
    spec: RunSpec, bench: Benchmark, *, cache_dir: str | Path | None = None, server_log: str | Path | None = None
) -> dict[str, Any]:
    """Check the endpoint of ``spec``'s LLM method (see the module docstring); the preflight document."""
    from hpo.run.harness import make_optimizer

    opt: LLMOptimizer = make_optimizer(spec, bench, cache_dir=cache_dir, server_log=server_log)  # type: ignore[assignment]
    ep = opt.endpoint
    try:
        text = _first_prompt(opt, spec, bench)
        calls = {"proposal": _proposal(opt, text), "insight": _insight(opt, text)}
        if ep.vision:
            calls["vision"] = _vision(opt.client)
    finally:
        opt.close()
    per = list(calls.values())
    paid = [c for c in per if c["latency"] > 0]
    return {
        "endpoint": ep.name,
        "identity": ep.identity,
        "digest": endpoint_digest(ep),
        "model": ep.model,
        "dialect": ep.structured_output,
        "vision": ep.vision,
        "vision_verified": True if ep.vision else None,
        "checked_with": {"benchmark": spec.benchmark, "method": spec.method, "seed": spec.seed},
        "calls": calls,
        "latency_s": statistics.mean(c["latency"] for c in paid) if paid else None,
        "prompt_tokens_per_call": statistics.mean(c["prompt_tokens"] for c in per),
        "completion_tokens_per_call": statistics.mean(c["completion_tokens"] for c in per),
        "cost_per_call": statistics.mean(c["cost"] for c in per),
    }


def preflight_to_file(spec: RunSpec, out: str | Path, *, table_path: str | Path | None = None, **kw: Any) -> Path:
    """Build the benchmark, run :func:`preflight`, write the document atomically to ``out``."""
    from hpo import benchmarks
    from hpo.util.atomic import atomic_path

    bench = benchmarks.make(spec.benchmark, noisy=spec.noisy, table_path=table_path, definition=spec.benchmark_def)
    doc = preflight(spec, bench, **kw)
    out = Path(out)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(doc, indent=2) + "\n")
    return out


def endpoint_spec(study: dict[str, Any], name: str) -> RunSpec:
    """What the preflight of endpoint ``name`` asks: the study's first runnable LLM method using it (a plain
    ``llm`` method when none does) on its first benchmark without a table (else its first) and first seed, with the
    study's budget and design."""
    from hpo.optimizers import LLM_KINDS
    from hpo.run.provenance import build_spec

    methods = study["methods"]
    users = [m for m, v in methods.items() if v["kind"] in LLM_KINDS and m not in study["skipped"]]
    users = [m for m in users if methods[m]["params"].get("endpoint") == name]
    if users:
        method, kind, params = users[0], methods[users[0]]["kind"], methods[users[0]]["params"]
    else:
        known = {"embedded": {"embedded": True}, **(study.get("endpoints") or {})}
        if name not in known:
            raise PreflightError(f"check-endpoint: {unknown('endpoint', name, known)}")
        values = EndpointConfig.from_dict(name, known[name]).as_dict()
        config = {k: v for k, v in values.items() if k not in ("name", "max_cost")}
        method, kind, params = "llm", "llm", {"endpoint": name, "endpoint_config": config}
    # A benchmark without a table if the study has one: the workflow's preflight then waits for no table job (a
    # rebuilt table would otherwise rerun the preflight and, through it, every LLM run).
    from hpo.benchmarks import needs_table

    benchmark = next((b for b in study["benchmarks"] if not needs_table(b)), study["benchmarks"][0])
    return build_spec(
        benchmark=benchmark,
        method=method,
        kind=kind,
        seed=study["seeds"][0],
        n_trials=study["n_trials"],
        n_init=study["n_init"],
        params=params,
        noisy=study["noisy"],
        benchmark_def=study["custom_benchmarks"].get(benchmark),
    )


def study_endpoints(study: dict[str, Any], remote_only: bool = False) -> list[str]:
    """The endpoints the study's runnable LLM methods use, in method order (``remote_only``: not the embedded one)."""
    from hpo.optimizers import LLM_KINDS

    out: list[str] = []
    for name, method in study["methods"].items():
        if method["kind"] not in LLM_KINDS or name in study["skipped"]:
            continue
        ep = method["params"]["endpoint"]
        if ep not in out and not (remote_only and method["params"]["endpoint_config"].get("embedded")):
            out.append(ep)
    return out
