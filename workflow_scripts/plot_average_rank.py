"""Snakemake script of rule ``plot_average_rank``."""

from hpo.stats.plots import plot_average_rank
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_average_rank(sm.input[0], [sm.output.png, sm.output.pdf], methods=sm.params.methods, budgets=sm.params.budgets)
