"""``python -m hpo list``: every benchmark id and method kind on one described line, grouped by family.

The registries are the only source: benchmark ids from :func:`hpo.benchmarks.available` (a family the registry gains
is listed without a change here, under its module's one-line summary), method kinds from
:data:`hpo.optimizers.registry.KINDS` (their ``summary``). A tabular benchmark is described from its family and data
card, never built (that would read its table); every other benchmark is built, which loads nothing expensive.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["benchmark_groups", "id_lines", "kind_groups", "listing"]

# The heading of a kind group: classical optimizers, text LLMs, multimodal LLMs (by the registry's flags).
KIND_GROUPS = ("classical", "LLM (text)", "LLM (multimodal)")


def _summary(module: str) -> str:
    """The first line of a module's docstring, without reST markup or its final period."""
    doc = (importlib.import_module(module).__doc__ or module).strip().splitlines()[0]
    return doc.replace("``", "").rstrip(".")


def _describe(benchmark_id: str) -> tuple[str, str]:
    """(family heading, description) of a built-in benchmark id."""
    from hpo import benchmarks

    if benchmarks.needs_table(benchmark_id):
        fam, dataset = benchmarks.family_of(benchmark_id)
        card = fam.data_card(dataset)
        sizes = ", ".join(
            f"{card[k]} {k.removeprefix('n_')}" for k in ("n_samples", "n_features", "n_classes") if k in card
        )
        what = ", ".join(v for v in (card.get("model"), card.get("task")) if v)
        return f"tabular: {fam.description}", f"{what} on {dataset}" + (f" ({sizes})" if sizes else "")
    try:
        bench = benchmarks.make(benchmark_id)
    except Exception as err:  # noqa: BLE001 - a listing names a benchmark it cannot build instead of failing
        return "other", f"(cannot be built here: {str(err).splitlines()[0] if str(err) else type(err).__name__})"
    info: dict[str, Any] = bench.info
    return _summary(type(bench).__module__), str(info.get("description", ""))


def benchmark_groups() -> dict[str, list[tuple[str, str]]]:
    """Family heading -> [(id, description)], in the registry's order."""
    from hpo import benchmarks

    groups: dict[str, list[tuple[str, str]]] = {}
    for benchmark_id in benchmarks.available():
        heading, description = _describe(benchmark_id)
        groups.setdefault(heading, []).append((benchmark_id, description))
    return groups


def kind_groups() -> dict[str, list[tuple[str, str]]]:
    """Group heading (:data:`KIND_GROUPS`) -> [(kind, summary)], in the registry's order."""
    from hpo.optimizers.registry import KINDS

    groups: dict[str, list[tuple[str, str]]] = {g: [] for g in KIND_GROUPS}
    for kind in KINDS.values():
        groups[KIND_GROUPS[kind.llm + kind.vision]].append((kind.name, kind.summary))
    return {g: rows for g, rows in groups.items() if rows}


def _section(title: str, groups: dict[str, list[tuple[str, str]]]) -> list[str]:
    rows = [row for group in groups.values() for row in group]
    width = max((len(name) for name, _ in rows), default=0)
    lines = [f"{title} ({len(rows)}):"]
    for heading, group in groups.items():
        lines.append(f"  {heading}:")
        lines += [f"    {name:<{width}}  {text}".rstrip() for name, text in group]
    return lines


def listing() -> str:
    """The text of ``python -m hpo list``."""
    return "\n".join([*_section("benchmarks", benchmark_groups()), "", *_section("method kinds", kind_groups())])


def id_lines() -> str:
    """The text of ``python -m hpo list --ids``: ``benchmarks: <id> ...`` and ``optimizers: <kind> ...``."""
    from hpo import benchmarks, optimizers

    return f"benchmarks: {' '.join(benchmarks.available())}\noptimizers: {' '.join(optimizers.available())}"
