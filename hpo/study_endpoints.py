"""The study's LLM endpoints: no credentials in a URL, each LLM method's endpoint resolved, the spending caps.

Split from :mod:`hpo.study`, which calls :func:`check_endpoint_urls` before the schema check (a URL with a key in it
is refused without being echoed) and :func:`resolve_endpoints` once the method parameters are filled.
"""

from __future__ import annotations

import re
from typing import Any

from hpo.study_checks import StudyConfigError

__all__ = ["check_endpoint_urls", "resolve_endpoints", "spend_caps"]

# Query parameters that carry a secret when they appear in a URL.
SECRET_QUERY = re.compile(r"(^|_|-)(key|token|secret|password|pass|auth|signature)$", re.IGNORECASE)


def check_endpoint_urls(endpoints: Any) -> None:
    """No credentials in a ``base_url``: refused, never echoed (the URL is written wherever a run is described)."""
    from urllib.parse import parse_qsl, urlsplit

    if not isinstance(endpoints, dict):
        return
    for name, values in endpoints.items():
        url = values.get("base_url") if isinstance(values, dict) else None
        if not isinstance(url, str):
            continue
        try:
            parts = urlsplit(url)
            userinfo = "@" in parts.netloc
            secrets = [k for k, _ in parse_qsl(parts.query) if SECRET_QUERY.search(k)]
        except ValueError:
            continue  # not a URL at all: EndpointConfig names it
        if userinfo or secrets:
            where = "user:password@ before the host" if userinfo else f"query parameter {secrets[0]!r}"
            raise StudyConfigError(
                f"config error: endpoints.{name}.base_url: contains credentials ({where}); remove them and put the "
                "key in the environment variable named by `api_key_env`"
            )


def resolve_endpoints(cfg: dict[str, Any]) -> dict[str, str]:
    """Attach each LLM method's resolved endpoint (``params.endpoint_config``); return the methods to skip.

    A multimodal method that names a text-only endpoint is an error; one that names none while the study has no
    vision endpoint is skipped with the reason, which the summary reports.
    """
    from hpo.llm.endpoint import EMBEDDED, EndpointConfig
    from hpo.optimizers import LLM_KINDS, VISION_KINDS

    endpoints = {EMBEDDED: {"embedded": True}, **(cfg.get("endpoints") or {})}
    resolved = {}
    for name, values in endpoints.items():
        try:
            resolved[name] = EndpointConfig.from_dict(name, values)
        except ValueError as err:
            raise StudyConfigError(f"config error: endpoints.{name}: {err}") from None
    skipped: dict[str, str] = {}
    for name, method in cfg["methods"].items():
        kind = method["kind"]
        if kind not in LLM_KINDS:
            continue
        params = method["params"]
        ep_name = params.get("endpoint")
        if ep_name is None:
            vision = [e for e in resolved.values() if e.vision]
            if kind in VISION_KINDS and not vision:
                skipped[name] = (
                    "no endpoint with vision: true is configured (the embedded SmolLM2 is "
                    "text-only); add one under `endpoints`"
                )
                continue
            ep_name = vision[0].name if kind in VISION_KINDS else EMBEDDED
        if ep_name not in resolved:
            raise StudyConfigError(
                f"config error: methods.{name}.params.endpoint: unknown endpoint {ep_name!r}; "
                f"allowed: {', '.join(resolved)}"
            )
        endpoint = resolved[ep_name]
        if kind in VISION_KINDS and not endpoint.vision:
            raise StudyConfigError(
                f"config error: methods.{name}.params.endpoint: {kind} sends images but endpoint "
                f"{ep_name!r} ({endpoint.model}) has no `vision: true`"
            )
        params["endpoint"] = ep_name
        # max_cost is a spend policy, not what answers: it reaches jobs through spend_caps, so raising it reruns nothing
        params["endpoint_config"] = {k: v for k, v in endpoint.as_dict().items() if k not in ("name", "max_cost")}
    return skipped


def spend_caps(cfg: dict[str, Any]) -> dict[str, float]:
    """Endpoint name -> ``max_cost`` (USD) of every capped endpoint of a validated study; the jobs' ledgers are
    ``<results>/spend/<name>.jsonl`` (:mod:`hpo.llm.ledger`)."""
    return {n: float(v["max_cost"]) for n, v in (cfg.get("endpoints") or {}).items() if v.get("max_cost") is not None}
