"""Benchmark registry: every benchmark id the project ships, and the builder for custom (HPOBench-native) ones.

* tabular, ``<prefix>-<dataset>`` for every shipped table: ``mlp-car``, ``fcnet-naval_propulsion``, ``nb201-cifar10``;
* live ML, ``<model>-<dataset>``: ``svm-breast_cancer``, ``xgb-digits``, ... (:mod:`hpo.benchmarks.live_ml`);
* synthetic, ``synth-<function>``: ``synth-branin``, ``synth-hartmann6``, ... (:mod:`hpo.benchmarks.synthetic`);
* multi-fidelity synthetic, ``mfh<dims>-<preset>``: ``mfh3-good``, ``mfh3-bad``, ``mfh6-good``, ``mfh6-bad``
  (:mod:`hpo.benchmarks.mf_synthetic`);
* learning curves, ``lc-mlp-<dataset>``: an MLP's validation loss after every epoch, over a grid, in a table the
  workflow builds once (:mod:`hpo.benchmarks.lc_mlp`);
* multi-fidelity live ML, ``mf-<model>-<dataset>``: ``mf-rf-digits``, ``mf-lr-wine``, ... trained at HPOBench's
  fidelities (:mod:`hpo.benchmarks.live_mf`);
* custom: any name, defined in the study's ``custom_benchmarks`` and built from that definition
  (:mod:`hpo.benchmarks.hpobench_native`); the registry does not list them, the study config does.

Only this registry knows which families exist; everything else asks it by id. Modules that train models import
their ML libraries only when a benchmark is built or evaluated, so listing ids stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpo.benchmarks import fcnet, hpobench_mlp, lc_mlp, live_mf, live_ml, mf_synthetic, nb201, synthetic
from hpo.benchmarks.base import Benchmark, Evaluation, Reference
from hpo.benchmarks.tabular import TableFamily, TabularBenchmark, convert_table
from hpo.util.suggest import LIST_HINT, unknown

_FAMILY_MODULES = {m.PREFIX: m for m in (hpobench_mlp, fcnet, nb201)}
_FAMILIES = {prefix: m.FAMILY for prefix, m in _FAMILY_MODULES.items()}

__all__ = [
    "Benchmark",
    "Evaluation",
    "Reference",
    "available",
    "convert",
    "family_of",
    "make",
    "needs_table",
    "reads_table",
    "provenance_files",
]


def _tabular_ids() -> list[str]:
    return [f"{p}-{d}" for p, fam in _FAMILIES.items() for d in fam.datasets]


def available() -> list[str]:
    """Every shipped benchmark id, in a stable order: tabular, live ML, synthetic, multi-fidelity synthetic,
    learning curves, multi-fidelity live ML."""
    return [*_tabular_ids(), *live_ml.ids(), *synthetic.ids(), *mf_synthetic.ids(), *lc_mlp.ids(), *live_mf.ids()]


def multi_fidelity_ids() -> list[str]:
    """The shipped benchmarks with a fidelity (:mod:`hpo.benchmarks.multi_fidelity`), without building them."""
    return [*mf_synthetic.ids(), *lc_mlp.ids(), *live_mf.ids()]


def family_of(benchmark_id: str) -> tuple[TableFamily, str]:
    """Split a tabular id into its table family and dataset, with a one-line error listing the allowed ids."""
    prefix, _, dataset = benchmark_id.partition("-")
    fam = _FAMILIES.get(prefix)
    if fam is None or dataset not in fam.datasets:
        raise ValueError(unknown("tabular benchmark", benchmark_id, _tabular_ids(), LIST_HINT))
    return fam, dataset


def needs_table(benchmark_id: str) -> bool:
    """Whether the benchmark reads a converted table (the workflow then schedules ``convert_table`` first).

    False for everything that is not a shipped table, custom benchmarks included: their names come from the study
    config, which :func:`hpo.study.config.validate_study` has checked before the workflow asks.
    """
    prefix, _, dataset = benchmark_id.partition("-")
    return prefix in _FAMILIES and dataset in _FAMILIES[prefix].datasets


def reads_table(benchmark_id: str) -> bool:
    """Whether a run of the benchmark reads a table the workflow makes first (``convert_table``): a shipped
    HPOBench table converted (:func:`needs_table`) or a learning-curve table built (:mod:`hpo.benchmarks.lc_mlp`)."""
    return needs_table(benchmark_id) or lc_mlp.parse(benchmark_id) is not None


def make(
    benchmark_id: str,
    *,
    noisy: bool = False,
    table_path: str | Path | None = None,
    definition: dict[str, Any] | None = None,
) -> Benchmark:
    """Build a benchmark by id.

    ``table_path`` points at a converted table (else the user cache is used); ``definition`` is a
    ``custom_benchmarks`` entry of the study config, which makes ``benchmark_id`` the name of a custom benchmark.
    """
    if definition is not None:
        from hpo.benchmarks.hpobench_native import HPOBenchNative, NativeDefinition

        return HPOBenchNative(
            id=benchmark_id, noisy=noisy, definition=NativeDefinition.from_dict(benchmark_id, definition)
        )
    if needs_table(benchmark_id):
        fam, dataset = family_of(benchmark_id)
        return TabularBenchmark(
            id=benchmark_id,
            noisy=noisy,
            family=fam,
            dataset=dataset,
            table_path=Path(table_path) if table_path else None,
        )
    function = synthetic.parse(benchmark_id)
    if function is not None:
        return synthetic.SyntheticBenchmark(id=benchmark_id, noisy=noisy, function=function)
    lc = lc_mlp.parse(benchmark_id)
    if lc is not None:
        return lc_mlp.LearningCurveBenchmark(
            id=benchmark_id, noisy=noisy, dataset=lc, table_path=Path(table_path) if table_path else None
        )
    mfh = mf_synthetic.parse(benchmark_id)
    if mfh is not None:
        return mf_synthetic.MFHartmannBenchmark(id=benchmark_id, noisy=noisy, dims=mfh[0], preset=mfh[1])
    mf_live = live_mf.parse(benchmark_id)
    if mf_live is not None:
        return live_mf.LiveMFBenchmark(id=benchmark_id, noisy=noisy, fid=mf_live[0], dataset=mf_live[1])
    live = live_ml.parse(benchmark_id)
    if live is not None:
        return live_ml.LiveMLBenchmark(id=benchmark_id, noisy=noisy, model=live[0], dataset=live[1])
    raise ValueError(unknown("benchmark", benchmark_id, available(), LIST_HINT))


def convert(benchmark_id: str, out: str | Path) -> Path:
    """Convert the benchmark's table to the fast ``.npz`` layout at ``out`` (a learning-curve table: build it)."""
    if lc_mlp.parse(benchmark_id) is not None:
        return lc_mlp.build_table(benchmark_id, out)
    fam, dataset = family_of(benchmark_id)
    return convert_table(fam, dataset, Path(out), benchmark_id)


def provenance_files(benchmark_id: str, *, custom: bool = False) -> list[Path]:
    """Source and data files that shape a benchmark's losses and reference values (its family's, not all families').

    Part of every run's fingerprint (:mod:`hpo.run.provenance`) and of the table conversion's: editing one family's
    module reruns only that family's jobs.
    """
    from hpo.util.codebase import closure

    if custom:
        return closure(["hpo.benchmarks.hpobench_native"])
    if needs_table(benchmark_id):
        return closure([_FAMILY_MODULES[benchmark_id.partition("-")[0]].__name__])
    if synthetic.parse(benchmark_id) is not None:
        return [*closure([synthetic.__name__]), synthetic.REFERENCES]
    if mf_synthetic.parse(benchmark_id) is not None:
        return closure([mf_synthetic.__name__])
    if lc_mlp.parse(benchmark_id) is not None:
        return closure([lc_mlp.__name__])
    if live_mf.parse(benchmark_id) is not None:
        return [*closure([live_mf.__name__]), live_ml.REFERENCES, live_mf.COSTS]
    if live_ml.parse(benchmark_id) is not None:
        return [*closure([live_ml.__name__]), live_ml.REFERENCES]
    raise ValueError(unknown("benchmark", benchmark_id, available(), LIST_HINT))
