"""One call from a finished study to data frames: ``hpo.load_results("results")``.

CARP-S and Optuna users expect their results as data frames without knowing the file layout; this reads the layout
docs/outputs.md describes and nothing else (no recomputation), so what it returns is exactly what the report shows.
A study that stopped early, or one without LLM methods, has some files missing: those tables are absent from the
result and :attr:`Results.missing` names them, instead of an error, because a partial study is still worth reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Results:
    """The study's tables (see docs/outputs.md for every column).

    * ``trajectories``: one row per (benchmark, method, seed, trial) on the comparison axis (equal cost on
      multi-fidelity benchmarks), with ``normalized_regret``; ``runs`` are the run files' own rows (every evaluation).
    * ``summary``: median and quartiles of normalized regret per (benchmark, method, budget); ``run_status``: which
      runs finished.
    * ``stats``: the statistics tables by name (``ranks``, ``friedman``, ``wilcoxon``, ``nemenyi``, ...);
      ``insight``: the insight tables by name; ``importance``: the ground-truth importance, long format.
    """

    path: Path
    trajectories: pd.DataFrame | None = None
    runs: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    run_status: pd.DataFrame | None = None
    stats: dict[str, pd.DataFrame] = field(default_factory=dict)
    insight: dict[str, pd.DataFrame] = field(default_factory=dict)
    importance: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)


def _run_files(root: Path) -> list[Path]:
    """``runs/<benchmark>/<method>/<seed>.parquet``, in a stable order (insight files and images excluded)."""
    return sorted(p for p in root.glob("runs/*/*/*.parquet") if p.stem.isdigit())


def load_results(path: str | Path = "results") -> Results:
    """Read a finished (or partial) study's results directory (the config's ``results``) into data frames.

    Raises a one-line ``FileNotFoundError`` when ``path`` holds no study at all (no run file, no aggregate).
    """
    import pandas as pd

    from hpo.insight.stats import TABLES as INSIGHT_TABLES
    from hpo.stats.tables import TABLES as STATS_TABLES

    root = Path(path)
    runs = _run_files(root)
    if not runs and not (root / "trajectories.parquet").exists():
        raise FileNotFoundError(f"{root}: no study results here (no runs/*/*/*.parquet, no trajectories.parquet)")
    out = Results(path=root)

    def read(rel: str) -> pd.DataFrame | None:
        file = root / rel
        if not file.exists():
            out.missing.append(rel)
            return None
        return pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)

    out.trajectories = read("trajectories.parquet")
    out.summary = read("summary.csv")
    out.run_status = read("run_status.csv")
    out.importance = read("importance/importance.csv")
    out.stats = {n: df for n in STATS_TABLES if (df := read(f"stats/{n}.csv")) is not None}
    out.insight = {n: df for n in INSIGHT_TABLES if (df := read(f"stats/{n}.csv")) is not None}
    if runs:
        out.runs = pd.concat([pd.read_parquet(p) for p in runs], ignore_index=True)
    else:
        out.missing.append("runs/*/*/*.parquet")
    return out
