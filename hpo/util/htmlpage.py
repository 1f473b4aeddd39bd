"""Small self-contained HTML pages of the statistics tables, for the Snakemake report.

The report's viewer shows images, PDF and HTML inline but offers CSV files only as a download, so every table is
also written as one HTML page (its notes, then the table), formatted like its Markdown twin.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

from hpo.util.markdown import cell

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1em;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}"
    "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;white-space:nowrap}th{background:#f0f0f0}"
    "li{margin:.2em 0}"
)


def table_html(df: pd.DataFrame, floatfmt: str = ".3g") -> str:
    """``df`` as an HTML table with the same cell formatting as the Markdown tables."""
    if df.empty:
        return "<p><em>(no rows)</em></p>"
    return df.astype(object).map(lambda v: cell(v, floatfmt)).to_html(index=False, escape=True, border=0)


def page(title: str, notes: Sequence[str], sections: Sequence[tuple[str, pd.DataFrame | str]]) -> str:
    """A complete HTML document: title, notes as a list, then each section (a heading and a table or HTML text)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"]
    parts.append(f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    if notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    for heading, body in sections:
        if heading:
            parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(table_html(body) if isinstance(body, pd.DataFrame) else body)
    parts.append("</body></html>")
    return "\n".join(parts)
