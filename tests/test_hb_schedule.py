"""The Hyperband schedule: Li et al.'s brackets (checked against SMAC's own table), promotions, extra evaluations."""

from __future__ import annotations

import math

import pytest

from hpo.optimizers.hb_schedule import HyperbandSchedule, Step, bracket_table


def li_table(fmin: float, fmax: float, eta: int) -> dict[int, list[tuple[int, float]]]:
    """Li et al. (2018), Algorithm 1, written out independently: R = fmax / fmin in units of fmin."""
    R = fmax / fmin
    s_max = int(math.floor(math.log(R) / math.log(eta) + 1e-12))
    B = (s_max + 1) * R
    out = {}
    for s in range(s_max, -1, -1):
        n = math.ceil(B / R * eta**s / (s + 1))
        r = R * eta**-s
        out[s] = [(math.floor(n * eta**-i), fmin * r * eta**i) for i in range(s + 1)]
    return out


@pytest.mark.parametrize(("fmin", "fmax", "eta"), [(1, 100, 3), (1, 81, 3), (0.1, 1.0, 2), (5, 200, 4)])
def test_brackets_are_li_et_al(fmin: float, fmax: float, eta: int) -> None:
    got, want = bracket_table(fmin, fmax, eta), li_table(fmin, fmax, eta)
    assert list(got) == list(want)
    for s in want:
        assert [n for n, _ in got[s]] == [n for n, _ in want[s]]
        assert [r for _, r in got[s]] == pytest.approx([r for _, r in want[s]], rel=1e-9)


def test_brackets_are_smacs() -> None:
    """[1, 100] / eta 3: the table printed from SMAC's own Hyperband (the study's ``hyperband`` reference)."""
    from smac.intensifier.hyperband_utils import determine_HB

    smac = determine_HB(min_budget=1, max_budget=100, eta=3)
    got = bracket_table(1, 100, 3)
    assert [[n for n, _ in got[s]] for s in got] == [[81, 27, 9, 3, 1], [34, 11, 3, 1], [15, 5, 1], [8, 2], [5]]
    for stage, s in enumerate(got):
        assert [n for n, _ in got[s]] == smac["n_configs_in_stage"][stage]
        assert [r for _, r in got[s]] == pytest.approx(smac["budgets_in_stage"][stage], rel=1e-9)
    assert HyperbandSchedule(1, 100).levels == pytest.approx([100 / 81, 100 / 27, 100 / 9, 100 / 3, 100])
    assert HyperbandSchedule(1, 81).levels == [1, 3, 9, 27, 81]


def run_scheduled(sched: HyperbandSchedule, loss: dict[str, float], n: int) -> list[Step]:
    """Follow the schedule for ``n`` evaluations; new configurations are named c0, c1, ... in order."""
    steps, made = [], 0
    for _ in range(n):
        step = sched.next_step()
        assert sched.next_step() == step  # asking twice changes nothing
        key = step.key
        if step.action == "new":
            key, made = f"c{made}", made + 1
        steps.append(step)
        sched.record(key, step.fidelity, loss.get(key, 1000.0 + made))
    return steps


def test_one_full_round_promotes_the_best_third() -> None:
    sched = HyperbandSchedule(1, 81, 3)
    loss = {f"c{i}": float((i * 37) % 101) for i in range(300)}
    steps = run_scheduled(sched, loss, sum(n for rungs in bracket_table(1, 81).values() for n, _ in rungs))
    assert sched.extra == 0 and sched.brackets_done == 5 and sched.bracket == 4 and sched.rung == 0
    first = steps[:81]
    assert all(s.action == "new" and s.fidelity == 1 and s.bracket == 4 for s in first)
    promoted = steps[81 : 81 + 27]
    assert all(s.action == "promote" and s.fidelity == 3 and s.rung == 1 for s in promoted)
    # rung 1 takes the 27 best of rung 0, best first
    best27 = sorted((f"c{i}" for i in range(81)), key=lambda k: (loss[k], int(k[1:])))[:27]
    assert [s.key for s in promoted] == best27
    # then 9 of those at 9, 3 at 27, 1 at 81: the single best of all 81
    assert [s.key for s in steps[108:117]] == best27[:9]
    assert steps[120].key == best27[0] and steps[120].fidelity == 81
    # the next bracket (s = 3) starts 34 new configurations at 3
    assert steps[121] == Step("new", 3.0, None, 3, 0)
    sizes = {(s.bracket, s.rung): 0 for s in steps}
    for s in steps:
        sizes[(s.bracket, s.rung)] += 1
    assert sizes == {(b, i): n for b, rungs in bracket_table(1, 81).items() for i, (n, _) in enumerate(rungs)}
    # the history holds every configuration at every fidelity it reached
    h = sched.history()
    assert h[best27[0]] == {1.0: loss[best27[0]], 3.0: loss[best27[0]], 9.0: loss[best27[0]], 27.0: loss[best27[0]],
                            81.0: loss[best27[0]]}  # fmt: skip


def test_brackets_repeat_forever() -> None:
    sched = HyperbandSchedule(1, 9, 3)  # brackets: s=2 (9@1, 3@3, 1@9), s=1 (5@3, 1@9), s=0 (3@9)
    steps = run_scheduled(sched, {}, 2 * (13 + 6 + 3) + 1)
    assert [s.bracket for s in steps[:22]] == [2] * 13 + [1] * 6 + [0] * 3
    shape = [(s.action, s.fidelity, s.bracket, s.rung) for s in steps]
    assert shape[22:] == shape[: len(steps) - 22]
    assert sched.brackets_done == 6


def test_extra_evaluations_fill_slots_only_where_hyperband_could() -> None:
    sched = HyperbandSchedule(1, 9, 3)
    sched.record("x", 9.0, 0.5)  # another fidelity: extra
    assert sched.extra == 1 and sched.next_step() == Step("new", 1.0, None, 2, 0)
    for i in range(9):
        sched.record(f"c{i}", 1.0, float(i))
    sched.record("c0", 1.0, 0.0)  # already in rung 0 of this bracket: extra
    assert sched.extra == 2
    assert sched.next_step() == Step("promote", 3.0, "c0", 2, 1)
    sched.record("zzz", 3.0, 9.9)  # not in rung 0: cannot be promoted, extra
    assert sched.extra == 3
    sched.record("c5", 3.0, 0.1)  # a worse configuration of rung 0, promoted by the caller: fills a slot
    assert sched.extra == 3 and sched.next_step().key == "c0"
    sched.record("c0", 3.0, 0.3)
    assert sched.next_step() == Step("promote", 3.0, "c1", 2, 1)  # the best of the rest, not c5 again
    sched.record("c1", 3.0, 0.2)
    # rung 1 full (c5, c0, c1): rung 2 promotes the best there, c5
    assert sched.next_step() == Step("promote", 9.0, "c5", 2, 2)
    assert sched.history()["c5"] == {1.0: 5.0, 3.0: 0.1}
    assert sched.history()["x"] == {9.0: 0.5}


def test_nan_ranks_last() -> None:
    sched = HyperbandSchedule(1, 3, 3)  # s=1: 3@1 then 1@3
    sched.record("a", 1.0, float("nan"))
    sched.record("b", 1.0, 2.0)
    sched.record("c", 1.0, 1.0)
    assert sched.next_step() == Step("promote", 3.0, "c", 1, 1)


@pytest.mark.parametrize(("fmin", "fmax", "eta"), [(0, 10, 3), (5, 5, 3), (1, 10, 1)])
def test_bad_range_is_one_line(fmin: float, fmax: float, eta: int) -> None:
    with pytest.raises(ValueError, match="Hyperband needs"):
        HyperbandSchedule(fmin, fmax, eta)
