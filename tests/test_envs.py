"""Per-rule conda environments: every job-running rule names one, and the envs pin what requirements*.txt pins.

``--sdm conda`` builds envs/*.yaml, while the tests and most users run in the venv from requirements*.txt; if the two
drifted apart, a cluster run would use other library versions than the ones the tests passed with. conda itself is
not installed here, so what is checked is the agreement of the files (and of the venv the tests run in).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

ENV_FILES = sorted((ROOT / "envs").glob("*.yaml"))
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[\w,-]+\])?\s*==\s*([^\s;#]+)\s*$")


def canonical(name: str) -> str:
    """PEP 503 normalized name: ``PyYAML`` and ``pyyaml``, ``scikit_learn`` and ``scikit-learn`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_pins(path: Path, seen: set[Path] | None = None) -> dict[str, str]:
    """``name -> version`` of every ``==`` pin in a requirements file, following ``-r`` includes."""
    seen = seen if seen is not None else set()
    if path in seen:
        return {}
    seen.add(path)
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins.update(requirement_pins(path.parent / line.split(None, 1)[1], seen))
            continue
        m = _PIN.match(line)
        if not m:
            raise AssertionError(f"{path.name}: not pinned with ==: {raw!r}")
        pins[canonical(m.group(1))] = m.group(2)
    return pins


def env_pins(path: Path) -> dict[str, str]:
    """``name -> version`` of the pip packages of a conda env file; fails on any unpinned pip package."""
    deps = yaml.safe_load(path.read_text())["dependencies"]
    pip = [d for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{path.name}: expected one pip: section"
    pins: dict[str, str] = {}
    for spec in pip[0]["pip"]:
        m = _PIN.match(spec)
        assert m, f"{path.name}: pip package not pinned with ==: {spec!r}"
        pins[canonical(m.group(1))] = m.group(2)
    return pins


def all_requirement_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for path in sorted(ROOT.glob("requirements*.txt")):
        for name, version in requirement_pins(path).items():
            assert pins.setdefault(name, version) == version, f"{name} pinned to {pins[name]} and {version}"
    return pins


def test_env_files_exist() -> None:
    assert {p.name for p in ENV_FILES} >= {"run.yaml", "analysis.yaml"}


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda p: p.name)
def test_env_pins_agree_with_requirements(env: Path) -> None:
    reqs = all_requirement_pins()
    pins = env_pins(env)
    assert pins, f"{env.name} pins nothing"
    missing = sorted(set(pins) - set(reqs))
    assert not missing, f"{env.name} pins {missing}, which no requirements*.txt pins"
    differ = {n: (v, reqs[n]) for n, v in pins.items() if reqs[n] != v}
    assert not differ, f"{env.name} vs requirements (env, requirements): {differ}"


def test_env_files_agree_with_each_other() -> None:
    """A package in two envs has one version: aggregated results must not depend on which env read them."""
    seen: dict[str, tuple[str, str]] = {}
    for env in ENV_FILES:
        for name, version in env_pins(env).items():
            first = seen.setdefault(name, (version, env.name))
            assert first[0] == version, f"{name}: {first[0]} in {first[1]}, {version} in {env.name}"


@pytest.mark.parametrize("env", ENV_FILES, ids=lambda p: p.name)
def test_env_python_matches_project(env: Path) -> None:
    deps = yaml.safe_load(env.read_text())["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and re.match(r"^python\s*[=<>]", d)]
    assert pythons == ["python=3.11"], f"{env.name}: conda python pin {pythons}; the venv and CI use 3.11"


def test_venv_matches_env_pins() -> None:
    """The venv the tests run in has exactly the pinned versions, so a pass here speaks for the conda envs too."""
    wrong = {}
    for env in ENV_FILES:
        for name, version in env_pins(env).items():
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = "not installed"
            if installed != version:
                wrong[name] = (version, installed)
    assert not wrong, f"pinned vs installed: {wrong} (run scripts/setup.sh)"


def test_every_rule_has_a_conda_env(tmp_path: Path) -> None:
    """Loaded by Snakemake itself, so rules added in any rules/*.smk are covered; `all` runs nothing."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings, StorageSettings

    with SnakemakeApi(OutputSettings(quiet=True)) as api:
        wf_api = api.workflow(
            resource_settings=ResourceSettings(),
            config_settings=ConfigSettings(configfiles=[ROOT / "config" / "config.yaml"]),
            storage_settings=StorageSettings(),
            snakefile=ROOT / "Snakefile",
            workdir=tmp_path,
        )
        rules = list(wf_api._workflow.rules)  # the public API exposes no rule list
        checked = []
        for rule in rules:
            if rule.norun:
                continue
            assert rule.conda_env, f"rule {rule.name} has no conda: directive"
            if callable(rule.conda_env):  # chosen per job (rule run: LLM methods get the LLM env)
                from types import SimpleNamespace

                import yaml

                methods = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["methods"]
                envs = {rule.conda_env(SimpleNamespace(method=m, benchmark="mlp-car", seed="0")) for m in methods}
                assert len(envs) == 2, envs  # classical and LLM run jobs use different envs
            else:
                envs = {str(rule.conda_env)}
            for name in envs:
                env = (Path(rule.snakefile).parent / name).resolve()
                assert env in [p.resolve() for p in ENV_FILES], f"rule {rule.name}: conda env {env} is not in envs/"
            checked.append(rule.name)
    assert {"convert_table", "run", "aggregate", "plot_anytime_regret"} <= set(checked)


def test_no_deps_packages_are_installed_the_same_way_everywhere() -> None:
    """requirements-nodeps.txt (setup.sh) and the run env's post-deploy script install the same pins, --no-deps."""
    pins = requirement_pins(ROOT / "requirements-nodeps.txt")
    script = (ROOT / "envs" / "run.post-deploy.sh").read_text()
    assert pins and all(f"{name}=={version}" in script.lower() for name, version in pins.items())
    assert "--no-deps" in script and "--no-deps -r requirements-nodeps.txt" in (ROOT / "scripts/setup.sh").read_text()
