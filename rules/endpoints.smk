"""Endpoint preflight (hpo.study.preflight): one job per remote endpoint the study's LLM methods use, before any of
their run jobs (each depends on its endpoint's file through ``run_inputs``), so a wrong dialect, an unknown model, a
rejected key or a vision endpoint that ignores images stops the workflow with one line before a run job starts.
The embedded endpoint is not checked here (local, free, tested by the project); ``python -m hpo check-endpoint``
checks it on request. Its calls go through the reply cache: the run's first prompt is the preflight's. It reruns
when its endpoint's settings change (param ``endpoint``), not on code edits: cached by endpoint identity.
"""


rule endpoint_check:
    output:
        f"{RESULTS}/endpoints/{{endpoint}}.json",
    log:
        job=f"{LOGS}/endpoints/{{endpoint}}.log",
        llm_server=f"{LOGS}/endpoints/{{endpoint}}.llama_server.log",
    wildcard_constraints:
        endpoint=method_pattern(PREFLIGHT_ENDPOINTS),
    conda:
        "../envs/llm.yaml"
    threads: 0
    resources:
        llm_slots=1,
    params:
        endpoint=endpoint_check_digest,
    script:
        "../workflow_scripts/endpoint_job.py"


rule estimate:
    """The cost and time preview (hpo.study.estimate) as a file: `snakemake results/estimate.md` (not part of `all`).
    Reruns when the study's design or endpoints change; jobs finished since then are not subtracted until then.
    """
    output:
        f"{RESULTS}/estimate.md",
    log:
        f"{LOGS}/estimate.log",
    conda:
        "../envs/llm.yaml"
    params:
        design={
            k: STUDY[k]
            for k in (
                "benchmarks",
                "methods",
                "seeds",
                "n_trials",
                "n_init",
                "budgets",
            )
        },
        llm_slots=workflow.global_resources.get("llm_slots").value or 4,
        cores=lambda wildcards: workflow.cores,
    script:
        "../workflow_scripts/estimate.py"
