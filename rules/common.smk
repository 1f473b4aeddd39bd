"""Config validation and the functions that expand the study; shared by every other rule file."""

import functools
import re
import sys

from hpo.insight.stats import TABLES as INSIGHT_TABLES
from hpo.stats.comparison import ALPHA
from hpo.stats.tables import TABLES as STATS_TABLES
from hpo.benchmarks import multi_fidelity_ids, needs_table, reads_table
from hpo.util.codebase import digest, script_closure
from hpo.optimizers.registry import get as method_kind
from hpo.run.provenance import benchmark_digest, build_spec
from hpo.llm.ledger import SPEND_ENV, spend_env
from hpo.llm.endpoint import EndpointConfig
from hpo.study.preflight import endpoint_digest
from hpo.study.config import (
    StudyConfigError,
    coerce_cli_lists,
    load_schema,
    spend_caps,
    validate_study,
)
from hpo.study.handoff import load_resolved, save_resolved, study_key
from hpo.core.trajectory import CHECKED_FIELDS

# A job's own parse of the workflow (SLURM, or a job Snakemake runs in a process of its own) takes the study that
# the planning process resolved from this very config, instead of validating it again (hpo/study/handoff.py).
_STUDY_KEY = study_key(config)
_HANDED = None if workflow.is_main_process else load_resolved(_STUDY_KEY)
if _HANDED is not None:
    config.update(_HANDED["config"])
    STUDY = _HANDED["study"]
else:
    config.update(coerce_cli_lists(load_schema(), config))
    try:
        STUDY = validate_study(config)
    except StudyConfigError as err:
        # The user's config is at fault, not this file: the one line, without Snakemake's pointer into project code.
        from snakemake.logging import logger

        logger.error(str(err))
        sys.exit(1)
    # Snakemake's own schema validation fills the same defaults (and documents the schema); ours ran first because
    # it reports one line naming the key and the allowed values.
    validate(config, "../hpo/config.schema.yaml")
    # the one place run jobs read it from (not a rerun trigger)
    config["llm_cache"] = STUDY["llm_cache"]
    if workflow.is_main_process:
        save_resolved(_STUDY_KEY, config, STUDY)
RESULTS = STUDY["results"]
LOGS = STUDY["logs"]
# Spending caps reach every job (local or on a cluster node, which loads this file too) through the environment,
# not the run spec: raising a cap reruns no finished job (hpo/llm/ledger.py).
os.environ[SPEND_ENV] = spend_env(
    os.path.abspath(f"{RESULTS}/spend"), spend_caps(STUDY)
)
METHODS = STUDY["methods"]
# The study's multi-fidelity benchmarks: their budgets are costs (the report says so).
COST_BENCHMARKS = [b for b in STUDY["benchmarks"] if b in set(multi_fidelity_ids())]


wildcard_constraints:
    benchmark=r"[A-Za-z0-9_.\-]+",
    method=r"[A-Za-z0-9_.\-]+",
    seed=r"\d+",


# Methods that the study names but cannot run here, with the reason (e.g. no endpoint with vision for mm_llm);
# they get no run jobs and are reported as skipped in run_status.csv, never silently dropped.
SKIPPED = STUDY["skipped"]
RUNNABLE = [m for m in METHODS if m not in SKIPPED]
KIND_OF = {m: method_kind(METHODS[m]["kind"]) for m in METHODS}
# Which runnable methods call an LLM, which of those a remote endpoint, and which send images: decided once, here.
LLM_METHODS = {m for m in RUNNABLE if KIND_OF[m].llm}
REMOTE_LLM_METHODS = {
    m
    for m in LLM_METHODS
    if not METHODS[m]["params"]["endpoint_config"].get("embedded")
}
IMAGE_METHODS = [m for m in RUNNABLE if KIND_OF[m].vision]
# Role of each method in the image / text / blank comparison, by kind (never by the name a study gives it).
ROLES = {m: KIND_OF[m].role for m in METHODS if KIND_OF[m].role}


def method_pattern(methods):
    """A wildcard constraint matching exactly these method names (none: a pattern that matches nothing)."""
    return "|".join(re.escape(m) for m in methods) or r"(?!x)x"


def code_digest(script):
    """Digest of a workflow script and every hpo module it imports: a param, so a library edit reruns the rule."""
    return digest(
        script_closure(os.path.join(workflow.basedir, "workflow_scripts", script))
    )


def run_files(wildcards=None):
    return expand(
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
        benchmark=STUDY["benchmarks"],
        method=RUNNABLE,
        seed=STUDY["seeds"],
    )


def warn_missing_runs():
    """A deleted run file that the aggregate still holds is said at planning (hpo.analysis.aggregate)."""
    import sys
    from hpo.analysis.aggregate import missing_runs_note

    note = missing_runs_note(run_files(), f"{RESULTS}/trajectories.parquet")
    if note:
        print(note, file=sys.stderr)


def image_dirs(wildcards=None):
    """The image folders of the multimodal runs (declared outputs of rule run_images)."""
    return expand(
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}_images",
        benchmark=STUDY["benchmarks"],
        method=IMAGE_METHODS,
        seed=STUDY["seeds"],
    )


# Remote endpoints are preflighted (rules/endpoints.smk) before any run job of a method that uses them.
PREFLIGHT_OF = {m: METHODS[m]["params"]["endpoint"] for m in sorted(REMOTE_LLM_METHODS)}
PREFLIGHT_ENDPOINTS = sorted(set(PREFLIGHT_OF.values()))


def run_inputs(wildcards):
    """The converted or built table of table benchmarks (nothing for benchmarks that compute their loss), and the
    preflight result of a remote LLM method's endpoint."""
    out = {}
    if reads_table(wildcards.benchmark):
        out["table"] = f"{RESULTS}/tables/{wildcards.benchmark}.npz"
    if getattr(wildcards, "method", None) in PREFLIGHT_OF:
        out["endpoint"] = f"{RESULTS}/endpoints/{PREFLIGHT_OF[wildcards.method]}.json"
    return out


def endpoint_check_digest(wildcards):
    """What a preflight result stands for (hpo.study.preflight.endpoint_digest): it reruns when the endpoint changes,
    not when code or the study's other settings do (the runs' own specs cover those)."""
    method = next(m for m, e in PREFLIGHT_OF.items() if e == wildcards.endpoint)
    params = METHODS[method]["params"]
    return endpoint_digest(
        EndpointConfig.from_dict(params["endpoint"], params["endpoint_config"])
    )


def run_threads(wildcards):
    """Remote LLM jobs wait on the network and claim no core (bounded by llm_slots instead); everything else,
    the embedded llama.cpp server included (one thread), claims one core."""
    return 0 if wildcards.method in REMOTE_LLM_METHODS else 1


def run_env(wildcards):
    """LLM methods need the model client and server; classical run jobs do without them."""
    name = "llm" if wildcards.method in LLM_METHODS else "run"
    return os.path.join(workflow.basedir, "envs", f"{name}.yaml")


def llm_slots(wildcards):
    return 1 if wildcards.method in REMOTE_LLM_METHODS else 0


# Snakemake inspects every function-valued directive of every job, which dominates planning at 10^4 jobs. Use
# plain values where the study allows (no computed-loss benchmark, no LLM / remote LLM method): ~12% faster -n.
_PLAIN_INPUTS = all(reads_table(b) for b in STUDY["benchmarks"]) and not PREFLIGHT_OF
RUN_INPUT_ARGS = [] if _PLAIN_INPUTS else [unpack(run_inputs)]
RUN_INPUT_KWARGS = (
    {"table": f"{RESULTS}/tables/{{benchmark}}.npz"} if _PLAIN_INPUTS else {}
)
RUN_THREADS = run_threads if REMOTE_LLM_METHODS else 1
RUN_LLM_SLOTS = llm_slots if REMOTE_LLM_METHODS else 0
RUN_ENV = run_env if LLM_METHODS else "../envs/run.yaml"


@functools.lru_cache(maxsize=None)
def _pair_spec(benchmark, method):
    m = METHODS[method]
    return build_spec(
        benchmark=benchmark,
        method=method,
        kind=m["kind"],
        seed=0,
        n_trials=STUDY["n_trials"],
        n_init=STUDY["n_init"],
        params=m["params"],
        noisy=STUDY["noisy"],
        benchmark_def=STUDY["custom_benchmarks"].get(benchmark),
        anonymize=STUDY["anonymize"],
    )


def run_spec(wildcards):
    """Everything that determines one run's result, fingerprint and its provenance parts included; compared by
    value by Snakemake's params trigger, so any change reruns exactly the jobs it affects. Built once per
    (benchmark, method) with hpo.run.provenance.build_spec (the function the CLI uses): the seed enters no fingerprint
    part, and the job's wildcards carry it.
    """
    spec = _pair_spec(wildcards.benchmark, wildcards.method).as_dict()
    return {k: v for k, v in spec.items() if k not in ("benchmark", "method", "seed")}


def expected_runs(wildcards=None):
    """What aggregation checks each run file's metadata against: path -> the fields of the job that writes it."""
    out = {}
    for benchmark in STUDY["benchmarks"]:
        for method in RUNNABLE:
            spec = _pair_spec(benchmark, method)
            fields = {k: getattr(spec, k) for k in CHECKED_FIELDS}
            for seed in STUDY["seeds"]:
                out[f"{RESULTS}/runs/{benchmark}/{method}/{seed}.parquet"] = {
                    **fields,
                    "seed": int(seed),
                }
    return out


# The study's design as aggregation and the failure report see it (what "complete" means).
EXPECTED = {
    "benchmarks": STUDY["benchmarks"],
    "methods": list(METHODS),
    "seeds": STUDY["seeds"],
}


def stats_outputs(wildcards=None):
    """Every final output of this stage: tables, figures, gallery page."""
    figures = ["average_rank", "llm_usage", "mm_gallery"] + [
        f"cd_diagram_budget{b}" for b in STUDY["budgets"]
    ]
    return (
        expand(
            f"{RESULTS}/stats/{{name}}.{{ext}}",
            name=STATS_TABLES,
            ext=["csv", "md", "html"],
        )
        + expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=figures, ext=["png", "pdf"])
        + [f"{RESULTS}/figures/mm_gallery.md"]
    )


def importance_files(wildcards=None):
    return expand(
        f"{RESULTS}/importance/{{benchmark}}.json", benchmark=STUDY["benchmarks"]
    )


def insight_files(wildcards=None):
    """The stated-importance files of the runnable LLM methods ({seed}_insight.json next to the trajectory; rule
    insight); the insight table names the methods that have none (skipped)."""
    return expand(
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}_insight.json",
        benchmark=STUDY["benchmarks"],
        method=sorted(LLM_METHODS),
        seed=STUDY["seeds"],
    )


def insight_outputs(wildcards=None):
    """Every final output of this stage: importance files and table, insight tables, figure."""
    return (
        importance_files()
        + [f"{RESULTS}/importance/importance.csv"]
        + expand(
            f"{RESULTS}/stats/{{name}}.{{ext}}",
            name=INSIGHT_TABLES,
            ext=["csv", "md", "html"],
        )
        + expand(f"{RESULTS}/figures/insight.{{ext}}", ext=["png", "pdf"])
    )


def all_outputs(wildcards=None):
    return [
        f"{RESULTS}/trajectories.parquet",
        f"{RESULTS}/summary.csv",
        f"{RESULTS}/run_status.csv",
        f"{RESULTS}/optuna.db",
        f"{RESULTS}/figures/anytime_regret.png",
        f"{RESULTS}/figures/anytime_regret.pdf",
        *stats_outputs(),
        *insight_outputs(),
        f"{RESULTS}/report.md",
    ]
