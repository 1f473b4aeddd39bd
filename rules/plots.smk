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


# Only where a runnable LLM method's endpoint has prices (OPTIONAL_FIGURES in rules/common.smk).
if PRICED_LLM_METHODS:

    rule plot_regret_vs_llm_cost:
        input:
            f"{RESULTS}/trajectories.parquet",
        output:
            png=report(
                f"{RESULTS}/figures/regret_vs_llm_cost.png",
                caption="../report/regret_vs_llm_cost.rst",
                category="3. LLM",
                labels={"figure": "regret against dollars"},
            ),
            pdf=f"{RESULTS}/figures/regret_vs_llm_cost.pdf",
        log:
            f"{LOGS}/plots/regret_vs_llm_cost.log",
        conda:
            "../envs/analysis.yaml"
        params:
            code=code_digest("plot_regret_vs_llm_cost.py"),
            llm_methods=[m for m in METHODS if m in LLM_METHODS],
            references=DOLLAR_REFERENCES,
        script:
            "../workflow_scripts/plot_regret_vs_llm_cost.py"
