"""Validation and resolution of a study config, shared by the Snakefile, the tests and library users.

Snakemake's ``validate`` fills defaults from ``config/schema.yaml`` but reports errors as multi-line jsonschema
dumps; we check first and fail with one line naming the key and the allowed values, before any job is planned, so a
typo never touches existing results.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "schema.yaml"


class StudyConfigError(ValueError):
    """A study config that cannot run; the message is one line."""


def _path(error: Any, where: str) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{where}{path}" if path else (where.rstrip(".") or "<top level>")


def _one_line(error: Any, where: str) -> str:
    msg = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        msg += f"; allowed keys: {', '.join(allowed)}"
    return f"{_path(error, where)}: {msg}"


def _first_error(schema: dict[str, Any], instance: Any, where: str = "") -> str | None:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(instance), key=lambda e: list(e.path))
    return _one_line(errors[0], where) if errors else None


def fill_defaults(schema: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
    """Copy of ``instance`` with the top-level ``default`` values of ``schema`` filled in."""
    out = copy.deepcopy(instance)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out


def coerce_cli_lists(schema: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """``snakemake --config seeds=[0,1]`` yields ``['0', '1']``: turn such items back into integers."""
    out = dict(config)
    for key, sub in schema.get("properties", {}).items():
        if sub.get("type") == "array" and sub.get("items", {}).get("type") == "integer" and key in out:
            value = out[key]
            if isinstance(value, list):
                out[key] = [int(v) if isinstance(v, str) and v.strip().lstrip("-").isdigit() else v for v in value]
    return out


def load_schema() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(SCHEMA_PATH.read_text())


def check_custom_benchmarks(custom: dict[str, Any], used: list[str]) -> None:
    """Check ``custom_benchmarks``: no name shadows a built-in id, and every entry named in ``used`` can be built.

    Importing the class here (not in the run job) is what turns "hpobench is not installed" into one line before any
    job is planned.
    """
    from hpo import benchmarks
    from hpo.benchmarks.hpobench_native import NativeBenchmarkError, NativeDefinition, resolve_class

    builtin = set(benchmarks.available())
    for name, definition in custom.items():
        if name in builtin:
            raise StudyConfigError(f"config error: custom_benchmarks.{name}: name is a built-in benchmark id; rename")
        if name not in used:
            continue
        try:
            resolve_class(NativeDefinition.from_dict(name, definition).class_path)
        except NativeBenchmarkError as err:
            raise StudyConfigError(f"config error: custom_benchmarks.{name}: {err}") from None


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
        params["endpoint_config"] = {k: v for k, v in endpoint.as_dict().items() if k != "name"}
    return skipped


def validate_study(config: dict[str, Any]) -> dict[str, Any]:
    """Check ``config`` and return it resolved (defaults filled, method params resolved, budgets clipped).

    Raises :class:`StudyConfigError` with a one-line message.
    """
    from hpo import benchmarks, optimizers

    schema = load_schema()
    config = coerce_cli_lists(schema, config)
    err = _first_error(schema, config)
    if err:
        raise StudyConfigError(f"config error: {err}")
    cfg = fill_defaults(schema, config)
    allowed = benchmarks.available()
    custom = cfg.get("custom_benchmarks") or {}
    for b in cfg["benchmarks"]:
        if b not in allowed and b not in custom:
            names = ", ".join([*allowed, *custom])
            raise StudyConfigError(f"config error: benchmarks: unknown benchmark {b!r}; allowed: {names}")
    check_custom_benchmarks(custom, used=cfg["benchmarks"])
    for name, method in cfg["methods"].items():
        kind = method["kind"]
        pschema = optimizers.params_schema(kind)
        params = method.get("params") or {}
        err = _first_error(pschema, params, where=f"methods.{name}.params.")
        if err:
            allowed_keys = ", ".join(pschema.get("properties", {})) or "none"
            raise StudyConfigError(f"config error: {err} (kind {kind} takes: {allowed_keys})")
        method["params"] = fill_defaults(pschema, params)
    cfg["skipped"] = resolve_endpoints(cfg)
    cfg.setdefault("llm_cache", f"{cfg['results']}/llm_cache")
    if cfg["n_init"] > cfg["n_trials"]:
        raise StudyConfigError(f"config error: n_init: {cfg['n_init']} exceeds n_trials={cfg['n_trials']}")
    cfg["budgets"] = sorted({b for b in cfg["budgets"] if b <= cfg["n_trials"]} | {cfg["n_trials"]})
    return cfg
