"""The study report: the HTML/Markdown page that assembles figures, statistics and the insight section,
and the multimodal gallery.

May import: insight, stats, analysis, core, util.
"""
