"""Config validation and the functions that expand the study; shared by every other rule file."""

from hpo.benchmarks import needs_table
from hpo.fingerprint import method_fingerprint
from hpo.optimizers import LLM_KINDS
from hpo.study import StudyConfigError, coerce_cli_lists, load_schema, validate_study

config.update(coerce_cli_lists(load_schema(), config))
try:
    STUDY = validate_study(config)
except StudyConfigError as err:
    raise WorkflowError(str(err)) from None

# Snakemake's own schema validation fills the same defaults (and documents the schema); ours ran first because it
# reports one line naming the key and the allowed values.
validate(config, "../config/schema.yaml")

config["llm_cache"] = STUDY["llm_cache"]  # read by LLM run jobs from snakemake.config (not a rerun trigger)
RESULTS = STUDY["results"]
LOGS = STUDY["logs"]
METHODS = STUDY["methods"]

# Per-method fingerprint of parameters + code: a run-rule param, so editing one method reruns only its jobs.
FINGERPRINTS = {name: method_fingerprint(m["kind"], m["params"]) for name, m in METHODS.items()}


wildcard_constraints:
    benchmark=r"[A-Za-z0-9_.\-]+",
    method=r"[A-Za-z0-9_.]+",
    seed=r"\d+",


# Methods that the study names but cannot run here, with the reason (e.g. no endpoint with vision for mm_llm);
# they get no run jobs and are reported as skipped in run_status.csv, never silently dropped.
SKIPPED = STUDY["skipped"]
RUNNABLE = [m for m in METHODS if m not in SKIPPED]
# Which runnable methods are LLM methods, and which of those call a remote endpoint: decided once, here.
LLM_METHODS = {m for m in RUNNABLE if METHODS[m]["kind"] in LLM_KINDS}
REMOTE_LLM_METHODS = {m for m in LLM_METHODS if not METHODS[m]["params"]["endpoint_config"].get("embedded")}


def run_files(wildcards=None):
    return expand(
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
        benchmark=STUDY["benchmarks"],
        method=RUNNABLE,
        seed=STUDY["seeds"],
    )


def run_inputs(wildcards):
    """The converted table for tabular benchmarks; nothing for benchmarks that compute their loss."""
    if needs_table(wildcards.benchmark):
        return {"table": f"{RESULTS}/tables/{wildcards.benchmark}.npz"}
    return {}


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
_ALL_TABULAR = all(needs_table(b) for b in STUDY["benchmarks"])
RUN_INPUT_ARGS = [] if _ALL_TABULAR else [unpack(run_inputs)]
RUN_INPUT_KWARGS = {"table": f"{RESULTS}/tables/{{benchmark}}.npz"} if _ALL_TABULAR else {}
RUN_THREADS = run_threads if REMOTE_LLM_METHODS else 1
RUN_LLM_SLOTS = llm_slots if REMOTE_LLM_METHODS else 0
RUN_ENV = run_env if LLM_METHODS else "../envs/run.yaml"


def run_spec(wildcards):
    """Everything that determines one run's result; compared by value by Snakemake's params trigger."""
    m = METHODS[wildcards.method]
    return {
        "kind": m["kind"],
        "params": m["params"],
        "n_trials": STUDY["n_trials"],
        "n_init": STUDY["n_init"],
        "noisy": STUDY["noisy"],
        "fingerprint": FINGERPRINTS[wildcards.method],
        # only for custom (native HPOBench) benchmarks, so built-in runs keep their params and are not rerun
        **({"benchmark_def": d} if (d := STUDY["custom_benchmarks"].get(wildcards.benchmark)) else {}),
    }


def all_outputs(wildcards=None):
    return [
        f"{RESULTS}/trajectories.parquet",
        f"{RESULTS}/summary.csv",
        f"{RESULTS}/run_status.csv",
        f"{RESULTS}/figures/anytime_regret.png",
        f"{RESULTS}/figures/anytime_regret.pdf",
        *stats_outputs(),
        f"{RESULTS}/report.md",
    ]
