"""SMAC3 ``BlackBoxFacade``: Bayesian optimization with a Gaussian process (expensive per trial, strong early)."""

from __future__ import annotations

from typing import Any

from hpo.optimizers.smac_common import SMACBase


class SMACGaussianProcess(SMACBase):
    """SMAC's black-box facade (GP + EI); the random-design share is tunable."""

    FACADE = "BlackBoxFacade"
    PARAMS_SCHEMA = {
        "type": "object",
        "properties": {
            "random_probability": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.08447232371720552},
            "logging_level": {"type": "integer", "default": 40},
        },
        "additionalProperties": False,
    }

    def _facade_kwargs(self, scenario: Any, facade: Any) -> dict[str, Any]:
        return {
            "random_design": facade.get_random_design(scenario, probability=self.params["random_probability"]),
        }
