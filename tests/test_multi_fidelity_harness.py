"""The harness on a multi-fidelity benchmark: the budget is normalized cost, every row records its fidelity and
cost, the incumbent is the best observed at the highest fidelity reached (regret at the maximum fidelity), and
aggregation compares methods at equal cost (:mod:`hpo.analysis.cost_axis`). A toy benchmark and a scripted
optimizer make every expected number computable by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from hpo.benchmarks.base import Evaluation, Reference
from hpo.benchmarks.multi_fidelity import MultiFidelityBenchmark
from hpo.optimizers.base import Optimizer, Proposal
from hpo.run.harness import RunSpec, run


@dataclass
class Quad(MultiFidelityBenchmark):
    """loss(x, f) = (x - 0.3)^2 + (1 - f / 9) * 0.5 * x on x in [0, 1], fidelity in [1, 9], cost f / 9."""

    id: str = "toy-mf"
    fidelity_min: float = 1.0
    fidelity_max: float = 9.0
    _space: Any = field(default=None, init=False, repr=False)

    @property
    def space(self) -> Any:
        if self._space is None:
            from ConfigSpace import ConfigurationSpace, UniformFloatHyperparameter

            self._space = ConfigurationSpace(seed=0)
            self._space.add(UniformFloatHyperparameter("x", 0.0, 1.0))
        return self._space

    def evaluate_at(self, config: Any, fidelity: float, rng: np.random.Generator) -> Evaluation:
        f = self.check_fidelity(fidelity)
        x = float(config["x"])
        return Evaluation((x - 0.3) ** 2 + (1 - f / 9) * 0.5 * x, f / 9)

    def true_loss(self, config: Any) -> float:
        return (float(config["x"]) - 0.3) ** 2

    @property
    def reference(self) -> Reference:
        return Reference(0.0, 0.1, 0.49)


# (x, fidelity) the scripted optimizer asks, in order: cheap looks first, then a full evaluation of a worse point.
SCRIPT = [(0.0, 1), (0.3, 1), (0.9, 3), (0.5, 9), (0.29, 1), (0.31, 9), (0.2, 9), (0.1, 9)]


class Scripted(Optimizer):
    MULTI_FIDELITY = True

    def setup(self) -> None:
        self.i = 0

    @property
    def uses_shared_initial_design(self) -> bool:
        return False

    def ask(self) -> Proposal:
        from ConfigSpace import Configuration

        x, f = SCRIPT[self.i % len(SCRIPT)]
        self.i += 1
        return Proposal(Configuration(self.space, values={"x": x}), fidelity=f)

    def tell(self, config: Any, loss: float, cost: float) -> None:
        pass


def _run(monkeypatch: pytest.MonkeyPatch, n_trials: int) -> Any:
    import hpo.run.harness as runner

    monkeypatch.setattr(
        runner, "make_optimizer", lambda spec, bench, **_: Scripted(bench.space, seed=0, n_trials=n_trials, params={})
    )
    monkeypatch.setattr(runner, "package_versions", lambda kind: {}, raising=False)
    spec = RunSpec("toy-mf", "scripted", "random_search", seed=0, n_trials=n_trials, n_init=0)
    return run(spec, Quad())


def test_budget_is_normalized_cost_and_rows_record_fidelity_and_incumbent(monkeypatch: pytest.MonkeyPatch) -> None:
    table, meta = _run(monkeypatch, n_trials=2)
    df = table.to_pandas()
    # Costs 1/9, 1/9, 3/9, 9/9 -> 14/9 < 2; then 1/9 -> 15/9; then 9/9 -> 24/9 >= 2: the run stops there.
    assert list(df["fidelity"]) == [1, 1, 3, 9, 1, 9]
    assert df["eval_cost"].tolist() == pytest.approx([1 / 9, 1 / 9, 3 / 9, 1, 1 / 9, 1])
    assert df["cum_eval_cost"].iloc[-1] == pytest.approx(24 / 9) and list(df["trial"]) == [1, 2, 3, 4, 5, 6]
    # Incumbent: best observed at the highest fidelity reached. At f 1, x 0 (0.09) beats x 0.3 (biased: 0.133);
    # the first f-3 row takes over although it is worse (x 0.9), then f 9: x 0.5 (row 4), x 0.31 (row 6). Regret is
    # the incumbent's true loss at the maximum fidelity.
    assert df["regret"].tolist() == pytest.approx([0.09, 0.09, 0.36, 0.04, 0.04, 0.0001])
    assert meta["f_star"] == 0.0


def test_aggregation_compares_at_equal_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    from hpo.analysis.cost_axis import is_multi_fidelity_run, on_cost_axis

    table, _ = _run(monkeypatch, n_trials=2)
    assert is_multi_fidelity_run(table)
    df = on_cost_axis(table, 2).to_pandas()
    # Checkpoint 1: the last evaluation with cumulative cost <= 1 is row 3 (5/9); checkpoint 2: row 5 (15/9).
    assert list(df["trial"]) == [1, 2] and df["regret"].tolist() == pytest.approx([0.36, 0.04])
    assert df["cum_eval_cost"].tolist() == pytest.approx([5 / 9, 15 / 9])


def test_full_fidelity_method_on_a_multi_fidelity_benchmark_pays_one_per_trial() -> None:
    from hpo.analysis.cost_axis import on_cost_axis
    from hpo.optimizers import params_schema
    from hpo.study.config import fill_defaults

    spec = RunSpec(
        "toy-mf",
        "rs",
        "random_search",
        seed=0,
        n_trials=5,
        n_init=2,
        params=fill_defaults(params_schema("random_search"), {}),
    )
    table, _ = run(spec, Quad())
    df = table.to_pandas()
    assert len(df) == 5 and (df["fidelity"] == 9).all() and (df["eval_cost"] == 1).all()
    assert on_cost_axis(table, 5).to_pandas()["regret"].tolist() == df["regret"].tolist()


def test_fidelity_outside_the_range_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"^toy-mf: fidelity 10 is outside \[1.0, 9.0\]$"):
        Quad().evaluate_at({"x": 0.5}, 10, np.random.default_rng(0))


def test_a_continued_evaluation_pays_only_the_increment(monkeypatch: pytest.MonkeyPatch) -> None:
    """x 0.5 trained to fidelity 1, continued to 3 and to 9: 1/9 + 2/9 + 6/9 = one full evaluation, so a budget
    of 1 ends there; a fresh evaluation at 9 would have cost 1 alone."""
    import hpo.run.harness as runner

    class Continuing(Scripted):
        def ask(self) -> Proposal:
            from ConfigSpace import Configuration

            f = (1, 3, 9)[self.i % 3]
            self.i += 1
            return Proposal(Configuration(self.space, values={"x": 0.5}), fidelity=f, continues=f > 1)

    monkeypatch.setattr(
        runner, "make_optimizer", lambda spec, bench, **_: Continuing(bench.space, seed=0, n_trials=1, params={})
    )
    table, _ = run(RunSpec("toy-mf", "c", "random_search", seed=0, n_trials=1, n_init=0), Quad())
    df = table.to_pandas()
    assert list(df["fidelity"]) == [1, 3, 9] and df["eval_cost"].tolist() == pytest.approx([1 / 9, 2 / 9, 6 / 9])


def test_planning_refuses_a_multi_fidelity_kind_on_a_benchmark_without_fidelity() -> None:
    from hpo.study.config import StudyConfigError, validate_study

    cfg = {
        "benchmarks": ["mfh3-good", "synth-branin"],
        "methods": {"hb": {"kind": "optuna_hb"}},
        "seeds": [0],
        "n_trials": 10,
        "n_init": 2,
        "results": "/tmp/hpo-test-mf/results",
        "logs": "/tmp/hpo-test-mf/logs",
    }
    with pytest.raises(StudyConfigError) as err:
        validate_study(cfg)
    line = str(err.value)
    assert line.startswith("config error: methods.hb: kind optuna_hb needs benchmarks with a fidelity; synth-branin")
    assert "\n" not in line and "mfh3-good" in line
    assert validate_study({**cfg, "benchmarks": ["mfh3-good"]})["methods"]["hb"]["kind"] == "optuna_hb"


def test_multifidelity_study_config_plans() -> None:
    """config/multifidelity.yaml is a valid study: every multi-fidelity kind on benchmarks with a fidelity."""
    from pathlib import Path

    import yaml

    from hpo.study.config import validate_study

    cfg = yaml.safe_load((Path(__file__).parents[1] / "config" / "multifidelity.yaml").read_text())
    out = validate_study(cfg)
    kinds = {m["kind"] for m in out["methods"].values()}
    assert {"hyperband", "smac_mf", "optuna_hb", "dehb", "llm_hb", "llm_mf", "mm_llm_mf", "mm_llm_mf_blank"} <= kinds
    # the image arms wait for a vision endpoint; the contrasts the report answers are declared before any result
    assert set(out["skipped"]) == {"mm_llm_mf", "mm_llm_mf_blank"}
    assert out["groups"]["spend"]["primary"] == {"arm": "llm_mf", "versus": "llm_hb", "budget": out["n_trials"]}
    assert {g["reference"] for g in out["groups"].values()} == {"hyperband"}


def test_anytime_figure_draws_cost_on_multi_fidelity_benchmarks_and_marks_the_initial_design(tmp_path: Any) -> None:
    """The x-axis is cost where aggregation put the rows on the cost axis (a ``fidelity`` column), trials elsewhere,
    and both with the cost panels marked when a study mixes them; the shared initial design's end is found from
    the rows' ``origin``."""
    import pandas as pd

    from hpo.analysis.plots import X_COST, X_MIXED, X_TRIALS, initial_design_end, plot_anytime_regret, x_label

    def rows(bench: str, fidelity: float | None, n_init: int) -> pd.DataFrame:
        trials = range(1, 7)
        return pd.DataFrame(
            {
                "benchmark": bench,
                "method": "m",
                "seed": 0,
                "trial": list(trials),
                "origin": ["initial_design" if t <= n_init else "optimizer" for t in trials],
                "fidelity": fidelity,
                "normalized_regret": [1 / t for t in trials],
            }
        )

    mf, full = rows("mfh3-good", 100.0, 0), rows("synth-branin", None, 3)
    both = pd.concat([mf, full], ignore_index=True)
    assert x_label(mf, ["mfh3-good"]) == X_COST
    assert x_label(full, ["synth-branin"]) == X_TRIALS
    assert x_label(both, ["mfh3-good", "synth-branin"]) == X_MIXED
    assert initial_design_end(full) == 3 and initial_design_end(mf) is None
    out = tmp_path / "anytime.png"
    plot_anytime_regret(both, [out])
    assert out.stat().st_size > 0


def test_report_states_that_budgets_are_costs_on_multi_fidelity_benchmarks(tmp_path: Any) -> None:
    from hpo.report.build import cost_note, write_report_md

    assert cost_note([]) == ""
    md = write_report_md(tmp_path, tmp_path / "report.md", cost_benchmarks=["mfh3-good"], html_out=tmp_path / "r.html")
    assert cost_note(["mfh3-good"]) in md and "equal-cost checkpoints" in md
    assert "full-fidelity evaluations" in (tmp_path / "r.html").read_text()
    assert "Budget as cost" not in write_report_md(tmp_path, tmp_path / "plain.md")
