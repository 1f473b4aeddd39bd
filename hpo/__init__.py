"""MM-LLM-HPO: benchmark hyperparameter optimizers (random search, SMAC3, Optuna, LLMs) on HPOBench tables.

The package is importable on its own (see ``examples/``); the Snakemake workflow only orchestrates it.
"""

__version__ = "0.1.0"
