"""What runs before a study: the configuration and its checks, endpoints, arm groups, the hand-off to
Snakemake, the plan, the cost estimate, the preflight, the listing and the CLI commands.

May import: every package below it (report, insight, stats, analysis, run, optimizers, benchmarks, llm,
core, util).
"""
