"""All run files -> one trajectories table and a per benchmark x method summary at the configured budgets."""


rule aggregate:
    input:
        run_files,
    output:
        trajectories=f"{RESULTS}/trajectories.parquet",
        summary=f"{RESULTS}/summary.csv",
    params:
        budgets=STUDY["budgets"],
    log:
        f"{LOGS}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/aggregate.py"
