"""Benchmark registry: ``<prefix>-<dataset>`` ids for every shipped table, e.g. ``mlp-car``, ``nb201-cifar10``.

Only this registry knows which families exist; everything else asks it by id.
"""

from __future__ import annotations

from pathlib import Path

from hpo.benchmarks import fcnet, hpobench_mlp, nb201
from hpo.benchmarks.base import Benchmark, Evaluation, Reference
from hpo.benchmarks.tabular import TableFamily, TabularBenchmark, convert_table

_FAMILIES = {m.PREFIX: m.FAMILY for m in (hpobench_mlp, fcnet, nb201)}

__all__ = ["Benchmark", "Evaluation", "Reference", "available", "convert", "family_of", "make", "needs_table"]


def available() -> list[str]:
    """Every benchmark id, in a stable order."""
    return [f"{p}-{d}" for p, fam in _FAMILIES.items() for d in fam.datasets]


def family_of(benchmark_id: str) -> tuple[TableFamily, str]:
    """Split an id into its family and dataset, with a one-line error listing the allowed ids."""
    prefix, _, dataset = benchmark_id.partition("-")
    fam = _FAMILIES.get(prefix)
    if fam is None or dataset not in fam.datasets:
        raise ValueError(f"unknown benchmark {benchmark_id!r}; allowed: {', '.join(available())}")
    return fam, dataset


def needs_table(benchmark_id: str) -> bool:
    """Whether the benchmark reads a converted table (the workflow then schedules ``convert_table`` first)."""
    family_of(benchmark_id)
    return True


def make(benchmark_id: str, *, noisy: bool = False, table_path: str | Path | None = None) -> Benchmark:
    """Build a benchmark by id; ``table_path`` points at a converted table (else the user cache is used)."""
    fam, dataset = family_of(benchmark_id)
    return TabularBenchmark(
        id=benchmark_id,
        noisy=noisy,
        family=fam,
        dataset=dataset,
        table_path=Path(table_path) if table_path else None,
    )


def convert(benchmark_id: str, out: str | Path) -> Path:
    """Convert the benchmark's table to the fast ``.npz`` layout at ``out``."""
    fam, dataset = family_of(benchmark_id)
    return convert_table(fam, dataset, Path(out))
