"""Smoke runs of the benchmark scripts in ``bench/`` so that they cannot rot.

Each script runs as a subprocess of the current interpreter, the way users
run it (``python bench/<script>.py ...``), on the smallest inputs; the whole
file takes about a minute of one core.  The benchmark numbers are not checked.
The bench is measured on FastAPI 0.165 (``tox -e bench``), so of tox's
environments only py311-fastapi0165, the default run's twin, runs these
(marker ``bench``, tox.ini).
"""

from __future__ import annotations

import importlib.util
import json
import py_compile
import re
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_generate() -> types.ModuleType:
    """``bench/generate.py`` as a module (``bench`` is not a package)."""
    spec = importlib.util.spec_from_file_location("_bench_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


generate = _load_generate()

#: The variants of ``cold_start.py``'s headline (its run without arguments).
HEADLINE_VARIANTS = ("eager", "eager_defer", "lazy_fastapi", "lazy_modules", "lazy_snapshot", "floor")


def run_script(script: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``bench/<script>`` with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit status and output tails, for assertion messages."""
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-3000:]}"


@pytest.mark.parametrize("variant", generate.ALL_VARIANTS)
def test_generate_every_variant_compiles(variant: str, tmp_path: Path) -> None:
    proc = run_script("generate.py", "--size", "small", "--variant", variant, "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    sources = sorted((tmp_path / "benchapp").rglob("*.py"))
    # 4 modules, 3 package __init__ files and one module per router
    assert len(sources) == 7 + generate.SIZES["small"].routers, [str(p) for p in sources]
    for i, source in enumerate(sources):
        py_compile.compile(str(source), cfile=str(tmp_path / "pyc" / f"{i}.pyc"), doraise=True)
    main = (tmp_path / "benchapp" / "main.py").read_text()
    assert f"variant {variant}" in main


def test_cold_start_headline_small(tmp_path: Path) -> None:
    chart = importlib.util.find_spec("matplotlib") is not None  # the bench extra; tox's test envs lack it
    chart_args = ("--chart", str(tmp_path)) if chart else ("--no-chart",)
    proc = run_script("cold_start.py", "--size", "small", "--rounds", "1", *chart_args, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, describe(proc)
    table = proc.stdout.split("=== cold start to first response, size small", 1)[1]
    for variant in HEADLINE_VARIANTS:
        assert re.search(rf"^{variant} +.+ \d+ ms +\d\.\d{{3}}x", table, re.MULTILINE), describe(proc)
    # Every lazyrouter row is judged on 3 or 4 targets; the openapi ones wait for --full.
    assert re.search(r"^targets: \d+ of 10 met", table, re.MULTILINE), describe(proc)
    assert "not measured in this run (--full measures all): cold start to first /openapi.json" in table
    assert "python bench/cold_start.py --full" in proc.stdout
    if chart:
        assert (tmp_path / "cold-start-small.png").read_bytes().startswith(b"\x89PNG")


def test_cold_start_full_small(tmp_path: Path) -> None:
    # This interpreter stands in for the FastAPI 0.163 one: fastapi-lazyrouter
    # fails its check there (FastAPI >= 0.164, or not installed), is reported
    # and not timed, and does not change the exit status.
    variants = "eager,lazy_assign,floor,fastapi_lazyrouter"
    args = ("--full", "--size", "small", "--rounds", "1", "--variants", variants, "--compat-python", sys.executable)
    proc = run_script(*("cold_start.py", *args), "--markdown", str(tmp_path / "results.md"), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, describe(proc)
    suffix = "@" + ".".join(metadata.version("fastapi").split(".")[:2])
    for row in ("eager", "lazy_assign", "floor", f"eager{suffix}", f"lazy_fastapi{suffix}"):
        assert re.search(rf"^  ok    {re.escape(row)} ", proc.stdout, re.MULTILINE), describe(proc)
    assert re.search(rf"^  FAIL  fastapi_lazyrouter{re.escape(suffix)} ", proc.stdout, re.MULTILINE)
    for metric in ("first_response_s", "mangum_s", "openapi_cold_s", "rss_mib"):
        assert f"\n{metric}: " in proc.stdout, describe(proc)
    md = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert md.startswith("Machine: ")
    assert f"| `lazy_fastapi{suffix}` |" in md
    assert "#### Targets" in md and "#### Cold start to first `/openapi.json` (ms)" in md


def test_routing_quick(tmp_path: Path) -> None:
    proc = run_script("routing.py", "--quick", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert "lazyrouter" in proc.stdout
    # Every probe of both layouts is judged against eager FastAPI at both sizes.
    assert re.search(r"\b\d+ of 32 met\b", proc.stdout), describe(proc)
    # The first-request parts: lazyrouter's own dispatch was timed (a wrapper that
    # missed the router's dispatch would report 0.0) in every layout and size.
    parts = proc.stdout[proc.stdout.index("of the first request, median us") :]
    own = re.findall(r"^  (?:routers|flat) +\d+ .*\[ *([\d.]+) \( *\d+%\)\]$", parts, re.MULTILINE)
    assert len(own) == 4 and all(float(value) > 0 for value in own), describe(proc)


@pytest.mark.parametrize("freeze", [(), ("--gc-freeze",)], ids=["gc", "gc-freeze"])
def test_first_request_small(freeze: tuple[str, ...], tmp_path: Path) -> None:
    proc = run_script("first_request.py", "--counts", "10", "--rounds", "1", *freeze, cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert ("gc.freeze() after declaring" in proc.stdout) == bool(freeze), describe(proc)
    # Both layouts, each with the three parts for eager and lazyrouter, judged.
    rows = re.findall(
        r"^(flat|routers) +10 \|((?: +[\d.]+){3}) \|((?: +[\d.]+){3}) \| +[\d.]+x (?:met|NOT met)", proc.stdout, re.M
    )
    assert sorted(row[0] for row in rows) == ["flat", "routers"], describe(proc)
    for _, eager, lazy in rows:
        for parts in (eager, lazy):
            declare, first, total = map(float, parts.split())
            assert declare > 0 and first > 0 and abs(declare + first - total) < 0.15, describe(proc)
    assert re.search(r"^target: .* \d of 2 met$", proc.stdout, re.M), describe(proc)


def test_warm_up_small(tmp_path: Path) -> None:
    proc = run_script(
        "warm_up.py", "--size", "small", "--share", "1", "--probes", "3", "--window", "1", cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, describe(proc)
    assert "no warm-up" in proc.stdout and "warm-up share=1" in proc.stdout, describe(proc)
    # The warm-up built every route the first request had not: 50 - 1.
    assert re.search(r"warm-up share=1\s+[\d.]+\s+49\s", proc.stdout), describe(proc)


def test_lazyrouter_command_on_the_generated_app(tmp_path: Path) -> None:
    generate.generate("small", "lazy_fastapi", tmp_path)
    spec = generate.SIZES["small"]
    routes = spec.routers * spec.endpoints_per_router

    def lazyrouter(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lazyrouter", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    check = lazyrouter("check", "benchapp.main:app", "--json")
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert (report["routes"], report["problems"]) == (routes + 4, [])  # + /openapi.json, /docs, ...
    snapshot = lazyrouter("openapi", "benchapp.main:app", "--snapshot", "-o", "snapshot.json")
    assert snapshot.returncode == 0, snapshot.stderr
    document = json.loads((tmp_path / "snapshot.json").read_text())
    operations = sum(len(item) for item in document["openapi"]["paths"].values())
    assert operations == generate.expected_operation_count("small", "lazy_fastapi")
    profile = lazyrouter("profile", "benchapp.main:app", "--top", "3")
    assert profile.returncode == 0, profile.stderr
    assert f"Models in 'benchapp': {generate.count_models(spec)}, of which 0 build their schema" in profile.stdout
    assert f"Routes: {routes} declared lazily" in profile.stdout
