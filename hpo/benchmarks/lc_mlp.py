"""Learning-curve tables (``lc-mlp-<dataset>``): an MLP trained epoch by epoch over a grid, every epoch stored.

HPOBench's tabular benchmarks hold only the final fidelity, and no reachable package ships learning curves, so this
family builds its own table once (the workflow's ``convert_table`` rule, like the shipped tables' conversion):

* **Data:** the bundled scikit-learn datasets and the fixed split and scaling of the live-ML family
  (:func:`hpo.benchmarks.live_ml.load_split`: a stratified third held out, ``StandardScaler`` on the training part).
* **Grid** (:data:`GRID`, 6 x 5 x 3 x 3 = 270 configurations): ``learning_rate_init``, ``alpha`` (L2), the width
  of the one hidden layer, ``batch_size`` of scikit-learn's ``MLPClassifier`` (adam, relu, model seed 0), ordinal
  hyperparameters as in the HPOBench MLP tables. Large enough that SMAC's Hyperband, which never repeats a
  configuration, does not run out of new ones within a 30-evaluation budget (48 did, on [1, 27] with eta 3).
* **Fidelity:** epochs, 1 .. :data:`EPOCHS` (27 = 3^3, so Hyperband's eta-3 ladder 1, 3, 9, 27 is exact). Each
  configuration is trained with ``partial_fit`` one epoch at a time, and after every epoch its validation loss
  (``1 - balanced accuracy``, as the live-ML family) and the cumulative fit seconds are stored. A fidelity between
  two epochs is evaluated at the nearest epoch.
* **Cost:** ``epoch / 27``: every epoch of a configuration does the same work (the stored seconds confirm it; they
  are kept in the table, not used, because a measured cost would make the budget differ between machines).
* **Truth:** every configuration's loss at every epoch is in the table, so the noise-free maximum-fidelity loss
  (``true_loss``) and the reference values (best, median, worst configuration at epoch 27) are exact lookups.
  The table holds one training run per configuration (model seed 0), so the study's ``noisy`` switch changes
  nothing here, as for the other tables with one seed.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.live_ml import DATASETS, load_split
from hpo.benchmarks.multi_fidelity import MultiFidelityBenchmark

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

PREFIX = "lc-mlp"
EPOCHS = 27
MODEL_SEED = 0
GRID: dict[str, list[Any]] = {
    "learning_rate_init": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    "alpha": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
    "width": [16, 32, 64],
    "batch_size": [32, 64, 96],
}


def ids() -> list[str]:
    return [f"{PREFIX}-{d}" for d in DATASETS]


def parse(benchmark_id: str) -> str | None:
    """The dataset of a learning-curve id, or None if ``benchmark_id`` is not one."""
    head, _, dataset = benchmark_id.rpartition("-")
    return dataset if head == PREFIX and dataset in DATASETS else None


def grid_digest() -> str:
    """What the table was built from (grid, epochs, seed): a table built otherwise is refused, not misread."""
    text = json.dumps({"grid": GRID, "epochs": EPOCHS, "seed": MODEL_SEED}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def configurations() -> list[dict[str, Any]]:
    """The grid's configurations in table row order (the product of :data:`GRID`, last key fastest)."""
    return [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())]


def learning_curve(dataset: str, config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Validation loss and cumulative fit seconds after each of :data:`EPOCHS` epochs of one configuration."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.neural_network import MLPClassifier

    split = load_split(dataset)
    classes = np.unique(split.y_train)
    model = MLPClassifier(
        hidden_layer_sizes=(int(config["width"]),),
        alpha=float(config["alpha"]),
        learning_rate_init=float(config["learning_rate_init"]),
        batch_size=int(config["batch_size"]),
        random_state=MODEL_SEED,
    )
    losses, seconds, spent = np.empty(EPOCHS), np.empty(EPOCHS), 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(EPOCHS):
            t0 = time.perf_counter()
            model.partial_fit(split.x_train, split.y_train, classes=classes)  # one pass over the data
            spent += time.perf_counter() - t0
            losses[epoch] = 1.0 - balanced_accuracy_score(split.y_valid, model.predict(split.x_valid))
            seconds[epoch] = spent
    return losses, seconds


def build_table(benchmark_id: str, out: str | Path) -> Path:
    """Train the grid on the benchmark's dataset and write the table atomically (``.npz``)."""
    from threadpoolctl import threadpool_limits

    from hpo.util.atomic import atomic_path

    dataset = parse(benchmark_id)
    if dataset is None:
        raise ValueError(f"{benchmark_id!r} is not a learning-curve benchmark; allowed: {', '.join(ids())}")
    with threadpool_limits(1):  # one core's work, like the live-ML family
        curves = [learning_curve(dataset, c) for c in configurations()]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            losses=np.stack([c[0] for c in curves]),
            seconds=np.stack([c[1] for c in curves]),
            benchmark=np.array(benchmark_id),
            digest=np.array(grid_digest()),
        )
    return out


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@dataclass
class LearningCurveBenchmark(MultiFidelityBenchmark):
    """One learning-curve table (see the module docstring); ``table_path`` is the built ``.npz``."""

    dataset: str = "digits"
    table_path: Path | None = None
    fidelity_min: float = 1.0
    fidelity_max: float = float(EPOCHS)
    fidelity_name: str = "epochs"
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.info = {
            "family": PREFIX,
            "dataset": self.dataset,
            "loss": "1 - balanced accuracy (validation)",
            "description": f"MLP learning curves on {self.dataset}: {len(configurations())} configurations x "
            f"{EPOCHS} epochs, every epoch's validation loss stored",
            "noisy": False,
            "fidelity": {"name": "epochs", "min": 1.0, "max": float(EPOCHS), "cost": f"epochs / {EPOCHS}"},
            "data_card": {"model": "MLPClassifier (one hidden layer, adam)", "task": "classification"},
        }

    @property
    def table(self) -> dict[str, np.ndarray]:
        if self.table_path is None or not Path(self.table_path).is_file():
            raise FileNotFoundError(
                f"{self.id}: its learning-curve table is not built; the workflow builds it (rule convert_table), "
                f"or: python -c \"from hpo.benchmarks.lc_mlp import build_table; build_table('{self.id}', "
                f"'{self.id}.npz')\" and pass that path"
            )
        path = Path(self.table_path)
        data = _load(str(path), path.stat().st_mtime_ns)
        if str(data["benchmark"]) != self.id or str(data["digest"]) != grid_digest():
            raise ValueError(f"{path}: not the current table of {self.id}; delete it so that it is rebuilt")
        return data

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            from ConfigSpace import ConfigurationSpace, OrdinalHyperparameter

            self._space = ConfigurationSpace(seed=0)
            self._space.add([OrdinalHyperparameter(name, values) for name, values in GRID.items()])
        return self._space

    def _row(self, config: Configuration | dict[str, Any]) -> int:
        """The configuration's row: its values' positions in :data:`GRID`, in product order."""
        row = 0
        for name, values in GRID.items():
            row = row * len(values) + values.index(type(values[0])(config[name]))
        return row

    def evaluate_at(
        self, config: Configuration | dict[str, Any], fidelity: float, rng: np.random.Generator
    ) -> Evaluation:
        epoch = round(self.check_fidelity(fidelity))
        return Evaluation(loss=float(self.table["losses"][self._row(config), epoch - 1]), cost=epoch / EPOCHS)

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        return float(self.table["losses"][self._row(config), EPOCHS - 1])

    @property
    def reference(self) -> Reference:
        final = self.table["losses"][:, EPOCHS - 1]
        return Reference(f_star=float(final.min()), f_ref=float(np.median(final)), f_worst=float(final.max()))
