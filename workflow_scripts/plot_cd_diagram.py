"""Snakemake script of rule ``plot_cd_diagram`` (one budget per job)."""

from hpo.stats.plots import plot_cd_diagram
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_cd_diagram(
        sm.input.ranks,
        sm.input.nemenyi,
        sm.input.friedman,
        int(sm.wildcards.budget),
        [sm.output.png, sm.output.pdf],
        methods=sm.params.methods,
    )
