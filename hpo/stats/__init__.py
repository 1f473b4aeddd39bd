"""The statistics: ranks, Friedman/Nemenyi, paired Wilcoxon with Holm, paired inference, arm contrasts,
coverage and LLM usage tables, and their figures.

May import: analysis, core, util (never optimizers, llm or the harness: statistics read results only).
"""
