"""Snakemake script of rule ``endpoint_check``: one endpoint -> its preflight document (JSON)."""

from hpo.llm.preflight import preflight_to_file
from hpo.logs import job_log
from hpo.runner import RunSpec

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log.job):
    spec = RunSpec(**sm.params.spec)
    print(f"preflight of endpoint {sm.wildcards.endpoint} with {spec.benchmark}/{spec.method}/{spec.seed}")
    preflight_to_file(
        spec,
        sm.output[0],
        table_path=sm.input.get("table"),
        cache_dir=sm.config["llm_cache"],
        server_log=sm.log.llm_server,
    )
