"""The test suite's wall time split by file, slowest first (issue 27: where the suite's minutes go).

Runs pytest once with a JUnit XML report (``--junitxml``: per-test setup + call + teardown time) and sums it per
test file; ``--from-xml FILE`` re-reads an earlier report instead of running the suite again (it takes ~20 min on
2 cores). Extra arguments after ``--`` go to pytest (e.g. ``-- -m "not slow"`` or ``-- tests/test_stats.py``; with
``-n 2`` the two pytest-xdist workers' times are summed, so the total exceeds the wall time).

    .venv/bin/python perf/suite_times.py                 # whole suite
    .venv/bin/python perf/suite_times.py -- -m "not slow" -n 2 tests   # the fast loop (docs/getting-started.md)
    .venv/bin/python perf/suite_times.py --from-xml /tmp/suite.xml
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def times_by_file(xml_path: Path) -> dict[str, tuple[float, int]]:
    """{test file: (seconds, tests)} from a pytest JUnit XML report (classname ``tests.test_x``: tests/test_x.py)."""
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for case in ET.parse(xml_path).iter("testcase"):
        # classname is the module path, plus the class for tests in a class: keep up to the test_ module
        parts = case.get("classname", "").split(".")
        cut = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        name = "/".join(parts[: cut + 1]) + ".py"
        out[name][0] += float(case.get("time") or 0.0)
        out[name][1] += 1
    return {k: (v[0], int(v[1])) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-xml", type=Path, help="read this JUnit XML report instead of running pytest")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (after --)")
    args = parser.parse_args(argv)
    xml_path = args.from_xml
    if xml_path is None:
        xml_path = Path(tempfile.mkdtemp(prefix="suite_times_")) / "suite.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml_path}"]
        subprocess.run([*cmd, *(args.pytest_args or ["tests"])], cwd=ROOT, check=False)
    if not xml_path.exists():
        sys.exit(f"no JUnit report at {xml_path}: pytest did not run")
    rows = sorted(times_by_file(xml_path).items(), key=lambda kv: -kv[1][0])
    total = sum(s for s, _ in dict(rows).values())
    print(f"{'seconds':>9} {'share':>6} {'tests':>6}  file")
    for name, (seconds, n) in rows:
        print(f"{seconds:9.1f} {seconds / total if total else 0:6.1%} {n:6d}  {name}")
    print(f"{total:9.1f} {1:6.0%} {sum(n for _, n in dict(rows).values()):6d}  total (sum of test times)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
