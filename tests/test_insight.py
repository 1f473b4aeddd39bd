"""Stated vs. true importance (hpo.analysis.insight): scores, data-analysis baseline, tables, tests, figure, report."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpo import benchmarks
from hpo.analysis import importance as imp
from hpo.analysis import insight as ins
from hpo.space import config_json, initial_design

ROLES = {"llm": "text", "mm_llm": "image", "mm_llm_blank": "blank"}
METHODS = ["random_search", *ROLES]
BENCHES = ("mlp-car", "nb201-cifar10")
SEEDS = (0, 1, 2)
N_TRIALS, N_INIT = 12, 4
BUDGETS = (N_INIT, N_TRIALS)


# --- scores on hand-made rankings -------------------------------------------------------------------------------


def dcg(gains_in_order: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains_in_order))


def test_perfect_and_reversed_rankings():
    true = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    same = ins.score({"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}, true)
    assert same["kendall_tau"] == pytest.approx(1.0) and same["spearman"] == pytest.approx(1.0)
    assert same["top1_hit"] == 1.0 and same["ndcg"] == pytest.approx(1.0)
    rev = ins.score({"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}, true)
    assert rev["kendall_tau"] == pytest.approx(-1.0) and rev["spearman"] == pytest.approx(-1.0)
    assert rev["top1_hit"] == 0.0
    assert rev["ndcg"] == pytest.approx(dcg([0.05, 0.15, 0.3, 0.5]) / dcg([0.5, 0.3, 0.15, 0.05]))


def test_one_adjacent_swap():
    # 4 items, one discordant pair of 6: tau = (5 - 1) / 6; NDCG by its definition, gains = true shares
    true = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    s = ins.score({"a": 0.3, "b": 0.4, "c": 0.2, "d": 0.1}, true)
    assert s["kendall_tau"] == pytest.approx(4 / 6)
    assert s["spearman"] == pytest.approx(1 - 6 * 2 / (4 * (16 - 1)))
    assert s["top1_hit"] == 0.0
    assert s["ndcg"] == pytest.approx(dcg([0.3, 0.5, 0.15, 0.05]) / dcg([0.5, 0.3, 0.15, 0.05]))


def test_ties_score_their_expectation_over_tie_breaks():
    true = {"a": 0.6, "b": 0.25, "c": 0.1, "d": 0.05}
    stated = {"a": 0.4, "b": 0.4, "c": 0.1, "d": 0.1}
    s = ins.score(stated, true)
    orders = [p + q for p in itertools.permutations("ab") for q in itertools.permutations("cd")]
    expected = np.mean([dcg([true[k] for k in o]) for o in orders]) / dcg([0.6, 0.25, 0.1, 0.05])
    assert s["ndcg"] == pytest.approx(expected)
    assert s["top1_hit"] == 0.5  # a is one of two tied leaders
    uniform = ins.score(dict.fromkeys(true, 0.25), true)
    assert uniform["kendall_tau"] == 0.0 and uniform["spearman"] == 0.0 and ins.NO_RANKING in uniform["note"]
    assert uniform["top1_hit"] == 0.25
    all_orders = [dcg([true[k] for k in o]) for o in itertools.permutations(true)]
    assert uniform["ndcg"] == pytest.approx(np.mean(all_orders) / dcg(sorted(true.values(), reverse=True)))


def test_scores_that_do_not_apply():
    one = ins.score({"x": 1.0}, {"x": 1.0})
    assert all(math.isnan(one[k]) for k in ins.SCORES) and "one hyperparameter" in one["note"]
    flat = ins.score({"a": 0.7, "b": 0.3}, {"a": 0.2, "b": 0.2})
    assert math.isnan(flat["kendall_tau"]) and "all true importances equal" in flat["note"]
    with pytest.raises(ValueError, match="differ from the true ones"):
        ins.score({"a": 1.0}, {"a": 0.5, "b": 0.5})


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


# --- a small hand-made study ------------------------------------------------------------------------------------


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
                    rows.append(
                        {
                            "benchmark": bench_id,
                            "method": method,
                            "seed": seed,
                            "trial": t,
                            "config": config_json(c),
                            "loss": bench.true_loss(c),
                        }
                    )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def study(table_dir, tmp_path_factory):
    """Importance files of two real tables, trajectories of four methods, and insight files: the text model states
    the true shares at every budget (and the reversed order as its prior), the image model the reversed order, the
    blank control an unusable reply (uniform fallback)."""
    root = tmp_path_factory.mktemp("insight")
    importance_paths = []
    records = {}
    for b in BENCHES:
        benchmarks.make(b, table_path=table_dir / f"{b}.npz")
        rec = imp.importance_json(b, table=table_dir / f"{b}.npz")
        imp.write_importance(rec, root / f"{b}.json")
        importance_paths.append(root / f"{b}.json")
        records[b] = rec
    df = trajectories(table_dir)
    df.to_parquet(root / "trajectories.parquet")
    paths = []
    for b, rec in records.items():
        hps = rec["hyperparameters"]
        true = rec["transforms"]["rank"]["main"]
        order = sorted(hps, key=lambda h: -true[h])
        truth = {h: true[h] / sum(true.values()) for h in hps}
        reverse = {h: (order.index(h) + 1) / sum(range(1, len(hps) + 1)) for h in hps}
        uniform = {h: 1 / len(hps) for h in hps}
        for seed in SEEDS:
            plan = {
                "llm": [statement(0, reverse)] + [statement(x, truth) for x in BUDGETS],
                "mm_llm": [statement(0, reverse)] + [statement(x, reverse) for x in BUDGETS],
                "mm_llm_blank": [statement(0, uniform, fallback=True)]
                + [statement(x, uniform, fallback=True) for x in BUDGETS],
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
        llm_methods=["llm", "mm_llm", "mm_llm_blank", "llm_other"],
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


def test_scores_of_the_planned_statements(study):
    s = study["tables"]["insight"]
    model = s[s["source"] == "model"]
    assert np.allclose(model[model["method"] == "llm"]["kendall_tau"], 1.0)
    assert np.allclose(model[model["method"] == "llm"]["ndcg"], 1.0)
    assert np.allclose(model[model["method"] == "mm_llm"]["kendall_tau"], -1.0)
    blank = s[(s["method"] == "mm_llm_blank") & s["source"].isin(ins.MODEL_SOURCES)]
    assert (blank["kendall_tau"] == 0).all() and blank["fallback"].all()
    assert blank["note"].str.contains("uniform fallback").all()
    # one prior per LLM run, at budget 0; stated/true tops are named
    prior = s[s["source"] == "prior"]
    assert len(prior) == 3 * len(BENCHES) * len(SEEDS) and (prior["budget"] == 0).all()
    assert set(s["role"]) == {"", "text", "image", "blank"}
    assert (model[model["method"] == "llm"]["stated_top"] == model[model["method"] == "llm"]["true_top"]).all()


def test_data_analysis_covers_every_history_and_budget(study):
    s = study["tables"]["insight"]
    data = s[s["source"].isin(ins.DATA_SOURCES)]
    expected = len(BENCHES) * len(SEEDS) * len(METHODS) * len(BUDGETS) * len(ins.DATA_SOURCES)
    assert len(data) == expected
    assert (data["n_trials_used"] == data["budget"]).all()
    for w in data["weights"]:
        assert sum(json.loads(w).values()) == pytest.approx(1.0, abs=1e-5)
    # within the shared initial design every method saw the same trials, so the analyses agree
    init = data[data["budget"] == N_INIT]
    assert (init.groupby(["benchmark", "seed", "source"])["weights"].nunique() == 1).all()
    # and they are the analyses of exactly those trials
    df, rec = study["df"], study["records"]["mlp-car"]
    run = df[(df["benchmark"] == "mlp-car") & (df["method"] == "llm") & (df["seed"] == 1)].sort_values("trial")
    direct = ins.data_importance(imp.space_of(rec), [json.loads(c) for c in run["config"]], run["loss"].tolist())
    row = data[(data["benchmark"] == "mlp-car") & (data["method"] == "llm") & (data["seed"] == 1)]
    row = row[(row["budget"] == N_TRIALS) & (row["source"] == "data_fanova")]
    got = json.loads(row["weights"].iloc[0])
    assert got == pytest.approx({k: round(v, 6) for k, v in direct["data_fanova"][0].items()}, abs=1e-6)


def test_data_analyses_find_the_one_hyperparameter_that_matters(table_dir):
    """Both Optuna analyses, on trials whose loss depends on learning_rate_init alone, weight it first, above half;
    on trials with one loss, there is nothing to analyse: uniform weights and a note saying why."""
    bench = benchmarks.make("mlp-car", table_path=table_dir / "mlp-car.npz")
    rng = np.random.default_rng(0)
    bench.space.seed(0)
    configs = [json.loads(config_json(c)) for c in bench.space.sample_configuration(60)]
    lr = sorted({c["learning_rate_init"] for c in configs})
    losses = [lr.index(c["learning_rate_init"]) / len(lr) + rng.normal(0, 1e-3) for c in configs]
    out = ins.data_importance(bench.space, configs, losses)
    for source in ins.DATA_SOURCES:
        weights, note = out[source]
        assert max(weights, key=weights.get) == "learning_rate_init", (source, weights)
        assert weights["learning_rate_init"] > 0.5, (source, weights)
        assert sum(weights.values()) == pytest.approx(1.0)
    flat = ins.data_importance(bench.space, configs, [0.3] * len(configs))
    for source in ins.DATA_SOURCES:
        weights, note = flat[source]
        assert list(weights.values()) == pytest.approx([1 / len(weights)] * len(weights)), (source, weights)
        assert note, f"{source}: uniform weights without saying why"


def test_paired_tests_by_role(study):
    t = study["tables"]["insight_tests"]
    tau = t[(t["metric"] == "kendall_tau") & (t["budget"] == N_TRIALS)].set_index(["contestant_a", "contestant_b"])
    n_blocks = len(BENCHES) * len(SEEDS)
    # text model (tau 1) vs its reversed prior (tau -1): it wins in every block; exact two-sided p = 2 / 2**n
    row = tau.loc[("llm:model", "llm:prior")]
    assert row["n_blocks"] == n_blocks and row["wins_a"] == n_blocks and row["rank_biserial"] == 1.0
    assert row["p_value"] == pytest.approx(2 / 2**n_blocks)
    assert row["median_diff"] == pytest.approx(2.0)
    assert row["p_holm"] >= row["p_value"]
    # across roles, by role: image (reversed) vs text (true), image vs blank (uniform), text vs blank
    assert tau.loc[("mm_llm:model", "llm:model")]["wins_b"] == n_blocks
    assert tau.loc[("mm_llm:model", "mm_llm_blank:model")]["rank_biserial"] == -1.0
    assert tau.loc[("llm:model", "mm_llm_blank:model")]["wins_a"] == n_blocks
    # image model and prior state the same reversed order: identical scores, no test, a note says so
    same = tau.loc[("mm_llm:model", "mm_llm:prior")]
    assert math.isnan(same["p_value"]) and "identical" in same["note"]
    assert ("llm:data_fanova", "llm:data_pedanova") not in tau.index
    assert set(t["metric"]) == set(ins.TEST_METRICS)
    # Holm within each (budget, metric) family
    for _, fam in t.groupby(["budget", "metric"]):
        p = fam["p_value"].dropna()
        assert (fam.loc[p.index, "p_holm"] >= p - 1e-12).all()


def test_image_pair_table(study):
    from hpo.influence import influence

    pairs = study["tables"]["insight_pairs"]
    assert set(pairs["method"]) == {"mm_llm"}  # image role only, never by name
    assert len(pairs) == len(BENCHES) * len(SEEDS) * len(BUDGETS)
    for row in pairs.itertuples():
        true = study["records"][row.benchmark]["transforms"]["rank"]["top_pair"]
        assert row.true_top_pair == " & ".join(true)
        assert row.match == (set(row.image_pair.split(" & ")) == set(true))
        assert row.overlap == len(set(row.image_pair.split(" & ")) & set(true))
    df = study["df"]
    run = df[(df["benchmark"] == "nb201-cifar10") & (df["method"] == "mm_llm") & (df["seed"] == 2)]
    run = run[run["trial"] <= N_INIT].sort_values("trial")
    configs, losses = [json.loads(c) for c in run["config"]], list(run["loss"])
    shown = influence(imp.space_of(study["records"]["nb201-cifar10"]), configs, losses)[:2]
    row = pairs[(pairs["benchmark"] == "nb201-cifar10") & (pairs["seed"] == 2) & (pairs["budget"] == N_INIT)]
    assert row["image_pair"].iloc[0] == " & ".join(shown)


def test_summary_table(study):
    summ = study["tables"]["insight_summary"]
    llm = summ[(summ["method"] == "llm") & (summ["source"] == "model")]
    assert np.allclose(llm["kendall_tau_mean"], 1.0)
    assert (llm["n_blocks"] == len(BENCHES) * len(SEEDS)).all()
    blank = summ[(summ["method"] == "mm_llm_blank") & (summ["source"] == "model")]
    assert (blank["share_fallback"] == 1.0).all()


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
            "seed": 0,
            "hyperparameters": ["x"],
            "statements": [statement(0, {"x": 1.0}), statement(4, {"x": 1.0})],
        }
    ]
    tables, notes = ins.compute(df, {"one": record}, stated, [4], {"llm": "text"}, llm_methods=["llm"])
    s = tables["insight"]
    assert s[list(ins.SCORES)].isna().all().all()
    assert s["note"].str.contains("one hyperparameter").all()
    assert any(imp.ONE_HP_NOTE in n for n in notes["insight"])
    assert tables["insight_tests"].empty  # nothing to compare: every score is NaN
    assert any("no scores for llm:model, llm:prior" in n for n in notes["insight_tests"])
    assert any("no image (multimodal) method" in n for n in notes["insight_pairs"])
    # an image method that did not run (skipped): said so, no rows
    _, notes2 = ins.compute(df, {"one": record}, stated, [4], {"llm": "text", "mm": "image"}, llm_methods=["llm"])
    assert any("no runs of the image methods (mm)" in n for n in notes2["insight_pairs"])
    # no LLM statement at all: the data analyses are still scored, the tests say why they are absent
    classical = df.assign(method="random_search")
    tables3, notes3 = ins.compute(classical, {"one": record}, [], [4], {}, llm_methods=[])
    assert set(tables3["insight"]["source"]) == set(ins.DATA_SOURCES)
    assert any("no LLM method has scores" in n for n in notes3["insight_tests"])


def test_a_benchmark_without_ground_truth_is_said_never_a_crash(tmp_path):
    """Main effects that could not be estimated are NaN, stored as null: read back, scored and paired as 'none'."""
    from ConfigSpace import ConfigurationSpace, OrdinalHyperparameter

    cs = ConfigurationSpace()
    cs.add([OrdinalHyperparameter("x", [1, 2, 3, 4]), OrdinalHyperparameter("y", [1, 2])])
    main = {"x": math.nan, "y": math.nan}
    record = {
        "benchmark": "flat",
        "method": "optuna_fanova",
        "hyperparameters": ["x", "y"],
        "primary_transform": "rank",
        "transforms": {
            "rank": {"main": main, "pairs": {"x|y": math.nan}, "top_pair": imp.top_pair(main), "top_interaction": []}
        },
        "space": cs.to_serialized_dict(),
    }
    imp.write_importance(record, tmp_path / "flat.json")
    back = imp.load_importance(tmp_path / "flat.json")
    assert all(math.isnan(v) for v in back["transforms"]["rank"]["main"].values())
    df = pd.DataFrame(
        {
            "benchmark": "flat",
            "method": "mm",
            "seed": 0,
            "trial": [1, 2, 3, 4],
            "config": [json.dumps({"x": x, "y": y}) for x, y in ((1, 1), (2, 2), (3, 1), (4, 2))],
            "loss": [0.4, 0.3, 0.2, 0.1],
        }
    )
    stated = [
        {
            "benchmark": "flat",
            "method": "mm",
            "seed": 0,
            "hyperparameters": ["x", "y"],
            "statements": [statement(0, {"x": 0.5, "y": 0.5}), statement(4, {"x": 0.9, "y": 0.1})],
        }
    ]
    tables, _ = ins.compute(df, {"flat": back}, stated, [4], {"mm": "image"}, llm_methods=["mm"])
    scores = tables["insight"]
    assert set(scores["source"]) == {"prior", "model", *ins.DATA_SOURCES}
    assert scores[list(ins.SCORES)].isna().all().all()
    assert scores["note"].str.contains("no ground truth").all()
    pairs = tables["insight_pairs"]
    assert len(pairs) == 1 and pairs["true_top_pair"].iloc[0] == "" and math.isnan(pairs["match"].iloc[0])
    assert pairs["note"].iloc[0] == "no ground truth for this benchmark: no true pair"
    assert set(pairs["image_pair"].iloc[0].split(" & ")) == {"x", "y"}
    table = imp.importance_table([back])
    assert table["share"].isna().all() and len(table) == 3  # two main effects and one pair, NaN not None


def test_figure(study, tmp_path):
    from PIL import Image

    from hpo.analysis.insight_plots import plot_insight

    outs = [tmp_path / "insight.png", tmp_path / "insight.pdf"]
    titles = plot_insight(study["out"] / "insight.csv", study["importance"], outs, methods=METHODS, roles=ROLES)
    assert titles[: len(BENCHES)] == [f"{b} (exact_grid)" for b in BENCHES]
    assert titles[len(BENCHES) :] == ["kendall_tau vs. budget", "ndcg vs. budget"]
    with Image.open(outs[0]) as im:
        assert im.size[0] > 600 and im.size[1] > 400
    assert outs[1].read_bytes().startswith(b"%PDF")


def test_report_section(study, tmp_path):
    from hpo.analysis.report import INSIGHT_TITLE, write_report_md

    text = write_report_md(study["out"], tmp_path / "report.md", html_out=tmp_path / "summary.html")
    section = text[text.index(f"## {INSIGHT_TITLE}") :]
    n = len(BENCHES) * len(SEEDS)
    assert f"**Budget {N_TRIALS}** (Kendall τ, {n} of {n} blocks)" in section
    assert "llm:model 1.00" in section and "mm_llm:model -1.00" in section
    assert "Images' 'two most influential hyperparameters' = the true top pair" in section
    assert INSIGHT_TITLE in (tmp_path / "summary.html").read_text()
    # without the insight tables the section says so instead of failing
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "Not computed" in write_report_md(empty, tmp_path / "r2.md")


def test_statement_naming_other_hyperparameters_stops_with_context(study):
    record = study["records"]["mlp-car"]
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
        ins.compute(study["df"].iloc[:0], {"mlp-car": record}, wrong, [4], ROLES, llm_methods=["llm"])
