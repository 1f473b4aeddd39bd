"""Every optimizer with real SMAC / Optuna: inside the space, exact budget, shared initial design, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hpo.benchmarks as B
from hpo.optimizers import LLM_KINDS, available, get_class
from hpo.run.harness import RunSpec, run

N_TRIALS, N_INIT = 14, 5
# LLM kinds are covered in test_llm_*.py (they need a model endpoint)
# Full-fidelity classical kinds (multi-fidelity kinds need a benchmark with a fidelity: their own tests).
KINDS = [k for k in available() if k not in LLM_KINDS and not getattr(get_class(k), "MULTI_FIDELITY", False)]


def _run(kind: str, bid: str = "mlp-car", seed: int = 3):
    spec = RunSpec(benchmark=bid, method=kind, kind=kind, seed=seed, n_trials=N_TRIALS, n_init=N_INIT)
    table, meta = run(spec, B.make(bid))
    return table.to_pandas(), meta


@pytest.fixture(scope="module")
def runs(table_dir: Path) -> dict:
    return {kind: _run(kind) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_inside_space_exact_budget_reproducible(kind: str, runs: dict, table_dir: Path) -> None:
    df, meta = runs[kind]
    bench = B.make("mlp-car")
    assert len(df) == N_TRIALS and list(df["trial"]) == list(range(1, N_TRIALS + 1))
    for cfg in df["config"]:
        values = json.loads(cfg)
        assert set(values) == set(bench.space)
        for name, value in values.items():
            assert value in bench.space[name].sequence
    assert (df["origin"].iloc[:N_INIT] == "initial_design").all()
    assert (df["origin"].iloc[N_INIT:] == "optimizer").all()
    assert (df["regret"] >= 0).all() and df["best_loss"].is_monotonic_decreasing
    assert meta["spec"]["kind"] == kind and meta["f_star"] == bench.reference.f_star
    again, _ = _run(kind)
    assert list(again["config"]) == list(df["config"])
    assert list(again["loss"]) == list(df["loss"])


def test_shared_initial_design_and_methods_differ(runs: dict) -> None:
    first = {k: list(df["config"].iloc[:N_INIT]) for k, (df, _) in runs.items()}
    assert len({tuple(v) for v in first.values()}) == 1
    later = {k: tuple(df["config"].iloc[N_INIT:]) for k, (df, _) in runs.items()}
    assert len(set(later.values())) == len(later)  # the methods really propose different configs


def test_other_seed_other_initial_design(table_dir: Path) -> None:
    a, _ = _run("random_search", seed=0)
    b, _ = _run("random_search", seed=1)
    assert list(a["config"].iloc[:N_INIT]) != list(b["config"].iloc[:N_INIT])


def test_regret_uses_noise_free_incumbent(table_dir: Path) -> None:
    spec = RunSpec(
        benchmark="mlp-credit_g", method="rs", kind="random_search", seed=0, n_trials=30, n_init=5, noisy=True
    )
    bench = B.make("mlp-credit_g", noisy=True)
    df = run(spec, bench)[0].to_pandas()
    inc = df["incumbent"].map(lambda c: bench.true_loss(json.loads(c)))
    assert (df["regret"] - (inc - bench.reference.f_star)).abs().max() < 1e-12
    assert (df["loss"] != df["true_loss"]).any()  # observations really are noisy
    assert (df["regret"] >= 0).all()


def test_progress_lines_show_a_long_job_is_alive(table_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Every run logs 'trial i/n, best observed loss' about PROGRESS_LINES times, ending with the last trial."""
    import logging

    from hpo.run import harness as runner

    n = 150
    with caplog.at_level(logging.INFO, logger="hpo.run.harness"):
        spec = RunSpec(benchmark="mlp-car", method="rs", kind="random_search", seed=0, n_trials=n, n_init=2)
        table, _ = run(spec, B.make("mlp-car"))
    lines = [r.getMessage() for r in caplog.records if r.name == "hpo.run.harness"]
    every = n // runner.PROGRESS_LINES
    assert lines[0] == f"trial {every}/{n}, best observed loss {table['best_loss'][every - 1].as_py():.6g}"
    assert lines[-1].startswith(f"trial {n}/{n}, best observed loss ")
    assert len(lines) == n // every == runner.PROGRESS_LINES


def test_unknown_proposal_extras_are_refused(table_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in an optimizer's extras (a column that does not exist) fails the run instead of vanishing."""
    from hpo.optimizers import registry
    from hpo.optimizers.base import Proposal
    from hpo.optimizers.random_search import RandomSearch

    class Typo(RandomSearch):
        def ask(self) -> Proposal:
            return Proposal(super().ask().config, extras={"prompt_tokenz": 3})

    entry = registry.MethodKind("typo", f"{__name__}:Typo", "test")
    globals()["Typo"] = Typo
    monkeypatch.setitem(registry.KINDS, "typo", entry)
    spec = RunSpec(benchmark="mlp-car", method="typo", kind="typo", seed=0, n_trials=3, n_init=1)
    with pytest.raises(ValueError, match=r"typo: proposal extras \['prompt_tokenz'\] are not trajectory columns"):
        run(spec, B.make("mlp-car"))
