"""Snakemake script of rule ``estimate``: the study -> its cost and time preview (Markdown)."""

from hpo.study.config import validate_study
from hpo.study.estimate import estimate, table
from hpo.util.atomic import atomic_path
from hpo.util.logs import job_log

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    rows = estimate(validate_study(dict(sm.config)), llm_slots=int(sm.params.llm_slots), cores=int(sm.params.cores))
    text = table(rows) if rows else "no LLM method: the study makes no model calls"
    print(text)
    with atomic_path(sm.output[0]) as tmp:
        tmp.write_text(text + "\n")
