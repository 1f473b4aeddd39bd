"""Validation and resolution of a study config, shared by the Snakefile, the tests and library users.

Snakemake's ``validate`` fills defaults from ``hpo/config.schema.yaml`` but reports errors as multi-line jsonschema
dumps; we check first and fail with one line naming the key and the allowed values, before any job is planned, so a
typo never touches existing results. Two checks go beyond JSON Schema: an ``integer`` is a Python ``int`` (JSON
Schema also accepts ``6.0``, which later names files ``cd_diagram_budget6.0.png``), and every output location
(``results``, ``logs``, ``llm_cache``) must be a directory this process can create and write, checked before
Snakemake plans a job (it would otherwise end in a traceback from its file inventory).

Everything else that is decidable before a job is decided here too: each method kind's cross-field rules (its
``check_params``, next to its ``PARAMS_SCHEMA``), names that become path components (:data:`SAFE_NAME`), ``results``
and ``logs`` being separate folders, and no credentials inside an endpoint's ``base_url`` (the URL is written to
every trajectory's metadata, the job logs and Snakemake's own records; the key belongs in the environment variable
named by ``api_key_env``).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from hpo.defaults import fill_defaults

__all__ = ["StudyConfigError", "check_output_dirs", "fill_defaults", "validate_study"]

# Method and benchmark names become folders (results/runs/<benchmark>/<method>/): letters, digits, `_`, `-`, `.`,
# never `.` or `..` alone (a method named `..` would write results/runs/<seed>.parquet for every benchmark).
SAFE_NAME = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.\-]+")
# Query parameters that carry a secret when they appear in a URL.
SECRET_QUERY = re.compile(r"(^|_|-)(key|token|secret|password|pass|auth|signature)$", re.IGNORECASE)

# Package data (pyproject.toml), so a non-editable install validates studies too; the workflow reads the same file.
SCHEMA_PATH = Path(__file__).resolve().parent / "config.schema.yaml"
log = logging.getLogger(__name__)


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


# Folders the rules write into, below `results` and `logs` (rules/*.smk; tests/test_config_errors.py checks this
# list against the rules); per-run folders are added per study.
RESULT_DIRS = ("runs", "tables", "figures", "stats", "importance", "endpoints")
LOG_DIRS = ("runs", "tables", "plots", "stats", "importance", "insight", "endpoints")


def _blocker(path: Path) -> Path | None:
    """The first existing component of ``path`` (from the top, ``path`` included) that is not a directory."""
    for part in [*reversed(path.parents), path]:
        if os.path.lexists(part) and not part.is_dir():
            return part
    return None


def _nearest_existing(path: Path) -> Path:
    for part in [path, *path.parents]:
        if part.is_dir():
            return part
    return Path(".")


def _probe_write(directory: Path) -> OSError | None:
    """Create and remove a temp file in ``directory``: the only test that holds for root and read-only mounts."""
    try:
        fd, name = tempfile.mkstemp(prefix=".hpo-write-probe-", dir=directory)
    except OSError as err:
        return err
    os.close(fd)
    os.unlink(name)
    return None


def check_names(config: dict[str, Any]) -> None:
    """Method, benchmark and custom benchmark names are safe single path components (:data:`SAFE_NAME`)."""
    named = [
        ("methods", config.get("methods")),
        ("benchmarks", config.get("benchmarks")),
        ("custom_benchmarks", config.get("custom_benchmarks")),
    ]
    for key, names in named:
        if not isinstance(names, dict | list):
            continue  # the schema check names the wrong type
        for name in names:
            if isinstance(name, str) and not SAFE_NAME.fullmatch(name):
                raise StudyConfigError(
                    f"config error: {key}: name {name!r} cannot be a folder name; use letters, digits, `_`, `-` "
                    "and `.` (not `.` or `..` alone, no `/`)"
                )


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


def check_separate_roots(cfg: dict[str, Any]) -> None:
    """``results`` and ``logs`` are distinct folders, neither inside the other.

    They have separate owners: the workflow's success hook deletes ``<logs>/run_status.csv`` (the failure report),
    which in a shared folder is rule aggregate's ``<results>/run_status.csv``, so every later run replans the study.
    """
    roots = {k: Path(os.path.abspath(cfg[k])).resolve() for k in ("results", "logs")}
    if roots["results"] == roots["logs"]:
        raise StudyConfigError(
            f"config error: logs: {cfg['logs']!r} is the results folder {cfg['results']!r}; choose separate folders"
        )
    for inner, outer in (("logs", "results"), ("results", "logs")):
        if roots[outer] in roots[inner].parents:
            raise StudyConfigError(
                f"config error: {inner}: {cfg[inner]!r} lies inside {outer} {cfg[outer]!r}; choose folders that do "
                "not nest"
            )


def check_output_dirs(cfg: dict[str, Any]) -> None:
    """Every output folder of the study must be a directory that exists or can be created, and be writable.

    A path blocked by a regular file (``results`` itself, ``results/runs``, ``logs/runs/<benchmark>``), a parent
    that cannot hold a new directory, or a directory without write permission is one line naming the config key
    and the path, before Snakemake plans a job. The cache folder is checked only when a method uses it.
    """
    from hpo.optimizers import LLM_KINDS

    pairs = [f"runs/{b}/{m}" for b in cfg["benchmarks"] for m in cfg["methods"]]
    llm = [m for m, v in cfg["methods"].items() if v["kind"] in LLM_KINDS]
    insight = [f"insight/{b}/{m}" for b in cfg["benchmarks"] for m in llm]  # rule insight's logs
    roots: list[tuple[str, Path, list[str]]] = [
        ("results", Path(cfg["results"]), [*RESULT_DIRS, *pairs]),
        ("logs", Path(cfg["logs"]), [*LOG_DIRS, *pairs, *insight]),
    ]
    if any(m["kind"] in LLM_KINDS for m in cfg["methods"].values()):
        roots.append(("llm_cache", Path(cfg["llm_cache"]), []))
    for key, root, subdirs in roots:
        for target in [root, *(root / sub for sub in subdirs)]:
            blocker = _blocker(target)
            if blocker is not None:
                what = "is a file, not a directory" if blocker.is_file() else "is not a directory"
                needed = "" if blocker == target else f" (needed for {str(target)!r})"
                raise StudyConfigError(
                    f"config error: {key}: {str(blocker)!r} {what}{needed}; move it away or choose another `{key}`"
                )
        where = _nearest_existing(root)
        err = _probe_write(where)
        if err is not None:
            verb = "write to" if where == root else f"create {str(root)!r} in"
            raise StudyConfigError(f"config error: {key}: cannot {verb} {str(where)!r}: {err.strerror}")
        for sub in subdirs:
            path = root / sub
            if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
                raise StudyConfigError(f"config error: {key}: cannot write to {str(path)!r}: permission denied")


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


def validate_study(config: dict[str, Any]) -> dict[str, Any]:
    """Check ``config`` and return it resolved (defaults filled, method params resolved, budgets clipped).

    Raises :class:`StudyConfigError` with a one-line message.
    """
    from hpo import benchmarks, optimizers

    schema = load_schema()
    config = coerce_cli_lists(schema, config)
    check_names(config)
    check_endpoint_urls(config.get("endpoints"))
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
            raise StudyConfigError(f"config error: {err} (kind {kind} takes: {allowed_keys})")
        method["params"] = fill_defaults(pschema, params)
        problem = optimizers.get_class(kind).check_params(method["params"])
        if problem:
            raise StudyConfigError(f"config error: methods.{name}.params: {problem}")
    cfg["skipped"] = resolve_endpoints(cfg)
    cfg.setdefault("llm_cache", f"{cfg['results']}/llm_cache")
    if cfg["n_init"] > cfg["n_trials"]:
        raise StudyConfigError(f"config error: n_init: {cfg['n_init']} exceeds n_trials={cfg['n_trials']}")
    cfg["budgets"] = sorted({b for b in cfg["budgets"] if b <= cfg["n_trials"]} | {cfg["n_trials"]})
    check_separate_roots(cfg)
    check_output_dirs(cfg)
    from hpo.model_calls import model_call_warnings

    cfg["call_warnings"] = model_call_warnings(cfg)
    for line in cfg["call_warnings"]:
        log.warning("%s", line)
    return cfg
