"""The study-level commands of ``python -m hpo``: ``check-endpoint`` (hpo.study.preflight) and ``estimate``.

Both read a study file the way the workflow does (:func:`hpo.study.config.validate_study`), so what they check and
price is
exactly what ``snakemake --configfile STUDY`` will run, and write where the workflow's rules write.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load_study(path: str | Path) -> dict[str, Any]:
    """A study file, validated and resolved; its spending caps installed for the calls this process makes."""
    import yaml

    from hpo.llm.ledger import SPEND_ENV, spend_env
    from hpo.study.config import StudyConfigError, spend_caps, validate_study

    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise StudyConfigError(f"--configfile {path}: {err.strerror}") from None
    study = validate_study(raw if isinstance(raw, dict) else {})
    os.environ[SPEND_ENV] = spend_env(os.path.abspath(f"{study['results']}/spend"), spend_caps(study))
    return study


def check_endpoints(configfile: str, names: list[str], force: bool = False) -> list[str]:
    """Preflight each named endpoint (default: every endpoint the study's LLM methods use) -> one line each.

    A result whose endpoint digest matches is reused (cached by endpoint identity) unless ``force``.
    """
    from hpo.llm.endpoint import EndpointConfig
    from hpo.study.preflight import endpoint_digest, endpoint_spec, preflight_to_file, study_endpoints

    study = load_study(configfile)
    lines = []
    for name in names or study_endpoints(study):
        spec = endpoint_spec(study, name)
        out = Path(study["results"]) / "endpoints" / f"{name}.json"
        digest = endpoint_digest(EndpointConfig.from_dict(name, spec.params["endpoint_config"]))
        cached = out.exists() and json.loads(out.read_text()).get("digest") == digest and not force
        if not cached:
            preflight_to_file(spec, out, cache_dir=study["llm_cache"])
        doc = json.loads(out.read_text())
        latency = "n/a" if doc["latency_s"] is None else f"{doc['latency_s']:.2f} s"
        lines.append(
            f"{name}: ok{' (cached)' if cached else ''}, model {doc['model']}, dialect {doc['dialect']}, vision "
            f"{'verified' if doc['vision_verified'] else 'off'}, latency {latency}, "
            f"{doc['prompt_tokens_per_call']:.0f}+{doc['completion_tokens_per_call']:.0f} tokens and "
            f"${doc['cost_per_call']:.5f} per call -> {out}"
        )
    return lines


def estimate_table(configfile: str, llm_slots: int = 4, cores: int = 2) -> str:
    """The cost and time preview of a study file (hpo.study.estimate), as a Markdown table with its assumptions."""
    from hpo.study.estimate import CHARS_PER_TOKEN, estimate, table

    study = load_study(configfile)
    rows = estimate(study, llm_slots=llm_slots, cores=cores)
    if not rows:
        return "no LLM method: the study makes no model calls"
    notes = (
        f"Assumptions: prompt tokens = the methods' real prompts / {CHARS_PER_TOKEN} characters per token; calls and "
        "completion tokens per call from the kinds' profiles measured with the embedded model (hpo.study.estimate); "
        "model hours = calls x seconds per call (hpo.study.latency: measured in this study's results, else by a "
        f"preflight, python -m hpo check-endpoint); hours = model hours shared by {llm_slots} llm_slots (remote) or "
        f"{cores} cores (embedded); * = latency not measured, the embedded model's measured latency is used. Finished "
        "jobs count zero; python -m hpo plan adds the classical jobs and the whole study's wall time."
    )
    return f"{table(rows)}\n\n{notes}"
