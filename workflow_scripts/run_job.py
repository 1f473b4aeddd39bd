"""Snakemake script of rules ``run`` and ``run_images``: one (benchmark, method, seed) -> one Parquet trajectory."""

from hpo.run.harness import RunSpec, run_to_file
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log.job):
    spec = RunSpec.for_job(sm.wildcards.benchmark, sm.wildcards.method, sm.wildcards.seed, sm.params.spec)
    print(f"run {spec}")
    run_to_file(
        spec,
        sm.output[0],
        table_path=sm.input.get("table"),
        cache_dir=sm.config["llm_cache"],
        server_log=sm.log.llm_server,
    )
