"""All run files -> one trajectories table and a per benchmark x method summary at the configured budgets.

Rule ``aggregate`` needs every run file: a summary never silently rests on part of the study. When run jobs fail
(``--keep-going`` lets the others finish), the ``onerror`` hook below records on disk which runs finished, failed
(with the error from the job log) or are corrupt in ``run_status.csv``; see hpo.analysis.aggregate.report_incomplete.
"""


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


onerror:
    # Runs in the main Snakemake process once no job can run any more (never in jobs: they get --no-hooks).
    # A problem here must not hide the workflow's own error, so it is reported and swallowed.
    import sys

    from hpo.analysis.aggregate import report_incomplete

    try:
        for line in report_incomplete(
            expected={"benchmarks": STUDY["benchmarks"], "methods": list(METHODS), "seeds": STUDY["seeds"]},
            skipped=SKIPPED,
            run_path=str(rules.run.output[0]),  # patterns with {benchmark}, {method}, {seed}
            log_path=str(rules.run.log[0]),
            status_out=f"{RESULTS}/run_status.csv",
        ):
            print(line, file=sys.stderr)
    except Exception as exc:
        print(f"could not write the run status after the failure: {type(exc).__name__}: {exc}", file=sys.stderr)
