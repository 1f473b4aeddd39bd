"""DEHB (Awad, Mallik & Hutter, IJCAI 2021) through its ask/tell interface: differential evolution inside Hyperband.

DEHB runs Hyperband's brackets over the fidelity ladder it derives from the range ``[fmin, fmax]`` and ``eta``
(``dehb`` 0.1.2, ``_pre_compute_fidelity_spacing``): ``s_max + 1 = floor(log_eta(fmax / fmin)) + 1`` levels
``fmax * eta**-k`` (``[1, 100]``, eta 3: 1.23, 3.70, 11.1, 33.3, 100). Each level keeps its own DE subpopulation;
a new configuration of a rung is a DE mutant (``rand1_bin``, mutation factor 0.5, crossover 0.5, DEHB's defaults)
of the subpopulation at that level, and the first bracket starts from uniform random vectors. Like SMAC's
Hyperband, a promotion is a fresh evaluation at the higher fidelity (DEHB knows no continuation), so every rung
pays its full normalized cost, and the shared initial design is not used: DEHB fills its brackets itself.

What the library does that a study must not, and how it is kept out:

* It writes ``dehb.log`` and checkpoints into ``output_path`` (the current directory by default) and whenever the
  incumbent changes (``save_freq="incumbent"``): here ``output_path`` is a temporary directory removed at
  ``close``, ``save_freq="end"`` (which only saves when ``run`` ends; ask/tell never calls it) and the loguru sink
  it adds is removed.
* It reconfigures loguru's handlers globally (stdout at ``log_level``): ``log_level`` is ``ERROR``.
* It seeds the ConfigSpace object it is given (``cs.seed``): it gets a copy, so the benchmark's space is untouched.

Packaging: ``dehb`` 0.1.2 declares ``numpy<2`` but runs on numpy 2 (its maintainers say so, DEHB issue #93). It is
installed with ``--no-deps`` from ``requirements-nodeps.txt`` (``scripts/setup.sh``, and ``envs/run.post-deploy.sh``
for the conda env), and its real runtime dependencies are pinned in ``requirements.txt``.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from hpo.optimizers.base import Optimizer, Proposal, object_schema

if TYPE_CHECKING:
    from ConfigSpace import Configuration


def dehb_ladder(fmin: float, fmax: float, eta: int) -> list[float]:
    """The fidelity levels DEHB evaluates at, lowest first (DEHB's own formula, see the module docstring)."""
    import numpy as np

    n = -int(np.log(fmin / fmax) / np.log(eta)) + 1
    return [float(f) for f in fmax * np.power(eta, -np.linspace(n - 1, 0, n))]


class DEHBOptimizer(Optimizer):
    """DEHB's ``ask``/``tell`` with one worker; the pending job is remembered because ``tell`` carries no fidelity."""

    MULTI_FIDELITY = True
    PARAMS_SCHEMA: ClassVar[dict[str, Any]] = object_schema(
        {
            "eta": {"type": "integer", "minimum": 2, "default": 3},
            "mutation_factor": {"type": "number", "exclusiveMinimum": 0, "maximum": 2, "default": 0.5},
            "crossover_prob": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "strategy": {"type": "string", "default": "rand1_bin"},
        }
    )

    def setup(self) -> None:
        self._dehb: Any = None  # built at the first ask: the harness refuses a benchmark without fidelity first
        self._outdir: str | None = None
        self._sink: int | None = None
        self._pending: dict[str, Any] | None = None

    @property
    def uses_shared_initial_design(self) -> bool:
        return False  # DEHB fills its brackets itself

    def _build(self) -> None:
        from dehb import DEHB
        from loguru import logger

        fmin, fmax = self.context.fidelity_range()
        self._outdir = tempfile.mkdtemp(prefix="dehb-")
        handlers_before = set(logger._core.handlers)  # type: ignore[attr-defined]  # loguru keeps them here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._dehb = DEHB(
                cs=copy.deepcopy(self.space),
                f=None,
                min_fidelity=fmin,
                max_fidelity=fmax,
                eta=self.params["eta"],
                mutation_factor=self.params["mutation_factor"],
                crossover_prob=self.params["crossover_prob"],
                strategy=self.params["strategy"],
                seed=self.seed,
                n_workers=1,
                save_freq="end",
                output_path=self._outdir,
                log_level="ERROR",
            )
        added = set(logger._core.handlers) - handlers_before  # type: ignore[attr-defined]
        self._sink = max(added) if added else None  # the dehb.log file sink (the stdout one replaced the defaults)

    def ask(self) -> Proposal:
        if self._dehb is None:
            self._build()
        if self._pending is not None:
            raise RuntimeError("dehb: ask before the previous ask was told")
        with warnings.catch_warnings():  # dehb 0.1.2 calls ConfigSpace APIs that ConfigSpace 1.x deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            self._pending = self._dehb.ask()
        return Proposal(self._pending["config"], fidelity=float(self._pending["fidelity"]))

    def tell(self, config: Configuration, loss: float, cost: float) -> None:
        job, self._pending = self._pending, None
        if job is None or job["config"] != config:
            raise ValueError("dehb was told a configuration it did not ask for")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._dehb.tell(job, {"fitness": float(loss), "cost": 0.0 if cost != cost else float(cost)})

    def close(self) -> None:
        if self._sink is not None:
            from loguru import logger

            logger.remove(self._sink)
            self._sink = None
        if self._outdir:
            shutil.rmtree(self._outdir, ignore_errors=True)
