"""``results/report.md``: one page that answers "which optimizer wins, at which budget, and is it significant?".

It is built only from the tables under ``results/stats/`` (:mod:`hpo.stats.tables`), so the page, the
HTML report and the CSV files always agree. Paths in it are relative to the page, so the ``results/`` folder can be
moved or zipped as a whole.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hpo.insight.report import INSIGHT_LEGEND, INSIGHT_TITLE, insight_content
from hpo.stats.arm_contrasts import ARMS_LEGEND, ARMS_TITLE, read_answer
from hpo.stats.comparison import ALPHA
from hpo.util.markdown import cell, table


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
        best = g.index[_true(g["is_best"])].tolist()
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
            verdict = (
                "the methods differ" if row.p_value < alpha else "a difference between the methods is not established"
            )
            text += f"Friedman χ²={row.statistic:.3g}, p={row.p_value:.3g}: {verdict} at α={alpha:g}."
        w = wilcoxon[wilcoxon["budget"] == row.budget] if len(wilcoxon) else wilcoxon
        sig = w[w["significant"].astype(bool)] if len(w) else w
        if len(sig):
            text += " Wilcoxon (Holm): " + "; ".join(_wins(sig, "method", "beats")) + "."
        elif len(w):
            text += " No pairwise Wilcoxon test is significant after Holm correction."
        lines.append(text)
    return lines


TITLE = "Results: which optimizer wins, at which budget, and is it significant?"
LEGEND = (
    "Rank 1 = lowest normalized regret within a (benchmark, seed) block, averaged over blocks; regret = median "
    "normalized regret over blocks; p_holm = two-sided paired Wilcoxon test against the best method at that budget, "
    "Holm-adjusted."
)


def cost_note(cost_benchmarks: Sequence[str]) -> str:
    """What "budget" means when some benchmarks have a fidelity: equal cost, not equal trial counts."""
    if not cost_benchmarks:
        return ""
    return (
        f"Budget as cost: on the multi-fidelity benchmarks ({', '.join(cost_benchmarks)}) a budget of n is n "
        "full-fidelity evaluations' worth of normalized cost, whatever fidelities a method chose; every method, "
        "multi-fidelity or not, is ranked and tested at these equal-cost checkpoints, and the anytime figure draws "
        "regret against that cost. Regret is the noise-free maximum-fidelity loss of the incumbent (the best "
        "configuration at the highest fidelity it reached)."
    )


NO_GALLERY = (
    "No multimodal gallery: no method of this study sends images to its model (a vision kind such as mm_llm runs "
    "only with an endpoint marked vision: true), so there are no prompt images to show."
)
NO_LLM_FIGURE = (
    "No LLM usage figure: no method of this study calls a language model, so there are no proposals to show."
)
NO_DOLLARS_FIGURE = (
    "No regret-against-dollars figure: no LLM method of this study has an endpoint with prices (price_prompt_per_1k, "
    "price_completion_per_1k), so every model call cost nothing and regret against evaluation cost says it all."
)
# Why a figure that the workflow draws only where it applies (rules/common.smk, OPTIONAL_FIGURES) is absent.
ABSENT_FIGURES = {"llm_usage": NO_LLM_FIGURE, "mm_gallery": NO_GALLERY, "regret_vs_llm_cost": NO_DOLLARS_FIGURE}
NO_STATS = "No statistics could be computed (no finished run); see the notes in the tables under results/stats/."
LLM_COLUMNS = ["method", "n_trials", "share_llm", "share_repaired", "share_fallback", "prompt_tokens_per_trial"]
LLM_COLUMNS += ["completion_tokens_per_trial", "attempts_per_trial", "latency_mean_s", "cost_per_run", "cost_total"]
LLM_COLUMNS += ["duplicate_share"]


def summary(stats_dir: str | Path, alpha: float = ALPHA) -> dict[str, object]:
    """The report's content from the stats tables: headline table, verdicts, flagged methods, LLM table."""
    stats_dir = Path(stats_dir)
    ranks, friedman = _read(stats_dir / "ranks.csv"), _read(stats_dir / "friedman.csv")
    wilcoxon, llm = _read(stats_dir / "wilcoxon.csv"), _read(stats_dir / "llm.csv")
    out: dict[str, object] = {"ok": not (ranks.empty or friedman.empty), "headline": pd.DataFrame(), "verdicts": []}
    out["flagged"] = []
    if out["ok"]:
        out["headline"] = headline(ranks, wilcoxon)
        out["verdicts"] = verdicts(friedman, wilcoxon, alpha)
        first = ranks.drop_duplicates("method")
        out["flagged"] = [f"{m}: {f}" for m, f in first[["method", "flag"]].itertuples(False) if f]
    out["llm"] = llm[[c for c in LLM_COLUMNS if c in llm.columns]] if len(llm) else pd.DataFrame()
    return out


def write_report_md(
    stats_dir: str | Path,
    out: str | Path,
    figures: Sequence[str | Path] = (),
    alpha: float = ALPHA,
    html_out: str | Path | None = None,
    cost_benchmarks: Sequence[str] = (),
    absent_figures: Sequence[str] = (),
) -> str:
    """Write the one-page summary (headline table, verdicts, LLM table, links) atomically and return its text.

    With ``html_out``, the same summary (without links) is also written as an HTML page for the Snakemake report.
    ``cost_benchmarks`` are the study's multi-fidelity benchmarks, whose budgets are costs (:func:`cost_note`).
    ``absent_figures`` are the figures the workflow did not draw because they do not apply to this study (keys of
    :data:`ABSENT_FIGURES`); the figures section says why for each, in one sentence, instead of showing a placeholder.
    """
    from hpo.util.atomic import atomic_path

    stats_dir, out = Path(stats_dir), Path(out)
    content = summary(stats_dir, alpha)
    content["cost_note"] = cost_note(cost_benchmarks)
    content["figure_notes"] = [ABSENT_FIGURES[f] for f in absent_figures]
    base = out.resolve().parent

    def link(path: str | Path) -> str:
        return Path(os.path.relpath(Path(path).resolve(), base)).as_posix()

    parts = [f"# {TITLE}\n"]
    if content["cost_note"]:
        parts.append(f"{content['cost_note']}\n")
    if content["ok"]:
        parts += [LEGEND + "\n", table(content["headline"])]
        parts.append("\n".join(f"- {v}" for v in content["verdicts"]) + "\n")
        if content["flagged"]:
            parts.append("Flagged methods (fewer runs than planned):\n")
            parts.append("\n".join(f"- {f}" for f in content["flagged"]) + "\n")
    else:
        parts.append(NO_STATS + "\n")
    arms = read_answer(stats_dir / "arm_contrasts.csv", alpha)
    parts.append(f"## {ARMS_TITLE}\n")
    parts.append("".join(f"- {line}\n" for line in arms["lines"]) or f"{arms['note']}\n")
    if len(arms["table"]):
        parts += [ARMS_LEGEND + "\n", table(arms["table"])]
    parts.append("## LLM proposals\n")
    parts.append(table(content["llm"]) if len(content["llm"]) else "No LLM-driven trials in this study.\n")
    insight = insight_content(stats_dir, alpha)
    parts.append(f"## {INSIGHT_TITLE}\n")
    if insight["ok"]:
        if insight["verdicts"]:
            parts.append("\n".join(f"- {v}" for v in insight["verdicts"]) + "\n")
        parts += [INSIGHT_LEGEND + "\n", table(insight["table"])]
    parts.append("".join(f"{n}\n\n" for n in insight["notes"]))
    if figures or content["figure_notes"]:
        parts.append("## Figures\n")
        parts.append("".join(f"{n}\n\n" for n in content["figure_notes"]))
        parts.append("\n\n".join(f"![{Path(f).stem}]({link(f)})" for f in figures) + "\n")
    parts.append("## Tables\n")
    entries = []
    for p in sorted(stats_dir.glob("*.md")):
        csv = p.with_suffix(".csv")
        entries.append(f"- [{p.stem}]({link(p)})" + (f" ([csv]({link(csv)}))" if csv.exists() else ""))
    parts.append("\n".join(entries) + "\n")
    text = "\n".join(parts)
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    if html_out is not None:
        write_summary_html({**content, "insight": insight, "arms": arms}, html_out)
    return text


def write_summary_html(content: dict[str, object], out: str | Path) -> None:
    """The summary as one HTML page: headline table, verdicts, flagged methods, LLM table."""
    import html
    import re

    from hpo.util.atomic import atomic_path
    from hpo.util.htmlpage import page

    def bullets(items: Sequence[str]) -> str:
        # verdicts mark the best method with Markdown bold, as on the Markdown page
        bold = [re.sub(r"[*][*](.+?)[*][*]", r"<b>\1</b>", html.escape(i)) for i in items]
        return "<ul>" + "".join(f"<li>{b}</li>" for b in bold) + "</ul>"

    sections: list[tuple[str, pd.DataFrame | str]] = []
    if content.get("cost_note"):
        sections.append(("", f"<p>{html.escape(str(content['cost_note']))}</p>"))
    if content["ok"]:
        sections += [("", f"<p>{html.escape(LEGEND)}</p>"), ("", content["headline"])]
        sections.append(("Verdict per budget", bullets(content["verdicts"])))
        if content["flagged"]:
            sections.append(("Flagged methods (fewer runs than planned)", bullets(content["flagged"])))
    else:
        sections.append(("", f"<p>{html.escape(NO_STATS)}</p>"))
    arms = content.get("arms")
    if isinstance(arms, dict):
        sections.append(
            (ARMS_TITLE, bullets(arms["lines"]) if arms["lines"] else f"<p>{html.escape(arms['note'])}</p>")
        )
        if len(arms["table"]):
            sections += [("", f"<p>{html.escape(ARMS_LEGEND)}</p>"), ("", arms["table"])]
    llm = content["llm"]
    sections.append(("LLM proposals", llm if len(llm) else "<p>No LLM-driven trials in this study.</p>"))
    insight = content.get("insight")
    if isinstance(insight, dict):
        sections.append((INSIGHT_TITLE, bullets(insight["verdicts"]) if insight["verdicts"] else ""))
        if insight["ok"]:
            sections.append(("", f"<p>{html.escape(INSIGHT_LEGEND)}</p>"))
            sections.append(("", insight["table"]))
        if insight["notes"]:
            sections.append(("", "".join(f"<p>{html.escape(n)}</p>" for n in insight["notes"])))
    if content.get("figure_notes"):
        sections.append(("Figures", "".join(f"<p>{html.escape(n)}</p>" for n in content["figure_notes"])))
    with atomic_path(out) as tmp:
        tmp.write_text(page(TITLE, [], sections))


def _true(values: pd.Series) -> pd.Series:
    """A boolean column as written to and read back from CSV (True / "True" / "true")."""
    return values.astype(str).str.lower() == "true"


def _wins(sig: pd.DataFrame, side: str, verb: str, with_r: bool = True) -> list[str]:
    """ "winner <verb> loser (p_holm=…, r=…)" per significant row; ``rank_biserial > 0`` means ``<side>_a`` won."""
    out = []
    for a, b, p, r in sig[[f"{side}_a", f"{side}_b", "p_holm", "rank_biserial"]].itertuples(False):
        win, lose = (a, b) if r > 0 else (b, a)
        out.append(f"{win} {verb} {lose} (p_holm={p:.3g}" + (f", r={abs(r):.2f})" if with_r else ")"))
    return out
