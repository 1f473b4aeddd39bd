"""One job per (benchmark, method, seed): optimize and write one Parquet trajectory."""


rule run:
    input:
        *RUN_INPUT_ARGS,
        **RUN_INPUT_KWARGS,
    output:
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
    params:
        spec=run_spec,
    threads: RUN_THREADS
    resources:
        llm_slots=RUN_LLM_SLOTS,
    log:
        f"{LOGS}/runs/{{benchmark}}/{{method}}/{{seed}}.log",
    conda:
        RUN_ENV
    script:
        "../workflow_scripts/run_job.py"
