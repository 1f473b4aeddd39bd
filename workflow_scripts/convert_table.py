"""Snakemake script of rule ``convert_table``: pickled HPOBench table -> dense .npz, or a learning-curve table."""

from hpo.benchmarks import convert
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    print(f"converted {convert(sm.wildcards.benchmark, sm.output[0])}")
