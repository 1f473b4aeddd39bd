"""The library installs like a library: a non-editable ``pip install`` in a fresh venv lists, validates and runs.

Before the study schema was package data, ``hpo/study.py`` (now ``hpo/study/config.py``) read ``config/schema.yaml``
from beside the package, so after ``pip install .`` every command that validates a study failed. This test installs a
copy of the package (no repository around it) into a new venv, without network: the new venv sees this venv's
dependencies through a path entry, pip installs only ``hpo`` itself (``--no-deps --no-build-isolation``), and every
command runs from a folder outside the repository, so nothing can be imported from the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # builds and installs the package into a fresh venv


def _sh(python: Path, *args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(python of a fresh venv with hpo installed non-editable, a folder outside the repository, its environment)."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # only what a source distribution holds: the package, its metadata and readme
    shutil.copytree(ROOT / "hpo", src / "hpo", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_sh(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp, env={}).strip())
    # This process's import path (dependencies, pip, setuptools) as plain path entries, the source tree left out:
    # .pth files in those folders (our editable install among them) are not processed, so `hpo` can come only
    # from the new install.
    deps = [p for p in sys.path if p and Path(p).is_dir() and Path(p).resolve() != ROOT]
    (site / "deps.pth").write_text("\n".join(deps) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["HPO_TABLE_CACHE"] = str(tmp / "tables")
    _sh(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        str(src),
        cwd=tmp,
        env=env,
    )
    work = tmp / "work"
    work.mkdir()
    return python, work, env


def test_installed_package_is_not_the_source_tree(installed: tuple[Path, Path, dict[str, str]]) -> None:
    python, work, env = installed
    where = _sh(
        python, "-c", "import hpo, hpo.study.config as s; print(hpo.__file__); print(s.SCHEMA_PATH)", cwd=work, env=env
    )
    package, schema = where.split()
    assert "site-packages" in package and not package.startswith(str(ROOT))
    assert Path(schema).is_file() and not schema.startswith(str(ROOT))


def test_installed_cli_lists_validates_and_runs(installed: tuple[Path, Path, dict[str, str]]) -> None:
    python, work, env = installed
    listed = _sh(python, "-m", "hpo", "list", cwd=work, env=env)
    assert "mlp-car" in listed and "random_search" in listed
    validate = (
        "import sys, yaml; from hpo.study.config import validate_study; "
        "study = validate_study(yaml.safe_load(open(sys.argv[1]))); print(sorted(study['methods']))"
    )
    methods = _sh(python, "-c", validate, str(ROOT / "config" / "config.yaml"), cwd=work, env=env)
    assert "random_search" in methods and "llm" in methods
    bad = subprocess.run(
        [str(python), "-c", "from hpo.study.config import validate_study; validate_study({'benchmarks': ['mlp-car']})"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode != 0 and "StudyConfigError" in bad.stderr and "methods" in bad.stderr
    for benchmark in ("mlp-car", "synth-branin"):  # a converted table; reference values shipped as package data
        out = work / f"{benchmark}.parquet"
        run = ["-m", "hpo", "run", benchmark, "random_search", "--n-trials", "5", "--n-init", "2", "--out", str(out)]
        _sh(python, *run, cwd=work, env=env)
        rows = _sh(
            python,
            "-c",
            f"import pyarrow.parquet as pq; print(pq.read_table({str(out)!r}).num_rows)",
            cwd=work,
            env=env,
        )
        assert rows.strip() == "5"
