"""The documentation stays true: it builds strictly, every repository path it names exists, its tables match the code.

The strict build (``-W --keep-going -n``) makes every Sphinx/MyST warning an error, so a broken cross-reference, a
heading anchor that no longer exists or a page missing from the navigation fails here, not in a reader's browser.
The path check covers what Sphinx cannot see: names of files, tests and modules written as inline code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from hpo.core.trajectory import COLUMNS

DOCS = ROOT / "docs"
# Pages of the site plus the front page; docs/notes/ holds merge notes, not pages (excluded in docs/conf.py too).
PAGES = sorted(p for p in DOCS.glob("*.md")) + [ROOT / "README.md"]
# Paths the docs name that are not in the repository on purpose: what a study writes, other projects' files.
NOT_OURS = ("results", "logs", "hpobench/", "carps/", "~", "$", "docs/_build", ".snakemake")
# Inline-code words that look like module names but are not (the trajectory's metadata key).
NOT_MODULES = {"hpo.meta"}
# The file the "adding a method kind" page asks the reader to write.
EXAMPLES = {"hpo/optimizers/my_search.py"}
# Objects docs/api.md must render (their HTML anchors), one per part of the public API.
API_SYMBOLS = (
    "hpo.run.harness.RunSpec",
    "hpo.run.harness.run",
    "hpo.optimizers.base.Optimizer",
    "hpo.benchmarks.make",
    "hpo.benchmarks.base.Benchmark",
    "hpo.core.trajectory.read",
    "hpo.report.build.summary",
)


def _code_words(text: str) -> list[str]:
    """Every word of every inline code span and command / code block, without the punctuation around it.

    Fenced blocks count when they hold commands or code (bash, python, yaml); a ``text`` block such as the outputs
    tree names what a study writes, relative to its results folder.
    """
    spans = re.findall(r"```(?:bash|python|yaml)\n(.*?)```", text, flags=re.S)
    spans += re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return [w.strip("()[]'\"").rstrip(",;:.") for span in spans for w in span.split()]


def _link_targets(text: str) -> list[str]:
    """Relative link targets of Markdown links (``[text](target)``) outside code, anchors removed."""
    prose = re.sub(r"`[^`\n]+`", "", re.sub(r"```.*?```", "", text, flags=re.S))
    return [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", prose) if "://" not in t and not t.startswith("#")]


def _is_repo_path(word: str) -> bool:
    """A word names a repository path if it has a slash and starts at a top-level entry or ends in a file name.

    ``trial i/n`` is prose; ``perf/x.py`` and ``benchmarks/x.py`` (a folder that no longer exists) are paths.
    """
    if "/" not in word or "://" in word or word.startswith(NOT_OURS):
        return False
    if re.fullmatch(r"\.?[\w.-]+(/[\w.*-]*)+", word) is None:
        return False
    return (ROOT / word.split("/")[0]).exists() or re.search(r"\.\w+$|/$", word) is not None


def _module_exists(dotted: str) -> bool:
    """``hpo.a.b`` is a module file, or ``hpo.a`` is one and defines ``b`` (function, class or constant)."""
    parts = dotted.split(".")
    for cut in (len(parts), len(parts) - 1):
        base = ROOT.joinpath(*parts[:cut])
        source = next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.exists()), None)
        if source is None:
            continue
        rest = parts[cut:]
        if not rest:
            return True
        text = source.read_text()
        # a definition, an assignment, or a lazily provided name the module lists in ``__all__`` (hpo.load_results)
        pattern = rf"^\s*(def|class)\s+{rest[0]}\b|^{rest[0]}\b.*=|^__all__ = .*\"{rest[0]}\""
        return bool(re.search(pattern, text, re.M))
    return False


def _test_names() -> set[str]:
    return {m for f in (ROOT / "tests").glob("test_*.py") for m in re.findall(r"^def (test_\w+)", f.read_text(), re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_name_a_page_gives_exists(page: Path) -> None:
    text = page.read_text()
    missing: list[str] = []
    tests = _test_names()
    for word in _code_words(text):
        file, _, test = word.partition("::")
        if test and not file:  # `::test_name`, shorthand for a test of the file named just before
            if test not in tests:
                missing.append(word)
        elif _is_repo_path(file) and file not in EXAMPLES:
            if not any(ROOT.glob(file.rstrip("/"))):
                missing.append(word)
            elif test and not re.search(rf"^def {test}\b", (ROOT / file).read_text(), re.M):
                missing.append(word)
        elif re.fullmatch(r"hpo(\.\w+)+", word) and word not in NOT_MODULES and not _module_exists(word):
            missing.append(word)
    for target in _link_targets(text):
        if not (page.parent / target).exists():
            missing.append(f"link {target}")
    assert not missing, f"{page.relative_to(ROOT)} names what does not exist: {missing}"


def _slug(heading: str) -> str:
    """The anchor MyST (and GitHub) give a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower()).replace(" ", "-")


def test_readme_anchors_exist() -> None:
    """The README is not part of the Sphinx build, so its ``docs/page.md#anchor`` links are checked here."""
    readme = (ROOT / "README.md").read_text()
    for page, anchor in re.findall(r"\]\((docs/[\w-]+\.md)#([\w-]+)\)", readme):
        headings = re.findall(r"^#{1,6} (.+)$", re.sub(r"```.*?```", "", (ROOT / page).read_text(), flags=re.S), re.M)
        assert anchor in {_slug(h) for h in headings}, f"README links {page}#{anchor}, which has no such heading"


def test_path_check_catches_a_stale_name() -> None:
    words = _code_words("see `hpo/fingerprint.py` and `tests/test_docs.py::test_nope`, `::test_strict_build`")
    assert words == ["hpo/fingerprint.py", "tests/test_docs.py::test_nope", "::test_strict_build"]
    assert _is_repo_path("hpo/fingerprint.py") and not any(ROOT.glob("hpo/fingerprint.py"))
    assert not _is_repo_path("results/runs/x.parquet") and not _is_repo_path("https://example.org/a")
    assert _module_exists("hpo.run.provenance.build_spec") and not _module_exists("hpo.fingerprint")
    assert _slug("LLAMBO (`llambo`)") == "llambo-llambo" and _slug("What setup builds and installs") == (
        "what-setup-builds-and-installs"
    )


def test_trajectory_table_matches_the_code() -> None:
    """The schema table of the outputs page is the list in hpo/core/trajectory.py, row for row and word for word."""
    text = (DOCS / "outputs.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (.+) \|$", text, flags=re.M)
    assert [(n, t, d) for n, t, d in rows] == [(n, str(t), d) for n, t, d in COLUMNS]


def test_methods_table_matches_the_registry() -> None:
    """Every registered kind has a row; every parameter a row names exists in its schema, with the default it gives."""
    from hpo.optimizers.registry import KINDS, get

    text = (DOCS / "methods.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \| .+? \| (.+) \|$", text, flags=re.M))
    assert set(rows) == set(KINDS)
    for kind, cell in rows.items():
        schema = get(kind).cls().PARAMS_SCHEMA.get("properties", {})
        for name, default in re.findall(r"`(\w+)`(?: \(([^;),]+))?", cell):
            if name in KINDS:  # "plus the `llm` parameters"
                continue
            assert name in schema, f"{kind}: the methods page names parameter {name!r}, which the kind does not take"
            if default:
                expected = json.dumps(schema[name].get("default")).strip('"')
                assert default == expected, f"{kind}.{name}: the page says {default}, the schema {expected}"


def test_config_table_names_every_study_key() -> None:
    """The configuration page's key table lists exactly the study schema's top-level keys."""
    from hpo.study.config import load_schema

    text = (DOCS / "configuration.md").read_text()
    first_cells = re.findall(r"^\| (`\w+`(?:, `\w+`)*) \|", text, flags=re.M)
    keys = {k for cell in first_cells for k in re.findall(r"`(\w+)`", cell)}
    assert keys == set(load_schema()["properties"])


def test_every_page_is_in_the_navigation() -> None:
    index = (DOCS / "index.md").read_text()
    listed = set(re.findall(r"^([\w-]+)$", index, flags=re.M))
    assert {p.stem for p in DOCS.glob("*.md")} - {"index"} == listed


def test_strict_build(tmp_path: Path) -> None:
    """Warnings are errors: broken links, anchors and references fail (nitpicky mode, fresh environment)."""
    flags = ["-E", "-W", "--keep-going", "-n", "-q", "-b", "html"]
    cmd = [sys.executable, "-m", "sphinx", *flags, str(DOCS), str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert (tmp_path / "index.html").exists() and (tmp_path / "outputs.html").exists()
    # The API reference is rendered from the docstrings (autodoc ran and imported hpo), and the footer has an owner.
    api = (tmp_path / "api.html").read_text()
    for symbol in API_SYMBOLS:
        assert f'id="{symbol}"' in api, f"{symbol} missing from the API reference"
    assert "©. |" not in (tmp_path / "index.html").read_text()


def test_tour_images_exist_and_are_small() -> None:
    """Every screenshot the tour page shows is in docs/_static/tour/ and commit-sized (< 300 KB)."""
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (DOCS / "tour.md").read_text())
    assert len(images) >= 3
    for image in images:
        path = DOCS / image
        assert path.is_file() and path.suffix == ".png", image
        assert path.stat().st_size < 300_000, f"{image} is {path.stat().st_size} bytes"
