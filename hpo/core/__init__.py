"""What every layer shares: the search space helpers, configuration identity, the trajectory file format,
and the influence ordering the history images draw.

May import: :mod:`hpo.util`.
"""
