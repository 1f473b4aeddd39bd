"""Multi-fidelity live ML (``mf-<model>-<dataset>``): the live-ML benchmarks trained at HPOBench's fidelities.

Each id is a live-ML benchmark (:mod:`hpo.benchmarks.live_ml`: same model, search space, data split, scaling, loss
``1 - balanced accuracy``) that can also be trained cheaper, along the fidelity HPOBench's ``*BenchmarkMF`` classes
vary (automl/HPOBench@47bf141f, ``hpobench/benchmarks/ml/*_benchmark.py``, ``_get_fidelity_choices``):

* ``mf-rf``: ``n_estimators`` in [2, 64] (HPOBench: [16, 512]); ``mf-xgb``: ``n_estimators`` in [3, 100]
  (HPOBench: [50, 2000]); ``mf-lr``: ``iter`` (SGD epochs, ``tol=None``) in [1, 100] (HPOBench: [10, 1000]);
  ``mf-svm``: the training ``subsample`` fraction in [0.1, 1] (HPOBench's range). The maximum is the live-ML
  family's fixed fidelity, chosen there so that one fit stays below ~1 s; the minimum keeps HPOBench's ratio
  max/min (xgb: 33 instead of 40, as tree counts are integers). A count fidelity is rounded to the nearest integer.
* **Maximum fidelity is the full-fidelity benchmark**: ``evaluate_at(c, max)`` trains exactly what ``<model>-<dataset>``
  trains, so the loss, ``true_loss`` (model seed 0 at the maximum) and the reference values (``live_ml.json``, with
  that file's estimator and its stated uncertainty) are that benchmark's.
* **Subsample:** a fraction ``s`` trains on ``round(s * n_train)`` rows taken, in their original order, from a fixed
  class-stratified order (:func:`nested_order`), so a larger fraction always contains a smaller one and every class
  is present. HPOBench draws the rows from its benchmark rng, with replacement; a fixed nested subset keeps the loss
  a function of (configuration, fidelity, seed) alone.
* **Cost** is deterministic: a calibrated curve (``references/live_mf.json``, made once by
  :mod:`hpo.benchmarks.make_mf_costs`) of the median measured fit time at each of a few fidelity levels relative to
  the maximum, interpolated linearly, 1.0 at the maximum. Measuring each fit would make the budget, and so the whole
  trajectory, differ between processes and machines. The live fit time is not recorded (the trajectory's
  ``wall_time`` shows the real time spent).
* **Noise:** as the live-ML family (:mod:`hpo.benchmarks.seeded`): ``noisy=False`` trains with model seed 0,
  ``noisy=True`` with a seed drawn from the run's rng; the true loss is always seed 0 at the maximum fidelity.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.live_ml import DATASETS, SPLIT_SEED, LiveMLBenchmark, load_split
from hpo.benchmarks.ml_models import FAMILIES, ModelFamily
from hpo.benchmarks.multi_fidelity import MultiFidelityBenchmark
from hpo.benchmarks.seeded import SEED_BOUND
from hpo.core.space import config_dict, config_json

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

PREFIX = "mf"
COSTS = Path(__file__).resolve().parent / "references" / "live_mf.json"


@dataclass(frozen=True)
class Fidelity:
    """How one live-ML model is trained at a lower fidelity: HPOBench's name, our range and HPOBench's."""

    model: str  # the live-ML prefix (hpo.benchmarks.ml_models.FAMILIES)
    name: str  # HPOBench's fidelity name
    low: float
    high: float  # the live-ML family's fixed value: the maximum fidelity is the full-fidelity benchmark
    param: str | None  # estimator parameter set to the (integer) fidelity; None: the training rows are subsampled
    hpobench: tuple[float, float]

    @property
    def integer(self) -> bool:
        return self.param is not None


FIDELITIES: dict[str, Fidelity] = {
    f.model: f
    for f in (
        Fidelity("rf", "n_estimators", 2, FAMILIES["rf"].fidelity["n_estimators"], "n_estimators", (16, 512)),
        Fidelity("xgb", "n_estimators", 3, FAMILIES["xgb"].fidelity["n_estimators"], "n_estimators", (50, 2000)),
        Fidelity("lr", "iter", 1, FAMILIES["lr"].fidelity["iter"], "max_iter", (10, 1000)),
        Fidelity("svm", "subsample", 0.1, 1.0, None, (0.1, 1.0)),
    )
}


def ids() -> list[str]:
    """Every multi-fidelity live id, models major."""
    return [f"{PREFIX}-{m}-{d}" for m in FIDELITIES for d in DATASETS]


def parse(benchmark_id: str) -> tuple[Fidelity, str] | None:
    """(fidelity of the model, dataset) of a multi-fidelity live id, or None if ``benchmark_id`` is not one."""
    head, _, rest = benchmark_id.partition("-")
    model, _, dataset = rest.partition("-")
    if head == PREFIX and model in FIDELITIES and dataset in DATASETS:
        return FIDELITIES[model], dataset
    return None


def nested_order(y: np.ndarray) -> np.ndarray:
    """Training rows in the order subsamples take them.

    Each class's rows are shuffled (``default_rng(SPLIT_SEED)``, fixed like the split), then all rows are sorted by
    their rank within their class relative to the class size: every prefix holds the classes in the training
    proportions (to within one row each), and a longer prefix contains every shorter one.
    """
    rng = np.random.default_rng(SPLIT_SEED)
    key = np.empty(y.size)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        key[rows[rng.permutation(rows.size)]] = (np.arange(rows.size) + 0.5) / rows.size
    return np.argsort(key, kind="stable")


@functools.lru_cache(maxsize=len(DATASETS))
def _order(dataset: str) -> np.ndarray:
    return nested_order(load_split(dataset).y_train)


def subsample_rows(dataset: str, fraction: float) -> np.ndarray:
    """Indices (ascending) of the ``round(fraction * n_train)`` training rows a subsample fraction trains on."""
    order = _order(dataset)
    return np.sort(order[: max(1, round(fraction * order.size))])


def fit_at(
    model: ModelFamily, fid: Fidelity, dataset: str, config: dict[str, Any], seed: int, fidelity: float
) -> tuple[float, float]:
    """(validation loss, fit CPU seconds) of ``config`` trained at ``fidelity`` (in range) with model seed ``seed``.

    CPU time of this process (the fit runs on one thread), not wall time, so that the calibration is not skewed by
    other work on the machine."""
    from sklearn.metrics import balanced_accuracy_score
    from threadpoolctl import threadpool_limits

    split = load_split(dataset)
    estimator = model.build(config, seed, split.x_train.shape[1], split.n_classes)
    x, y = split.x_train, split.y_train
    if fid.param is not None:
        estimator.set_params(**{fid.param: round(fidelity)})
    elif fidelity < fid.high:
        rows = subsample_rows(dataset, fidelity)
        x, y = x[rows], y[rows]
    with threadpool_limits(limits=1):  # one core's work, as the live-ML family
        start = time.process_time()
        estimator.fit(x, y)
        seconds = time.process_time() - start
        predicted = estimator.predict(split.x_valid)
    return 1.0 - float(balanced_accuracy_score(split.y_valid, predicted)), seconds


@functools.lru_cache(maxsize=1)
def load_costs(path: str = str(COSTS)) -> dict[str, Any]:
    """The stored cost calibration (procedure, versions, and per-id fidelity levels and relative costs)."""
    return json.loads(Path(path).read_text())


@dataclass
class LiveMFBenchmark(MultiFidelityBenchmark):
    """A live-ML benchmark with a fidelity (see the module docstring); ``evaluate`` is the full-fidelity one."""

    fid: Fidelity | None = None
    dataset: str = ""
    true_seed: int = 0
    _base: Any = field(default=None, init=False, repr=False)
    _true_cache: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.fid is None:
            raise ValueError(f"{self.id}: no fidelity given")
        fid = self.fid
        self.fidelity_min, self.fidelity_max, self.fidelity_name = float(fid.low), float(fid.high), fid.name
        self._base = LiveMLBenchmark(
            id=self.full_fidelity_id, noisy=self.noisy, model=FAMILIES[fid.model], dataset=self.dataset
        )
        self.info = {
            **self._base.info,
            "family": f"live_mf_{fid.model}",
            "description": f"{FAMILIES[fid.model].name} on sklearn's {self.dataset}, fidelity {fid.name} in "
            f"[{fid.low:g}, {fid.high:g}] (HPOBench's: [{fid.hpobench[0]:g}, {fid.hpobench[1]:g}])",
            "full_fidelity_benchmark": self.full_fidelity_id,
            "fidelity": {
                "name": fid.name,
                "min": float(fid.low),
                "max": float(fid.high),
                "integer": fid.integer,
                "cost": "calibrated median fit time relative to the maximum (references/live_mf.json)",
                "hpobench": {"min": fid.hpobench[0], "max": fid.hpobench[1]},
            },
        }

    @property
    def full_fidelity_id(self) -> str:
        assert self.fid is not None
        return f"{self.fid.model}-{self.dataset}"

    @property
    def space(self) -> ConfigurationSpace:
        return self._base.space

    def cost_at(self, fidelity: float) -> float:
        """Normalized cost at ``fidelity`` (checked): the calibrated curve, linear between its levels."""
        assert self.fid is not None
        f = self.check_fidelity(fidelity)
        entry = load_costs()["benchmarks"].get(self.id)
        if entry is None:
            raise ValueError(f"{self.id}: no cost calibration in {COSTS}; run python -m hpo.benchmarks.make_mf_costs")
        return float(np.interp(round(f) if self.fid.integer else f, entry["levels"], entry["relative_cost"]))

    def evaluate_at(
        self, config: Configuration | dict[str, Any], fidelity: float, rng: np.random.Generator
    ) -> Evaluation:
        assert self.fid is not None
        cost = self.cost_at(fidelity)
        f = float(fidelity)
        seed = int(rng.integers(SEED_BOUND)) if self.noisy else self.true_seed
        values = config_dict(config)
        loss, _ = fit_at(FAMILIES[self.fid.model], self.fid, self.dataset, values, seed, f)
        if seed == self.true_seed and (round(f) if self.fid.integer else f) == self.fidelity_max:
            self._true_cache[config_json(values)] = loss
        return Evaluation(loss=loss, cost=cost)

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        """Model seed 0 at the maximum fidelity: the full-fidelity benchmark's true loss (cached per configuration)."""
        assert self.fid is not None
        values = config_dict(config)
        key = config_json(values)
        if key not in self._true_cache:
            model = FAMILIES[self.fid.model]
            self._true_cache[key] = fit_at(model, self.fid, self.dataset, values, self.true_seed, self.fidelity_max)[0]
        return self._true_cache[key]

    @property
    def reference(self) -> Reference:
        return self._base.reference
