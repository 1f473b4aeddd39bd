"""The study checks about names and folders, and the error every study check raises.

Split from :mod:`hpo.study.config` (which runs them in order): these checks need neither the schema nor a benchmark,
only
the names and paths a study writes to. Method and benchmark names become path components (:data:`SAFE_NAME`);
``results`` and ``logs`` are separate folders; every output location (``results``, ``logs``, ``llm_cache``) must be
a directory this process can create and write, checked before Snakemake plans a job (it would otherwise end in a
traceback from its file inventory).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = [
    "LOG_DIRS",
    "RESULT_DIRS",
    "SAFE_NAME",
    "StudyConfigError",
    "check_names",
    "check_output_dirs",
    "check_removed_keys",
    "check_separate_roots",
]

# Method and benchmark names become folders (results/runs/<benchmark>/<method>/): letters, digits, `_`, `-`, `.`,
# never `.` or `..` alone (a method named `..` would write results/runs/<seed>.parquet for every benchmark).
SAFE_NAME = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.\-]+")


class StudyConfigError(ValueError):
    """A study config that cannot run; the message is one line."""


# Folders the rules write into, below `results` and `logs` (rules/*.smk; tests/test_config_errors.py checks this
# list against the rules); per-run folders are added per study.
RESULT_DIRS = ("runs", "tables", "figures", "stats", "importance", "endpoints")
LOG_DIRS = ("runs", "tables", "plots", "stats", "importance", "insight", "endpoints")


def _blocker(path: Path) -> Path | None:
    """The first existing component of ``path`` (from the top, ``path`` included) that is not a directory."""
    for part in [*reversed(path.parents), path]:
        if os.path.lexists(part) and not part.is_dir():
            return part
    return None


def _nearest_existing(path: Path) -> Path:
    for part in [path, *path.parents]:
        if part.is_dir():
            return part
    return Path(".")


def _probe_write(directory: Path) -> OSError | None:
    """Create and remove a temp file in ``directory``: the only test that holds for root and read-only mounts."""
    try:
        fd, name = tempfile.mkstemp(prefix=".hpo-write-probe-", dir=directory)
    except OSError as err:
        return err
    os.close(fd)
    os.unlink(name)
    return None


def check_names(config: dict[str, Any]) -> None:
    """Method, benchmark and custom benchmark names are safe single path components (:data:`SAFE_NAME`)."""
    named = [
        ("methods", config.get("methods")),
        ("benchmarks", config.get("benchmarks")),
        ("custom_benchmarks", config.get("custom_benchmarks")),
    ]
    for key, names in named:
        if not isinstance(names, dict | list):
            continue  # the schema check names the wrong type
        for name in names:
            if isinstance(name, str) and not SAFE_NAME.fullmatch(name):
                raise StudyConfigError(
                    f"config error: {key}: name {name!r} cannot be a folder name; use letters, digits, `_`, `-` "
                    "and `.` (not `.` or `..` alone, no `/`)"
                )


def check_separate_roots(cfg: dict[str, Any]) -> None:
    """``results`` and ``logs`` are distinct folders, neither inside the other.

    They have separate owners: the workflow's success hook deletes ``<logs>/run_status.csv`` (the failure report),
    which in a shared folder is rule aggregate's ``<results>/run_status.csv``, so every later run replans the study.
    """
    roots = {k: Path(os.path.abspath(cfg[k])).resolve() for k in ("results", "logs")}
    if roots["results"] == roots["logs"]:
        raise StudyConfigError(
            f"config error: logs: {cfg['logs']!r} is the results folder {cfg['results']!r}; choose separate folders"
        )
    for inner, outer in (("logs", "results"), ("results", "logs")):
        if roots[outer] in roots[inner].parents:
            raise StudyConfigError(
                f"config error: {inner}: {cfg[inner]!r} lies inside {outer} {cfg[outer]!r}; choose folders that do "
                "not nest"
            )


def check_output_dirs(cfg: dict[str, Any]) -> None:
    """Every output folder of the study must be a directory that exists or can be created, and be writable.

    A path blocked by a regular file (``results`` itself, ``results/runs``, ``logs/runs/<benchmark>``), a parent
    that cannot hold a new directory, or a directory without write permission is one line naming the config key
    and the path, before Snakemake plans a job. The cache folder is checked only when a method uses it.
    """
    from hpo.optimizers import LLM_KINDS

    pairs = [f"runs/{b}/{m}" for b in cfg["benchmarks"] for m in cfg["methods"]]
    llm = [m for m, v in cfg["methods"].items() if v["kind"] in LLM_KINDS]
    insight = [f"insight/{b}/{m}" for b in cfg["benchmarks"] for m in llm]  # rule insight's logs
    roots: list[tuple[str, Path, list[str]]] = [
        ("results", Path(cfg["results"]), [*RESULT_DIRS, *pairs]),
        ("logs", Path(cfg["logs"]), [*LOG_DIRS, *pairs, *insight]),
    ]
    if any(m["kind"] in LLM_KINDS for m in cfg["methods"].values()):
        roots.append(("llm_cache", Path(cfg["llm_cache"]), []))
    for key, root, subdirs in roots:
        for target in [root, *(root / sub for sub in subdirs)]:
            blocker = _blocker(target)
            if blocker is not None:
                what = "is a file, not a directory" if blocker.is_file() else "is not a directory"
                needed = "" if blocker == target else f" (needed for {str(target)!r})"
                raise StudyConfigError(
                    f"config error: {key}: {str(blocker)!r} {what}{needed}; move it away or choose another `{key}`"
                )
        where = _nearest_existing(root)
        err = _probe_write(where)
        if err is not None:
            verb = "write to" if where == root else f"create {str(root)!r} in"
            raise StudyConfigError(f"config error: {key}: cannot {verb} {str(where)!r}: {err.strerror}")
        for sub in subdirs:
            path = root / sub
            if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
                raise StudyConfigError(f"config error: {key}: cannot write to {str(path)!r}: permission denied")


# Keys a study file may still carry from an older release: each says why it went and what to do.
REMOVED_KEYS = {
    ("insight", "n_bootstrap"): (
        "removed: insight intervals are Student t intervals over benchmarks (a bootstrap of 3 to 8 benchmarks "
        "covered 76-88 % at a nominal 95 %); delete the key"
    ),
}


def check_removed_keys(config: dict[str, Any]) -> None:
    """One line for a key that no longer exists, naming why, instead of the schema's bare "not allowed"."""
    for (section, key), why in REMOVED_KEYS.items():
        if isinstance(config.get(section), dict) and key in config[section]:
            raise StudyConfigError(f"config error: {section}.{key}: {why}")


def check_multi_fidelity(cfg: dict[str, Any]) -> None:
    """A multi-fidelity kind (``MULTI_FIDELITY``) needs every benchmark of the study to have a fidelity: one line
    naming the method, the benchmarks without one and those that have one (the run job would refuse them too)."""
    from hpo import benchmarks, optimizers

    mf = set(benchmarks.multi_fidelity_ids())
    plain = [b for b in cfg["benchmarks"] if b not in mf]
    for name, method in cfg["methods"].items():
        if plain and getattr(optimizers.get_class(method["kind"]), "MULTI_FIDELITY", False):
            raise StudyConfigError(
                f"config error: methods.{name}: kind {method['kind']} needs benchmarks with a fidelity; "
                f"{', '.join(plain)} have none (with a fidelity: {', '.join(sorted(mf))})"
            )
