"""Sphinx configuration of the MM-LLM-HPO documentation (MyST Markdown pages, the furo theme).

The build is strict: ``tests/test_docs.py`` runs ``sphinx-build -W --keep-going -n``, so a broken cross-reference,
a missing anchor or a page outside the navigation fails the test suite. Nothing here needs the network.
"""

import sys
from pathlib import Path

# autodoc imports `hpo` from this checkout, whether or not it is installed into the environment.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

project = "MM-LLM-HPO"
author = "MM-LLM-HPO contributors"
# Without `copyright` the theme's footer read "©. |"; the year range is the project's, not the build's.
copyright = f"2025-2026, {author}"
# autodoc renders the API reference (docs/api.md) from the docstrings; no network, the modules import lazily.
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# docs/notes/ holds working notes for maintainers (merge instructions), not pages of the site.
exclude_patterns = ["_build", "notes"]
# Anchors for every heading down to level 3, so `[text](page.md#a-heading)` links are checked by the build.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# furo: a wide content column (code blocks and the 4-panel figure are not clipped), dark mode, readable on phones.
html_theme = "furo"
html_title = "MM-LLM-HPO"
html_static_path = ["_static"]
nitpicky = True
# Signatures keep their parameters but not their annotations: the annotations name third-party types (pyarrow,
# pandas, ConfigSpace) that have no page here, and nitpicky mode would fail on each one. The docstrings say the types.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
# Docstrings cross-reference third-party types (no target without intersphinx, which needs the network) and internal
# helpers that the curated API reference leaves out; those render as plain code. MyST page links and heading
# anchors are still checked strictly.
nitpick_ignore_regex = [("py:.*", ".*")]
