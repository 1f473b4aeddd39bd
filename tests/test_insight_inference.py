"""Inference on insight scores (hpo.analysis.insight_inference), on hand-made score tables: the unit is the
benchmark, intervals resample benchmarks, Holm runs over every tested contrast, the primary contrast comes first."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hpo.analysis import insight_inference as inf
from hpo.analysis import stats

BENCHES = {"mlp-a": "mlp", "nb201-b": "nb201", "fcnet-c": "fcnet"}
SEEDS = (0, 1)
BUDGET = 10
METRICS = inf.TEST_METRICS


def rows(method: str, role: str, source: str, values: dict[tuple[str, int], float], budget: int = BUDGET, **extra):
    """Score-table rows of one source: ``values[(benchmark, seed)]`` is every normalized metric's value."""
    out = []
    for (bench, seed), v in values.items():
        row = {"benchmark": bench, "family": BENCHES[bench], "seed": seed, "budget": 0 if source == "prior" else budget}
        row.update(method=method, kind=method, role=role, source=source, echo=extra.get("echo", math.nan))
        row.update({f"{m}_norm": v for m in METRICS}, fallback=False)
        out.append(row)
    return out


def table(model, prior, fanova, echo_rung, method="llm", role="text", echo=math.nan) -> list[dict]:
    chance = {k: 0.0 for k in model}
    return [
        *rows(method, role, "model", model, echo=echo),
        *rows(method, role, "prior", prior),
        *rows(method, role, "chance", chance),
        *rows(method, role, "data_fanova", fanova),
        *rows(method, role, "image_echo", echo_rung),
    ]


# model: seeds (0.9, 0.7) -> 0.8 on mlp-a, (0.6, 0.4) -> 0.5 on nb201-b, (0.3, 0.5) -> 0.4 on fcnet-c
MODEL = {("mlp-a", 0): 0.9, ("mlp-a", 1): 0.7, ("nb201-b", 0): 0.6, ("nb201-b", 1): 0.4}
MODEL |= {("fcnet-c", 0): 0.3, ("fcnet-c", 1): 0.5}
PRIOR = {k: 0.1 for k in MODEL}
FANOVA = {k: (0.5 if k[0] == "mlp-a" else 0.2) for k in MODEL}  # the best rung: mean 0.3 over benchmarks
ECHO = {k: 0.05 for k in MODEL}


@pytest.fixture
def scored():
    df = pd.DataFrame(table(MODEL, PRIOR, FANOVA, ECHO))
    means = inf.benchmark_means(df, [BUDGET])
    primary = inf.resolve_primary(None, ["llm"], [BUDGET])
    return means, inf.contrasts(means, [BUDGET], ["llm"], {"llm": "text"}, primary, n_bootstrap=500)


def test_seeds_are_averaged_within_a_benchmark_and_n_is_the_number_of_benchmarks(scored):
    means, tests = scored
    model = means[(means["source"] == "model")].set_index("benchmark")["kendall_tau_norm"]
    assert model.to_dict() == pytest.approx({"mlp-a": 0.8, "nb201-b": 0.5, "fcnet-c": 0.4})
    assert (means["n_seeds"] == 2).all()
    # the prior (budget 0) is a contestant at the reporting budget
    assert set(means[means["source"] == "prior"]["budget"]) == {BUDGET}
    tested = tests[tests["family"] == "all"]
    assert (tested["n_benchmarks"] == 3).all()
    vs_chance = tested[(tested["contrast"] == "model vs chance") & (tested["metric"] == "kendall_tau")].iloc[0]
    assert vs_chance["effect"] == pytest.approx((0.8 + 0.5 + 0.4) / 3)
    assert vs_chance["wins_a"] == 3 and vs_chance["p_value"] == pytest.approx(2 / 2**3)  # exact: all 3 positive
    assert "unreachable" in vs_chance["note"]


def test_primary_contrast_is_first_and_picks_the_best_rung(scored):
    _, tests = scored
    first = tests.iloc[0]
    assert first["primary"] and tests["primary"].sum() == 1
    assert (first["contrast"], first["b"], first["metric"], first["budget"]) == (
        "model vs best rung",
        "data_fanova",
        "kendall_tau",
        BUDGET,
    )
    d = np.array([0.8 - 0.5, 0.5 - 0.2, 0.4 - 0.2])
    assert first["effect"] == pytest.approx(d.mean())
    assert d.min() <= first["ci_low"] <= first["effect"] <= first["ci_high"] <= d.max()


def test_bootstrap_is_seeded_and_resamples_benchmarks():
    d = np.array([0.3, 0.3, 0.2, -0.1])
    assert inf.interval(d, 300) == inf.interval(d, 300)
    low, high = inf.interval(d, 2000)
    assert d.min() <= low < d.mean() < high <= d.max()
    assert all(math.isnan(x) for x in inf.interval(d[:1], 100))
    assert inf.interval(np.array([0.2, 0.2]), 100) == (0.2, 0.2)


def test_holm_runs_over_every_tested_contrast_at_once(scored):
    _, tests = scored
    tested = tests[tests["p_value"].notna()]
    assert len(tested) >= 3 * len(METRICS)  # chance and rungs, every metric
    assert np.allclose(tested["p_holm"], stats.holm(tested["p_value"].to_numpy()))
    assert tests[tests["p_value"].isna()]["p_holm"].isna().all()


def test_per_family_breakdown_repeats_the_primary_contrast_untested(scored):
    _, tests = scored
    fam = tests[tests["family"] != "all"].set_index("family")
    assert set(fam.index) == {"mlp", "nb201", "fcnet"}
    assert fam.loc["mlp", "effect"] == pytest.approx(0.8 - 0.5)
    assert (fam["n_benchmarks"] == 1).all() and fam["p_value"].isna().all()
    assert fam["note"].str.contains("not tested").all()


def test_difference_in_differences_and_echo_rate_across_roles():
    # image: model 0.8 over prior 0.1 everywhere (gain 0.7), echo always; text: model 0.5 over prior 0.3 (gain 0.2)
    image = table({k: 0.8 for k in MODEL}, PRIOR, FANOVA, ECHO, "mm", "image", echo=1.0)
    text = table({k: 0.5 for k in MODEL}, {k: 0.3 for k in MODEL}, FANOVA, ECHO, "llm", "text", echo=0.0)
    means = inf.benchmark_means(pd.DataFrame(image + text), [BUDGET])
    roles = {"mm": "image", "llm": "text"}
    primary = inf.resolve_primary({"method": "mm"}, ["mm", "llm"], [BUDGET])
    tests = inf.contrasts(means, [BUDGET], ["mm", "llm"], roles, primary, n_bootstrap=200).set_index("contrast")
    did = tests.loc["gain over prior: image vs text"]
    assert did["effect"] == pytest.approx(0.7 - 0.2) and did["n_benchmarks"] == 3
    assert did["ci_low"] == pytest.approx(0.5) and did["ci_high"] == pytest.approx(0.5)
    rate = tests.loc["echo rate: image vs text"]
    assert (rate["mean_a"], rate["mean_b"], rate["effect"]) == (1.0, 0.0, 1.0)
    assert tests.iloc[0]["method"] == "mm"  # the configured primary method


def test_summary_per_family_with_interval():
    df = pd.DataFrame(table(MODEL, PRIOR, FANOVA, ECHO))
    means = inf.benchmark_means(df, [BUDGET])
    s = inf.summary(means, "kendall_tau", n_bootstrap=200)
    row = s[(s["family"] == "all") & (s["source"] == "model")].iloc[0]
    assert row["n_benchmarks"] == 3 and row["kendall_tau_norm"] == pytest.approx(1.7 / 3)
    assert 0.4 - 1e-9 <= row["kendall_tau_norm_ci_low"] <= row["kendall_tau_norm_ci_high"] <= 0.8 + 1e-9
    assert set(s["family"]) == {"all", "mlp", "nb201", "fcnet"}


def test_primary_budget_must_be_a_reporting_budget():
    with pytest.raises(ValueError, match="insight.primary_contrast.budget 7 is not a reporting budget"):
        inf.resolve_primary({"budget": 7}, ["llm"], [10, 20])
    assert inf.resolve_primary(None, ["llm", "mm"], [10, 20]) == {**inf.DEFAULTS, "method": "llm", "budget": 20}
