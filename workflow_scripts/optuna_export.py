"""Snakemake script of rule ``optuna_export``: every run file -> one Optuna study each in results/optuna.db."""

from pathlib import Path

from hpo.analysis.optuna_export import export
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    tables = {Path(t).stem: t for t in sm.input.tables}
    n = export(list(sm.input.runs), sm.output[0], tables)
    print(f"{len(sm.input.runs)} runs, {n} trials -> {sm.output[0]}")
