"""Snakemake script of rule ``plot_anytime_regret``."""

from hpo.analysis.plots import plot_anytime_regret
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_anytime_regret(sm.input[0], [sm.output.png, sm.output.pdf], methods=sm.params.methods)
