"""One job per (benchmark, method, seed): optimize and write one Parquet trajectory.

Two rules with disjoint method constraints: methods that send images to the model also declare the folder of the
images they sent (rule ``run_images``), so every file a run job writes is a declared output.
"""


rule run:
    input:
        *RUN_INPUT_ARGS,
        **RUN_INPUT_KWARGS,
    output:
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
    log:
        job=f"{LOGS}/runs/{{benchmark}}/{{method}}/{{seed}}.log",
        llm_server=f"{LOGS}/runs/{{benchmark}}/{{method}}/{{seed}}.llama_server.log",
    wildcard_constraints:
        method=method_pattern([m for m in RUNNABLE if m not in IMAGE_METHODS]),
    conda:
        RUN_ENV
    threads: RUN_THREADS
    resources:
        llm_slots=RUN_LLM_SLOTS,
    params:
        spec=run_spec,
    script:
        "../workflow_scripts/run_job.py"


use rule run as run_images with:
    output:
        trajectory=f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
        images=directory(f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}_images"),
    wildcard_constraints:
        method=method_pattern(IMAGE_METHODS),
