"""What shapes a run's result, and the one function that builds a :class:`~hpo.run.harness.RunSpec` from it.

A run's fingerprint covers every input that can change its numbers, in four parts recorded in the trajectory's
metadata (``spec.provenance``), so a reader can tell why a job reran:

* ``params``: the method kind and its resolved parameters, the budget, initial-design size and noise setting;
* ``method``: the source of the kind's module and every ``hpo`` module it imports (for multimodal kinds that
  includes the image rendering: :mod:`hpo.llm.images`, :mod:`hpo.util.plotting`);
* ``benchmark``: the benchmark family's modules and reference data (editing the MLP loss transform reruns MLP jobs
  only; editing a live-ML model reruns live-ML jobs only), or a custom benchmark's definition;
* ``harness``: the shared run loop (:mod:`hpo.run.harness` and what it imports, registries excluded).

The workflow passes the whole spec as a param of rule ``run``; Snakemake compares params by value, so a change to
any part reruns exactly the jobs it affects. Both the workflow and ``python -m hpo run`` call :func:`build_spec`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from hpo import benchmarks
from hpo.optimizers.registry import get
from hpo.run.harness import RunSpec
from hpo.util.codebase import closure, digest
from hpo.util.defaults import fill_defaults

HARNESS_MODULES = ("hpo.run.harness",)


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


@functools.cache
def harness_digest() -> str:
    return digest(closure(HARNESS_MODULES))


@functools.cache
def method_digest(kind: str) -> str:
    entry = get(kind)
    return _hash({"entry": repr(entry), "code": digest(entry.code_files())})


@functools.cache
def benchmark_digest(benchmark: str, custom: bool = False) -> str:
    """Digest of a benchmark's family code and data; shared by every benchmark of the family."""
    return digest(benchmarks.provenance_files(benchmark, custom=custom))


def resolve_params(kind: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The kind's parameters with defaults filled from its schema (the one place they are filled for a spec)."""
    return fill_defaults(get(kind).params_schema(), params or {})


def build_spec(
    *,
    benchmark: str,
    method: str,
    kind: str,
    seed: int,
    n_trials: int,
    n_init: int,
    params: dict[str, Any] | None = None,
    noisy: bool = False,
    benchmark_def: dict[str, Any] | None = None,
    anonymize: bool = False,
) -> RunSpec:
    """A complete run spec: resolved parameters, fingerprint and its provenance parts.

    ``anonymize`` (the study option) applies to LLM kinds only and enters their fingerprint only when true, so
    existing fingerprints are unchanged and classical methods never rerun for it.
    """
    params = resolve_params(kind, params)
    anonymize = bool(anonymize) and get(kind).llm
    hashed = {"kind": kind, "params": params, "n_trials": n_trials, "n_init": n_init, "noisy": noisy}
    parts = {
        "params": _hash({**hashed, "anonymize": True} if anonymize else hashed),
        "method": method_digest(kind),
        "benchmark": _hash([benchmark_digest(benchmark, benchmark_def is not None), benchmark_def]),
        "harness": harness_digest(),
    }
    return RunSpec(
        benchmark=benchmark,
        method=method,
        kind=kind,
        seed=seed,
        n_trials=n_trials,
        n_init=n_init,
        params=params,
        noisy=noisy,
        fingerprint=_hash(parts),
        provenance=parts,
        benchmark_def=benchmark_def,
        anonymize=anonymize,
    )
