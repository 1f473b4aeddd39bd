"""The models' stated hyperparameter importance: one job per LLM run, after the run (hpo.insight.ask).

Separate from rule ``run`` on purpose: the insight question is never asked inside the optimization, so it cannot
change what a run proposes, and changing the reporting budgets reruns only these jobs (the run's spec is a param,
so a changed method or its code reruns the run and then these). Same core, slot and environment claims as the run
job of the method: an embedded-model job starts its own llama.cpp server (one thread); a remote one waits on the
network under ``llm_slots``. The list of every insight file of a study is ``insight_files()`` (rules/common.smk); rule
``insight_stats`` scores them.
"""


rule insight:
    input:
        *RUN_INPUT_ARGS,
        **RUN_INPUT_KWARGS,
        trajectory=f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}.parquet",
    output:
        f"{RESULTS}/runs/{{benchmark}}/{{method}}/{{seed}}_insight.json",
    log:
        job=f"{LOGS}/insight/{{benchmark}}/{{method}}/{{seed}}.log",
        llm_server=f"{LOGS}/insight/{{benchmark}}/{{method}}/{{seed}}.llama_server.log",
    wildcard_constraints:
        method=method_pattern(sorted(LLM_METHODS)),
    conda:
        RUN_ENV
    threads: RUN_THREADS
    resources:
        llm_slots=RUN_LLM_SLOTS,
    params:
        spec=run_spec,
        budgets=STUDY["budgets"],
        code=code_digest("insight_job.py"),
    script:
        "../workflow_scripts/insight_job.py"
