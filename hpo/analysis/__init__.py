"""Results to tables: normalized regret, aggregation of run files, the cost axis of multi-fidelity runs, the anytime
figures and the export to Optuna storage.

May import: :mod:`hpo.benchmarks`, :mod:`hpo.core`, :mod:`hpo.util` (never the harness, optimizer or LLM code:
the analysis reads results only). Statistics live in :mod:`hpo.stats`, the insight measurement in :mod:`hpo.insight`.
"""
