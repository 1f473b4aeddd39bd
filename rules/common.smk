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


def _check_scripts_once_per_rule():
    """At planning, Snakemake checks that a script rule's script is readable once per *job*: it formats the path
    with the job's wildcards and params, looks it up in its source cache three times and reads it (~0.5 ms of CPU a
    job, two thirds of what a 24,000-job dry run cost beyond a bare Snakefile; ``perf/dryrun_scale.py
    --bare-script``, docs/performance.md). A path without a wildcard gives every job of the same rule the same
    answer, so each such script is checked once, at the first job of its rule; a missing script still fails
    planning. Changes no job (inputs, params, outputs, code); a Snakemake without this hook keeps its own check.
    """
    try:
        from snakemake.dag import ScriptProcessor
    except ImportError:
        return
    check = getattr(ScriptProcessor, "process_job", None)
    if check is None or getattr(check, "once_per_rule", False):
        return

    @functools.wraps(check)
    def process_job(self, job):
        entry = getattr(job.rule, self.script_type, None)
        if entry is None or "{" in str(entry):
            return check(self, job)
        checked = self.__dict__.setdefault("_checked_rules", set())
        key = (job.rule.name, str(entry))
        if key not in checked:
            check(self, job)
            checked.add(key)

    process_job.once_per_rule = True
    ScriptProcessor.process_job = process_job


_check_scripts_once_per_rule()

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
# LLM methods whose endpoint has prices: only their calls cost money (regret against dollars).
PRICED_LLM_METHODS = [
    m
    for m in RUNNABLE
    if m in LLM_METHODS
    and any(
        METHODS[m]["params"]["endpoint_config"].get(k)
        for k in ("price_prompt_per_1k", "price_completion_per_1k")
    )
]
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


# Figures drawn only where they apply: the LLM usage figure where a runnable method calls a model, the multimodal
# gallery where one sends images, regret against dollars where a model's calls have prices. Otherwise there is no
# rule, job or report entry (a placeholder figure would be all they showed) and report.md says why in one sentence
# (report_md's absent_figures, hpo.report.build).
OPTIONAL_FIGURES = {
    "llm_usage": bool(LLM_METHODS),
    "mm_gallery": bool(IMAGE_METHODS),
    "regret_vs_llm_cost": bool(PRICED_LLM_METHODS),
}
# What $0 of model calls reaches in the dollars figure: every arm group's classical reference, else the first
# random_search method.
DOLLAR_REFERENCES = list(
    dict.fromkeys(
        [g["reference"] for g in STUDY["groups"].values() if g.get("reference")]
        or [m for m in RUNNABLE if METHODS[m]["kind"] == "random_search"][:1]
    )
)
DRAWN_OPTIONAL = [name for name, applies in OPTIONAL_FIGURES.items() if applies]


def stats_outputs(wildcards=None):
    """Every final output of this stage: tables, figures, gallery page."""
    figures = ["average_rank", *DRAWN_OPTIONAL] + [
        f"cd_diagram_budget{b}" for b in STUDY["budgets"]
    ]
    gallery_page = [f"{RESULTS}/figures/mm_gallery.md"] if IMAGE_METHODS else []
    return (
        expand(
            f"{RESULTS}/stats/{{name}}.{{ext}}",
            name=STATS_TABLES,
            ext=["csv", "md", "html"],
        )
        + expand(f"{RESULTS}/figures/{{fig}}.{{ext}}", fig=figures, ext=["png", "pdf"])
        + gallery_page
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
