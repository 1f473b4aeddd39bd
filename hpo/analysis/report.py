"""``results/report.md``: one page that answers "which optimizer wins, at which budget, and is it significant?".

It is built only from the tables under ``results/stats/`` (:mod:`hpo.analysis.stats_tables`), so the page, the
HTML report and the CSV files always agree. Paths in it are relative to the page, so the ``results/`` folder can be
moved or zipped as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hpo.analysis.markdown import cell, table
from hpo.analysis.stats import ALPHA


def _read(path: Path) -> pd.DataFrame:
    """A stats table; text columns that may be all empty come back as "" rather than NaN."""
    try:
        df = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return pd.DataFrame()
    for col in ("flag", "note", "best", "excluded"):
        if col in df.columns:
            df[col] = df[col].astype("string").fillna("")
    return df


def headline(ranks: pd.DataFrame, wilcoxon: pd.DataFrame) -> pd.DataFrame:
    """One row per method: average rank, median regret and Holm p-value vs. the best method at every budget."""
    if ranks.empty:
        return pd.DataFrame()
    out = pd.DataFrame({"method": list(dict.fromkeys(ranks["method"]))})
    for budget, g in ranks.groupby("budget", sort=True):
        g = g.set_index("method")
        best = g.index[g["best"].astype(bool)].tolist()
        w = wilcoxon[wilcoxon["budget"] == budget] if len(wilcoxon) else wilcoxon
        p_vs_best = {}
        for m in out["method"]:
            if m in best:
                p_vs_best[m] = "best"
            elif len(w) and best:
                hit = w[(w["method_a"] == best[0]) & (w["method_b"] == m)]
                p_vs_best[m] = cell(float(hit["p_holm"].iloc[0])) if len(hit) else "–"
            else:
                p_vs_best[m] = "–"
        out[f"rank@{budget}"] = out["method"].map(g["avg_rank"])
        out[f"regret@{budget}"] = out["method"].map(g["median_regret"])
        out[f"p_holm vs best@{budget}"] = out["method"].map(p_vs_best)
    flags = ranks.drop_duplicates("method").set_index("method")["flag"]
    out["flag"] = out["method"].map(flags)
    return out


def verdicts(friedman: pd.DataFrame, wilcoxon: pd.DataFrame, alpha: float = ALPHA) -> list[str]:
    """One sentence per budget: the best method, whether Friedman rejects, and which pairwise wins are significant."""
    lines = []
    for row in friedman.itertuples(index=False):
        text = f"**Budget {row.budget}**: "
        text += f"best = **{row.best}**; " if row.best else "no best method; "
        text += f"{row.n_blocks} of {row.n_blocks_expected} blocks used ({row.n_blocks_dropped} dropped). "
        if row.note:
            text += f"Friedman: not computed ({row.note})."
        else:
            verdict = "differences are significant" if row.p_value < alpha else "no significant difference"
            text += f"Friedman χ²={row.statistic:.3g}, p={row.p_value:.3g}: {verdict} at α={alpha:g}."
        w = wilcoxon[wilcoxon["budget"] == row.budget] if len(wilcoxon) else wilcoxon
        sig = w[w["significant"].astype(bool)] if len(w) else w
        if len(sig):
            wins = [
                f"{a if r > 0 else b} beats {b if r > 0 else a} (p_holm={p:.3g}, r={abs(r):.2f})"
                for a, b, p, r in sig[["method_a", "method_b", "p_holm", "rank_biserial"]].itertuples(False)
            ]
            text += " Wilcoxon (Holm): " + "; ".join(wins) + "."
        elif len(w):
            text += " No pairwise Wilcoxon test is significant after Holm correction."
        lines.append(text)
    return lines


def write_report_md(
    stats_dir: str | Path, out: str | Path, figures: Sequence[str | Path] = (), alpha: float = ALPHA
) -> str:
    """Write the one-page summary (headline table, verdicts, LLM table, links) atomically and return its text."""
    from hpo.atomic import atomic_path

    stats_dir, out = Path(stats_dir), Path(out)
    ranks, friedman = _read(stats_dir / "ranks.csv"), _read(stats_dir / "friedman.csv")
    wilcoxon, llm = _read(stats_dir / "wilcoxon.csv"), _read(stats_dir / "llm.csv")
    base = out.resolve().parent

    def link(path: str | Path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()

    parts = ["# Results: which optimizer wins, at which budget, and is it significant?\n"]
    if ranks.empty or friedman.empty:
        parts.append("No statistics could be computed (no finished run); see the notes in the tables below.\n")
    else:
        parts.append(
            "Rank 1 = lowest normalized regret within a (benchmark, seed) block, averaged over blocks; regret = "
            "median normalized regret over blocks; p_holm = two-sided paired Wilcoxon test against the best method "
            "at that budget, Holm-adjusted.\n"
        )
        parts.append(table(headline(ranks, wilcoxon)))
        parts.append("\n".join(f"- {v}" for v in verdicts(friedman, wilcoxon, alpha)) + "\n")
        flagged = ranks.drop_duplicates("method")
        flagged = flagged[flagged["flag"] != ""]
        if len(flagged):
            parts.append("Flagged methods (fewer runs than planned):\n")
            parts.append("\n".join(f"- {m}: {f}" for m, f in flagged[["method", "flag"]].itertuples(False)) + "\n")
    parts.append("## LLM proposals\n")
    if llm.empty:
        parts.append("No LLM-driven trials in this study.\n")
    else:
        cols = ["method", "n_trials", "share_llm", "share_repaired", "share_fallback"]
        cols += ["prompt_tokens_per_trial", "completion_tokens_per_trial", "latency_mean_s", "cost_total"]
        parts.append(table(llm[[c for c in cols if c in llm.columns]]))
    if figures:
        parts.append("## Figures\n")
        parts.append("\n\n".join(f"![{Path(f).stem}]({link(f)})" for f in figures) + "\n")
    parts.append("## Tables\n")
    mds = sorted(stats_dir.glob("*.md"))
    entries = []
    for p in mds:
        csv = p.with_suffix(".csv")
        entries.append(f"- [{p.stem}]({link(p)})" + (f" ([csv]({link(csv)}))" if csv.exists() else ""))
    parts.append("\n".join(entries) + "\n")
    text = "\n".join(parts)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    return text
