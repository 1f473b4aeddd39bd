"""All run files -> one trajectories table and a per benchmark x method summary at the configured budgets.

Rule ``aggregate`` needs every run file: a summary never silently rests on part of the study, and it is the only
writer of ``run_status.csv``. It checks each run file's metadata against the job that should have written it
(benchmark, method, seed, fingerprint, n_trials), so a file copied to the wrong place is refused, never counted.
When run jobs fail (``--keep-going`` lets the others finish), the ``onerror`` hook below writes what is on disk to
``<logs>/run_status.csv`` (finished, failed with the error from the job log, corrupt, mismatched, missing); see
hpo.analysis.aggregate.report_incomplete. A later successful run removes that file.
"""


rule aggregate:
    input:
        run_files,
    output:
        trajectories=f"{RESULTS}/trajectories.parquet",
        summary=f"{RESULTS}/summary.csv",
        status=f"{RESULTS}/run_status.csv",
    log:
        f"{LOGS}/aggregate.log",
    conda:
        "../envs/analysis.yaml"
    params:
        budgets=STUDY["budgets"],
        expected=EXPECTED,
        expected_runs=expected_runs,
        skipped=SKIPPED,
        code=code_digest("aggregate.py"),
    script:
        "../workflow_scripts/aggregate.py"


if workflow.is_main_process:  # not again in every job's own parse of the workflow
    warn_missing_runs()
INCOMPLETE_STATUS = f"{LOGS}/run_status.csv"


onsuccess:
    # Runs in the main Snakemake process (never in jobs: they get --no-hooks): a finished study has no failure report.
    if os.path.exists(INCOMPLETE_STATUS):
        os.remove(INCOMPLETE_STATUS)


onerror:
    # A problem here must not hide the workflow's own error, so it is reported and swallowed.
    import sys
    from hpo.analysis.aggregate import report_incomplete

    try:
        for line in report_incomplete(
            expected=EXPECTED,
            skipped=SKIPPED,
            expected_runs=expected_runs(),
            log_path=str(
                rules.run.log.job
            ),  # pattern with {benchmark}, {method}, {seed}
            status_out=INCOMPLETE_STATUS,
        ):
            print(line, file=sys.stderr)
    except Exception as exc:
        print(
            f"could not write the run status after the failure: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
