"""Do the models understand the problem? Ground-truth hyperparameter importance per benchmark, the stated importance
of the LLM methods and of a data analysis scored against it, its figure (hpo.insight.truth.importance and its truth_exact /
truth_sobol / truth_region estimators; hpo.insight.stats).
"""


rule importance:
    input:
        unpack(run_inputs),
    output:
        f"{RESULTS}/importance/{{benchmark}}.json",
    log:
        f"{LOGS}/importance/{{benchmark}}.log",
    conda:
        "../envs/run.yaml"
    params:
        code=code_digest("importance.py"),
        benchmark=lambda wildcards: benchmark_digest(
            wildcards.benchmark, wildcards.benchmark in STUDY["custom_benchmarks"]
        ),
        definition=lambda wildcards: STUDY["custom_benchmarks"].get(wildcards.benchmark),
    script:
        "../workflow_scripts/importance.py"


rule importance_table:
    input:
        importance_files,
    output:
        f"{RESULTS}/importance/importance.csv",
    log:
        f"{LOGS}/importance/importance_table.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("importance.py"),
    script:
        "../workflow_scripts/importance.py"


rule insight_stats:
    input:
        trajectories=f"{RESULTS}/trajectories.parquet",
        status=f"{RESULTS}/run_status.csv",
        importance=importance_files,
        insight=insight_files,
    output:
        expand(
            f"{RESULTS}/stats/{{name}}.{{ext}}", name=INSIGHT_TABLES, ext=["csv", "md"]
        ),
        [
            report(
                f"{RESULTS}/stats/{name}.html",
                caption="../report/insight_table.rst",
                category="6. Insight",
                labels={"table": name},
            )
            for name in INSIGHT_TABLES
        ],
    log:
        f"{LOGS}/stats/insight.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("insight_stats.py"),
        budgets=STUDY["budgets"],
        roles=ROLES,
        kinds={m: METHODS[m]["kind"] for m in METHODS},
        llm_methods=[m for m in METHODS if m in LLM_METHODS],  # study order: the first is the primary default
        alpha=ALPHA,
        settings=STUDY["insight"],
    script:
        "../workflow_scripts/insight_stats.py"


rule plot_insight:
    input:
        scores=f"{RESULTS}/stats/insight.csv",
        summary=f"{RESULTS}/stats/insight_summary.csv",
        importance=importance_files,
    output:
        png=report(
            f"{RESULTS}/figures/insight.png",
            caption="../report/insight.rst",
            category="6. Insight",
            labels={"figure": "stated vs. true importance"},
        ),
        pdf=f"{RESULTS}/figures/insight.pdf",
    log:
        f"{LOGS}/plots/insight.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("plot_insight.py"),
        methods=list(METHODS),
        metric=STUDY["insight"].get("primary_contrast", {}).get("metric", "kendall_tau"),
    script:
        "../workflow_scripts/plot_insight.py"
