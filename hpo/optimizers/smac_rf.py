"""SMAC3 ``HyperparameterOptimizationFacade``: Bayesian optimization with a random forest (Lindauer et al. 2022)."""

from __future__ import annotations

from typing import Any

from hpo.optimizers.smac_common import SMACBase


class SMACRandomForest(SMACBase):
    """SMAC's HPO facade; ``n_trees`` and the share of interleaved random configs are tunable."""

    FACADE = "HyperparameterOptimizationFacade"
    PARAMS_SCHEMA = {
        "type": "object",
        "properties": {
            "n_trees": {"type": "integer", "minimum": 1, "default": 10},
            "random_probability": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2},
            "logging_level": {"type": "integer", "default": 40},
        },
        "additionalProperties": False,
    }

    def _facade_kwargs(self, scenario: Any, facade: Any) -> dict[str, Any]:
        return {
            "model": facade.get_model(scenario, n_trees=self.params["n_trees"]),
            "random_design": facade.get_random_design(scenario, probability=self.params["random_probability"]),
        }
