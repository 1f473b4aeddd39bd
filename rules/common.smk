"""Config validation and the functions that expand the study; shared by every other rule file."""

from hpo.fingerprint import method_fingerprint
from hpo.study import StudyConfigError, validate_study

try:
    STUDY = validate_study(config)
except StudyConfigError as err:
    raise WorkflowError(str(err)) from None

# Snakemake's own schema validation fills the same defaults (and documents the schema); ours ran first because it
# reports one line naming the key and the allowed values.
validate(config, "../config/schema.yaml")

RESULTS = STUDY["results"]
LOGS = STUDY["logs"]
METHODS = STUDY["methods"]

# Per-method fingerprint of parameters + code: a run-rule param, so editing one method reruns only its jobs.
FINGERPRINTS = {name: method_fingerprint(m["kind"], m["params"]) for name, m in METHODS.items()}


wildcard_constraints:
    benchmark=r"[A-Za-z0-9_.\-]+",
    method=r"[A-Za-z0-9_.]+",
    seed=r"\d+",


def run_files(wildcards=None):
    return expand(
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
        benchmark=STUDY["benchmarks"],
        method=list(METHODS),
        seed=STUDY["seeds"],
    )


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
    }


def all_outputs(wildcards=None):
    return [
        f"{RESULTS}/trajectories.parquet",
        f"{RESULTS}/summary.csv",
        f"{RESULTS}/figures/anytime_regret.png",
        f"{RESULTS}/figures/anytime_regret.pdf",
    ]
