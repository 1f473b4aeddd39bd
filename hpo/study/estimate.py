"""Cost and time preview of a study before it runs: model calls, prompt and completion tokens, dollars and hours per
LLM method and endpoint, minus the jobs already finished (a resumed study shows only what is left).

How each figure is made, and what it rests on:

* **Prompt tokens** come from the prompts themselves: for each run the ``llm`` kind's real prompt text (task, search
  space, answer format, history window of ``history_best_k`` + ``history_recent_m`` rows) is built at every trial
  after the initial design, with the benchmark's initial design and random configurations evaluated on the
  benchmark as history, so the size grows with the space and the window exactly as in the run. Characters become
  tokens at :data:`CHARS_PER_TOKEN`, measured with the embedded SmolLM2 tokenizer (a GPT-4-class tokenizer needs
  fewer tokens for the same text: the estimate errs high). Each kind scales that prompt by its profile's
  ``prompt_scale`` (LLAMBO's sampler and surrogate prompts differ from the direct proposal), multimodal kinds add
  :data:`IMAGE_TOKENS` per image.
* **Calls** per trial after the initial design, **completion tokens** per call and the insight job's calls per
  statement come from :data:`PROFILES`, measured per kind with the embedded model (docs/notes/issue17-endpoints.md);
  a stronger model re-asks less, so calls err high. Completion tokens are capped at the endpoint's ``max_tokens``.
* **Calls** per run and insight job come from :mod:`hpo.study.model_calls`, the counts the planning warning names.
* **Dollars** are the endpoint's prices; **model hours** are calls x the seconds per call of
  :func:`hpo.study.latency.call_latency` (measured in this study's results, else the preflight's, else the embedded
  model's measured latency, marked ``*``): the planning warning's hours. **Hours** divide them by the jobs that run
  at once (``llm_slots`` for remote endpoints, ``cores`` for the embedded one) and, within a job, by the endpoint's
  ``concurrency`` where a kind's calls overlap (LLAMBO's ensemble).
* **Finished jobs** (a run's Parquet file or an insight file whose fingerprint matches the study) cost nothing: their
  replies are cached and a rerun does not call the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.study.model_calls import INSIGHT_CALLS_PER_STATEMENT

CHARS_PER_TOKEN = 2.4  # SmolLM2's tokenizer on the prompts: 2.68 (nb201-cifar10), 2.1 (mlp-car); insight 2.8-3.1
IMAGE_TOKENS = 85  # OpenAI's cost of one image at detail "low" (the multimodal kinds send 3 per call)
IMAGES_PER_CALL = 3
POOL = 2000  # random configurations drawn for the history of an estimate, reused in turn beyond that


@dataclass(frozen=True)
class Profile:
    """What one kind's calls look like, measured with the embedded model. How many calls a trial makes is not here:
    it is the kind's own ``calls_per_trial`` at the method's parameters (the rule behind the planning warning too)."""

    prompt_scale: float  # prompt tokens per call / the llm kind's prompt tokens at the same trial
    completion_per_call: float
    overlap: int = 1  # calls of one trial that can be in flight at once
    images_per_call: int = IMAGES_PER_CALL  # multimodal kinds only


# Measured: docs/notes/issue17-endpoints.md ("Profiles"), nb201-cifar10, 8 trials, n_init 3, SmolLM2-135M.
PROFILES: dict[str, Profile] = {
    "llm": Profile(prompt_scale=1.0, completion_per_call=83.0),
    # mm_llm*: the llm prompt plus three images (IMAGE_TOKENS each); not measurable with the text-only SmolLM2
    "mm_llm": Profile(prompt_scale=1.0, completion_per_call=83.0),
    "mm_llm_blank": Profile(prompt_scale=1.0, completion_per_call=83.0),
    # llm_tpe: calls per trial from the kind's calls_per_trial (sllmbo: q^2 + (1 - q) q d), the llm prompt's size
    "llm_tpe": Profile(prompt_scale=1.0, completion_per_call=74.0),
    # llambo_lite (defaults n_candidates 3, n_templates 2): 3 sampler + 2 surrogate calls a trial, up to 3 at once
    "llambo_lite": Profile(prompt_scale=1.06, completion_per_call=67.0, overlap=3),
    # llambo as published: 10 sampler + 200 surrogate calls a trial (mlp-credit_g, perf/llambo_costs.py: 167,260 +
    # 2,483 tokens in 210 calls, ~1,500 s): short surrogate replies, prompts ~0.8 x llm's, many calls in flight
    "llambo": Profile(prompt_scale=0.8, completion_per_call=12.0, overlap=10),
    # llm_hb: the llm prompt plus a loss column per fidelity; calls capped per run (LLMHyperband.calls_per_run)
    "llm_hb": Profile(prompt_scale=1.2, completion_per_call=83.0),
    # llm_mf: llm_hb's prompt plus the level/cost table and the budget left; a decision is about as long as a
    # proposal; calls capped per run (calls_per_run). mm_llm_mf*: the same plus one learning-curve image
    "llm_mf": Profile(prompt_scale=1.4, completion_per_call=90.0),
    "mm_llm_mf": Profile(prompt_scale=1.4, completion_per_call=90.0, images_per_call=1),
    "mm_llm_mf_blank": Profile(prompt_scale=1.4, completion_per_call=90.0, images_per_call=1),
}
INSIGHT = Profile(prompt_scale=1.0, completion_per_call=110.0)


@dataclass
class Row:
    """One (method, endpoint) line of the preview."""

    method: str
    endpoint: str
    run_jobs: int = 0
    insight_jobs: int = 0
    calls: float = 0.0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    usd: float | None = 0.0  # None: a remote endpoint without prices (its cost is unknown, not zero)
    model_hours: float = 0.0  # calls x seconds per call: one model thread's time (the planning warning's hours)
    hours: float = 0.0  # model_hours shared out over the jobs and requests that run at once
    latency_measured: bool = True


def _history(bench: Any, spec: Any) -> list[Any]:
    """Observations for every trial of a run: the shared initial design, then random configurations (seeded, one
    batch of at most :data:`POOL` reused in turn: converting 100,000 configurations took 12 s, and a row's length
    follows the same distribution either way), with random losses written at full precision like real ones
    (evaluating live benchmarks here would take hours; the prompt's size does not depend on the values)."""
    import numpy as np

    from hpo.core.space import config_dict, initial_design, stable_seed
    from hpo.llm.prompt import Observation

    space = bench.space
    space.seed(stable_seed("estimate", spec.benchmark, spec.seed))
    configs = [config_dict(c) for c in initial_design(space, spec.n_init, spec.benchmark, spec.seed)]
    more = spec.n_trials - len(configs)
    if more > 0:
        drawn = space.sample_configuration(min(more, POOL))
        pool = [config_dict(c) for c in (drawn if isinstance(drawn, list) else [drawn])]
        configs += [pool[i % len(pool)] for i in range(more)]
    losses = np.random.default_rng(0).uniform(0.05, 0.95, len(configs))
    return [Observation(i + 1, c, float(x)) for i, (c, x) in enumerate(zip(configs, losses))]


def prompt_chars(bench: Any, spec: Any, budgets: list[int]) -> tuple[list[int], dict[int, int]]:
    """Characters of the ``llm`` prompt before each trial after the initial design, and of the insight prompt at
    each budget (0 = the prior), for ``spec``'s run. Linear in ``n_trials`` (:func:`history_text_lengths`)."""
    from hpo.llm.insight_prompt import request_text
    from hpo.llm.prompt import SYSTEM, history_text_lengths, task_text, user_text

    params = spec.params
    best_k, recent_m = params.get("history_best_k", 10), params.get("history_recent_m", 10)
    task = task_text(spec.benchmark, bench.info, bench.space, spec.n_trials)
    lengths = history_text_lengths(_history(bench, spec), best_k, recent_m)
    fixed = len(SYSTEM) + len(user_text(task, [], best_k, recent_m, None)) - lengths[0]

    def size(n: int) -> int:
        return fixed + lengths[n]

    trials = [size(t - 1) for t in range(spec.n_init + 1, spec.n_trials + 1)]
    if params.get("init") == "zero_shot":  # one call asks for the whole initial design, before any history
        trials.append(size(0))
    request = len(request_text(bench.space)) + 2
    return trials, {b: size(b) + request for b in [0, *budgets]}


def finished(path: Path, fingerprint: str) -> bool:
    """Whether a finished output of this exact run exists (its replies are then all cached)."""
    if not path.exists():
        return False
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text()).get("fingerprint") == fingerprint
        from hpo.core.trajectory import read_meta

        return read_meta(path)["spec"]["fingerprint"] == fingerprint
    except (ValueError, KeyError, OSError):
        return False


def estimate(study: dict[str, Any], llm_slots: int = 4, cores: int = 2) -> list[Row]:
    """The preview of a validated study (:func:`hpo.study.config.validate_study`), one row per LLM method."""
    from hpo import benchmarks
    from hpo.llm.endpoint import EndpointConfig
    from hpo.optimizers import LLM_KINDS, VISION_KINDS
    from hpo.run.provenance import build_spec
    from hpo.study.latency import call_latency
    from hpo.study.model_calls import insight_calls, model_hours, run_calls

    results = Path(study["results"])
    rows = []
    sizes: dict[tuple[Any, ...], tuple[list[int], dict[int, int], int]] = {}  # + the trials' characters summed
    benches = {b: benchmarks.make(b, definition=study["custom_benchmarks"].get(b)) for b in study["benchmarks"]}
    for method, entry in study["methods"].items():
        kind = entry["kind"]
        if kind not in LLM_KINDS or method in study["skipped"]:
            continue
        params = entry["params"]
        ep = EndpointConfig.from_dict(params["endpoint"], params["endpoint_config"])
        profile = PROFILES[kind]
        # a run's and an insight job's calls: the counts the planning warning names (hpo.study.model_calls)
        per_run, per_insight = run_calls(study, method), insight_calls(study, method)
        measured = call_latency(study, method).measured and call_latency(study, method, insight=True).measured
        row = Row(method, ep.name, latency_measured=measured)
        parallel = max(1, cores if ep.embedded else llm_slots) * min(ep.concurrency, profile.overlap)
        for benchmark, bench in benches.items():
            for seed in study["seeds"]:
                spec = build_spec(
                    benchmark=benchmark,
                    method=method,
                    kind=kind,
                    seed=seed,
                    n_trials=study["n_trials"],
                    n_init=study["n_init"],
                    params=params,
                    noisy=study["noisy"],
                    benchmark_def=study["custom_benchmarks"].get(benchmark),
                )
                window = (benchmark, params.get("history_best_k"), params.get("history_recent_m"), params.get("init"))
                if window not in sizes:  # the seed changes the values in a prompt, not its size
                    trials, insight = prompt_chars(bench, spec, study["budgets"])
                    sizes[window] = trials, insight, sum(trials)
                trials, insight, trial_chars = sizes[window]
                images = IMAGE_TOKENS * profile.images_per_call if kind in VISION_KINDS else 0
                calls, prompt = 0.0, 0.0
                run_file = results / "runs" / benchmark / method / f"{seed}.parquet"
                if not finished(run_file, spec.fingerprint):
                    row.run_jobs += 1
                    scale = per_run / len(trials) if trials else 0.0
                    calls += per_run
                    prompt += scale * (trial_chars / CHARS_PER_TOKEN * profile.prompt_scale + images * len(trials))
                    row.completion_tokens += scale * len(trials) * min(profile.completion_per_call, ep.max_tokens)
                if not finished(run_file.with_name(f"{seed}_insight.json"), spec.fingerprint):
                    row.insight_jobs += 1
                    # image kinds are asked each budget twice about one history: with images and without them
                    twice = [c for b, c in insight.items() if b] if kind in VISION_KINDS else []
                    n = per_insight
                    calls += n
                    prompt += INSIGHT_CALLS_PER_STATEMENT * (
                        sum(c / CHARS_PER_TOKEN + images for c in insight.values()) + sum(twice) / CHARS_PER_TOKEN
                    )
                    row.completion_tokens += n * min(INSIGHT.completion_per_call, ep.max_tokens)
                row.calls += calls
                row.prompt_tokens += prompt
        priced = ep.embedded or ep.price_prompt_per_1k > 0 or ep.price_completion_per_1k > 0
        row.usd = ep.cost(row.prompt_tokens, row.completion_tokens) if priced else None
        row.model_hours = model_hours(study, method, row.run_jobs, row.insight_jobs)
        row.hours = row.model_hours / parallel
        rows.append(row)
    return rows


def table(rows: list[Row]) -> str:
    """The preview as a Markdown table with a total line."""
    head = (
        "| method | endpoint | run jobs | insight jobs | calls | prompt tokens | completion tokens | USD "
        "| model hours | hours |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in [*rows, _total(rows)]:
        mark = "" if r.latency_measured else "*"
        lines.append(
            f"| {r.method} | {r.endpoint} | {r.run_jobs} | {r.insight_jobs} | {r.calls:,.0f} | {r.prompt_tokens:,.0f} "
            f"| {r.completion_tokens:,.0f} | {_usd(r.usd)} | {r.model_hours:,.2f}{mark} | {r.hours:,.2f}{mark} |"
        )
    return "\n".join(lines)


def _usd(usd: float | None) -> str:
    """Dollars, or ``unknown`` for an endpoint without prices (``0.0000`` would read as free)."""
    return "unknown (no prices)" if usd is None else f"{usd:,.{2 if usd >= 10 else 4}f}"


def _total(rows: list[Row]) -> Row:
    total = Row("total", "", latency_measured=all(r.latency_measured for r in rows))
    for r in rows:
        for key in ("run_jobs", "insight_jobs", "calls", "prompt_tokens", "completion_tokens", "model_hours", "hours"):
            setattr(total, key, getattr(total, key) + getattr(r, key))
    known = [r.usd for r in rows if r.usd is not None]
    total.usd = sum(known) if len(known) == len(rows) else None  # one unknown part makes the total unknown
    return total
