"""Helpers without a concern of their own: atomic writes, defaults from a JSON schema, logs and redaction,
source closures, package versions, name suggestions, Markdown/HTML and figure style.

May import: nothing else from ``hpo``.
"""
