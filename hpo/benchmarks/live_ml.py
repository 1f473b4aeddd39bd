"""Live ML benchmarks: HPOBench's ``ml`` search spaces, trained for real on datasets bundled with scikit-learn.

Ids are ``<model>-<dataset>``, e.g. ``svm-breast_cancer``, ``xgb-digits`` (models in :mod:`hpo.benchmarks.ml_models`).

* Data: scikit-learn's bundled ``breast_cancer`` (569 x 30, 2 classes), ``digits`` (1797 x 64, 10 classes) and
  ``wine`` (178 x 13, 3 classes); nothing is downloaded. As in HPOBench's ``ml`` data manager, one stratified split
  holds out a third for validation (``valid_size=0.33``, ``global_seed=1``) and a ``StandardScaler`` is fit on the
  training part only. The split never changes with the run seed, so every run optimizes the same function.
* Loss: ``1 - balanced accuracy`` on the validation part (HPOBench reports plain accuracy; balanced accuracy keeps the
  loss comparable across class imbalance, like the MLP tables). Cost: measured wall time of ``fit`` in seconds.
* Randomness: the model seed; see :mod:`hpo.benchmarks.seeded` for how the true loss (model seed 0) and the noisy
  mode (seed drawn from the run's rng) are defined. Training runs on one thread (BLAS/OpenMP limited, xgboost
  ``n_jobs=1``) so that parallel jobs don't oversubscribe cores and the cost measures one core's work.
* Reference values: ``references/live_ml.json``, made by :mod:`hpo.benchmarks.make_references`.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.ml_models import FAMILIES, ModelFamily
from hpo.benchmarks.seeded import SeededBenchmark

if TYPE_CHECKING:
    import numpy as np
    from ConfigSpace import ConfigurationSpace

DATASETS: dict[str, str] = {"breast_cancer": "load_breast_cancer", "digits": "load_digits", "wine": "load_wine"}
VALID_SIZE = 0.33  # HPOBench MLBenchmark default
SPLIT_SEED = 1  # HPOBench MLBenchmark global_seed: fixes the train/validation split
REFERENCES = Path(__file__).resolve().parent / "references" / "live_ml.json"


def ids() -> list[str]:
    """Every live benchmark id, models major."""
    return [f"{p}-{d}" for p in FAMILIES for d in DATASETS]


def parse(benchmark_id: str) -> tuple[ModelFamily, str] | None:
    """(model family, dataset) of a live id, or None if ``benchmark_id`` is not one."""
    prefix, _, dataset = benchmark_id.partition("-")
    if prefix in FAMILIES and dataset in DATASETS:
        return FAMILIES[prefix], dataset
    return None


@dataclass(frozen=True)
class Split:
    """A scaled, stratified train/validation split of one bundled dataset."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray

    @property
    def n_classes(self) -> int:
        import numpy as np

        return int(np.unique(self.y_train).size)


@functools.lru_cache(maxsize=len(DATASETS))
def load_split(dataset: str) -> Split:
    """The fixed split of ``dataset`` (cached per process: loading digits takes ~30 ms)."""
    import sklearn.datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; allowed: {', '.join(DATASETS)}")
    x, y = getattr(sklearn.datasets, DATASETS[dataset])(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(
        x, y, test_size=VALID_SIZE, shuffle=True, stratify=y, random_state=SPLIT_SEED
    )
    scaler = StandardScaler().fit(x_tr)
    return Split(scaler.transform(x_tr), y_tr, scaler.transform(x_va), y_va)


def _versions(names: list[str]) -> dict[str, str]:
    """Versions of the libraries that shape this benchmark's losses (they land in the trajectory's metadata)."""
    from hpo.util.versions import package_versions

    return {k: v for k, v in package_versions(names).items() if k != "python"}


@functools.lru_cache(maxsize=1)
def load_references(path: str = str(REFERENCES)) -> dict[str, Any]:
    """The stored reference file (procedure, versions, and per-id values)."""
    return json.loads(Path(path).read_text())


@dataclass
class LiveMLBenchmark(SeededBenchmark):
    """One model family trained on one bundled dataset; every evaluation is a real ``fit``."""

    model: ModelFamily | None = None
    dataset: str = ""
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.model is None:
            raise ValueError(f"{self.id}: no model family given")
        split = load_split(self.dataset)
        self.info = {
            "family": f"live_{self.model.prefix}",
            "dataset": self.dataset,
            "loss": "1 - validation balanced accuracy",
            "description": f"{self.model.name}, trained live on sklearn's {self.dataset} ({self.model.source})",
            "fidelity": self.model.fidelity,
            "n_train": int(split.y_train.size),
            "n_valid": int(split.y_valid.size),
            "n_features": int(split.x_train.shape[1]),
            "n_classes": split.n_classes,
            "true_seed": self.true_seed,
            "noisy": self.noisy,
            "data_card": {
                "model": self.model.name,
                "task": "classification",
                "n_samples": int(split.y_train.size + split.y_valid.size),
                "n_features": int(split.x_train.shape[1]),
                "n_categorical": 0,  # sklearn's breast_cancer, digits and wine: numerical features only
                "n_classes": split.n_classes,
                "metric": "balanced accuracy",
            },
            "versions": _versions(["scikit-learn", "xgboost-cpu"] if self.model.prefix == "xgb" else ["scikit-learn"]),
        }

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            assert self.model is not None
            self._space = self.model.space()
        return self._space

    def run_seeded(self, config: dict[str, Any], seed: int) -> Evaluation:
        """Fit on the training part with model seed ``seed``; loss on the validation part, cost = fit time."""
        from sklearn.metrics import balanced_accuracy_score
        from threadpoolctl import threadpool_limits

        assert self.model is not None
        split = load_split(self.dataset)
        model = self.model.build(config, seed, split.x_train.shape[1], split.n_classes)
        with threadpool_limits(limits=1):
            start = time.perf_counter()
            model.fit(split.x_train, split.y_train)
            cost = time.perf_counter() - start
            predicted = model.predict(split.x_valid)
        return Evaluation(loss=1.0 - float(balanced_accuracy_score(split.y_valid, predicted)), cost=cost)

    @property
    def reference(self) -> Reference:
        entry = load_references()["benchmarks"].get(self.id)
        if entry is None:
            raise ValueError(
                f"{self.id}: no reference values in {REFERENCES}; run python -m hpo.benchmarks.make_references"
            )
        return Reference(f_star=entry["f_star"], f_ref=entry["f_ref"], f_worst=entry["f_worst"])
