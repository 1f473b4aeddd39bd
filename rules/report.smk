"""The one-page results/report.md; the HTML report comes from `snakemake --report report.html` (captions: report/)."""


rule report_md:
    input:
        ranks=f"{RESULTS}/stats/ranks.csv",
        friedman=f"{RESULTS}/stats/friedman.csv",
        wilcoxon=f"{RESULTS}/stats/wilcoxon.csv",
        llm=f"{RESULTS}/stats/llm.csv",
        arm_contrasts=f"{RESULTS}/stats/arm_contrasts.csv",
        insight_summary=f"{RESULTS}/stats/insight_summary.csv",
        insight_tests=f"{RESULTS}/stats/insight_tests.csv",
        insight_pairs=f"{RESULTS}/stats/insight_pairs.csv",
        figures=[
            f"{RESULTS}/figures/anytime_regret.png",
            f"{RESULTS}/figures/average_rank.png",
            *expand(
                f"{RESULTS}/figures/cd_diagram_budget{{budget}}.png",
                budget=STUDY["budgets"],
            ),
            *expand(f"{RESULTS}/figures/{{fig}}.png", fig=DRAWN_OPTIONAL),
            f"{RESULTS}/figures/insight.png",
        ],
    output:
        md=f"{RESULTS}/report.md",
        html=report(
            f"{RESULTS}/report_summary.html",
            caption="../report/summary.rst",
            category="0. Summary",
            labels={"page": "which optimizer wins"},
        ),
    log:
        f"{LOGS}/report_md.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("report_md.py"),
        alpha=ALPHA,
        cost_benchmarks=COST_BENCHMARKS,
        absent_figures=[f for f in OPTIONAL_FIGURES if f not in DRAWN_OPTIONAL],
    script:
        "../workflow_scripts/report_md.py"
