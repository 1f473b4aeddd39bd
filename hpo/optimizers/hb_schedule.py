"""Hyperband's schedule without a sampler: which evaluation comes next, a new configuration or a promotion.

Li et al. (2018), *Hyperband*, Algorithm 1, with the benchmark's fidelity range ``[fmin, fmax]`` as ``R = fmax / fmin``:
``s_max = floor(log_eta R)``; bracket ``s`` (``s_max`` down to 0, then again) starts ``n = ceil((s_max + 1) / (s + 1)
* eta**s)`` configurations at ``r = fmax * eta**-s`` and keeps the best ``floor(n * eta**-i)`` at rung ``i`` (fidelity
``fmax * eta**(i - s)``). These are SMAC's ``Hyperband`` brackets exactly (``smac.intensifier.hyperband_utils
.determine_HB``; ``[1, 100]``, eta 3: 81, 34, 15, 8, 5 configurations, rungs 100/81, 100/27, ..., 100), so ``llm_hb``
differs from the study's ``hyperband`` only in who proposes the new configurations. Why not Optuna's ladder
(:func:`hpo.optimizers.optuna_hb.rung_ladder`, ``fmin * eta**k`` then ``fmax``): where ``fmax / fmin`` is not a power
of ``eta`` it has one more rung than Li et al.'s brackets (``[1, 100]``: 1, 3, 9, 27, 81, 100); where it is (``[1,
81]``) the two ladders are the same.

The schedule is synchronous successive halving inside each bracket: rung ``i + 1`` starts once rung ``i`` has all its
evaluations, and promotes the best of rung ``i`` (top ``1/eta``) one at a time, best first. It never runs out: after
bracket 0 the brackets start again at ``s_max``.

**Evaluations it did not schedule** (``llm_mf``'s own choices; :meth:`HyperbandSchedule.record` takes any): one at the
running rung's fidelity fills a slot of that rung while it has room, when it is one Hyperband could have made there
(rung 0: a configuration not yet in it; rung ``i > 0``: a configuration of rung ``i - 1`` not yet in rung ``i``), so a
caller that does what Hyperband would do, or something close, advances the bracket as Hyperband would; any other
evaluation (another fidelity, a configuration the rung cannot take) is kept in :meth:`~HyperbandSchedule.history` and
counted in ``extra`` but fills no slot, so the brackets keep Li et al.'s sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Step:
    """What Hyperband would do next: evaluate a new configuration, or promote ``key`` (a ``config_json`` string)."""

    action: Literal["new", "promote"]
    fidelity: float
    key: str | None
    bracket: int  # s: s_max for the most exploratory bracket, 0 for the one that evaluates only at fmax
    rung: int  # 0 for the bracket's new configurations


def s_max_of(fmin: float, fmax: float, eta: int) -> int:
    """``floor(log_eta(fmax / fmin))`` without floating-point surprises (``log(81) / log(3)`` < 4)."""
    if not 0 < fmin < fmax:
        raise ValueError(f"Hyperband needs a fidelity range 0 < min < max, got [{fmin}, {fmax}]")
    if eta < 2:
        raise ValueError(f"Hyperband needs eta >= 2, got {eta}")
    s = 0
    while fmin * eta ** (s + 1) <= fmax * (1 + 1e-9):
        s += 1
    return s


def fidelity_levels(fmin: float, fmax: float, eta: int = 3) -> list[float]:
    """Every rung's fidelity, lowest first: ``fmax * eta**-k`` for ``k = s_max..0`` (12 significant digits, inside
    the range, as :mod:`hpo.optimizers.smac_mf` passes SMAC's budgets to the benchmark)."""
    s_max = s_max_of(fmin, fmax, eta)
    return [min(max(float(f"{fmax / eta**k:.12g}"), fmin), fmax) for k in range(s_max, -1, -1)]


def bracket_table(fmin: float, fmax: float, eta: int = 3) -> dict[int, list[tuple[int, float]]]:
    """Li et al.'s table: bracket ``s`` (``s_max`` first) -> ``[(n_i, r_i)]``, configurations and fidelity per rung."""
    s_max = s_max_of(fmin, fmax, eta)
    levels = fidelity_levels(fmin, fmax, eta)
    table = {}
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1) - 1e-9)
        table[s] = [(n // eta**i, levels[s_max - s + i]) for i in range(s + 1)]
    return table


@dataclass
class _Rung:
    size: int
    fidelity: float
    losses: dict[str, float] = field(default_factory=dict)  # member key -> its loss here, in record order


class HyperbandSchedule:
    """Hyperband's next action given what has been evaluated; see the module docstring for the rules."""

    def __init__(self, fmin: float, fmax: float, eta: int = 3) -> None:
        self.eta = eta
        self.s_max = s_max_of(fmin, fmax, eta)
        self.levels: list[float] = fidelity_levels(fmin, fmax, eta)
        self.table = bracket_table(fmin, fmax, eta)
        self.extra = 0  # evaluations recorded that filled no slot
        self.brackets_done = 0
        self._history: dict[str, dict[float, float]] = {}
        self._start(self.s_max)

    def _start(self, s: int) -> None:
        self.bracket = s
        self.rung = 0
        self._rungs = [_Rung(n, r) for n, r in self.table[s]]

    def _candidates(self) -> list[str]:
        """Configurations the running rung (``> 0``) may still promote, best first (ties: the earlier evaluation)."""
        below, here = self._rungs[self.rung - 1].losses, self._rungs[self.rung].losses
        order = {k: i for i, k in enumerate(below)}
        return sorted((k for k in below if k not in here), key=lambda k: (_rank(below[k]), order[k]))

    def next_step(self) -> Step:
        """What Hyperband evaluates next (the same answer until :meth:`record` is called)."""
        rung = self._rungs[self.rung]
        if self.rung == 0:
            return Step("new", rung.fidelity, None, self.bracket, 0)
        return Step("promote", rung.fidelity, self._candidates()[0], self.bracket, self.rung)

    def filled(self) -> int:
        """Slots of the running rung already filled (rung 0: the bracket's new configurations so far)."""
        return len(self._rungs[self.rung].losses)

    def record(self, key: str, fidelity: float, loss: float) -> None:
        """An evaluation happened (scheduled or not): remember it, and fill a slot of the running rung if it can."""
        self._history.setdefault(key, {})[float(fidelity)] = float(loss)
        rung = self._rungs[self.rung]
        fits = math.isclose(fidelity, rung.fidelity, rel_tol=1e-9) and key not in rung.losses
        if fits and self.rung > 0:
            fits = key in self._rungs[self.rung - 1].losses
        if not fits:
            self.extra += 1
            return
        rung.losses[key] = float(loss)
        if len(rung.losses) < rung.size:
            return
        if self.rung + 1 < len(self._rungs):
            self.rung += 1
        else:
            self.brackets_done += 1
            self._start(self.bracket - 1 if self.bracket > 0 else self.s_max)

    def history(self) -> dict[str, dict[float, float]]:
        """Every configuration recorded -> {fidelity: its latest loss there}, in first-record order."""
        return {k: dict(v) for k, v in self._history.items()}


def _rank(loss: float) -> float:
    return loss if loss == loss else math.inf  # NaN (a failed evaluation) ranks last
