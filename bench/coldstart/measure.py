"""Measuring: one fresh interpreter (``bench/_child.py``) per run.

Every variant is generated once and byte-compiled, then checked in a child
of its own (which also warms the page cache), then timed: rows interleaved
round by round (round 1: v1..vN, round 2: v1..vN, ...) so that slow drifts
of a noisy machine hit every row alike.
"""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import generate

from coldstart.runtimes import BENCH_DIR, Runtime, child_env
from coldstart.targets import SKIPPED, Row, Rows

CHILD_SCRIPT = BENCH_DIR / "_child.py"
CHILD_TIMEOUT_S = 600.0

Log = Callable[[str], None]


@dataclass(frozen=True)
class ChildResult:
    """Output of one child process."""

    data: dict[str, Any] | None
    wall_s: float
    spawn_abs: float
    error: str | None


def run_child(
    python: str,
    scenario: str,
    app_dir: Path,
    probes: list[dict[str, Any]],
    extra_paths: Sequence[str],
) -> ChildResult:
    """Run one fresh interpreter for ``scenario``; measures its wall time too."""
    cmd = [python, str(CHILD_SCRIPT), scenario, json.dumps(probes)]
    spawn = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            env=child_env(app_dir, extra_paths),
            cwd=app_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return ChildResult(None, time.perf_counter() - spawn, spawn, f"timeout after {CHILD_TIMEOUT_S:.0f}s")
    except OSError as exc:
        return ChildResult(None, time.perf_counter() - spawn, spawn, f"cannot run {python}: {exc}")
    wall = time.perf_counter() - spawn
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        reason = tail[-1] if tail else f"exit status {proc.returncode}"
        return ChildResult(None, wall, spawn, reason)
    try:
        data = json.loads(lines[-1])
    except ValueError:
        return ChildResult(None, wall, spawn, f"unparsable child output: {lines[-1][:200]}")
    return ChildResult(data, wall, spawn, data.get("error"))


def same_clock_across_processes() -> bool:
    """Whether perf_counter readings of parent and child are comparable."""
    info = time.get_clock_info("perf_counter")
    return sys.platform.startswith("linux") and "CLOCK_MONOTONIC" in info.implementation


def timed_run(row: Row, scenario: str) -> dict[str, Any] | None:
    """One timed child run; adds the parent-side measurements to its result."""
    rt = row.runtime
    result = run_child(rt.python, scenario, row.app_dir, row.probes[:1], rt.extra_paths)
    if result.data is None or result.error:
        row.run_errors.append(f"{scenario}: {result.error}")
        return None
    data = dict(result.data)
    data["wall_s"] = result.wall_s
    if same_clock_across_processes() and "done_abs" in data:
        data["spawn_to_response_s"] = data["done_abs"] - result.spawn_abs
    return data


def prepare(size: str, plan: Iterable[tuple[str, Runtime]], workdir: Path, log: Log) -> Rows:
    """Generate (once per variant) and byte-compile the app of every planned row."""
    apps: dict[str, tuple[Path, dict[str, Any]]] = {}
    rows: Rows = {}
    for variant, runtime in plan:
        if variant not in apps:
            app_dir = workdir / size / variant
            pkg = generate.generate(size, variant, app_dir)
            if not compileall.compile_dir(str(pkg), quiet=1):
                raise RuntimeError(f"generated code of {variant} does not compile: {pkg}")
            if variant == "lazy_snapshot":
                write_snapshot(runtime, app_dir, pkg / generate.SNAPSHOT_FILE, log)
            if variant == "lazy_manifest":
                write_manifest(runtime, app_dir, pkg / generate.MANIFEST_FILE, log)
            apps[variant] = (app_dir, json.loads((pkg / "manifest.json").read_text()))
        app_dir, manifest = apps[variant]
        row = Row(variant, app_dir, manifest, runtime)
        rows[row.name] = row
    return rows


def write_snapshot(runtime: Runtime, app_dir: Path, path: Path, log: Log) -> None:
    """Write the OpenAPI snapshot ``lazy_snapshot`` serves, as a build step would."""
    log(f"  writing the OpenAPI snapshot of {app_dir.name} (lazyrouter openapi --snapshot)")
    started = time.perf_counter()
    _build_step(runtime, app_dir, ["openapi", "benchapp.main:app", "--snapshot", "-o", str(path)])
    log(f"  snapshot written in {time.perf_counter() - started:.1f}s")


def write_manifest(runtime: Runtime, app_dir: Path, path: Path, log: Log) -> None:
    """Write the manifest ``lazy_manifest`` reads, as a build step would."""
    log(f"  writing the manifest of {app_dir.name} (lazyrouter manifest)")
    _build_step(runtime, app_dir, ["manifest", "benchapp.main:app", "-o", str(path)])


def _build_step(runtime: Runtime, app_dir: Path, arguments: list[str]) -> None:
    """Run `lazyrouter ARGUMENTS` in the app's directory, as a packaging step would."""
    proc = subprocess.run(
        [runtime.python, "-m", "lazyrouter", *arguments],
        env=child_env(app_dir, runtime.extra_paths),
        cwd=app_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"lazyrouter {' '.join(arguments[:1])} failed:\n{proc.stderr[-2000:]}")


def check_all(rows: Rows, scenario: str, log: Log) -> None:
    """Check every row in its own process.

    ``scenario`` is ``check`` (the probes, then ``/openapi.json``, whose
    operations are counted) or ``probes`` (the probes alone: the slow
    ``/openapi.json`` of a large app is left to the full comparison).
    """
    for row in rows.values():
        rt = row.runtime
        result = run_child(rt.python, scenario, row.app_dir, row.probes, rt.extra_paths)
        row.check = result.data
        row.check_error = result.error
        log(f"  check {row.name}: {'ok' if not result.error else f'FAILED: {result.error}'}")


def openapi_round_indexes(rounds: int, openapi_rounds: int) -> frozenset[int]:
    """Which of the timed rounds run the ``openapi`` scenario (spread evenly)."""
    n = max(1, min(openapi_rounds, rounds))
    return frozenset(k * rounds // n for k in range(n))


def measure(rows: Rows, scenarios: Sequence[str], rounds: int, warmup: int, openapi_rounds: int, log: Log) -> None:
    """Time every scenario of every row, interleaved round by round.

    Warm-up rounds skip ``openapi``; of the timed rounds only those in
    ``openapi_round_indexes`` run it (the same rounds for every row, so its
    ratios stay paired).
    """
    for row in rows.values():
        row.runs = {sc: [] for sc in scenarios if (row.variant, sc) not in SKIPPED}
    with_openapi = openapi_round_indexes(rounds, openapi_rounds)
    for r in range(warmup + rounds):
        timed = r >= warmup
        label = f"round {r - warmup + 1}/{rounds}" if timed else f"warm-up {r + 1}"
        started = time.perf_counter()
        for scenario in scenarios:
            if scenario == "openapi" and not (timed and r - warmup in with_openapi):
                continue
            for row in rows.values():
                if scenario not in row.runs:
                    continue
                data = timed_run(row, scenario)
                if timed:
                    row.runs[scenario].append(data)
        log(f"  {label} done in {time.perf_counter() - started:.1f}s")
