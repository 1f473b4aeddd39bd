"""Every run's history as Optuna RDB storage: ``optuna-dashboard sqlite:///results/optuna.db`` (hpo.analysis.optuna_export).
One Optuna study per run file, so it needs them all, like rule ``aggregate``."""


rule optuna_export:
    input:
        runs=run_files,
        tables=expand(
            f"{RESULTS}/tables/{{benchmark}}.npz",
            benchmark=[b for b in STUDY["benchmarks"] if needs_table(b)],
        ),
    output:
        f"{RESULTS}/optuna.db",
    log:
        f"{LOGS}/optuna_export.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("optuna_export.py"),
    script:
        "../workflow_scripts/optuna_export.py"
