"""MM-LLM-HPO: benchmark hyperparameter optimizers (random search, SMAC3, Optuna, LLMs) on HPOBench tables.

The package is importable on its own (see ``examples/``); the Snakemake workflow only orchestrates it.
"""

from typing import TYPE_CHECKING, Any

from hpo.util.versions import HPO_VERSION as __version__

__all__ = ["__version__", "load_results"]

if TYPE_CHECKING:
    from hpo.results import load_results


def __getattr__(name: str) -> Any:
    """``hpo.load_results`` without importing pandas at ``import hpo`` (run jobs pay only for what they use)."""
    if name == "load_results":
        from hpo.results import load_results

        return load_results
    raise AttributeError(f"module 'hpo' has no attribute {name!r}")
