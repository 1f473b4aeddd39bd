"""ConfigSpace helpers shared by benchmarks and optimizers.

Kept in one place so that every optimizer sees configurations the same way (plain JSON-able dicts) and every
method draws the *same* initial design for a given (benchmark, seed).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ConfigSpace import Configuration, ConfigurationSpace


def to_builtin(value: Any) -> Any:
    """Convert numpy scalars to Python scalars so that configs serialize to stable JSON."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def config_dict(config: Configuration | dict[str, Any]) -> dict[str, Any]:
    """A configuration as a plain, key-sorted dict of Python scalars."""
    return {k: to_builtin(config[k]) for k in sorted(dict(config))}


def config_json(config: Configuration | dict[str, Any]) -> str:
    """Canonical JSON of a configuration (sorted keys), as stored in trajectories."""
    return json.dumps(config_dict(config), sort_keys=True)


def stable_seed(*parts: object) -> int:
    """A 32-bit seed derived from ``parts`` that is identical across processes and Python versions.

    ``hash()`` is salted per process, so it cannot be used to make initial designs reproducible.
    """
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def initial_design(space: ConfigurationSpace, n: int, benchmark_id: str, seed: int) -> list[Configuration]:
    """``n`` distinct random configurations, identical for every method on (benchmark, seed).

    Distinct because SMAC silently drops duplicates from an initial design, which would make budgets differ.
    """
    from ConfigSpace import ConfigurationSpace

    seeded = ConfigurationSpace(seed=stable_seed("initial-design", benchmark_id, seed))
    seeded.add(list(space.values()))
    configs: list[Configuration] = []
    seen: set[str] = set()
    attempts = 0
    while len(configs) < n:
        attempts += 1
        if attempts > 100 * max(n, 1):
            raise ValueError(f"cannot draw {n} distinct configurations from the space of {benchmark_id}")
        candidate = seeded.sample_configuration()
        key = config_json(candidate)
        if key not in seen:
            seen.add(key)
            configs.append(space_config(space, config_dict(candidate)))
    return configs


def space_config(space: ConfigurationSpace, values: dict[str, Any]) -> Configuration:
    """Build a Configuration of ``space`` (not of a seeded copy), so optimizers can use it directly."""
    from ConfigSpace import Configuration

    return Configuration(space, values=values)


def is_log_scale(hp: Any) -> bool:
    """Log scale: ranges declared ``log=True``, or ordinal grids of positive numbers spaced by ratio, not difference."""
    if getattr(hp, "log", False):
        return True
    seq = getattr(hp, "sequence", None)
    if not seq or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in seq) or len(seq) < 3:
        return False
    arr = np.asarray(seq, dtype=float)
    if (arr <= 0).any():
        return False
    lin, log = np.diff(arr), np.diff(np.log(arr))
    return float(np.std(log) / np.mean(log)) < float(np.std(lin) / np.mean(lin))


def allowed_values(hp: Any) -> list[Any] | None:
    seq = getattr(hp, "sequence", None) or getattr(hp, "choices", None)
    return [v.item() if isinstance(v, np.generic) else v for v in seq] if seq is not None else None
