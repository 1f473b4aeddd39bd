"""Snakemake script of rule ``insight``: one LLM run's trajectory -> its stated importance per budget (JSON)."""

from hpo.insight.ask import insight_to_file
from hpo.run.harness import RunSpec
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log.job):
    spec = RunSpec.for_job(sm.wildcards.benchmark, sm.wildcards.method, sm.wildcards.seed, sm.params.spec)
    print(f"insight {spec.benchmark}/{spec.method}/{spec.seed} at budgets {sm.params.budgets}")
    insight_to_file(
        spec,
        sm.input.trajectory,
        sm.output[0],
        budgets=list(sm.params.budgets),
        table_path=sm.input.get("table"),
        cache_dir=sm.config["llm_cache"],
        server_log=sm.log.llm_server,
    )
