"""Optuna's TPE sampler driven through Optuna's ask/tell API.

Ordinal hyperparameters become integer indices (TPE then models their order); categoricals stay categorical;
numeric ranges keep their log scale. Shared initial-design points are added with ``study.add_trial``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpo.optimizers.base import Optimizer, Proposal

if TYPE_CHECKING:
    from ConfigSpace import Configuration


class OptunaTPE(Optimizer):
    """Optuna ``TPESampler`` (multivariate by default, as recommended for HPO)."""

    PARAMS_SCHEMA = {
        "type": "object",
        "properties": {
            "multivariate": {"type": "boolean", "default": True},
            "n_ei_candidates": {"type": "integer", "minimum": 1, "default": 24},
        },
        "additionalProperties": False,
    }

    def setup(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        # n_startup_trials=0: the harness's shared initial design *is* the startup phase.
        sampler = optuna.samplers.TPESampler(
            seed=self.seed,
            n_startup_trials=0,
            multivariate=self.params["multivariate"],
            n_ei_candidates=self.params["n_ei_candidates"],
        )
        self._study = optuna.create_study(direction="minimize", sampler=sampler)
        self._dists = {hp.name: self._distribution(hp) for hp in self.space.values()}
        self._pending: dict[str, Any] = {}

    def _distribution(self, hp: Any) -> Any:
        import ConfigSpace as CS

        d = self._optuna.distributions
        if isinstance(hp, CS.OrdinalHyperparameter):
            return d.IntDistribution(0, len(hp.sequence) - 1)
        if isinstance(hp, CS.CategoricalHyperparameter):
            return d.CategoricalDistribution(list(hp.choices))
        if isinstance(hp, CS.UniformIntegerHyperparameter):
            return d.IntDistribution(hp.lower, hp.upper, log=hp.log)
        if isinstance(hp, CS.UniformFloatHyperparameter):
            return d.FloatDistribution(hp.lower, hp.upper, log=hp.log)
        raise TypeError(f"optuna_tpe does not support hyperparameter {hp.name} of type {type(hp).__name__}")

    def _to_optuna(self, config: Configuration) -> dict[str, Any]:
        out = {}
        for hp in self.space.values():
            value = config[hp.name]
            out[hp.name] = list(hp.sequence).index(value) if hasattr(hp, "sequence") else value
        return out

    def _from_optuna(self, params: dict[str, Any]) -> Configuration:
        from ConfigSpace import Configuration

        values = {}
        for hp in self.space.values():
            v = params[hp.name]
            values[hp.name] = hp.sequence[v] if hasattr(hp, "sequence") else v
        return Configuration(self.space, values=values)

    def ask(self) -> Proposal:
        trial = self._study.ask(self._dists)
        config = self._from_optuna(trial.params)
        self._pending[str(sorted(dict(config).items()))] = trial
        return Proposal(config)

    def withdraw(self, config: Configuration) -> None:
        """Drop the pending trial of ``config`` (asked, never evaluated: marked failed, which TPE ignores); used by
        ``llm_tpe`` when the evaluated configuration mixes TPE's values with the model's."""
        trial = self._pending.pop(str(sorted(dict(config).items())), None)
        if trial is not None:
            self._study.tell(trial, state=self._optuna.trial.TrialState.FAIL)

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        trial = self._pending.pop(str(sorted(dict(config).items())), None)
        if trial is not None:
            self._study.tell(trial, loss)
            return
        frozen = self._optuna.trial.create_trial(params=self._to_optuna(config), distributions=self._dists, value=loss)
        self._study.add_trial(frozen)
