"""``hpo.load_results``: a statistics stage's real outputs (write_stats on synthetic data) come back as frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_stats_outputs import study  # noqa: F401 (the fixture: real write_stats output in a temp results dir)

import hpo


def test_tables_come_back_and_missing_parts_are_named(study):  # noqa: F811
    res = hpo.load_results(study["dir"])
    assert set(res.trajectories["method"]) == {"good", "mid", "bad", "partial"}
    assert {"benchmark", "method", "seed", "trial", "normalized_regret"} <= set(res.trajectories.columns)
    assert set(res.run_status["method"]) >= {"mm_llm"}
    assert "ranks" in res.stats
    assert not res.stats["ranks"].empty
    # no run files, summary or importance in this directory: absent and named, not an error
    assert res.runs is None and res.summary is None and res.importance is None
    assert {"summary.csv", "importance/importance.csv", "runs/*/*/*.parquet"} <= set(res.missing)


def test_empty_directory_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no study results here"):
        hpo.load_results(tmp_path)
