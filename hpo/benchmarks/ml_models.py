"""The five model families of HPOBench's ``ml`` benchmarks: search spaces and model construction.

Ranges, log scales and defaults are HPOBench's, read from github.com/automl/HPOBench at commit 47bf141f
(``hpobench/benchmarks/ml/{svm,lr,rf,histgb,xgboost}_benchmark.py``, ``get_configuration_space`` and
``init_model``). What differs is the fidelity, fixed to a smaller value so that one evaluation stays below ~1 s
on one CPU thread (HPOBench's full fidelity costs up to a minute): each family's ``fidelity`` records ours next to
HPOBench's. Estimators are imported inside ``build`` so that a job pays only for the library it trains with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

HPOBENCH_SOURCE = "github.com/automl/HPOBench@47bf141f, hpobench/benchmarks/ml/{}_benchmark.py"


class HP(NamedTuple):
    """One numeric hyperparameter as HPOBench declares it."""

    name: str
    lower: float
    upper: float
    log: bool
    default: float
    integer: bool = False


@dataclass(frozen=True)
class ModelFamily:
    """One HPOBench ``ml`` model: its search space, how to build the estimator, and the fidelity we fix.

    ``build(config, seed, n_features, n_classes)`` returns an unfitted estimator whose randomness is ``seed``.
    """

    prefix: str
    name: str
    source: str
    hyperparameters: tuple[HP, ...]
    fidelity: dict[str, Any]
    build: Callable[[dict[str, Any], int, int, int], Any]

    def space(self) -> ConfigurationSpace:
        """A fresh ConfigSpace 1.x space with HPOBench's hyperparameters (continuous ones stay continuous)."""
        from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter, UniformIntegerHyperparameter

        cs = ConfigurationSpace()
        for hp in self.hyperparameters:
            cls = UniformIntegerHyperparameter if hp.integer else UniformFloatHyperparameter
            cs.add(cls(hp.name, hp.lower, hp.upper, default_value=hp.default, log=hp.log))
        return cs


def _svm(config: dict[str, Any], seed: int, n_features: int, n_classes: int) -> Any:
    from sklearn.svm import SVC

    return SVC(C=config["C"], gamma=config["gamma"], random_state=seed)


def _lr(config: dict[str, Any], seed: int, n_features: int, n_classes: int) -> Any:
    from sklearn.linear_model import SGDClassifier

    # HPOBench's loss="log" was renamed "log_loss" in scikit-learn 1.1; tol=None runs exactly max_iter epochs.
    return SGDClassifier(
        alpha=config["alpha"],
        eta0=config["eta0"],
        loss="log_loss",
        learning_rate="adaptive",
        tol=None,
        max_iter=LR.fidelity["iter"],
        random_state=seed,
    )


def _rf(config: dict[str, Any], seed: int, n_features: int, n_classes: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier

    # HPOBench's max_features in [0, 1] is an exponent: n_features ** max_features features per split.
    return RandomForestClassifier(
        max_depth=config["max_depth"],
        min_samples_split=config["min_samples_split"],
        max_features=int(np.rint(np.power(n_features, config["max_features"]))),
        min_samples_leaf=config["min_samples_leaf"],
        n_estimators=RF.fidelity["n_estimators"],
        bootstrap=True,
        random_state=seed,
        n_jobs=1,
    )


def _histgb(config: dict[str, Any], seed: int, n_features: int, n_classes: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_depth=config["max_depth"],
        max_leaf_nodes=config["max_leaf_nodes"],
        learning_rate=config["learning_rate"],
        l2_regularization=config["l2_regularization"],
        max_iter=HISTGB.fidelity["n_estimators"],
        early_stopping=False,
        random_state=seed,
    )


def _xgb(config: dict[str, Any], seed: int, n_features: int, n_classes: int) -> Any:
    import xgboost

    objective = {"objective": "binary:logistic"}
    if n_classes > 2:
        objective = {"objective": "multi:softmax", "num_class": n_classes}
    return xgboost.XGBClassifier(
        eta=config["eta"],
        max_depth=config["max_depth"],
        colsample_bytree=config["colsample_bytree"],
        reg_lambda=config["reg_lambda"],
        booster="gbtree",
        n_estimators=XGB.fidelity["n_estimators"],
        subsample=1,
        random_state=seed,
        n_jobs=1,
        **objective,
    )


SVM = ModelFamily(
    prefix="svm",
    name="support vector machine (sklearn SVC, RBF kernel)",
    source=HPOBENCH_SOURCE.format("svm"),
    hyperparameters=(HP("C", 2**-10, 2**10, True, 1.0), HP("gamma", 2**-10, 2**10, True, 0.1)),
    fidelity={"subsample": 1.0, "hpobench_max": {"subsample": 1.0}},
    build=_svm,
)
LR = ModelFamily(
    prefix="lr",
    name="logistic regression (sklearn SGDClassifier, log loss, adaptive learning rate)",
    source=HPOBENCH_SOURCE.format("lr"),
    hyperparameters=(HP("alpha", 1e-5, 1.0, True, 1e-3), HP("eta0", 1e-5, 1.0, True, 1e-2)),
    fidelity={"iter": 100, "subsample": 1.0, "hpobench_max": {"iter": 1000, "subsample": 1.0}},
    build=_lr,
)
RF = ModelFamily(
    prefix="rf",
    name="random forest (sklearn RandomForestClassifier)",
    source=HPOBENCH_SOURCE.format("rf"),
    hyperparameters=(
        HP("max_depth", 1, 50, True, 10, integer=True),
        HP("min_samples_split", 2, 128, True, 32, integer=True),
        HP("max_features", 0.0, 1.0, False, 0.5),
        HP("min_samples_leaf", 1, 20, False, 1, integer=True),
    ),
    fidelity={"n_estimators": 64, "subsample": 1.0, "hpobench_max": {"n_estimators": 512, "subsample": 1.0}},
    build=_rf,
)
HISTGB = ModelFamily(
    prefix="histgb",
    name="histogram gradient boosting (sklearn HistGradientBoostingClassifier, no early stopping)",
    source=HPOBENCH_SOURCE.format("histgb"),
    hyperparameters=(
        HP("max_depth", 6, 30, True, 6, integer=True),
        HP("max_leaf_nodes", 2, 64, True, 32, integer=True),
        HP("learning_rate", 2**-10, 1.0, True, 0.1),
        HP("l2_regularization", 2**-10, 2**10, True, 0.1),
    ),
    fidelity={"n_estimators": 50, "subsample": 1.0, "hpobench_max": {"n_estimators": 1000, "subsample": 1.0}},
    build=_histgb,
)
XGB = ModelFamily(
    prefix="xgb",
    name="gradient-boosted trees (xgboost XGBClassifier, gbtree)",
    source=HPOBENCH_SOURCE.format("xgboost"),
    hyperparameters=(
        HP("eta", 2**-10, 1.0, True, 0.3),
        HP("max_depth", 1, 50, True, 10, integer=True),
        HP("colsample_bytree", 0.1, 1.0, False, 1.0),
        HP("reg_lambda", 2**-10, 2**10, True, 1.0),
    ),
    fidelity={"n_estimators": 100, "subsample": 1.0, "hpobench_max": {"n_estimators": 2000, "subsample": 1.0}},
    build=_xgb,
)

FAMILIES: dict[str, ModelFamily] = {f.prefix: f for f in (SVM, LR, RF, HISTGB, XGB)}
