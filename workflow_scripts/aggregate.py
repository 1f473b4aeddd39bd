"""Snakemake script of rule ``aggregate``: run files -> trajectories.parquet + summary.csv."""

from hpo.analysis.aggregate import aggregate
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    aggregate(
        list(sm.input),
        sm.output.trajectories,
        sm.output.summary,
        budgets=sm.params.budgets,
        status_out=sm.output.status,
        expected=sm.params.expected,
        skipped=sm.params.skipped,
        expected_runs=sm.params.expected_runs,
    )
