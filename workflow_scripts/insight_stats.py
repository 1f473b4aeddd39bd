"""Snakemake script of rule ``insight_stats``: stated vs. true importance -> tables under results/stats/."""

from pathlib import Path

from hpo.insight.stats import write_insight
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    write_insight(
        sm.input.trajectories,
        sm.input.importance,
        sm.input.insight,
        Path(sm.output[0]).parent,
        budgets=sm.params.budgets,
        roles=sm.params.roles,
        kinds=sm.params.kinds,
        llm_methods=sm.params.llm_methods,
        status_path=sm.input.status,
        alpha=sm.params.alpha,
        settings=sm.params.settings,
    )
