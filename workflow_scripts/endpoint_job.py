"""Snakemake script of rule ``endpoint_check``: one endpoint -> its preflight document (JSON)."""

from pathlib import Path

from hpo.study.config import validate_study
from hpo.study.preflight import endpoint_spec, preflight_to_file
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log.job):
    # Rebuilt here, not passed as a param: the spec changes with the code, the preflight only with the endpoint.
    study = validate_study(dict(sm.config))
    spec = endpoint_spec(study, sm.wildcards.endpoint)
    print(f"preflight of endpoint {sm.wildcards.endpoint} with {spec.benchmark}/{spec.method}/{spec.seed}")
    # No declared table input (a rebuilt table must not rerun the preflight and every LLM run after it): the
    # study's converted table if it is there, else the benchmark converts its own into the user cache.
    table = Path(study["results"]) / "tables" / f"{spec.benchmark}.npz"
    preflight_to_file(
        spec,
        sm.output[0],
        table_path=table if table.exists() else None,
        cache_dir=sm.config["llm_cache"],
        server_log=sm.log.llm_server,
    )
