"""The README stays a front page: short, its two commands exist and CI runs its test command.

What the README used to check itself (the trajectory schema table against the code) now lives on the docs page that
holds that table, checked by ``tests/test_docs.py`` together with every path and link the README names.
"""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_two_commands_exist_and_ci_runs_the_test_command() -> None:
    assert "bash scripts/study.sh" in README and "bash scripts/test.sh" in README
    assert (ROOT / "scripts" / "study.sh").exists() and (ROOT / "scripts" / "test.sh").exists()
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^bash scripts/test\.sh\b", ci, flags=re.M)


def test_readme_is_a_front_page_that_links_every_docs_page() -> None:
    """At most 150 lines (read in two minutes), and every page of the docs is reachable from it."""
    assert len(README.splitlines()) <= 150
    linked = set(re.findall(r"\]\(docs/([\w-]+)\.md", README))
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")} - {"index"}
    assert pages <= linked, f"docs pages the README does not link: {sorted(pages - linked)}"
