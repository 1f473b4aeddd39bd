"""Figures from the aggregated table."""


rule plot_anytime_regret:
    input:
        f"{RESULTS}/trajectories.parquet",
    output:
        png=report(
            f"{RESULTS}/figures/anytime_regret.png",
            caption="../report/anytime_regret.rst",
            category="1. Ranking",
        ),
        pdf=f"{RESULTS}/figures/anytime_regret.pdf",
    log:
        f"{LOGS}/plots/anytime_regret.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("plot_anytime_regret.py"),
        methods=list(METHODS),
    script:
        "../workflow_scripts/plot_anytime_regret.py"
