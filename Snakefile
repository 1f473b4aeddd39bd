"""MM-LLM-HPO: benchmark x method x seed -> Parquet trajectories -> aggregate -> figures."""

import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# Make the `hpo` package importable here and in every job, installed or not (conda envs included).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")])
    )
)


# The default study, unless the user names their own with --configfile (which then replaces it instead of being
# merged into it: a study file lists exactly the benchmarks and methods it wants).
if not workflow.config_settings.configfiles:

    configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/tables.smk"
include: "rules/endpoints.smk"
include: "rules/run.smk"
include: "rules/insight.smk"
include: "rules/aggregate.smk"
include: "rules/optuna.smk"
include: "rules/plots.smk"
include: "rules/stats.smk"
include: "rules/importance.smk"
include: "rules/report.smk"


rule all:
    input:
        all_outputs,
