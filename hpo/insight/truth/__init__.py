"""The ground truth of hyperparameter importance: exact functional ANOVA on tables, Sobol indices
on continuous spaces, the region of good configurations, and the importance helpers they share.

May import: benchmarks, core, util (never optimizers, llm or the harness).
"""
