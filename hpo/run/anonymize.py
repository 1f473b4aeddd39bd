"""``anonymize: true``: LLM methods see the hyperparameters as x1..xk, separating what a model knew from what it read.

Applied once, at the harness boundary (:func:`hpo.run.harness.make_optimizer`): the LLM optimizer is built on a renamed
copy of the space (same types, bounds, log scales, choices, defaults; conditions and forbidden clauses renamed too)
and wrapped in :class:`Anonymized`, which translates its proposals back to the real names before evaluation and the
harness's tells (shared initial design included) to the new names. Every prompt, image and insight request is built
from the renamed space, so no real name can reach the model; trajectories keep the real names, and the mapping is
stored in the trajectory metadata and the insight file (``name_map``: new name -> real name).

Names follow the space's order (ConfigSpace's: unconditioned hyperparameters alphabetically, then conditioned ones),
zero-padded when there are ten or more (x01..x12), so the renamed space sorts in the same order as the real one and
lists, samples and plots the hyperparameters in the same order. The task line (benchmark, dataset, metric), ranges
and scales stay: anonymizing hides what each hyperparameter *is called*, not the problem.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

from hpo.optimizers.base import Optimizer, Proposal

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

# Keys of ConfigSpace's serialized dict whose string values are hyperparameter names (hyperparameters, conditions,
# conjunctions' members, forbidden clauses and relations); choices and defaults are values and stay as they are.
NAME_KEYS = ("name", "child", "parent", "left", "right")


def name_map(space: ConfigurationSpace) -> dict[str, str]:
    """``{"x1": <first hyperparameter>, ...}`` in the space's order (zero-padded from ten hyperparameters on)."""
    names = list(space)
    width = len(str(len(names))) if len(names) >= 10 else 1
    return {f"x{i:0{width}d}": name for i, name in enumerate(names, start=1)}


def _renamed(node: Any, new: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_renamed(x, new) for x in node]
    if not isinstance(node, dict):
        return node
    return {
        k: new[v] if k in NAME_KEYS and isinstance(v, str) and v in new else _renamed(v, new) for k, v in node.items()
    }


def rename_space(space: ConfigurationSpace, mapping: dict[str, str]) -> ConfigurationSpace:
    """A copy of ``space`` with its hyperparameters renamed (``mapping``: new name -> real name).

    Round-trips through ConfigSpace's own serialization, so every hyperparameter type, condition and forbidden
    clause it can write is renamed the same way; the copy gets the original's random state, so it samples the same.
    """
    from ConfigSpace import ConfigurationSpace

    new = {real: anon for anon, real in mapping.items()}
    data = space.to_serialized_dict()
    data["hyperparameters"] = _renamed(data["hyperparameters"], new)
    data["conditions"] = _renamed(data.get("conditions", []), new)
    data["forbiddens"] = _renamed(data.get("forbiddens", []), new)
    out = ConfigurationSpace.from_serialized_dict(data)
    out.random = copy.deepcopy(space.random)
    return out


class Anonymized(Optimizer):
    """An optimizer built on the renamed space, seen by the harness with the real names.

    ``inner`` is what the insight job asks (its prompts must be the run's); ``real_names`` maps back what it states.
    """

    def __init__(self, inner: Optimizer, space: ConfigurationSpace, mapping: dict[str, str]) -> None:
        # Not Optimizer.__init__: the parameters and setup belong to the inner optimizer, which already ran them.
        self.inner, self.space, self.mapping = inner, space, dict(mapping)
        self.context, self.seed, self.n_trials, self.params = inner.context, inner.seed, inner.n_trials, inner.params
        self._anon = {real: anon for anon, real in self.mapping.items()}

    @classmethod
    def build(cls, make: Any, space: ConfigurationSpace) -> Anonymized:
        """``make(renamed_space) -> Optimizer`` wrapped; the mapping is :func:`name_map` of ``space``."""
        mapping = name_map(space)
        return cls(make(rename_space(space, mapping)), space, mapping)

    @property
    def uses_shared_initial_design(self) -> bool:
        return self.inner.uses_shared_initial_design

    def to_real(self, config: Configuration) -> Configuration:
        from ConfigSpace import Configuration

        return Configuration(self.space, values={self.mapping[k]: v for k, v in dict(config).items()})

    def to_anon(self, config: Configuration) -> Configuration:
        from ConfigSpace import Configuration

        return Configuration(self.inner.space, values={self._anon[k]: v for k, v in dict(config).items()})

    def ask(self) -> Proposal:
        proposal = self.inner.ask()
        # dataclasses.replace keeps every field (fidelity, continues) a multi-fidelity kind set
        return dataclasses.replace(proposal, config=self.to_real(proposal.config))

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        self.inner.tell(self.to_anon(config), loss, cost)

    def close(self) -> None:
        self.inner.close()

    def real_statement(self, statement: dict[str, Any]) -> dict[str, Any]:
        """An insight statement stated over the new names, with weights, region and pair under the real names."""
        out = dict(statement)
        out["weights"] = {self.mapping[k]: w for k, w in statement["weights"].items()}
        if statement.get("best_region"):
            region = dict(statement["best_region"])
            region["hyperparameter"] = self.mapping[region["hyperparameter"]]
            out["best_region"] = region
        if statement.get("top_interaction"):
            out["top_interaction"] = [self.mapping[n] for n in statement["top_interaction"]]
        return out
