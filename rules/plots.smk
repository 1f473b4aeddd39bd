"""Figures from the aggregated table."""


rule plot_anytime_regret:
    input:
        f"{RESULTS}/trajectories.parquet",
    output:
        png=f"{RESULTS}/figures/anytime_regret.png",
        pdf=f"{RESULTS}/figures/anytime_regret.pdf",
    params:
        methods=list(METHODS),
    log:
        f"{LOGS}/plots/anytime_regret.log",
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/plot_anytime_regret.py"
