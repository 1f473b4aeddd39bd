"""Sphinx configuration of the MM-LLM-HPO documentation (MyST Markdown pages, builtin alabaster theme).

The build is strict: ``tests/test_docs.py`` runs ``sphinx-build -W --keep-going -n``, so a broken cross-reference,
a missing anchor or a page outside the navigation fails the test suite. Nothing here needs the network.
"""

project = "MM-LLM-HPO"
author = "MM-LLM-HPO contributors"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
# docs/notes/ holds working notes for maintainers (merge instructions), not pages of the site.
exclude_patterns = ["_build", "notes"]
# Anchors for every heading down to level 3, so `[text](page.md#a-heading)` links are checked by the build.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {"description": "LLMs and multimodal LLMs as hyperparameter optimizers", "fixed_sidebar": True}
nitpicky = True
