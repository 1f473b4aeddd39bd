"""Snakemake script of rule ``plot_regret_vs_llm_cost``."""

from hpo.analysis.plots import plot_regret_vs_llm_cost
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_regret_vs_llm_cost(
        sm.input[0], [sm.output.png, sm.output.pdf], sm.params.llm_methods, references=sm.params.references
    )
