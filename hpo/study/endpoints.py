"""The study's LLM endpoints: no credentials in a URL, each LLM method's endpoint resolved, the spending caps.

Split from :mod:`hpo.study.config`, which calls :func:`check_endpoint_urls` before the schema check (a URL with a key
in it
is refused without being echoed) and :func:`resolve_endpoints` once the method parameters are filled.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from hpo.study.checks import StudyConfigError
from hpo.util.suggest import unknown

log = logging.getLogger(__name__)

__all__ = ["check_endpoint_urls", "resolve_endpoints", "shared_cap_warnings", "spend_caps"]

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


def resolve_endpoints(cfg: dict[str, Any], written: dict[str, Any] | None = None) -> dict[str, str]:
    """Attach each LLM method's resolved endpoint (``params.endpoint_config``); return the methods to skip.

    A multimodal method that names a text-only endpoint is an error; one that names none while the study has no
    vision endpoint is skipped with the reason, which the summary reports. A text arm (a kind whose role is
    ``text``, i.e. ``llm``) that names no endpoint gets the study's first vision endpoint when there is one, so
    the text and image arms ask one model (:mod:`hpo.study.groups`); without one it gets the embedded model.
    ``written`` is the study as written, before defaults: only there does "no endpoint named" differ from the
    ``embedded`` default of ``llm``'s schema (without it, that default counts as named).
    """
    from hpo.llm.endpoint import EMBEDDED, EndpointConfig
    from hpo.optimizers import LLM_KINDS, VISION_KINDS, get_class
    from hpo.optimizers.registry import get

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
        vision = [e for e in resolved.values() if e.vision]
        text_arm = get(kind).role == "text"
        if text_arm and vision and not _names_endpoint(written, name):
            ep_name = None  # the text arm asks the image arms' model
        if ep_name is None:
            if kind in VISION_KINDS and not vision:
                skipped[name] = (
                    "no endpoint with vision: true is configured (the embedded SmolLM2 is "
                    "text-only); add one under `endpoints`"
                )
                continue
            ep_name = vision[0].name if vision and (kind in VISION_KINDS or text_arm) else EMBEDDED
        if ep_name not in resolved:
            raise StudyConfigError(
                f"config error: methods.{name}.params.endpoint: {unknown('endpoint', ep_name, resolved)}"
            )
        endpoint = resolved[ep_name]
        refused = get_class(kind).embedded_refusal(kind) if endpoint.embedded else None  # type: ignore[attr-defined]
        if refused:
            raise StudyConfigError(f"config error: methods.{name}: {refused}")
        if kind in VISION_KINDS and not endpoint.vision:
            raise StudyConfigError(
                f"config error: methods.{name}.params.endpoint: {kind} sends images but endpoint "
                f"{ep_name!r} ({endpoint.model}) has no `vision: true`"
            )
        params["endpoint"] = ep_name
        # max_cost is a spend policy, not what answers: it reaches jobs through spend_caps, so raising it reruns nothing
        params["endpoint_config"] = {k: v for k, v in endpoint.as_dict().items() if k not in ("name", "max_cost")}
    return skipped


def _names_endpoint(written: dict[str, Any] | None, method: str) -> bool:
    """Whether the study as written names ``method``'s endpoint (True when unknown: the old default stands)."""
    if written is None:
        return True
    params = ((written.get("methods") or {}).get(method) or {}).get("params") or {}
    return params.get("endpoint") is not None


def spend_caps(cfg: dict[str, Any]) -> dict[str, float]:
    """Endpoint name -> ``max_cost`` (USD) of every capped endpoint of a validated study; the jobs' ledgers are
    ``<results>/spend/<name>.jsonl`` (:mod:`hpo.llm.ledger`). Capped names that are one endpoint are warned about
    (:func:`shared_cap_warnings`), once per process."""
    for line in shared_cap_warnings(cfg):
        if line not in _WARNED:
            _WARNED.add(line)
            log.warning("%s", line)
    return {n: float(v["max_cost"]) for n, v in (cfg.get("endpoints") or {}).items() if v.get("max_cost") is not None}


_WARNED: set[str] = set()  # spend_caps runs at every parse of the workflow; one warning per process is enough


def shared_cap_warnings(cfg: dict[str, Any]) -> list[str]:
    """One line per group of capped endpoint names that are one endpoint (same normalized ``base_url`` and model).

    Why: each name has its own ledger and its own ``max_cost``, so the provider can bill the sum of their caps
    while each cap reads as the limit. Not an error: two names may be meant (say, two temperatures, each with a
    budget); the line says what the exposure is and how to get one cap.
    """
    from hpo.llm.endpoint import normalize_url

    groups: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for name, values in (cfg.get("endpoints") or {}).items():
        if not isinstance(values, dict) or values.get("max_cost") is None or not values.get("base_url"):
            continue
        where = (normalize_url(str(values["base_url"])), str(values.get("model", "")))
        groups.setdefault(where, []).append((name, float(values["max_cost"])))
    lines = []
    for (url, model), capped in groups.items():
        if len(capped) > 1:
            names = " and ".join(f"{n!r} (max_cost ${c:g})" for n, c in capped)
            total = sum(c for _, c in capped)
            lines.append(
                f"endpoints {names} are one endpoint ({url}, model {model}) with a ledger each: the study may "
                f"spend up to ${total:g} there, the sum of their caps; to cap it once, let the methods share one "
                "endpoint name"
            )
    return lines
