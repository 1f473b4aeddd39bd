"""The README stays true: its schema table matches the code, its commands exist and CI runs its test command."""

from __future__ import annotations

import re

from conftest import ROOT

from hpo.trajectory import COLUMNS

README = (ROOT / "README.md").read_text()


def test_schema_table_matches_trajectory_columns() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (.+) \|$", README, flags=re.M)
    assert [(n, t, d) for n, t, d in rows] == [(n, str(t), d) for n, t, d in COLUMNS]


def test_two_commands_exist_and_ci_runs_the_test_command() -> None:
    assert "bash scripts/study.sh" in README and "bash scripts/test.sh" in README
    assert (ROOT / "scripts" / "study.sh").exists() and (ROOT / "scripts" / "test.sh").exists()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^bash scripts/test\.sh\b", ci, flags=re.M)
