"""Installed versions of the packages that shape a result; stored in result metadata so a reader can reproduce it."""

from __future__ import annotations

import platform
from importlib import metadata

#: This package's own version, recorded in every run file's metadata; here, at the bottom layer, so the harness
#: reads it without importing ``hpo`` (whose lazy ``load_results`` reaches up into the analysis).
HPO_VERSION = "0.1.0"


def package_versions(names: list[str]) -> dict[str, str]:
    """``{"python": ..., name: version or "not installed"}`` for each distribution name."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
