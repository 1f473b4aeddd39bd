"""Which source files a piece of code depends on, found by parsing imports (never by importing), and their digest.

Snakemake's ``code`` trigger looks only at a rule script's own mtime, so a result would silently go stale when a
library module it uses changes. Every rule whose output a module can change gets the digest of that module's
import closure as a param (compared by value), computed here in milliseconds at DAG-build time.

A closure follows every ``hpo`` import, function-level ones included, but stops at *registries*: a package
``__init__`` that lists every benchmark family or method kind would otherwise make every job depend on every
module. Registries instead contribute only the entry of the benchmark or kind a job uses.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Registries (see the module docstring): the closure neither includes nor follows them.
REGISTRIES = frozenset({"hpo.benchmarks", "hpo.optimizers", "hpo.optimizers.registry"})


def module_path(module: str) -> Path | None:
    """The source file of an ``hpo`` module (``hpo.x.y`` -> ``hpo/x/y.py`` or ``hpo/x/y/__init__.py``)."""
    parts = module.split(".")
    if parts[0] != "hpo":
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.cache
def _imports(path: Path) -> tuple[str, ...]:
    """The ``hpo`` modules that ``path`` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "hpo")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "hpo":
                continue
            for alias in node.names:  # `from hpo.x import y` imports module hpo.x.y when that file exists
                sub = f"{node.module}.{alias.name}"
                found.add(sub if module_path(sub) is not None else node.module)
    return tuple(sorted(found))


def closure(modules: Iterable[str], stop: Iterable[str] = REGISTRIES) -> list[Path]:
    """Source files of ``modules`` and of every ``hpo`` module they import, transitively, except ``stop``."""
    stop = frozenset(stop)
    todo = [m for m in modules if m not in stop]
    seen: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        if module in seen or module in stop:
            continue
        path = module_path(module)
        if path is None:
            raise ValueError(f"no source file for module {module!r}")
        seen[module] = path
        todo.extend(_imports(path))
    return sorted(seen.values())


def script_closure(script: str | Path) -> list[Path]:
    """A workflow script plus the ``hpo`` modules it imports, transitively (registries excluded)."""
    path = Path(script).resolve()
    return sorted({path, *closure(_imports(path))})


@functools.cache
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digest(paths: Iterable[Path]) -> str:
    """A short digest of the files' names (relative to the project) and contents, order-independent."""
    h = hashlib.sha256()
    for path in sorted({Path(p).resolve() for p in paths}):
        try:
            name = str(path.relative_to(PACKAGE_ROOT.parent))
        except ValueError:
            name = path.name
        h.update(name.encode() + b"\0" + _file_digest(path).encode())
    return h.hexdigest()[:16]
