""" "Did you mean ...?" for every unknown name a user can type: benchmark ids, method kinds, endpoints, config keys.

One helper writes every such message (:func:`unknown`, built on :func:`did_you_mean`), so they read alike: a close
match (by the standard library's :func:`difflib.get_close_matches`) is named together with where to find the full
list; with no close match the message lists what is allowed, as before.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CUTOFF", "LIST_HINT", "close_match", "did_you_mean", "unknown"]

# Similarity (difflib ratio) a name must reach to be suggested: 0.7 catches swapped, missing and doubled letters
# (`mlp-cra`, `n_trails`, `quadd`) without proposing unrelated names (`mlp-nope` is not `mlp-phoneme`).
CUTOFF = 0.7
# Where the full lists of benchmark ids and method kinds are, for messages that name one close match only.
LIST_HINT = "python -m hpo list shows all"


def close_match(name: object, choices: Iterable[str]) -> str | None:
    """The allowed name closest to ``name``, if one is close enough (:data:`CUTOFF`); None for a non-string."""
    if not isinstance(name, str):
        return None
    found = difflib.get_close_matches(name, [str(c) for c in choices], n=1, cutoff=CUTOFF)
    return found[0] if found else None


def did_you_mean(name: object, choices: Iterable[str], hint: str) -> str:
    """``"; did you mean 'y'? (<hint>)"`` for the close match ``y`` of ``name``; ``""`` when there is none."""
    match = close_match(name, choices)
    return "" if match is None else f"; did you mean {match!r}? ({hint})"


def unknown(what: str, name: object, choices: Iterable[str], hint: str | None = None) -> str:
    """``unknown <what> 'x'; did you mean 'y'? (<hint>)``, or with no close match ``unknown <what> 'x'; allowed: ...``.

    ``hint`` says where the full list is (default: the list itself, ``allowed: a, b``).
    """
    choices = [str(c) for c in choices]
    allowed = f"allowed: {', '.join(choices)}"
    return f"unknown {what} {name!r}" + (did_you_mean(name, choices, hint or allowed) or f"; {allowed}")
