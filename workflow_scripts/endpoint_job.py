"""Snakemake script of rule ``endpoint_check``: one endpoint -> its preflight document (JSON)."""

from hpo.logs import job_log
from hpo.preflight import endpoint_spec, preflight_to_file
from hpo.study import validate_study

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log.job):
    # Rebuilt here, not passed as a param: the spec changes with the code, the preflight only with the endpoint.
    spec = endpoint_spec(validate_study(dict(sm.config)), sm.wildcards.endpoint)
    print(f"preflight of endpoint {sm.wildcards.endpoint} with {spec.benchmark}/{spec.method}/{spec.seed}")
    preflight_to_file(
        spec,
        sm.output[0],
        table_path=sm.input.get("table"),
        cache_dir=sm.config["llm_cache"],
        server_log=sm.log.llm_server,
    )
