"""Stated vs. true importance (hpo.insight.stats): file format, the baseline ladder, the score table on a small
study of real tables with hand-made statements, inference at the benchmark level, figure and report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo import benchmarks
from hpo.core.space import config_json, initial_design
from hpo.insight import sources as src
from hpo.insight import stats as ins
from hpo.insight.truth import importance as imp
from hpo.insight.truth.compute import importance_json

ROLES = {"llm": "text", "mm_llm": "image", "mm_llm_blank": "blank"}
LLM = [*ROLES, "llm_tpe"]  # llm_tpe has no role: scored by method and kind, left out of the role contrasts only
METHODS = ["random_search", *LLM]
BENCHES = ("mlp-car", "nb201-cifar10")
SEEDS = (0, 1)
N_TRIALS, N_INIT = 12, 4
BUDGETS = (N_INIT, N_TRIALS)


# --- the producer's file format ---------------------------------------------------------------------------------


def statement(budget: int, weights: dict[str, float], *, fallback: bool = False) -> dict:
    """One statement in the layout the LLM methods write (``{seed}_insight.json``)."""
    return {
        "budget": budget,
        "source": "prior" if budget == 0 else "model",
        "weights": weights,
        "best_region": {},
        "repaired": False,
        "fallback": fallback,
        "attempts": 1,
        "prompt_tokens": 500,
        "completion_tokens": 80,
        "llm_cost": 0.0,
        "cache_hits": 0,
    }


def insight_file(path: Path, benchmark: str, method: str, seed: int, hps: list[str], statements: list[dict]) -> Path:
    data = {
        "benchmark": benchmark,
        "method": method,
        "kind": method,
        "seed": seed,
        "hyperparameters": hps,
        "statements": statements,
    }
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.pop("statements"), "lacks keys"),
        (lambda d: d["statements"][0]["weights"].pop("a"), "must name exactly"),
        (lambda d: d["statements"][0]["weights"].update(z=0.1), "must name exactly"),
        (lambda d: d["statements"][0]["weights"].update(a=-0.1), "not non-negative"),
        (lambda d: d["statements"][0]["weights"].update(a="high"), "not non-negative"),
        (lambda d: d["statements"][0].update(source="guess"), "source 'guess'"),
    ],
)
def test_bad_insight_files_name_the_file(tmp_path, mutate, message):
    path = insight_file(tmp_path / "0_insight.json", "b", "llm", 0, ["a", "b"], [statement(0, {"a": 0.5, "b": 0.5})])
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=message) as err:
        ins.load_insight(path)
    assert str(path) in str(err.value)
    path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable"):
        ins.load_insight(path)


def test_a_stated_top_interaction_must_name_two_hyperparameters(tmp_path):
    bad = statement(0, {"a": 0.5, "b": 0.5}) | {"top_interaction": ["a", "z"]}
    path = insight_file(tmp_path / "0_insight.json", "b", "llm", 0, ["a", "b"], [bad])
    with pytest.raises(ValueError, match="top_interaction must be null or two of the hyperparameters"):
        ins.load_insight(path)


# --- the ladder's analyses --------------------------------------------------------------------------------------


def test_fanova_sees_log_scales_and_integers_on_the_truths_measure():
    """Log-scale values enter as their log, integers (and grid indices) as equal cells [low - 1/2, high + 1/2]."""
    from ConfigSpace import (
        ConfigurationSpace,
        OrdinalHyperparameter,
        UniformFloatHyperparameter,
        UniformIntegerHyperparameter,
    )

    cs = ConfigurationSpace()
    cs.add(UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True))
    cs.add(UniformIntegerHyperparameter("depth", 1, 5))
    cs.add(OrdinalHyperparameter("width", [16, 64, 256]))
    study = src.measure_study(cs, [{"lr": 1e-2, "depth": 5, "width": 256}], [0.3])
    trial = study.trials[0]
    assert trial.params["lr"] == pytest.approx(math.log(1e-2))
    lr, depth, width = (trial.distributions[k] for k in ("lr", "depth", "width"))
    assert (lr.low, lr.high, lr.log) == (pytest.approx(math.log(1e-4)), pytest.approx(0.0), False)
    assert (depth.low, depth.high) == (0.5, 5.5) and trial.params["depth"] == 5.0
    assert (width.low, width.high) == (-0.5, 2.5) and trial.params["width"] == 2.0  # index of 256


def test_data_fanova_finds_the_one_hyperparameter_that_matters(table_dir):
    """On trials whose loss depends on learning_rate_init alone, fANOVA of the loss ranks weights it first, above
    half; a monotone transform of the losses changes nothing (ranks); with one loss there is nothing to analyse."""
    bench = benchmarks.make("mlp-car", table_path=table_dir / "mlp-car.npz")
    rng = np.random.default_rng(0)
    bench.space.seed(0)
    configs = [json.loads(config_json(c)) for c in bench.space.sample_configuration(60)]
    lr = sorted({c["learning_rate_init"] for c in configs})
    losses = [lr.index(c["learning_rate_init"]) / len(lr) + rng.normal(0, 1e-3) for c in configs]
    weights, _ = src.data_fanova(bench.space, configs, losses)
    assert max(weights, key=weights.get) == "learning_rate_init" and weights["learning_rate_init"] > 0.5
    assert sum(weights.values()) == pytest.approx(1.0)
    assert src.data_fanova(bench.space, configs, np.exp(np.array(losses) * 20))[0] == pytest.approx(weights)
    flat, note = src.data_fanova(bench.space, configs, [0.3] * len(configs))
    assert list(flat.values()) == pytest.approx([1 / len(flat)] * len(flat)) and note


def test_image_echo_is_what_the_images_plot(table_dir):
    from hpo.core.influence import influence, influence_scores

    bench = benchmarks.make("nb201-cifar10", table_path=table_dir / "nb201-cifar10.npz")
    bench.space.seed(1)
    configs = [json.loads(config_json(c)) for c in bench.space.sample_configuration(15)]
    losses = [bench.true_loss(c) for c in bench.space.sample_configuration(15)]
    weights, pair, _ = src.echo(bench.space, configs, losses)
    raw = influence_scores(bench.space, configs, losses)
    positive = {k: max(v, 0.0) for k, v in raw.items()}
    assert weights == pytest.approx({k: v / sum(positive.values()) for k, v in positive.items()})
    assert pair == influence(bench.space, configs, losses)[:2]


# --- a small study: real tables, hand-made statements ------------------------------------------------------------


def trajectories(tables: Path) -> pd.DataFrame:
    """Every method starts from the shared initial design, then draws its own configurations (seeded per method)."""
    rows = []
    for bench_id in BENCHES:
        bench = benchmarks.make(bench_id, table_path=tables / f"{bench_id}.npz")
        for seed in SEEDS:
            init = initial_design(bench.space, N_INIT, bench_id, seed)
            for k, method in enumerate(METHODS):
                bench.space.seed(1000 * seed + k)
                configs = init + list(bench.space.sample_configuration(N_TRIALS - N_INIT))
                for t, c in enumerate(configs, start=1):
                    row = {"benchmark": bench_id, "method": method, "seed": seed, "trial": t}
                    rows.append(row | {"config": config_json(c), "loss": bench.true_loss(c)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study(table_dir, tmp_path_factory):
    """Ground truth of two real tables, trajectories of four methods, and insight files: the text model states the
    true shares and the true top interaction at every budget (and the reversed order as its prior), the image model
    the reversed order with its images and the truth on the same history without them (the within-history image
    effect: -2 on normalized tau), the blank control an unusable reply (uniform fallback)."""
    root = tmp_path_factory.mktemp("insight")
    importance_paths, records = [], {}
    for b in BENCHES:
        benchmarks.make(b, table_path=table_dir / f"{b}.npz")
        rec = importance_json(b, table=table_dir / f"{b}.npz")
        imp.write_importance(rec, root / f"{b}.json")
        importance_paths.append(root / f"{b}.json")
        records[b] = imp.load_importance(root / f"{b}.json")
    df = trajectories(table_dir)
    df.to_parquet(root / "trajectories.parquet")
    paths = []
    for b, rec in records.items():
        hps, truth = rec["hyperparameters"], rec["transforms"]["rank"]
        order = sorted(hps, key=lambda h: -truth["main"][h])
        shares = {h: truth["main"][h] / sum(truth["main"].values()) for h in hps}
        reverse = {h: (order.index(h) + 1) / sum(range(1, len(hps) + 1)) for h in hps}
        uniform = {h: 1 / len(hps) for h in hps}
        for seed in SEEDS:
            plan = {
                "llm": [statement(0, reverse)]
                + [statement(x, shares) | {"top_interaction": truth["top_interaction"]} for x in BUDGETS],
                "mm_llm": [statement(0, reverse)]
                + [statement(x, reverse) for x in BUDGETS]  # with its images: the reversed order
                + [statement(x, shares) | {"source": "model_text"} for x in BUDGETS],  # same history, no images
                "mm_llm_blank": [statement(x, uniform, fallback=True) for x in (0, *BUDGETS)],
                "llm_tpe": [statement(x, shares) for x in (0, *BUDGETS)],
            }
            for method, sts in plan.items():
                p = root / f"{b}_{method}_{seed}_insight.json"
                paths.append(insight_file(p, b, method, seed, hps, sts))
    out = root / "stats"
    tables = ins.write_insight(
        root / "trajectories.parquet",
        importance_paths,
        [*paths, root / "absent_insight.json"],
        out,
        BUDGETS,
        ROLES,
        kinds={m: m for m in METHODS},
        llm_methods=[*LLM, "llm_other"],
        settings={},
    )
    return {"root": root, "out": out, "tables": tables, "df": df, "records": records, "importance": importance_paths}


def test_every_table_is_written_with_notes(study):
    for name in ins.TABLES:
        for ext in ("md", "html"):
            assert (study["out"] / f"{name}.{ext}").stat().st_size > 0
        table = study["tables"][name]
        back = pd.read_csv(study["out"] / f"{name}.csv", keep_default_na=False, na_values=[""])
        assert list(back.columns) == list(table.columns) and len(back) == len(table), name
        for col in table.columns:  # what the file says is what was computed (numbers to %.6g, as written)
            want, got = table[col], back[col]
            if pd.api.types.is_numeric_dtype(want) and not pd.api.types.is_bool_dtype(want):
                close = np.allclose(got.astype(float), want.astype(float), rtol=1e-5, atol=1e-9, equal_nan=True)
                assert close, (name, col)
            else:
                as_text = [x.astype(object).where(x.notna(), "").astype(str) for x in (got, want)]
                assert (as_text[0] == as_text[1]).all(), (name, col)
    md = (study["out"] / "insight.md").read_text()
    assert "llm_other: no stated-importance file" in md
    assert "no run status file" in md


def test_score_table_has_every_source_and_the_contract_columns(study):
    from hpo.insight.table import score_columns

    s = study["tables"]["insight"]
    assert list(s.columns) == score_columns()
    assert set(s["source"]) == set(src.SOURCES)
    assert set(s["family"]) == {"mlp", "nb201"} and set(s["kind"]) == set(LLM)
    assert set(s[s["method"] == "llm_tpe"]["role"]) == {""}
    per_run_budget = len(BENCHES) * len(SEEDS) * len(LLM) * len(BUDGETS)
    for source in ("chance", "image_echo", "data_fanova", "data_fanova_random", "prior_data"):
        assert (s["source"] == source).sum() == per_run_budget, source
    chance = s[s["source"] == "chance"]
    for m in ("kendall_tau", "ndcg", "js_distance"):
        assert np.allclose(chance[m], chance[f"{m}_chance"]) and np.allclose(chance[f"{m}_norm"], 0.0)
    assert (chance["weights"] == "").all()


def test_the_truth_scores_one_uniform_zero(study):
    s = study["tables"]["insight"]
    truth = s[(s["method"] == "llm") & (s["source"] == "model")]
    for m in ("kendall_tau", "weighted_tau", "ndcg"):
        assert np.allclose(truth[f"{m}_norm"], 1.0), m
    assert np.allclose(truth["js_distance"], 0.0, atol=1e-6) and (truth["pair_hit"] == 1.0).all()
    assert (truth["stated_top"] == truth["true_top"]).all()
    blank = s[(s["method"] == "mm_llm_blank") & s["source"].isin(src.MODEL_SOURCES)]
    assert np.allclose(blank[["kendall_tau", "kendall_tau_norm", "weighted_tau_norm"]], 0.0)
    assert blank["fallback"].all() and blank["note"].str.contains("uniform fallback").all()
    assert (blank["pair_hit"] == 0).all()  # no pair stated counts as a miss
    assert (blank["stated_pair"] == "").all() and not blank[blank["budget"] > 0]["echo"].any()
    reversed_ = s[(s["method"] == "mm_llm") & (s["source"] == "model")]
    assert np.allclose(reversed_["kendall_tau"], -1.0)
    # the rungs state no pair: NaN, not a miss
    assert s[s["source"] == "data_fanova"]["pair_hit"].isna().all()


def test_ladder_rungs_are_the_analyses_of_the_right_trials(study):
    s, df, rec = study["tables"]["insight"], study["df"], study["records"]["mlp-car"]
    space = imp.space_of(rec)
    pick = s[(s["benchmark"] == "mlp-car") & (s["method"] == "llm") & (s["seed"] == 1) & (s["budget"] == N_TRIALS)]
    pick = pick.set_index("source")

    def run(method):
        r = df[(df["benchmark"] == "mlp-car") & (df["method"] == method) & (df["seed"] == 1)].sort_values("trial")
        return [json.loads(c) for c in r["config"]], r["loss"].tolist()

    own, rand = src.data_fanova(space, *run("llm"))[0], src.data_fanova(space, *run("random_search"))[0]
    assert json.loads(pick.loc["data_fanova", "weights"]) == pytest.approx(own, abs=1e-6)
    assert json.loads(pick.loc["data_fanova_random", "weights"]) == pytest.approx(rand, abs=1e-6)
    assert "random_search's first 12 trials" in pick.loc["data_fanova_random", "note"]
    prior = json.loads(
        s[(s["benchmark"] == "mlp-car") & (s["method"] == "llm") & (s["seed"] == 1) & (s["source"] == "prior")][
            "weights"
        ].iloc[0]
    )
    mixed = json.loads(pick.loc["prior_data", "weights"])
    assert mixed == pytest.approx({k: (prior[k] + own[k]) / 2 for k in own}, abs=1e-5)
    # the plotted pair is shown on every source of the run, the image_echo rung echoes itself where it names a pair
    assert pick["plotted_pair"].nunique() == 1 and pick.loc["image_echo", "plotted_pair"]
    echo = s[(s["source"] == "image_echo") & (s["stated_pair"] != "")]
    assert echo["echo"].astype(bool).all()
    # identical histories (the shared initial design) give identical analyses
    init = s[(s["budget"] == N_INIT) & (s["source"] == "data_fanova")]
    assert (init.groupby(["benchmark", "seed"])["weights"].nunique() == 1).all()


def test_inference_unit_is_the_benchmark(study):
    t = study["tables"]["insight_tests"]
    first = t.iloc[0]
    assert first["primary"] and first["method"] == "llm" and first["budget"] == N_TRIALS
    assert first["contrast"] == "model vs best rung" and first["metric"] == "kendall_tau"
    assert (t[t["family"] == "all"]["n_benchmarks"] <= len(BENCHES)).all()
    assert first["n_benchmarks"] == len(BENCHES) and first["effect"] > 0  # the truth beats every rung
    llm = t[(t["method"] == "llm") & (t["family"] == "all") & t["contrast"].str.startswith("model vs")]
    assert (llm[llm["metric"] != "js_distance"]["effect"] > 0).all()
    roles = t[t["contrast"].str.startswith("gain over prior")]
    assert set(roles["role"]) == {"image vs text", "image vs blank", "text vs blank"}
    assert set(t[t["family"] != "all"]["family"]) == {"mlp", "nb201"}
    # a method without a role (llm_tpe) has its own contrasts, by kind; its prior states the truth too: no test
    tpe = t[(t["method"] == "llm_tpe") & (t["family"] == "all")]
    assert {"model vs chance", "model vs best rung"} <= set(tpe["contrast"]) and (tpe["kind"] == "llm_tpe").all()
    same = tpe[(tpe["contrast"] == "model vs prior") & (tpe["metric"] == "kendall_tau")]
    assert len(same) == len(BUDGETS) and same["note"].str.contains("identical").all()


def test_pairs_table(study):
    p = study["tables"]["insight_pairs"]
    assert set(p["method"]) == set(LLM) and len(p) == len(LLM) * len(BUDGETS)
    assert p["plotted_is_true_top_pair"].between(0, 1).all()
    llm = p[(p["method"] == "llm") & (p["budget"] == N_TRIALS)].iloc[0]
    assert llm["gain_over_prior"] > 0 and llm["n_benchmarks"] == len(BENCHES)


def test_not_applicable_cases_get_notes():
    from ConfigSpace import ConfigurationSpace, OrdinalHyperparameter

    cs = ConfigurationSpace()
    cs.add(OrdinalHyperparameter("x", [1, 2, 3, 4]))
    record = {
        "benchmark": "one",
        "method": "exact_grid",
        "hyperparameters": ["x"],
        "primary_transform": "rank",
        "transforms": {"rank": {"main": {"x": 1.0}, "pairs": {}, "top_pair": [], "top_interaction": []}},
        "space": cs.to_serialized_dict(),
        "note": imp.ONE_HP_NOTE,
    }
    df = pd.DataFrame(
        {
            "benchmark": "one",
            "method": "llm",
            "seed": 0,
            "trial": [1, 2, 3, 4],
            "config": [json.dumps({"x": v}) for v in (1, 2, 3, 4)],
            "loss": [0.4, 0.3, 0.2, 0.1],
        }
    )
    stated = [
        {
            "benchmark": "one",
            "method": "llm",
            "kind": "llm",
            "seed": 0,
            "hyperparameters": ["x"],
            "statements": [statement(0, {"x": 1.0}), statement(4, {"x": 1.0})],
        }
    ]
    tables, notes = ins.compute(df, {"one": record}, stated, [4], {"llm": "text"}, llm_methods=["llm"])
    s = tables["insight"]
    assert s[["kendall_tau", "ndcg", "kendall_tau_norm"]].isna().all().all()
    assert s["note"].str.contains("one hyperparameter").all()
    assert any(imp.ONE_HP_NOTE in n for n in notes["insight"])
    assert tables["insight_tests"]["p_value"].isna().all()  # nothing to compare: every score is NaN
    assert any("no random_search run" in n for n in notes["insight"])
    # a primary method that stated nothing is named, not silently replaced
    settings = {"primary_contrast": {"method": "nope"}}
    _, notes4 = ins.compute(df, {"one": record}, stated, [4], {"llm": "text"}, llm_methods=["llm"], settings=settings)
    assert any("primary contrast: nope has no scored statement" in n for n in notes4["insight_tests"])
    # no LLM statement at all: nothing to score, said so
    tables3, notes3 = ins.compute(df.assign(method="random_search"), {"one": record}, [], [4], {}, llm_methods=[])
    assert tables3["insight"].empty and any("no statement to score" in n for n in notes3["insight"])


def test_statement_naming_other_hyperparameters_stops_with_context(study):
    wrong = [
        {
            "benchmark": "mlp-car",
            "method": "llm",
            "seed": 0,
            "hyperparameters": ["lr"],
            "statements": [statement(0, {"lr": 1.0})],
        }
    ]
    with pytest.raises(ValueError, match=r"mlp-car / llm / seed 0 / budget 0 \(prior\): stated hyperparameters"):
        ins.compute(study["df"].iloc[:0], {"mlp-car": study["records"]["mlp-car"]}, wrong, [4], ROLES)


def test_figure(study, tmp_path):
    from PIL import Image

    from hpo.insight.plots import plot_insight

    outs = [tmp_path / "insight.png", tmp_path / "insight.pdf"]
    out = study["out"]
    titles = plot_insight(out / "insight.csv", out / "insight_summary.csv", study["importance"], outs, METHODS)
    assert titles[: len(BENCHES)] == [f"{b} (exact_grid)" for b in BENCHES]
    # every LLM method has a score panel, by method (not only those with a role)
    assert titles[len(BENCHES) :] == [f"{m}: kendall_tau vs. budget and rung" for m in LLM]
    with Image.open(outs[0]) as im:
        assert im.size[0] > 600 and im.size[1] > 400
    assert outs[1].read_bytes().startswith(b"%PDF")


def test_figure_has_no_empty_panel_and_its_legend_covers_no_data(study):
    """Issue 26: five of nine panels were empty and a legend covered bars. Every axes draws data, there are no more
    axes than panels, and the legend lies outside every axes; a method with no score gets no panel."""
    from hpo.insight.plots import grid_shape, insight_figure
    from hpo.stats.plots import _frame
    from hpo.util.style import pyplot

    out, records = study["out"], [imp.load_importance(p) for p in study["importance"]]
    scores, summary = _frame(out / "insight.csv"), _frame(out / "insight_summary.csv")
    for methods in (METHODS, ["random_search", "llm"]):
        df = scores[scores["method"].isin(methods)]
        fig, titles = insight_figure(df, summary, records, methods)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert len(fig.axes) == len(titles) == len(BENCHES) + len(methods) - 1  # random_search states nothing
        for ax in fig.axes:
            assert ax.patches or ax.lines or ax.collections, f"{ax.get_title()}: an empty panel"
        (legend,) = fig.legends
        box = legend.get_window_extent(renderer)
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
        assert not any(ax.get_legend() for ax in fig.axes)
        pyplot().close(fig)
    # a method without any finite score: no panel, and the title says why there is no score panel
    blank = summary.assign(kendall_tau_norm=math.nan)
    fig, titles = insight_figure(scores[scores["method"] == "llm"], blank, records, ["llm"])
    assert len(fig.axes) == len(BENCHES) and "no LLM statement could be scored" in fig.get_suptitle()
    pyplot().close(fig)
    # panels fill as few slots as they need: at most one empty slot up to 9 panels
    assert [grid_shape(n) for n in (1, 2, 3, 4, 5, 6)] == [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (2, 3)]
    assert all(r * c - n <= 1 for n in range(1, 10) for r, c in [grid_shape(n)])


def test_report_opens_with_the_verdicts(study, tmp_path):
    from hpo.report.build import INSIGHT_TITLE, write_report_md

    text = write_report_md(study["out"], tmp_path / "report.md", html_out=tmp_path / "summary.html")
    section = text[text.index(f"## {INSIGHT_TITLE}") :]
    lines = [line for line in section.splitlines() if line.startswith("- ")]
    assert lines[0].startswith("- **Primary contrast** (llm model vs the best baseline rung")
    assert lines[1].startswith("- **Better than chance?**") and "n = 2 benchmarks" in lines[1]
    assert lines[2].startswith("- **Better than the data analysis?**") and "model vs data_fanova" in lines[2]
    assert lines[3].startswith("- **Do images help understanding (same model, same history)?**")
    assert "mm_llm asked about each history with its images and without them" in lines[3]
    assert "effect -2.00" in lines[3] and "mm_llm gains" not in lines[3]
    assert lines[4].startswith("- **Does seeing images help beyond echoing them?**")
    assert "gain over its own prior" in lines[4] and "echo rate" in lines[4]
    assert ", p = " in lines[1] and "[" in lines[1]  # effect, interval, n and the adjusted p
    # n = 2: no two-sided Wilcoxon can reach alpha; the line says so and gives the direction in words
    assert "untestable with this many benchmarks" in lines[1] and "the model scores above chance" in lines[1]
    html = (tmp_path / "summary.html").read_text()
    assert INSIGHT_TITLE in html and "<b>Better than chance?</b>" in html
    # without the insight tables the section says so instead of failing
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "Not computed" in write_report_md(empty, tmp_path / "r2.md")


def test_report_says_when_the_image_question_is_not_answerable(study, tmp_path):
    from hpo.insight.report import NO_IMAGES, insight_verdicts

    tests = study["tables"]["insight_tests"]
    text_only = tests[~tests["contrast"].str.startswith(("gain over prior", "echo rate", "images, same history"))]
    lines = insight_verdicts(text_only)
    assert lines[-2] == f"**Do images help understanding (same model, same history)?** {NO_IMAGES}."
    assert lines[-1] == f"**Does seeing images help beyond echoing them?** {NO_IMAGES}."
    assert len(insight_verdicts(tests.iloc[:0])) == 4
