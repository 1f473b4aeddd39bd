"""Snakemake script of rule ``report_md``: results/report.md and its HTML twin for the Snakemake report."""

from pathlib import Path

from hpo.report.build import write_report_md
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    write_report_md(
        Path(sm.input.ranks).parent,
        sm.output.md,
        figures=sm.input.figures,
        alpha=sm.params.alpha,
        html_out=sm.output.html,
        cost_benchmarks=sm.params.cost_benchmarks,
        absent_figures=sm.params.absent_figures,
    )
