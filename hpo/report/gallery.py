"""Gallery of multimodal runs: the images a model was shown next to the configuration it proposed.

Multimodal methods save the images of each prompt as ``runs/{benchmark}/{method}/{seed}_images/trial_{NNN}_*.png``
(NNN = the trial the prompt asked for); the proposal is that trial's ``config`` row in the trajectories. Seeing both
side by side is the quickest check that a model reacts to what the plot shows and not only to the text. Without any
image, the gallery says that no multimodal run is present instead of failing.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hpo.analysis.plots import save
from hpo.util.style import pyplot

IMAGE_RE = re.compile(r"(?P<benchmark>[^/]+)/(?P<method>[^/]+)/(?P<seed>\d+)_images/trial_(?P<trial>\d+)_[^/]*\.png$")
NO_IMAGES_NOTE = "No multimodal runs are present: no images under {runs}/<benchmark>/<method>/<seed>_images/."
MAX_IMAGES_PER_TRIAL = 3  # mm_llm sends three plots per prompt (hpo.llm.images.IMAGE_NAMES)


@dataclass(frozen=True)
class Entry:
    """One gallery row: the prompt images of a trial and what was proposed there."""

    benchmark: str
    method: str
    seed: int
    trial: int
    images: tuple[Path, ...]


def find_images(runs_dir: str | Path, dirs: Sequence[str | Path] | None = None) -> list[Entry]:
    """Every trial that has prompt images, grouped per (benchmark, method, seed, trial), sorted.

    ``dirs`` limits the search to these image folders (the workflow passes the study's declared ones, so folders
    of methods no longer in the study never appear).
    """
    runs_dir = Path(runs_dir)
    paths = (
        sorted(p for d in dirs for p in Path(d).glob("trial_*.png"))
        if dirs is not None
        else sorted(runs_dir.glob("*/*/*_images/trial_*.png"))
    )
    found: dict[tuple[str, str, int, int], list[Path]] = {}
    for path in paths:
        m = IMAGE_RE.search(path.relative_to(runs_dir).as_posix())
        if m:
            key = (m["benchmark"], m["method"], int(m["seed"]), int(m["trial"]))
            found.setdefault(key, []).append(path)
    return [Entry(*key, tuple(paths)) for key, paths in sorted(found.items())]


def select(entries: Sequence[Entry], methods: Sequence[str] = (), per_method: int = 3) -> list[Entry]:
    """Up to ``per_method`` trials per method, spread over the first run that has images (study order of methods)."""
    order = list(methods) + sorted({e.method for e in entries} - set(methods))
    chosen = []
    for method in order:
        mine = [e for e in entries if e.method == method]
        if not mine:
            continue
        run = [e for e in mine if (e.benchmark, e.seed) == (mine[0].benchmark, mine[0].seed)]
        step = max(1, len(run) // per_method)
        chosen += run[::step][:per_method]
    return chosen


def _proposal(df: pd.DataFrame, e: Entry) -> dict[str, object]:
    if df.empty:
        return {}
    row = df[(df["benchmark"] == e.benchmark) & (df["method"] == e.method) & (df["seed"] == e.seed)]
    row = row[row["trial"] == e.trial]
    return {} if row.empty else row.iloc[0].to_dict()


def _describe(e: Entry, prop: dict[str, object]) -> str:
    head = f"{e.benchmark} · {e.method} · seed {e.seed} · trial {e.trial}"
    if not prop:
        return head + "\n(no trajectory row for this trial)"
    try:
        config = json.dumps(json.loads(str(prop.get("config"))), sort_keys=True)
    except (TypeError, ValueError):
        config = str(prop.get("config"))
    lines = [head, f"origin: {prop.get('origin')}   loss: {float(prop.get('loss', float('nan'))):.4g}"]
    lines.append("proposed: " + config)
    rationale = prop.get("rationale")
    if isinstance(rationale, str) and rationale:
        lines.append("rationale: " + rationale[:300])
    return "\n".join(textwrap.fill(line, 60) for line in lines)


def plot_gallery(
    trajectories: str | Path | pd.DataFrame,
    runs_dir: str | Path,
    outputs: Sequence[str | Path],
    md_out: str | Path,
    methods: Sequence[str] = (),
    per_method: int = 3,
    image_dirs: Sequence[str | Path] | None = None,
) -> list[Entry]:
    """Write the gallery figure (images left, proposal right) and a Markdown page; returns the entries shown."""
    from hpo.stats.plots import note_figure
    from hpo.util.atomic import atomic_path

    entries = select(find_images(runs_dir, image_dirs), methods, per_method)
    title = "Multimodal gallery: what the model saw and what it proposed"
    if not entries:
        note = NO_IMAGES_NOTE.format(runs=runs_dir)
        note_figure(title, [note], outputs)
        with atomic_path(md_out) as tmp:
            tmp.write_text(f"# {title}\n\n{note}\n")
        return []
    df = trajectories if isinstance(trajectories, pd.DataFrame) else pd.read_parquet(trajectories)
    plt = pyplot()
    fig, axes = plt.subplots(
        len(entries),
        MAX_IMAGES_PER_TRIAL + 1,
        figsize=(4 + 4 * MAX_IMAGES_PER_TRIAL, 3.0 * len(entries)),
        squeeze=False,
        gridspec_kw={"width_ratios": [1] * MAX_IMAGES_PER_TRIAL + [1.4]},
    )
    md = [f"# {title}\n"]
    md_dir = Path(md_out).resolve().parent
    for row, e in zip(axes, entries):
        prop = _proposal(df, e)
        for ax, img in zip(row[:-1], list(e.images[:MAX_IMAGES_PER_TRIAL]) + [None] * MAX_IMAGES_PER_TRIAL):
            if img is None:
                ax.set_axis_off()
                continue
            # a thin frame instead of no axes: a blank image (mm_llm_blank's control) stays visible as a white box
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("0.75")
            try:
                ax.imshow(plt.imread(img))
            except (OSError, ValueError, SyntaxError) as exc:  # a truncated or non-PNG file: say so, keep going
                ax.text(0.5, 0.5, f"unreadable image\n{img.name}\n({type(exc).__name__})", ha="center", va="center")
            ax.set_title(img.name, fontsize=7)
        row[-1].set_axis_off()
        row[-1].text(0, 1, _describe(e, prop), va="top", ha="left", fontsize=8, family="monospace")
        md.append(f"## {e.benchmark} · {e.method} · seed {e.seed} · trial {e.trial}\n")
        for img in e.images:
            md.append(f"![{img.name}]({Path(os.path.relpath(img.resolve(), md_dir)).as_posix()})")
        md.append("\n```\n" + _describe(e, prop) + "\n```\n")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save(fig, outputs)
    plt.close(fig)
    with atomic_path(md_out) as tmp:
        tmp.write_text("\n".join(md))
    return entries
