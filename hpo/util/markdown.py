"""Markdown pipe tables, without an extra dependency (``DataFrame.to_markdown`` needs ``tabulate``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd


def cell(value: object, floatfmt: str = ".3g") -> str:
    """One table cell: NaN as an en dash, floats with ``floatfmt``, pipes escaped."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float):
        return format(value, floatfmt)
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """A GitHub-flavoured Markdown table of ``df`` (index dropped); a sentence if it has no rows."""
    if df.empty:
        return "_(no rows)_\n"
    head = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(cell(v, floatfmt) for v in row) + " |" for row in df.astype(object).itertuples(False)]
    return "\n".join([head, sep, *body]) + "\n"


def document(title: str, notes: Sequence[str], df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """A small Markdown page: a title, the notes as a list (why a value is missing), and the table."""
    parts = [f"# {title}\n"]
    if notes:
        parts.append("\n".join(f"- {n}" for n in notes) + "\n")
    parts.append(table(df, floatfmt))
    return "\n".join(parts)
