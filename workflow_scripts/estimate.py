"""Snakemake script of rule ``estimate``: the study -> its cost and time preview (Markdown)."""

from hpo.atomic import atomic_path
from hpo.estimate import estimate, table
from hpo.logs import job_log
from hpo.study import validate_study

sm = snakemake  # noqa: F821 - injected by Snakemake
with job_log(sm.log[0]):
    rows = estimate(validate_study(dict(sm.config)), llm_slots=int(sm.params.llm_slots), cores=int(sm.params.cores))
    text = table(rows) if rows else "no LLM method: the study makes no model calls"
    print(text)
    with atomic_path(sm.output[0]) as tmp:
        tmp.write_text(text + "\n")
