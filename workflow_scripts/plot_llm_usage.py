"""Snakemake script of rule ``plot_llm_usage``."""

from hpo.stats.plots import plot_llm_usage
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_llm_usage(sm.input[0], [sm.output.png, sm.output.pdf], methods=sm.params.methods)
