"""Statistics and their figures: which optimizer wins, at which budget, and is it significant (hpo.stats.comparison)."""

# Tables shown in the HTML report (all of them are in results/stats/ as CSV, Markdown and HTML).
REPORT_TABLES = ["ranks", "friedman", "wilcoxon", "arm_contrasts", "llm"]


wildcard_constraints:
    budget=r"\d+",


rule stats:
    input:
        trajectories=f"{RESULTS}/trajectories.parquet",
        status=f"{RESULTS}/run_status.csv",
    output:
        expand(
            f"{RESULTS}/stats/{{name}}.{{ext}}", name=STATS_TABLES, ext=["csv", "md"]
        ),
        [
            (
                report(
                    f"{RESULTS}/stats/{name}.html",
                    caption="../report/table.rst",
                    category="5. Tables",
                    labels={"table": name},
                )
                if name in REPORT_TABLES
                else f"{RESULTS}/stats/{name}.html"
            )
            for name in STATS_TABLES
        ],
    log:
        f"{LOGS}/stats/stats.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("stats.py"),
        budgets=STUDY["budgets"],
        methods=list(METHODS),
        alpha=ALPHA,
        roles=ROLES,
        groups=STUDY["groups"],  # arm groups (hpo/study/groups.py): arm_contrasts
    script:
        "../workflow_scripts/stats.py"


rule plot_average_rank:
    input:
        f"{RESULTS}/stats/average_rank_trials.csv",
    output:
        png=report(
            f"{RESULTS}/figures/average_rank.png",
            caption="../report/average_rank.rst",
            category="1. Ranking",
            labels={"figure": "average rank over trials"},
        ),
        pdf=f"{RESULTS}/figures/average_rank.pdf",
    log:
        f"{LOGS}/plots/average_rank.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("plot_average_rank.py"),
        methods=list(METHODS),
        budgets=STUDY["budgets"],
    script:
        "../workflow_scripts/plot_average_rank.py"


rule plot_cd_diagram:
    input:
        ranks=f"{RESULTS}/stats/ranks.csv",
        nemenyi=f"{RESULTS}/stats/nemenyi.csv",
        friedman=f"{RESULTS}/stats/friedman.csv",
    output:
        png=report(
            f"{RESULTS}/figures/cd_diagram_budget{{budget}}.png",
            caption="../report/cd_diagram.rst",
            category="2. Critical difference",
            labels={"budget": "{budget}"},
        ),
        pdf=f"{RESULTS}/figures/cd_diagram_budget{{budget}}.pdf",
    log:
        f"{LOGS}/plots/cd_diagram_budget{{budget}}.log",
    conda:
        "../envs/analysis.yaml"
    params:
        code=code_digest("plot_cd_diagram.py"),
        methods=list(METHODS),
    script:
        "../workflow_scripts/plot_cd_diagram.py"


# Only where a runnable method calls a model (OPTIONAL_FIGURES in rules/common.smk).
if LLM_METHODS:

    rule plot_llm_usage:
        input:
            f"{RESULTS}/stats/llm.csv",
        output:
            png=report(
                f"{RESULTS}/figures/llm_usage.png",
                caption="../report/llm_usage.rst",
                category="3. LLM",
                labels={"figure": "validity and cost"},
            ),
            pdf=f"{RESULTS}/figures/llm_usage.pdf",
        log:
            f"{LOGS}/plots/llm_usage.log",
        conda:
            "../envs/analysis.yaml"
        params:
            code=code_digest("plot_llm_usage.py"),
            methods=list(METHODS),
        script:
            "../workflow_scripts/plot_llm_usage.py"


# Only where a runnable method sends images (OPTIONAL_FIGURES in rules/common.smk).
if IMAGE_METHODS:

    rule plot_mm_gallery:
        input:
            trajectories=f"{RESULTS}/trajectories.parquet",
            images=image_dirs,
        output:
            png=report(
                f"{RESULTS}/figures/mm_gallery.png",
                caption="../report/mm_gallery.rst",
                category="4. Multimodal",
                labels={"figure": "gallery"},
            ),
            pdf=f"{RESULTS}/figures/mm_gallery.pdf",
            md=f"{RESULTS}/figures/mm_gallery.md",
        log:
            f"{LOGS}/plots/mm_gallery.log",
        conda:
            "../envs/analysis.yaml"
        params:
            code=code_digest("plot_mm_gallery.py"),
            runs=f"{RESULTS}/runs",
            methods=list(METHODS),
        script:
            "../workflow_scripts/plot_mm_gallery.py"
