"""Snakemake script of rule ``report_md``: the one-page results/report.md."""

from pathlib import Path

from hpo.analysis.report import write_report_md
from hpo.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    write_report_md(Path(sm.input.ranks).parent, sm.output[0], figures=sm.input.figures, alpha=sm.params.alpha)
