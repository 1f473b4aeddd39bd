"""Snakemake script of rule ``plot_insight``."""

from hpo.insight.plots import plot_insight
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_insight(
        sm.input.scores,
        sm.input.summary,
        sm.input.importance,
        [sm.output.png, sm.output.pdf],
        methods=sm.params.methods,
        metric=sm.params.metric,
    )
