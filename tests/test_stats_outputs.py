"""The statistics stage end to end on synthetic trajectories: tables, flags, notes, figures, gallery, report.md."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from hpo.core.trajectory import COLUMNS
from hpo.report.build import write_report_md
from hpo.report.gallery import NO_IMAGES_NOTE, plot_gallery
from hpo.stats.llm_usage import llm_usage
from hpo.stats.plots import plot_average_rank, plot_cd_diagram, plot_llm_usage
from hpo.stats.tables import TABLES, write_stats

N_TRIALS = 6
LLM_ORIGINS = ["llm", "llm", "repaired", "fallback"]


def make_trajectories(quality: dict[str, float], benchmarks=("b1", "b2"), seeds=(0, 1, 2), llm=()) -> pd.DataFrame:
    """Trajectories with every schema column; a method's regret decays towards ``quality`` (lower = better)."""
    rows = []
    for bench in benchmarks:
        for seed in seeds:
            rng = np.random.default_rng(abs(hash((bench, seed))) % 2**32)
            for method, q in quality.items():
                best = 1.0
                for trial in range(1, N_TRIALS + 1):
                    best = min(best, q + rng.random() * (1 - q) / trial)
                    is_llm = method in llm and trial > 2
                    row = {name: None for name, _, _ in COLUMNS}
                    row.update(
                        benchmark=bench,
                        method=method,
                        seed=seed,
                        trial=trial,
                        config=json.dumps({"x": trial}),
                        origin=LLM_ORIGINS[(trial - 3) % 4] if is_llm else "optimizer",
                        loss=best,
                        normalized_regret=best,
                    )
                    if is_llm:
                        row.update(attempts=1, prompt_tokens=1000, completion_tokens=50, llm_latency=2.0, llm_cost=0.01)
                        row.update(cache_hits=0, rationale="because")
                    rows.append(row)
    return pd.DataFrame(rows)


def status_for(df: pd.DataFrame, methods: list[str], seeds: int, skipped: dict[str, str] | None = None) -> pd.DataFrame:
    """run_status.csv as rules/aggregate.smk writes it (hpo.analysis.aggregate.run_status)."""
    from hpo.analysis.aggregate import run_status

    expected = {"benchmarks": sorted(df["benchmark"].unique()), "methods": methods, "seeds": list(range(seeds))}
    return run_status(df, expected, skipped or {})


def read_png(path: Path) -> Image.Image:
    with Image.open(path) as img:
        img.verify()
    img = Image.open(path)
    img.load()
    assert img.format == "PNG" and img.width > 100 and img.height > 50
    lo, hi = img.convert("L").getextrema()
    assert lo < hi, f"{path} is a blank image"
    return img


@pytest.fixture()
def study(tmp_path: Path) -> dict:
    """A study with a clear winner, one method that lost a run and one that was skipped (no endpoint)."""
    df = make_trajectories({"good": 0.0, "mid": 0.3, "bad": 0.6, "partial": 0.3})
    df = df[~((df["method"] == "partial") & (df["benchmark"] == "b2") & (df["seed"] == 1))]
    methods = ["good", "mid", "bad", "partial", "mm_llm"]
    status = status_for(df, methods, 3, skipped={"mm_llm": "no endpoint serves model x"})
    status.to_csv(tmp_path / "run_status.csv", index=False)
    df.to_parquet(tmp_path / "trajectories.parquet")
    groups = {"g": {"arms": ["mid", "mm_llm"], "reference": "good", "primary": None}}  # arm_contrasts has rows
    tables = write_stats(
        tmp_path / "trajectories.parquet",
        tmp_path / "run_status.csv",
        tmp_path / "stats",
        [3, 6],
        methods,
        groups=groups,
    )
    return {"dir": tmp_path, "tables": tables, "methods": methods}


def test_tables_written_with_flags_and_dropped_blocks(study):
    out = study["dir"] / "stats"
    for name in TABLES:
        assert (out / f"{name}.md").read_text().startswith("# ")
        assert "<table" in (out / f"{name}.html").read_text() or name == "llm"
        assert {"flag", "flagged"} & set(pd.read_csv(out / f"{name}.csv").columns), f"{name} has no flag column"
    ranks = pd.read_csv(out / "ranks.csv", keep_default_na=False)
    flags = ranks.drop_duplicates("method").set_index("method")["flag"]
    assert flags["good"] == "" and flags["partial"].startswith("partial: 5 of 6 runs done")
    assert flags["mm_llm"] == "skipped: no endpoint serves model x"
    fr = pd.read_csv(out / "friedman.csv")
    assert fr["n_blocks"].tolist() == [5, 5] and fr["n_blocks_dropped"].tolist() == [1, 1]
    assert fr["n_blocks_expected"].tolist() == [6, 6]
    assert (fr["best"] == "good").all() and fr["excluded"].str.contains("mm_llm").all()
    assert fr["flagged"].str.contains("mm_llm: skipped").all() and fr["flagged"].str.contains("partial: ").all()
    for name in ("ranks", "friedman", "wilcoxon", "regret_at_budget", "average_rank_trials"):
        md = (out / f"{name}.md").read_text()
        assert "flagged mm_llm: skipped" in md and "flagged partial: partial" in md
    assert "1 dropped because a compared method has no result there" in (out / "friedman.md").read_text()
    w = pd.read_csv(out / "wilcoxon.csv", keep_default_na=False)
    assert set(w["method_a"]) == {"good"}
    assert w.loc[w["method_b"] == "partial", "flag"].str.startswith("partial: partial").all()
    assert (pd.to_numeric(w["rank_biserial"]) > 0).all()


def test_llm_usage_hand_computed():
    df = make_trajectories({"llm": 0.2, "rs": 0.3}, benchmarks=("b1",), seeds=(0,), llm=("llm",))
    usage = llm_usage(df, ["rs", "llm"])
    assert usage["method"].tolist() == ["llm"]  # rs has no LLM rows
    row = usage.iloc[0]
    # trials 3..6 are model-driven with origins llm, llm, repaired, fallback
    assert row["n_trials"] == 4
    assert (row["share_llm"], row["share_repaired"], row["share_fallback"]) == (0.5, 0.25, 0.25)
    assert row["prompt_tokens_per_trial"] == 1000 and row["completion_tokens_per_trial"] == 50
    assert row["cost_total"] == pytest.approx(0.04) and row["latency_mean_s"] == 2.0
    assert row["cache_hit_share"] == 0.0


@pytest.mark.parametrize(
    ("df", "methods", "friedman_note", "wilcoxon_note"),
    [
        (make_trajectories({"a": 0.1}).iloc[0:0], ["a", "b", "c"], "3 methods, 0 compared", "no pair to test"),
        (make_trajectories({"a": 0.1}), ["a"], "at least 3 methods, 1 compared", "no pair to test"),
        (make_trajectories({"a": 0.1, "b": 0.2, "c": 0.3}, benchmarks=("b1",), seeds=(0,)), None, "2 complete", ""),
        (make_trajectories({"a": 0.0, "b": 0.0, "c": 0.0}), None, "tied in every block", ""),
    ],
    ids=["empty", "single-method", "single-block", "ties-everywhere"],
)
def test_bad_input_gives_notes_not_crashes(tmp_path, df, methods, friedman_note, wilcoxon_note):
    if friedman_note == "tied in every block":
        df = df.assign(normalized_regret=0.0)
    methods = methods or sorted(df["method"].unique())
    tables = write_stats(df, None, tmp_path, [3, 6], methods)
    fr = tables["friedman"]
    assert fr["p_value"].isna().all() and fr["note"].str.contains(friedman_note).all()
    assert tables["nemenyi"].empty
    notes = (tmp_path / "friedman.md").read_text()
    assert "no run status file" in notes
    if wilcoxon_note:
        assert wilcoxon_note in (tmp_path / "wilcoxon.md").read_text()
    w = tables["wilcoxon"]
    assert w.empty or not w["significant"].any()
    if df.empty:
        assert "trajectories table is empty" in (tmp_path / "ranks.md").read_text()
    text = write_report_md(tmp_path, tmp_path / "report.md")
    assert text.startswith("# Results")


def test_missing_columns_and_unreadable_status(tmp_path):
    (tmp_path / "status.csv").write_text("not,a\nstatus,file\n")
    tables = write_stats(pd.DataFrame({"method": ["a"]}), tmp_path / "status.csv", tmp_path / "s", [5], ["a"])
    md = (tmp_path / "s" / "ranks.md").read_text()
    assert "trajectories lack columns" in md and "lacks columns" in md
    assert tables["ranks"]["avg_rank"].isna().all()


def test_single_benchmark_two_methods(tmp_path):
    df = make_trajectories({"a": 0.0, "b": 0.5}, benchmarks=("b1",), seeds=range(8))
    tables = write_stats(df, None, tmp_path, [6], ["a", "b"])
    assert "see the paired Wilcoxon test" in tables["friedman"]["note"].iloc[0]
    w = tables["wilcoxon"].iloc[0]
    assert (w["method_a"], w["method_b"], w["n_blocks"]) == ("a", "b", 8)
    assert w["p_value"] == pytest.approx(2 / 2**8) and w["rank_biserial"] == 1.0  # a wins all 8 blocks, exact test
    tables_in = [tmp_path / f"{name}.csv" for name in ("ranks", "nemenyi", "friedman")]
    figs = plot_cd_diagram(*tables_in, 6, [tmp_path / "cd.png"])
    assert figs == ["Critical difference diagram, budget 6"]
    read_png(tmp_path / "cd.png")


def test_figures_decode_and_have_panels(study):
    d, out, methods = study["dir"], study["dir"] / "stats", study["methods"]
    titles = plot_average_rank(out / "average_rank_trials.csv", [d / "rank.png", d / "rank.pdf"], methods, [3, 6])
    assert len(titles) == 1 and titles[0].startswith("Average rank over trials (5 ")
    assert (d / "rank.pdf").read_bytes().startswith(b"%PDF")
    read_png(d / "rank.png")
    for budget in (3, 6):
        png = d / f"cd{budget}.png"
        titles = plot_cd_diagram(out / "ranks.csv", out / "nemenyi.csv", out / "friedman.csv", budget, [png], methods)
        assert titles == [f"Critical difference diagram, budget {budget}"]
        read_png(png)
    assert plot_llm_usage(out / "llm.csv", [d / "llm.png"], methods) == ["LLM validity and cost"]  # note figure
    read_png(d / "llm.png")


def test_llm_figure_has_four_panels_and_no_cost_panel_for_a_free_model(tmp_path):
    df = make_trajectories({"rs": 0.3, "llm": 0.2, "mm_llm": 0.1}, llm=("llm", "mm_llm"))
    tables = write_stats(df, None, tmp_path, [6], ["rs", "llm", "mm_llm"], roles={"llm": "text", "mm_llm": "image"})
    titles = plot_llm_usage(tables["llm"], [tmp_path / "llm.png"], ["rs", "llm", "mm_llm"])
    assert len(titles) == 4 and titles[0].startswith("proposals: valid / repaired / fallback")
    assert titles[3].startswith("cost per trial")
    read_png(tmp_path / "llm.png")
    free = df.assign(llm_cost=df["llm_cost"].where(df["llm_cost"].isna(), 0.0))
    tables_free = write_stats(free, None, tmp_path / "free", [6], ["rs", "llm", "mm_llm"])
    titles = plot_llm_usage(tables_free["llm"], [tmp_path / "free.png"], ["rs", "llm", "mm_llm"])
    assert len(titles) == 3 and "no cost: no endpoint has prices" in titles[2]
    # the LLM trio is compared pairwise besides every method vs the best
    pairs = set(zip(tables["wilcoxon"]["method_a"], tables["wilcoxon"]["method_b"]))
    assert {frozenset(p) for p in pairs} >= {frozenset(("llm", "mm_llm"))}


def write_prompt_images(img_dir: Path, trials: range) -> None:
    """What an mm_llm run leaves next to its trajectory: the real prompt plots (hpo.llm.images) of each trial."""
    from hpo import benchmarks
    from hpo.llm import images
    from hpo.llm.prompt import Observation

    space = benchmarks.make("synth-branin").space
    rng = np.random.default_rng(0)
    history = [Observation(t, dict(space.sample_configuration()), float(rng.random())) for t in range(1, 3)]
    img_dir.mkdir(parents=True)
    for trial in trials:
        for name, png in zip(images.IMAGE_NAMES, images.render(space, history)):
            (img_dir / f"trial_{trial:03d}_{name}.png").write_bytes(png)
        history.append(Observation(trial, dict(space.sample_configuration()), float(rng.random())))


def test_gallery_with_and_without_images(tmp_path):
    df = make_trajectories({"mm_llm": 0.1}, benchmarks=("b1",), seeds=(0,), llm=("mm_llm",))
    runs = tmp_path / "runs"
    assert plot_gallery(df, runs, [tmp_path / "none.png"], tmp_path / "none.md") == []
    assert NO_IMAGES_NOTE.format(runs=runs) in (tmp_path / "none.md").read_text()
    read_png(tmp_path / "none.png")

    img_dir = runs / "b1" / "mm_llm" / "0_images"
    write_prompt_images(img_dir, range(3, 7))
    (img_dir / "trial_004_broken.png").write_bytes(b"not a png")  # a truncated file is shown as such, no crash
    shown = plot_gallery(df, runs, [tmp_path / "g.png"], tmp_path / "g.md", methods=["mm_llm"], per_method=2)
    assert [e.trial for e in shown] == [3, 5]  # spread over the run
    assert len(shown[0].images) == 3
    shown = plot_gallery(df, runs, [tmp_path / "g.png"], tmp_path / "g.md", methods=["mm_llm"], per_method=4)
    assert [len(e.images) for e in shown] == [3, 4, 3, 3]
    md = (tmp_path / "g.md").read_text()
    assert "](runs/b1/mm_llm/0_images/trial_003_best_so_far.png)" in md
    assert '"x": 3' in md and "origin: llm" in md
    gallery = read_png(tmp_path / "g.png")
    assert gallery.height > read_png(tmp_path / "none.png").height
    print(f"gallery: {tmp_path / 'g.png'}")


def test_report_md_headline(study):
    d = study["dir"]
    text = write_report_md(d / "stats", d / "report.md", figures=[d / "stats" / "x.png"])
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| method"))
    assert "rank@3" in header and "p_holm vs best@6" in header and header.endswith("flag |")
    good = next(line for line in lines if line.startswith("| good "))
    assert good.count("best") == 2
    mid = next(line for line in lines if line.startswith("| mid "))
    # good wins all 5 blocks: exact two-sided p = 2/2**5, times 3 tests for Holm (all equal) = 0.1875
    assert "best" not in mid and mid.count("| 0.188 |") == 2
    assert any(line.startswith("| mm_llm ") and "skipped" in line for line in lines)
    assert "**Budget 6**: best = **good**" in text and "5 of 6 blocks used (1 dropped)" in text
    assert "Flagged methods" in text and "![x](stats/x.png)" in text
    assert "[wilcoxon](stats/wilcoxon.md) ([csv](stats/wilcoxon.csv))" in text
    friedman = pd.read_csv(d / "stats" / "friedman.csv")
    assert all(math.isfinite(p) for p in friedman["p_value"])


def test_report_says_in_one_sentence_why_a_figure_is_absent(study):
    """A study where no method sends images (calls a model) draws no gallery (LLM usage figure): rules/stats.smk;
    the report says why instead, one sentence each, on the Markdown page and its HTML twin."""
    from hpo.report.build import NO_GALLERY, NO_LLM_FIGURE

    d = study["dir"]
    absent = ["llm_usage", "mm_gallery"]
    text = write_report_md(d / "stats", d / "r.md", figures=[d / "x.png"], html_out=d / "s.html", absent_figures=absent)
    figures = text.split("## Figures\n", 1)[1]
    assert figures.lstrip().startswith(f"{NO_LLM_FIGURE}\n\n{NO_GALLERY}")
    assert all(s.count(". ") == 0 and s.endswith(".") for s in (NO_GALLERY, NO_LLM_FIGURE))  # one sentence each
    assert NO_GALLERY in (d / "s.html").read_text() and NO_LLM_FIGURE in (d / "s.html").read_text()
    only = write_report_md(d / "stats", d / "r.md", figures=[d / "x.png"], absent_figures=["mm_gallery"])
    assert NO_GALLERY in only and NO_LLM_FIGURE not in only
    assert "a difference between the methods is not established" in text or "the methods differ" in text


def test_cd_diagram_label_clears_the_ticks_and_tied_methods_stay_visible():
    """The "CD" label stands above the rank tick labels and the title; methods with equal average ranks (b, c and
    d, e) get connectors a few points apart instead of one drawn over the other."""
    from hpo.stats.plots import cd_diagram
    from hpo.util.style import pyplot

    avg = pd.Series({"a": 1.5, "b": 2.5, "c": 2.5, "d": 4.0, "e": 4.0, "f": 6.5})
    sig = pd.DataFrame(
        [[0.5 if abs(avg[x] - avg[y]) < 2.6 else 0.01 for y in avg.index] for x in avg.index], avg.index, avg.index
    )
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    artists = cd_diagram(ax, avg, sig, 2.6, 0.05, {m: f"C{i}" for i, m in enumerate(avg.index)}, "a title")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    label = artists["cd"][1].get_window_extent(renderer)
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert artists["cd"][1].get_text() == "CD = 2.6" and len(ticks) >= 3
    assert not any(label.overlaps(t) for t in ticks)
    assert label.y0 > max(t.y1 for t in ticks)  # above the tick labels, not beside them
    assert not label.overlaps(ax.title.get_window_extent(renderer))
    vertical_x = {  # labels read "a (1.50)" on the left, "(4.00) d" on the right
        next(w for w in lbl.get_text().split() if not w.startswith("(")): ax.transData.transform((e.get_xdata()[1], 0))[
            0
        ]
        for e, lbl in zip(artists["elbows"], artists["labels"])
    }
    for x, y in (("b", "c"), ("d", "e")):
        assert abs(vertical_x[x] - vertical_x[y]) >= 2.0, (x, y, vertical_x)  # pixels apart, each visible
    assert abs(vertical_x["a"] - ax.transData.transform((1.5, 0))[0]) < 0.01  # untied: at its rank exactly
    plt.close(fig)
