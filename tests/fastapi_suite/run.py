"""Run FastAPI's own test suite plain and with lazyrouter's classes, compare.

    python tests/fastapi_suite/run.py            # the installed FastAPI release
    python tests/fastapi_suite/run.py --eager    # lazy run with LAZYROUTER_EAGER=1

Downloads the sdist of the installed FastAPI release (it carries `tests/` and
`docs_src/`), runs its suite once as it is and once with `fastapi.APIRouter` /
`fastapi.FastAPI` replaced by `LazyRouter` / `LazyFastAPI` (the plugin
`lazyrouter_swap.py` beside this file), and compares every test id's outcome.
A test that passes plain and fails lazily must be listed, with its reason, in
`expected-<major.minor>.txt` beside this file (`--eager`: none listed as a
declaration-time error may fail); the run fails on any other, and reports
listed tests that pass now.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import fastapi

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("LAZYROUTER_SUITE_CACHE", Path(tempfile.gettempdir()) / "lazyrouter-fastapi-suite"))


def unpack_suite(version: str) -> Path:
    """FastAPI's sdist for `version`, unpacked without its `fastapi/` package
    (the installed one is tested)."""
    target = CACHE / f"fastapi-{version}"
    if (target / "tests").is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        + ["--dest", str(CACHE), f"fastapi=={version}"],
        check=True,
    )
    with tarfile.open(CACHE / f"fastapi-{version}.tar.gz") as sdist:
        members = [
            member
            for member in sdist.getmembers()
            if member.name.split("/")[1:2] in (["tests"], ["docs_src"], ["pyproject.toml"])
        ]
        sdist.extractall(CACHE, members=members, filter="data")
    return target


def run_suite(suite: Path, report: Path, *, lazy: bool, eager_switch: bool) -> None:
    env = dict(os.environ)
    if lazy:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    if eager_switch:
        env["LAZYROUTER_EAGER"] = "1"
    command = [sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", "-n", "2"]
    command += ["--junitxml", str(report), "-o", "junit_family=xunit1"]
    if lazy:
        command += ["-p", "lazyrouter_swap"]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=suite, env=env, check=False, stdout=subprocess.DEVNULL)


def outcomes(report: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        found[test_id] = outcome
    return found


def expected_failures(version: str) -> dict[str, str]:
    """`test id  # reason` per line of expected-<major.minor>.txt."""
    path = HERE / f"expected-{'.'.join(version.split('.')[:2])}.txt"
    expected: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            test_id, _, reason = line.partition("#")
            if test_id.strip():
                expected[test_id.strip()] = reason.strip()
    return expected


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eager", action="store_true", help="run the lazy suite with LAZYROUTER_EAGER=1")
    args = parser.parse_args()
    version = fastapi.__version__
    expected_version = os.environ.get("LAZYROUTER_EXPECT_FASTAPI")
    if expected_version and version != expected_version:
        print(f"this environment should test FastAPI {expected_version}, but has {version}")
        return 2
    suite = unpack_suite(version)
    plain_report = suite / "plain.xml"  # the same for every lazy run: made once
    if not plain_report.exists():
        run_suite(suite, plain_report, lazy=False, eager_switch=False)
    with tempfile.TemporaryDirectory() as scratch:
        lazy_report = Path(scratch, "lazy.xml")
        run_suite(suite, lazy_report, lazy=True, eager_switch=args.eager)
        plain, lazy = outcomes(plain_report), outcomes(lazy_report)
    newly_failing = sorted(
        test for test, outcome in lazy.items() if outcome == "failed" and plain.get(test) == "passed"
    )
    allowed = expected_failures(version)
    if args.eager:
        # LAZYROUTER_EAGER=1 builds at declaration: only the known gaps may remain.
        allowed = {test: reason for test, reason in allowed.items() if not reason.startswith("declaration-time")}
    unexpected = [test for test in newly_failing if test not in allowed]
    fixed = sorted(test for test in allowed if lazy.get(test) == "passed")
    missing = sorted(test for test in plain if test not in lazy)
    mode = "LazyRouter/LazyFastAPI" + (" with LAZYROUTER_EAGER=1" if args.eager else "")
    print(f"FastAPI {version} suite: {len(plain)} tests; {sum(o == 'passed' for o in plain.values())} pass plain.")
    print(f"With {mode}: {len(newly_failing)} newly failing, {len(newly_failing) - len(unexpected)} of them expected.")
    reasons: dict[str, int] = {}
    for test in newly_failing:
        reason = allowed.get(test, "UNEXPECTED")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  {count:4}  {reason}")
    for test in unexpected:
        print(f"  UNEXPECTED: {test}")
    for test in fixed:
        print(f"  listed as expected but passes now: {test}")
    for test in missing:
        print(f"  not run lazily: {test}")
    return 1 if unexpected or missing else 0


if __name__ == "__main__":
    sys.exit(main())
