"""Snakemake script of rule ``plot_mm_gallery``: prompt images of multimodal runs next to the proposals."""

from hpo.report.gallery import plot_gallery
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    plot_gallery(
        sm.input.trajectories,
        sm.params.runs,
        [sm.output.png, sm.output.pdf],
        sm.output.md,
        methods=sm.params.methods,
        image_dirs=list(sm.input.images),
    )
