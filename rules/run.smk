"""One job per (benchmark, method, seed): optimize and write one Parquet trajectory."""


rule run:
    input:
        unpack(run_inputs),
    output:
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
    params:
        spec=run_spec,
    threads: run_threads
    resources:
        llm_slots=llm_slots,
    log:
        f"{LOGS}/runs/{{benchmark}}/{{method}}/{{seed}}.log",
    conda:
        run_env
    script:
        "../workflow_scripts/run_job.py"
