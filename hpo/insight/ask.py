"""The models' stated hyperparameter importance: one extra structured question per reporting budget of an LLM run.

Multimodal kinds are asked twice at each budget about the identical history: with their images (source ``model``)
and with the same text alone (``model_text``), of the same model, so the effect of the images on what the model
states is a paired difference within one history, not a mix of "seeing images" and "having searched differently".

Asked after the run, in its own job, so it can never change what the run proposed. For each budget ``b`` (and
``b = 0``, the *prior*: no history), the run's optimizer is rebuilt from the registry with the run's spec and told
the trajectory's first ``b`` trials; it then builds the history prompt of its next direct proposal (text and, for
multimodal kinds, the same images), to which the insight request of :mod:`hpo.llm.insight_prompt` is appended.
For ``llm``/``mm_llm*`` that is exactly the run's next prompt; ``llambo`` and ``llm_tpe`` are asked with the same
history prompt (LLAMBO's next exchange is a sampler + surrogate round, not one question).
The call goes through the optimizer's own client, so it is cached, and its tokens, latency and cost are counted.
An anonymized run (``anonymize: true``) is asked over x1..xk like its proposals were; the file stores what the model
stated under the real names (``anonymized``, ``name_map``), so no reader ever sees x1..xk.
Replies are parsed, repaired and normalized like proposals; unusable ones are re-asked with the error up to the
method's ``max_reasks``, then replaced by uniform weights (``fallback: true``). The output schema is documented in
the README ("The models' stated importance").
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo.run.anonymize import Anonymized
from hpo.run.harness import make_optimizer

if TYPE_CHECKING:
    from hpo.benchmarks.base import Benchmark
    from hpo.optimizers.llm import LLMOptimizer
    from hpo.run.harness import RunSpec

log = logging.getLogger(__name__)
PRIOR, MODEL, MODEL_TEXT = "prior", "model", "model_text"


def _ask(opt: LLMOptimizer, text_only: bool = False) -> dict[str, Any]:
    """One statement: the optimizer's next-proposal prompt + the insight request -> parse / repair / re-ask.

    The conversation runs through the optimizer's own :meth:`~hpo.optimizers.llm.LLMOptimizer.converse`, so the
    re-asks, their limit (``max_reasks``) and the usage accounting are exactly those of its proposals.
    ``text_only``: the same text without the images (the ``llm`` kind's message for this history), asked of the
    same model: the within-history image contrast (issue 22).
    """
    from hpo.llm.insight_prompt import REASK, Insight, insight_schema, parse_insight, request_text, uniform

    space = opt.space
    # The run's own prompt text, byte for byte (a zero-shot design's prompt asks for the rest of the design at
    # once), then the request: server-side prefix caches hit.
    from hpo.llm.prompt import messages

    base = opt.prompt_text(opt.design_size())
    text = f"{base}\n\n{request_text(space)}"
    msgs = messages(text) if text_only else opt.build_messages(text)
    errors: list[str] = []

    def check(text: str) -> tuple[Insight, str | None]:
        parsed = parse_insight(space, text)
        if parsed.error is None:
            return parsed, None
        errors.append(parsed.error)
        return parsed, REASK.format(error=parsed.error)

    parsed, usage = opt.converse(msgs, insight_schema(space), check)
    reasks = [f"reask: {e}" for e in errors]
    fallback = parsed.weights is None
    return {
        "weights": uniform(space) if fallback else parsed.weights,
        "best_region": None if fallback else parsed.best_region,
        "top_interaction": None if fallback else parsed.top_interaction,
        "repaired": not fallback and bool(parsed.repairs),
        "repairs": reasks if fallback else [*reasks, *parsed.repairs],
        "fallback": fallback,
        # summed over its calls (re-asks included); the same meaning as the trajectory's LLM columns
        **usage.columns(),
    }


def _history(path: str | Path, spec: RunSpec, space: Any, need: int) -> list[tuple[Any, float, float]]:
    """The trajectory's trials as (Configuration, observed loss, cost), checked against the job's spec."""
    from hpo.core import trajectory
    from hpo.core.space import space_config

    expected = {k: getattr(spec, k) for k in trajectory.CHECKED_FIELDS}
    mismatch = trajectory.check_meta(path, trajectory.read_meta(path), expected)
    if mismatch:
        raise ValueError(mismatch)
    table = trajectory.read(path).select(["trial", "config", "loss", "eval_cost"]).sort_by("trial").to_pylist()
    if len(table) < need:
        raise ValueError(f"{path}: {len(table)} trials, fewer than the largest budget {need}")
    return [(space_config(space, json.loads(r["config"])), r["loss"], r["eval_cost"]) for r in table]


def statements(
    spec: RunSpec,
    bench: Benchmark,
    trajectory_path: str | Path,
    budgets: list[int],
    *,
    cache_dir: str | Path | None = None,
    server_log: str | Path | None = None,
) -> dict[str, Any]:
    """The insight document of one run: the prior (budget 0) and one statement per budget, in budget order."""
    from hpo.optimizers.registry import get

    entry = get(spec.kind)
    if not entry.llm:
        raise ValueError(f"insight: method {spec.method!r} (kind {spec.kind}) asks no LLM; nothing to ask")
    bad = [b for b in budgets if not 1 <= b <= spec.n_trials]
    if bad:
        raise ValueError(f"insight: budgets {bad} are outside 1..n_trials={spec.n_trials}")
    budgets = sorted(set(budgets))
    space = bench.space
    history = _history(trajectory_path, spec, space, max(budgets, default=0))
    # no artifacts_dir: the run kept its images; asking again must not overwrite them
    opt = make_optimizer(spec, bench, cache_dir=cache_dir, server_log=server_log)
    # the optimizer that builds the prompts: the renamed one when anonymized (tells go through `opt`, which renames)
    asked = opt.inner if isinstance(opt, Anonymized) else opt
    told, out = 0, []
    try:
        for budget in [0, *budgets]:
            # One optimizer told incrementally: its state after b tells is what the run's was when it built the
            # prompt for trial b + 1 (tell only appends to the history), and the embedded server starts once.
            for config, loss, cost in history[told:budget]:
                opt.tell(config, loss, cost)
            told = budget
            # Image kinds are asked twice about one history: with the images, then the same text without them.
            twins = [(MODEL, False), (MODEL_TEXT, True)] if budget and entry.vision else [(MODEL, False)]
            for source, text_only in twins:
                stmt = {"budget": budget, "source": PRIOR if budget == 0 else source, **_ask(asked, text_only)}
                if isinstance(opt, Anonymized):
                    stmt = opt.real_statement(stmt)
                _log(spec, stmt)
                out.append(stmt)
    finally:
        opt.close()
    return {
        "benchmark": spec.benchmark,
        "method": spec.method,
        "kind": spec.kind,
        "seed": spec.seed,
        "fingerprint": spec.fingerprint,
        "hyperparameters": list(space),
        "anonymized": isinstance(opt, Anonymized),
        **({"name_map": opt.mapping} if isinstance(opt, Anonymized) else {}),
        "statements": out,
    }


def _log(spec: RunSpec, stmt: dict[str, Any]) -> None:
    top = max(stmt["weights"], key=stmt["weights"].get)
    log.info(
        "insight %s/%s/%d budget %d (%s): top %s, attempts %d, repairs %d, fallback %s, cache hits %d",
        spec.benchmark,
        spec.method,
        spec.seed,
        stmt["budget"],
        stmt["source"],
        top,
        stmt["attempts"],
        len(stmt["repairs"]),
        stmt["fallback"],
        stmt["cache_hits"],
    )


def insight_to_file(
    spec: RunSpec,
    trajectory_path: str | Path,
    out: str | Path,
    budgets: list[int],
    *,
    table_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    server_log: str | Path | None = None,
) -> Path:
    """Build the benchmark, ask, and write the insight document atomically to ``out`` (JSON)."""
    from hpo import benchmarks
    from hpo.util.atomic import atomic_path

    bench = benchmarks.make(spec.benchmark, noisy=spec.noisy, table_path=table_path, definition=spec.benchmark_def)
    doc = statements(spec, bench, trajectory_path, budgets, cache_dir=cache_dir, server_log=server_log)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return Path(out)
