"""Validation and resolution of a study config, shared by the Snakefile, the tests and library users.

Snakemake's ``validate`` fills defaults from ``hpo/config.schema.yaml`` but reports errors as multi-line jsonschema
dumps; we check first and fail with one line naming the key and the allowed values, before any job is planned, so a
typo never touches existing results. Two checks go beyond JSON Schema: an ``integer`` is a Python ``int`` (JSON
Schema also accepts ``6.0``, which later names files ``cd_diagram_budget6.0.png``), and every output location
(``results``, ``logs``, ``llm_cache``) must be a directory this process can create and write, checked before
Snakemake plans a job (it would otherwise end in a traceback from its file inventory).

Everything else that is decidable before a job is decided here too: each method kind's cross-field rules (its
``check_params``, next to its ``PARAMS_SCHEMA``), the names and output folders (:mod:`hpo.study.checks`: names that
become path components, ``results`` and ``logs`` being separate folders) and the endpoints (:mod:`hpo.study.endpoints`:
no credentials inside an endpoint's ``base_url``, since the URL is written to every trajectory's metadata, the job
logs and Snakemake's own records; the key belongs in the environment variable named by ``api_key_env``).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from hpo.study.checks import (
    LOG_DIRS,
    RESULT_DIRS,
    SAFE_NAME,
    StudyConfigError,
    check_multi_fidelity,
    check_names,
    check_output_dirs,
    check_removed_keys,
    check_separate_roots,
)
from hpo.study.endpoints import check_endpoint_urls, resolve_endpoints, spend_caps
from hpo.study.groups import resolve_groups
from hpo.util.defaults import fill_defaults
from hpo.util.suggest import LIST_HINT, close_match, unknown

# Names that moved to hpo.study.checks / hpo.study.endpoints stay importable from here, where callers look first.
__all__ = [
    "LOG_DIRS",
    "RESULT_DIRS",
    "SAFE_NAME",
    "StudyConfigError",
    "check_endpoint_urls",
    "check_output_dirs",
    "fill_defaults",
    "resolve_endpoints",
    "spend_caps",
    "validate_study",
]

# Package data (pyproject.toml), so a non-editable install validates studies too; the workflow reads the same file.
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config.schema.yaml"
log = logging.getLogger(__name__)


def _path(error: Any, where: str) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    return f"{where}{path}" if path else (where.rstrip(".") or "<top level>")


def _one_line(error: Any, where: str) -> str:
    msg = error.message
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
        hint = f"allowed keys: {', '.join(allowed)}"
        if len(extra) == 1 and close_match(extra[0], allowed):
            msg = unknown("key", extra[0], allowed, hint)
        else:
            msg += f"; {hint}"
    elif error.validator == "enum" and close_match(error.instance, map(str, error.validator_value)):
        what = "method kind" if list(error.absolute_path)[-1:] == ["kind"] else "value"
        msg = unknown(what, error.instance, error.validator_value, LIST_HINT if what == "method kind" else None)
    elif error.validator == "type" and "integer" in _as_list(error.validator_value):
        whole = _whole_number(error.instance)
        if whole is not None:
            msg += f" (write {whole}: a whole number, without a decimal point or exponent)"
    elif error.validator in ("maximum", "exclusiveMaximum") and "$comment" in error.schema:
        msg += f" ({error.schema['$comment']})"
    return f"{_path(error, where)}: {msg}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _whole_number(value: Any) -> int | None:
    """``6.0``, ``1e9`` or ``'3.0'`` (from ``--config budgets=[3.0]``) as the int it was meant to be, else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and abs(number) < 1e18 else None


def _is_int(checker: Any, instance: Any) -> bool:
    """JSON Schema's ``integer`` admits ``6.0``; ours means a Python int (never a bool, never a float)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12 with strict integers: ``n_trials: 6.0`` or ``--config n_trials=1e9`` names its key at once."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    return jsonschema.validators.extend(base, type_checker=base.TYPE_CHECKER.redefine("integer", _is_int))


def _first_error(schema: dict[str, Any], instance: Any, where: str = "") -> str | None:
    # The first key (by path); at one key its type error first: `n_trials: 1e9` must say "not an integer" before
    # "above the maximum".
    errors = sorted(
        _validator_class()(schema).iter_errors(instance),
        key=lambda e: ([str(p) for p in e.path], e.validator != "type"),
    )
    return _one_line(errors[0], where) if errors else None


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
    """hpo/config.schema.yaml with the list of method kinds filled in from the registry (written in one place only)."""
    import yaml

    from hpo.optimizers.registry import KINDS

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    schema["properties"]["methods"]["additionalProperties"]["properties"]["kind"]["enum"] = list(KINDS)
    return schema


def check_custom_benchmarks(custom: dict[str, Any], used: list[str], noisy: bool = False) -> None:
    """Check ``custom_benchmarks``: no name shadows a built-in id, and every entry named in ``used`` can run.

    Importing the class here (not in the run job) is what turns "hpobench is not installed", a broken benchmark
    module, a fidelity outside the fidelity space or a ``noisy`` setting the objective cannot honour into one line
    before any job is planned (:func:`hpo.benchmarks.hpobench_native.check_definition`).
    """
    from hpo import benchmarks
    from hpo.benchmarks.hpobench_native import FidelityError, NativeBenchmarkError, check_definition

    builtin = set(benchmarks.available())
    for name, definition in custom.items():
        if name in builtin:
            raise StudyConfigError(f"config error: custom_benchmarks.{name}: name is a built-in benchmark id; rename")
        if name not in used:
            continue
        try:
            check_definition(name, definition, noisy)
        except FidelityError as err:
            raise StudyConfigError(f"config error: custom_benchmarks.{name}.fidelity.{err.key}: {err}") from None
        except NativeBenchmarkError as err:
            raise StudyConfigError(f"config error: custom_benchmarks.{name}: {err}") from None


def resolve_budgets(given: list[int] | None, filled: list[int], n_trials: int, default: list[int]) -> list[int]:
    """The reporting budgets, sorted, with ``n_trials`` added.

    A budget the user gave above ``n_trials`` is refused (a silently dropped budget reads as "reported" in the
    config and is missing from every table); the schema's default budgets are meant for any study size and are
    clipped.
    """
    # Snakemake's `validate` writes the schema's default into the config a job process reads: that list is the
    # default, not the user's choice, wherever it comes from.
    if given is not None and list(given) != list(default):
        over = sorted(b for b in given if b > n_trials)
        if over:
            raise StudyConfigError(
                f"config error: budgets: {over} exceed n_trials={n_trials} (a run has no trial there); "
                f"lower them or raise n_trials"
            )
    return sorted({b for b in filled if b <= n_trials} | {n_trials})


def validate_study(config: dict[str, Any]) -> dict[str, Any]:
    """Check ``config`` and return it resolved (defaults filled, method params resolved, budgets clipped).

    Raises :class:`StudyConfigError` with a one-line message.
    """
    from hpo import benchmarks, optimizers

    schema = load_schema()
    config = coerce_cli_lists(schema, config)
    check_names(config)
    check_removed_keys(config)
    check_endpoint_urls(config.get("endpoints"))
    err = _first_error(schema, config)
    if err:
        raise StudyConfigError(f"config error: {err}")
    cfg = fill_defaults(schema, config)
    allowed = benchmarks.available()
    custom = cfg.get("custom_benchmarks") or {}
    for b in cfg["benchmarks"]:
        if b not in allowed and b not in custom:
            names = [*allowed, *custom]
            raise StudyConfigError(f"config error: benchmarks: {unknown('benchmark', b, names, LIST_HINT)}")
    check_custom_benchmarks(custom, used=cfg["benchmarks"], noisy=cfg["noisy"])
    for name, method in cfg["methods"].items():
        kind = method["kind"]
        pschema = optimizers.params_schema(kind)
        params = method.get("params") or {}
        for old, why in getattr(optimizers.get_class(kind), "RENAMED_PARAMS", {}).items():
            if old in params:
                raise StudyConfigError(f"config error: methods.{name}.params.{old}: {why}")
        err = _first_error(pschema, params, where=f"methods.{name}.params.")
        if err:
            allowed_keys = ", ".join(pschema.get("properties", {})) or "none"
            takes = "" if "allowed keys:" in err else f" (kind {kind} takes: {allowed_keys})"  # said once
            raise StudyConfigError(f"config error: {err}{takes}")
        method["params"] = fill_defaults(pschema, params)
        problem = optimizers.get_class(kind).check_params(method["params"])
        if problem:
            raise StudyConfigError(f"config error: methods.{name}.params: {problem}")
    check_multi_fidelity(cfg)
    cfg["skipped"] = resolve_endpoints(cfg, written=config)
    cfg.setdefault("llm_cache", f"{cfg['results']}/llm_cache")
    if cfg["n_init"] > cfg["n_trials"]:
        raise StudyConfigError(f"config error: n_init: {cfg['n_init']} exceeds n_trials={cfg['n_trials']}")
    default = schema["properties"]["budgets"]["default"]
    cfg["budgets"] = resolve_budgets(config.get("budgets"), cfg["budgets"], cfg["n_trials"], default)
    cfg["groups"] = resolve_groups(cfg)  # hpo.study.groups: one model per contrast
    check_separate_roots(cfg)
    check_output_dirs(cfg)
    from hpo.study.model_calls import model_call_warnings

    cfg["call_warnings"] = model_call_warnings(cfg)
    for line in cfg["call_warnings"]:
        log.warning("%s", line)
    return cfg
