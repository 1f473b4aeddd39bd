"""The insight measurement: asking a model which hyperparameters matter, scoring its statements against
ground truth (:mod:`hpo.insight.truth`), the baseline ladder, inference, tables, figures and the report section.

May import: stats, analysis, run, optimizers, benchmarks, llm, core, util.
"""
