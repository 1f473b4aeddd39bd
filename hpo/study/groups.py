"""Arm groups: the LLM methods a study compares as arms of one contrast, resolved and checked at planning.

"Do images help?" is identified only when the arms (text, image, blank image, ``images:`` ablations) differ in
nothing but what the model is shown. Two arms served by two models (GPT-4o vs the embedded 135M model) or with two
sampling setups would credit the images with the difference between the models, so the runnable arms of a group
must share what answers and how it samples: the endpoint (its normalized URL, or the embedded model), the model,
``temperature``, ``max_tokens``, ``structured_output``, and every method parameter both arms have except those an
arm varies by design (``images``) or that do not shape a reply (``cache``, ``endpoint``'s name): e.g.
``history_best_k``, ``history_recent_m``, ``max_reasks``, ``init``, ``detail``. The request seed is the run seed
for every kind (no setting to differ). Planning refuses a group that breaks this, with one line naming the field
and the arms.

A group also fixes, before any result exists, its classical *reference* (every arm is tested against it) and its
*primary* contrast (tested at full alpha; the report answers "Do images help optimization?" with it). Without a
``groups`` key, a study with a text arm (kind ``llm``) and an image arm (kind ``mm_llm``) gets the default group
``images``: the first ``llm`` method and every ``mm_llm`` / ``mm_llm_blank`` method, reference = the first
``random_search`` method, primary = the first image arm vs the text arm at ``n_trials``. ``groups: {}`` declares none.
The statistics are in :mod:`hpo.stats.arm_contrasts`.
"""

from __future__ import annotations

from typing import Any

from hpo.study.checks import StudyConfigError
from hpo.util.suggest import unknown

__all__ = ["DEFAULT_GROUP", "SAMPLING_FIELDS", "arm_order", "resolve_groups"]

DEFAULT_GROUP = "images"
# Endpoint fields that decide what answers and how it samples ("identity" = normalized URL or embedded:<model>).
SAMPLING_FIELDS = ("identity", "model", "temperature", "max_tokens", "structured_output")
# Method parameters that arms may differ in: what an ablation varies, or settings that shape no reply.
VARIED_PARAMS = frozenset({"endpoint", "endpoint_config", "cache", "images"})
ROLE_RANK = {"image": 0, "blank": 1, "text": 2}
# The kinds the default group is derived from (text, image, blank arm of "do images help?").
DEFAULT_KINDS = frozenset({"llm", "mm_llm", "mm_llm_blank"})


def _role(cfg: dict[str, Any], method: str) -> str | None:
    from hpo.optimizers.registry import get

    return get(cfg["methods"][method]["kind"]).role


def arm_order(cfg: dict[str, Any], arms: list[str]) -> list[str]:
    """Arms by role (image, blank, text, others), then as listed: the first of a pair is the one shown more."""
    return sorted(arms, key=lambda m: (ROLE_RANK.get(_role(cfg, m) or "", 3), arms.index(m)))


def _default(cfg: dict[str, Any]) -> dict[str, Any]:
    """The derived group (empty without both a text and an image arm); see the module docstring.

    Only the single-fidelity kinds (``DEFAULT_KINDS``) are derived: ``llm_mf`` and its image arms share the roles
    but answer another question against another reference (``hyperband``), so a study declares that group itself.
    """
    by_role: dict[str, list[str]] = {}
    for name in cfg["methods"]:
        role = _role(cfg, name) if cfg["methods"][name]["kind"] in DEFAULT_KINDS else None
        if role:
            by_role.setdefault(role, []).append(name)
    if not (by_role.get("text") and by_role.get("image")):
        return {}
    arms = [by_role["text"][0], *by_role["image"], *by_role.get("blank", [])]
    return {DEFAULT_GROUP: {"arms": arms}}


def _answer(cfg: dict[str, Any], method: str) -> dict[str, Any]:
    """What answers an arm and how: the endpoint's sampling fields and its reply-shaping parameters."""
    from hpo.llm.endpoint import EndpointConfig

    params = cfg["methods"][method]["params"]
    endpoint = EndpointConfig.from_dict(params["endpoint"], params["endpoint_config"])
    out: dict[str, Any] = {f: getattr(endpoint, f) for f in SAMPLING_FIELDS}
    out.update({f"params.{k}": v for k, v in params.items() if k not in VARIED_PARAMS})
    return out


def _check_same_answer(cfg: dict[str, Any], name: str, arms: list[str]) -> None:
    """One model, one sampling setup across the runnable arms, or one ``config error`` line naming the field."""
    answers = {m: _answer(cfg, m) for m in arms}
    first = arms[0]
    for other in arms[1:]:
        a, b = answers[first], answers[other]
        for key in [*SAMPLING_FIELDS, *(k for k in a if k.startswith("params.") and k in b)]:
            if a[key] != b[key]:
                field = "endpoint" if key == "identity" else key
                where = {m: cfg["methods"][m]["params"]["endpoint"] for m in (first, other)}
                raise StudyConfigError(
                    f"config error: groups.{name}: arms differ in {field}: {first} {a[key]!r} (endpoint "
                    f"{where[first]!r}), {other} {b[key]!r} (endpoint {where[other]!r}); a contrast needs one model "
                    "and one sampling setup: give every arm the same params.endpoint and settings"
                )


def _primary(cfg: dict[str, Any], name: str, group: dict[str, Any], arms: list[str]) -> dict[str, Any] | None:
    """The pre-registered primary contrast with its budget filled in (null = n_trials), or None."""
    where = f"config error: groups.{name}.primary"
    if "primary" in group:
        primary = group["primary"]
        if primary is None:
            return None
        for key in ("arm", "versus"):
            if primary[key] not in arms:
                raise StudyConfigError(f"{where}.{key}: {primary[key]!r} is not an arm; arms: {', '.join(arms)}")
        if primary["arm"] == primary["versus"]:
            raise StudyConfigError(f"{where}: arm and versus are both {primary['arm']!r}")
    else:
        image = [m for m in arms if _role(cfg, m) == "image"]
        text = [m for m in arms if _role(cfg, m) == "text"]
        if not (image and text):
            return None
        primary = {"arm": image[0], "versus": text[0]}
    budget = primary.get("budget") or cfg["n_trials"]
    if budget not in cfg["budgets"]:
        allowed = ", ".join(map(str, cfg["budgets"]))
        raise StudyConfigError(f"{where}.budget: {budget} is not a reporting budget; allowed: {allowed}")
    return {"arm": primary["arm"], "versus": primary["versus"], "budget": budget}


def _reference(cfg: dict[str, Any], name: str, group: dict[str, Any]) -> str | None:
    """The classical method every arm is tested against: as declared, else the first random_search method."""
    from hpo.optimizers.registry import get

    methods = cfg["methods"]
    if "reference" not in group:
        return next((m for m, v in methods.items() if v["kind"] == "random_search"), None)
    ref = group["reference"]
    if ref is None:
        return None
    classical = [m for m, v in methods.items() if not get(v["kind"]).llm]
    if ref not in classical:
        raise StudyConfigError(
            f"config error: groups.{name}.reference: {ref!r} is not a classical method of the study; "
            f"allowed: {', '.join(classical) or 'none'}"
        )
    return ref


def resolve_groups(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The study's groups, checked and filled in: ``{name: {arms, reference, primary}}``.

    Needs a study whose endpoints are resolved (``params.endpoint_config``) and whose ``budgets`` are final; arms
    the study skips (e.g. no vision endpoint) are kept, so the statistics can say which contrast was not run, and
    left out of the model check (they have no model). Raises :class:`StudyConfigError` with one line.
    """
    from hpo.optimizers.registry import get

    declared = cfg.get("groups")
    groups = _default(cfg) if declared is None else declared
    skipped = cfg.get("skipped") or {}
    out: dict[str, dict[str, Any]] = {}
    for name, group in groups.items():
        arms = list(group["arms"])
        for arm in arms:
            if arm not in cfg["methods"]:
                raise StudyConfigError(f"config error: groups.{name}.arms: {unknown('method', arm, cfg['methods'])}")
            kind = cfg["methods"][arm]["kind"]
            if not get(kind).llm:
                raise StudyConfigError(
                    f"config error: groups.{name}.arms: {arm} (kind {kind}) is not an LLM method; a classical "
                    "method is a group's `reference`"
                )
        runnable = [m for m in arms if m not in skipped]
        if len(runnable) > 1:
            _check_same_answer(cfg, name, runnable)
        out[name] = {
            "arms": arm_order(cfg, arms),
            "reference": _reference(cfg, name, group),
            "primary": _primary(cfg, name, group, arms),
        }
    return out
