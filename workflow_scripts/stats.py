"""Snakemake script of rule ``stats``: trajectories + run status -> tables under results/stats/."""

from pathlib import Path

from hpo.stats.tables import write_stats
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    write_stats(
        sm.input.trajectories,
        sm.input.status,
        Path(sm.output[0]).parent,
        budgets=sm.params.budgets,
        methods=sm.params.methods,
        alpha=sm.params.alpha,
        roles=sm.params.roles,
        groups=sm.params.groups,
    )
