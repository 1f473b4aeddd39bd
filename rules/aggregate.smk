"""All run files -> one trajectories table and a per benchmark x method summary at the configured budgets."""


rule aggregate:
    input:
        run_files,
    output:
        trajectories=f"{RESULTS}/trajectories.parquet",
        summary=f"{RESULTS}/summary.csv",
        status=f"{RESULTS}/run_status.csv",
    params:
        budgets=STUDY["budgets"],
        expected={"benchmarks": STUDY["benchmarks"], "methods": list(METHODS), "seeds": STUDY["seeds"]},
        skipped=SKIPPED,
    log:
        f"{LOGS}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/aggregate.py"
