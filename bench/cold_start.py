"""Cold-start comparison of FastAPI wiring variants, one fresh process per run.

For every size and variant (see ``generate.py``) this script generates the
synthetic app once, checks that the variant answers correctly, then times
whole fresh-interpreter processes.  Variants are interleaved round by round
(round 1: v1..vN, round 2: v1..vN, ...) so that slow drifts of a noisy
machine hit every variant alike, and ratios are computed pair by pair
(round i of a variant over round i of the baseline, then the median).

Scenarios (each a separate child process, see ``_child.py``):

* ``first_response``: import the app and send one GET as a raw ASGI call;
  also the peak RSS of the process after that request.
* ``mangum``: import the app, ``Mangum(app, lifespan="off")``, invoke the
  handler with an API Gateway HTTP API (v2) event for the same GET.
* ``openapi``: import the app, GET ``/openapi.json`` twice.  It is by far the
  slowest scenario (about 20 s per child at size large), so it runs in only
  ``--openapi-rounds`` of the rounds (spread evenly, the same rounds for
  every variant, so ratios stay paired).

The third-party ``fastapi-lazyrouter`` 0.1.0rc4 crashes on FastAPI >= 0.164.
When a ``fastapi_lazyrouter*`` variant is selected, the harness therefore
runs it under a second interpreter with FastAPI 0.163.2 (``--compat-python``;
by default a virtualenv it creates once and caches), together with ``eager``
and ``lazy_fastapi`` under that same interpreter.  Those rows carry a suffix
(``eager@0.163``, ...) and their ratios are taken against ``eager@0.163``.

Usage::

    python bench/cold_start.py --size large --rounds 5 --markdown results.md
    python bench/cold_start.py --size small --rounds 1          # smoke, < 60 s
    python bench/cold_start.py --size small --size medium --size large --plot out/

Only the standard library is needed; ``--plot`` imports matplotlib.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

ROUNDS = 5
#: Rounds that also run the (slow) ``openapi`` scenario, by default.
OPENAPI_ROUNDS = 2
WARMUP_ROUNDS = 0  # the correctness check already warms page and bytecode caches
CHILD_TIMEOUT_S = 600.0
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CHILD_SCRIPT = BENCH_DIR / "_child.py"

SCENARIOS: tuple[str, ...] = ("first_response", "mangum", "openapi")
#: (variant, scenario) pairs that are not run: ``floor`` serves no OpenAPI.
SKIPPED: frozenset[tuple[str, str]] = frozenset({("floor", "openapi")})
BASELINE = "eager"
FLOOR = "floor"

#: The FastAPI release the third-party ``fastapi-lazyrouter`` still works with.
COMPAT_FASTAPI = "0.163.2"
#: What ``--compat-python auto`` installs (lazyrouter itself comes from
#: ``--lazyrouter-path``, i.e. the repo root, through ``PYTHONPATH``).
COMPAT_REQUIREMENTS: tuple[str, ...] = (
    f"fastapi=={COMPAT_FASTAPI}",
    "fastapi-lazyrouter==0.1.0rc4",
    "mangum==0.22.0",
)
COMPAT_VENV_NAME = "venv-fastapi-0.163"
#: Our variants that also run under the compat interpreter, as pair baselines.
COMPAT_PEERS: tuple[str, ...] = (BASELINE, "lazy_fastapi")
#: ``fastapi-lazyrouter`` 0.1.0rc4 breaks from this FastAPI release on.
FASTAPI_LAZYROUTER_BREAKS_AT = (0, 164)
VENV_CREATE_TIMEOUT_S = 300.0
VENV_INSTALL_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Metric:
    """One number reported per run: where it comes from and how to show it."""

    key: str
    scenario: str
    title: str
    unit: str = "s"


METRICS: tuple[Metric, ...] = (
    Metric(
        "first_response_s",
        "first_response",
        "cold start to first response (child clock, from interpreter start)",
    ),
    Metric(
        "spawn_to_response_s",
        "first_response",
        "cold start to first response (parent clock, from spawn)",
    ),
    Metric("import_s", "first_response", "import of benchapp.main (from interpreter start)"),
    Metric("first_request_s", "first_response", "first request alone (after import)"),
    Metric("wall_s", "first_response", "whole process wall time (parent clock)"),
    Metric("rss_mib", "first_response", "peak RSS after the first request", "MiB"),
    Metric("mangum_s", "mangum", "Mangum handler, API Gateway v2 event: first response"),
    Metric("openapi_cold_s", "openapi", "cold start to first /openapi.json"),
    Metric("openapi_first_s", "openapi", "first /openapi.json request alone (after import)"),
    Metric("openapi_second_s", "openapi", "second /openapi.json request"),
)
METRICS_BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
#: Metrics of the ``--markdown`` snippet, with their headings.
MARKDOWN_METRICS: tuple[tuple[str, str], ...] = (
    ("first_response_s", "Cold start to first response"),
    ("mangum_s", "Mangum (API Gateway v2 event): cold start to first response"),
    ("openapi_cold_s", "Cold start to first `/openapi.json`"),
    ("openapi_first_s", "First `/openapi.json` request (after import)"),
    ("openapi_second_s", "Second `/openapi.json` request"),
    ("rss_mib", "Peak RSS after the first response"),
)


@dataclass(frozen=True)
class Target:
    """A goal for the lazyrouter variants: ``metric`` ratio vs ``baseline`` <= ``limit``."""

    label: str
    metric: str
    baseline: str
    limit: float
    #: Only these variants are judged (all lazyrouter variants when empty).
    variants: tuple[str, ...] = ()


TARGETS: tuple[Target, ...] = (
    Target(
        "with lazy module imports: cold start >= 8x faster than eager",
        "first_response_s",
        BASELINE,
        0.125,
        ("lazy_modules",),
    ),
    Target("cold start to first response >= 4x faster than eager", "first_response_s", BASELINE, 0.25),
    Target("cold start to first response within 1.15x of floor", "first_response_s", FLOOR, 1.15),
    Target("peak RSS <= 0.6x eager", "rss_mib", BASELINE, 0.60),
    Target("cold start to first /openapi.json <= 0.85x eager", "openapi_cold_s", BASELINE, 0.85),
    Target(
        "first /openapi.json served from a snapshot <= 0.15x eager",
        "openapi_cold_s",
        BASELINE,
        0.15,
        ("lazy_snapshot",),
    ),
)


@dataclass
class Runtime:
    """An interpreter the children run on, and the versions it imports."""

    #: Appended to the variant names of its rows: ``""`` (main) or ``"@0.163"``.
    suffix: str
    python: str
    extra_paths: tuple[str, ...]
    versions: dict[str, str | None]
    #: Where the interpreter comes from (``--python``, a venv path, ...).
    origin: str

    @property
    def fastapi(self) -> str:
        """FastAPI version (``"?"`` if it could not be determined)."""
        return self.versions.get("fastapi") or "?"

    def describe(self) -> str:
        """``FastAPI 0.165.0, Starlette ..., Pydantic ..., Python ...``."""
        v = self.versions
        parts = [
            f"FastAPI {self.fastapi}",
            f"Starlette {v.get('starlette') or '?'}",
            f"Pydantic {v.get('pydantic') or '?'}",
            f"Python {v.get('python') or '?'}",
        ]
        if v.get("fastapi-lazyrouter"):
            parts.append(f"fastapi-lazyrouter {v['fastapi-lazyrouter']}")
        return ", ".join(parts)


@dataclass
class VariantState:
    """Everything known about one row: a generated variant run on one runtime."""

    variant: str
    app_dir: Path
    manifest: dict[str, Any]
    runtime: Runtime
    check: dict[str, Any] | None = None
    check_error: str | None = None
    #: scenario -> one entry per timed round of that scenario (``None``: the run failed)
    runs: dict[str, list[dict[str, Any] | None]] = field(default_factory=dict)
    run_errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Row name: the variant plus its runtime's suffix (``eager@0.163``)."""
        return self.variant + self.runtime.suffix

    def peer(self, variant: str) -> str:
        """Row name of ``variant`` on the same runtime (for paired ratios)."""
        return variant + self.runtime.suffix

    @property
    def probes(self) -> list[dict[str, Any]]:
        """The probe requests (with expected answers) from the manifest."""
        probes: list[dict[str, Any]] = self.manifest["probes"]
        return probes

    def series(self, metric: str) -> list[float | None]:
        """The metric's value in each round (``None`` where missing)."""
        scenario = METRICS_BY_KEY[metric].scenario
        return [
            None if run is None or run.get(metric) is None else float(run[metric])
            for run in self.runs.get(scenario, [])
        ]


# --------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------


def child_env(app_dir: Path | None, extra_paths: Sequence[str]) -> dict[str, str]:
    """A clean environment: no inherited PYTHON* variables, app dir on the path."""
    paths = ([str(app_dir)] if app_dir is not None else []) + list(extra_paths)
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONHASHSEED": "0",
    }
    return env


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
    env = child_env(app_dir, extra_paths)
    spawn = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            env=env,
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


def timed_run(state: VariantState, scenario: str) -> dict[str, Any] | None:
    """One timed child run; adds the parent-side measurements to its result."""
    rt = state.runtime
    result = run_child(rt.python, scenario, state.app_dir, state.probes[:1], rt.extra_paths)
    if result.data is None or result.error:
        state.run_errors.append(f"{scenario}: {result.error}")
        return None
    data = dict(result.data)
    data["wall_s"] = result.wall_s
    if same_clock_across_processes() and "done_abs" in data:
        data["spawn_to_response_s"] = data["done_abs"] - result.spawn_abs
    return data


# --------------------------------------------------------------------------
# Interpreters: versions, the FastAPI 0.163 virtualenv
# --------------------------------------------------------------------------

#: Run by each interpreter to report what it would import (no import of the
#: packages themselves: distribution metadata only, so it is fast).
VERSION_PROBE = """\
import json, platform
from importlib import metadata
out = {"python": platform.python_version()}
for name in ("fastapi", "starlette", "pydantic", "mangum", "fastapi-lazyrouter"):
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""

#: Run by an interpreter to tell whether ``lazy_modules`` can work there.
IMPORT_STRINGS_PROBE = f"""\
import sys
sys.path.insert(0, {str(BENCH_DIR)!r})
import generate
print(generate.lazy_modules_supported())
"""


def _python_output(
    python: str, code: str, extra_paths: Sequence[str], timeout: float = 120.0
) -> tuple[str | None, str]:
    """Run ``python -c code`` in a child environment: (last stdout line or None, error)."""
    try:
        proc = subprocess.run(
            [python, "-c", code],
            env=child_env(None, extra_paths),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return None, tail[-1] if tail else f"exit status {proc.returncode}"
    return lines[-1], ""


def query_versions(python: str, extra_paths: Sequence[str]) -> dict[str, str | None] | None:
    """Versions of Python and the relevant packages as seen by ``python``."""
    out, _ = _python_output(python, VERSION_PROBE, extra_paths)
    if out is None:
        return None
    try:
        versions: dict[str, str | None] = json.loads(out)
    except ValueError:
        return None
    return versions


def version_tuple(version: str | None) -> tuple[int, ...]:
    """``"0.163.2"`` -> ``(0, 163, 2)``; non-numeric parts end the tuple."""
    parts: list[int] = []
    for piece in (version or "").split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


def suffix_for(versions: dict[str, str | None]) -> str:
    """Row-name suffix of a compat runtime: ``@`` + FastAPI major.minor."""
    fastapi = versions.get("fastapi") or "unknown"
    return "@" + ".".join(fastapi.split(".")[:2])


def venv_python(venv_dir: Path) -> Path:
    """The interpreter inside a virtualenv."""
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _run_step(cmd: Sequence[str], timeout: float) -> str | None:
    """Run an installer command (inheriting the environment); ``None`` or an error."""
    log(f"    $ {' '.join(cmd)}")
    try:
        proc = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timeout after {timeout:.0f}s: {' '.join(cmd)}"
    except OSError as exc:
        return f"{exc}: {' '.join(cmd)}"
    if proc.returncode == 0:
        return None
    output = (proc.stderr + "\n" + proc.stdout).strip().splitlines()
    meaningful = [line.strip() for line in output if line.strip()]
    return " | ".join(meaningful[-3:]) or f"exit status {proc.returncode}"


def _looks_like_conflict(error: str) -> bool:
    """Whether an installer failed on version resolution (not on the network)."""
    words = ("ResolutionImpossible", "conflict", "No solution found", "unsatisfiable")
    return any(w.lower() in error.lower() for w in words)


def _install(base_python: str, venv_dir: Path, packages: Sequence[str], use_uv: str | None) -> str | None:
    """Create ``venv_dir`` from ``base_python`` and install ``packages``; ``None`` or an error."""
    shutil.rmtree(venv_dir, ignore_errors=True)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    py = str(venv_python(venv_dir))
    if use_uv:
        steps = [
            ([use_uv, "venv", "--quiet", "--python", base_python, str(venv_dir)], VENV_CREATE_TIMEOUT_S),
            ([use_uv, "pip", "install", "--quiet", "--python", py, *packages], VENV_INSTALL_TIMEOUT_S),
        ]
    else:
        steps = [
            ([base_python, "-m", "venv", str(venv_dir)], VENV_CREATE_TIMEOUT_S),
            (
                [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
                VENV_INSTALL_TIMEOUT_S,
            ),
        ]
    for cmd, timeout in steps:
        error = _run_step(cmd, timeout)
        if error:
            shutil.rmtree(venv_dir, ignore_errors=True)
            return error
    return None


def create_compat_venv(base_python: str, venv_dir: Path, pins: Sequence[str]) -> str | None:
    """Build the FastAPI 0.163 virtualenv; ``None`` on success, else why not.

    ``pins`` (the main interpreter's Starlette and Pydantic) keep everything
    but FastAPI equal between the two groups where possible; if they cannot
    be satisfied the install is retried without them.  ``uv`` (if on
    ``PATH``) is tried first, then ``python -m venv`` + pip.
    """
    installers = [shutil.which("uv"), None] if shutil.which("uv") else [None]
    errors: list[str] = []
    for use_uv in installers:
        tool = "uv" if use_uv else "venv + pip"
        for packages in ([*COMPAT_REQUIREMENTS, *pins], list(COMPAT_REQUIREMENTS)):
            log(f"  creating {venv_dir} with {tool}: {' '.join(packages)}")
            error = _install(base_python, venv_dir, packages, use_uv)
            if error is None:
                return None
            errors.append(f"{tool}: {error}")
            log(f"    failed: {error}")
            if not pins or not _looks_like_conflict(error):
                break
    return "; ".join(errors)


def _marker(base_versions: dict[str, str | None], pins: Sequence[str]) -> dict[str, Any]:
    return {"requirements": list(COMPAT_REQUIREMENTS), "pins": list(pins), "python": base_versions.get("python")}


def ensure_compat_runtime(
    mode: str,
    main: Runtime,
    venv_dir: Path,
    extra_paths: Sequence[str],
) -> tuple[Runtime | None, str | None]:
    """The interpreter for ``fastapi_lazyrouter*`` (and its peers), or a note why none.

    ``mode`` is ``auto`` (create or reuse ``venv_dir``) or a path to an
    interpreter.  With ``auto`` and a main interpreter whose FastAPI is older
    than 0.164, no second interpreter is needed: ``(None, None)``.  A note
    (``(None, note)``) means the third-party variants cannot be run.
    """
    if mode != "auto":
        found = query_versions(mode, extra_paths)
        if found is None:
            return None, f"--compat-python {mode}: cannot run it; fastapi_lazyrouter* and the @-rows are skipped"
        return Runtime(suffix_for(found), mode, tuple(extra_paths), found, mode), None
    if version_tuple(main.versions.get("fastapi")) < FASTAPI_LAZYROUTER_BREAKS_AT:
        return None, None
    pins = [f"{name}=={main.versions[name]}" for name in ("starlette", "pydantic") if main.versions.get(name)]
    marker_path = venv_dir / ".lazyrouter-bench.json"
    wanted = _marker(main.versions, pins)
    python = str(venv_python(venv_dir))
    versions: dict[str, str | None] | None = None
    if marker_path.is_file():
        try:
            cached = json.loads(marker_path.read_text())
        except ValueError:
            cached = None
        if cached == wanted:
            versions = query_versions(python, extra_paths)
            if versions is not None and versions.get("fastapi") == COMPAT_FASTAPI:
                log(f"  reusing {venv_dir}")
            else:
                versions = None
    if versions is None:
        started = time.perf_counter()
        error = create_compat_venv(main.python, venv_dir, pins)
        if error is None:
            versions = query_versions(python, extra_paths)
            if versions is None or versions.get("fastapi") != COMPAT_FASTAPI:
                error = f"the new venv does not report FastAPI {COMPAT_FASTAPI}: {versions}"
        if error is not None:
            note = (
                f"could not create the FastAPI {COMPAT_FASTAPI} virtualenv {venv_dir} (no network?);"
                " fastapi_lazyrouter* and the @0.163 rows are skipped."
                f" Last error: {error[-400:]}"
            )
            return None, note
        marker_path.write_text(json.dumps(wanted) + "\n")
        log(f"  created {venv_dir} in {time.perf_counter() - started:.0f}s")
    assert versions is not None
    return Runtime(suffix_for(versions), python, tuple(extra_paths), versions, str(venv_dir)), None


def default_compat_venv_dir(workdir: Path | None) -> Path:
    """``<workdir>/venv-fastapi-0.163``, or a user cache dir when the workdir is temporary."""
    if workdir is not None:
        return workdir / COMPAT_VENV_NAME
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "lazyrouter-bench" / COMPAT_VENV_NAME


def lazy_modules_supported(runtime: Runtime) -> bool:
    """Whether ``lazyrouter`` as imported by ``runtime`` takes import strings."""
    out, _ = _python_output(runtime.python, IMPORT_STRINGS_PROBE, runtime.extra_paths)
    return out == "True"


def machine_description(runtimes: Sequence[Runtime]) -> str:
    """One line: CPU model, core count, Python and FastAPI versions, date."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpu = cpu or platform.processor() or platform.machine() or "unknown CPU"
    main = runtimes[0]
    fastapi = f"FastAPI {main.fastapi}" + "".join(f" (rows `{rt.suffix}`: FastAPI {rt.fastapi})" for rt in runtimes[1:])
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()};"
        f" Python {main.versions.get('python') or platform.python_version()}; {fastapi};"
        f" Pydantic {main.versions.get('pydantic') or '?'}; {time.strftime('%Y-%m-%d')}"
    )


# --------------------------------------------------------------------------
# Statistics and report
# --------------------------------------------------------------------------


def paired_ratio(values: Sequence[float | None], base: Sequence[float | None]) -> float | None:
    """Median over rounds of ``values[i] / base[i]`` (rounds missing either are skipped)."""
    # A variant that was not timed has no rounds at all, hence strict=False.
    ratios = [v / b for v, b in zip(values, base, strict=False) if v is not None and b]
    return statistics.median(ratios) if ratios else None


@dataclass(frozen=True)
class Summary:
    """Median, range and paired ratios of one metric for one row."""

    n: int
    median: float | None
    low: float | None
    high: float | None
    vs_eager: float | None
    vs_floor: float | None


def summarize(states: dict[str, VariantState], name: str, metric: str) -> Summary:
    """Summary of ``metric`` for row ``name``.

    Ratios are paired by round and taken against ``eager``/``floor`` of the
    same runtime (``eager@0.163`` for ``fastapi_lazyrouter@0.163``).
    """
    state = states[name]
    values = state.series(metric)
    present = [v for v in values if v is not None]

    def ratio(baseline: str) -> float | None:
        peer = states.get(state.peer(baseline))
        if peer is None:
            return None
        return paired_ratio(values, peer.series(metric))

    if not present:
        return Summary(0, None, None, None, None, None)
    return Summary(
        n=len(present),
        median=statistics.median(present),
        low=min(present),
        high=max(present),
        vs_eager=ratio(BASELINE),
        vs_floor=ratio(FLOOR),
    )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f}" if value >= 0.1 else f"{value * 1000:.1f}"
    return f"{value:.1f}"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _rows(states: dict[str, VariantState], metric: Metric) -> list[VariantState]:
    """Rows that report ``metric``: timed, and not skipped for its scenario."""
    return [s for s in states.values() if (s.variant, metric.scenario) not in SKIPPED and s.runs]


def metric_table(states: dict[str, VariantState], metric: Metric) -> list[str]:
    """Plain-text table of one metric across rows."""
    unit = "ms" if metric.unit == "s" else metric.unit
    lines = [
        f"{metric.key}: {metric.title} [{unit}]",
        f"  {'variant':<30}{'FastAPI':>9}{'median':>9}{'min-max':>19}{'vs eager':>10}{'vs floor':>10}{'n':>4}",
    ]
    for state in _rows(states, metric):
        s = summarize(states, state.name, metric.key)
        span = f"{_fmt(s.low, metric.unit)}-{_fmt(s.high, metric.unit)}"
        lines.append(
            f"  {state.name:<30}{state.runtime.fastapi:>9}{_fmt(s.median, metric.unit):>9}{span:>19}"
            f"{_fmt_ratio(s.vs_eager):>10}{_fmt_ratio(s.vs_floor):>10}{s.n:>4}"
        )
    return lines


@dataclass(frozen=True)
class Verdict:
    """One target evaluated for one lazyrouter row."""

    target: Target
    row: str
    baseline_row: str
    ratio: float | None

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "n/a"
        return "met" if self.ratio <= self.target.limit else "NOT met"


def verdicts(states: dict[str, VariantState]) -> list[tuple[Target, list[Verdict], list[str]]]:
    """Every target of every lazyrouter row, plus notes (floor misses the target)."""
    lazy = [s for s in states.values() if s.variant in generate.LAZYROUTER_VARIANTS]
    out: list[tuple[Target, list[Verdict], list[str]]] = []
    for target in TARGETS:
        found: list[Verdict] = []
        for state in lazy:
            if target.variants and state.name.split("@")[0] not in target.variants:
                continue
            base = states.get(state.peer(target.baseline))
            ratio = None
            if base is not None and state.runs:
                ratio = paired_ratio(state.series(target.metric), base.series(target.metric))
            found.append(Verdict(target, state.name, state.peer(target.baseline), ratio))
        notes: list[str] = []
        floor_ratio = _floor_ratio(states, target)
        if floor_ratio is not None and floor_ratio > target.limit:
            notes.append(
                f"unreachable on this app: floor itself is {floor_ratio:.3f}x {target.baseline} for {target.metric}"
            )
        out.append((target, found, notes))
    return out


def target_lines(states: dict[str, VariantState]) -> list[str]:
    """Targets of the lazyrouter rows, each reported met / NOT met / n/a."""
    lines = ["targets (lazyrouter variants; paired median ratios vs the same runtime's baseline):"]
    if not any(s.variant in generate.LAZYROUTER_VARIANTS for s in states.values()):
        return lines + ["  (no lazyrouter variant measured)"]
    for target, found, notes in verdicts(states):
        for v in found:
            shown = "-" if v.ratio is None else f"{v.ratio:.3f}x"
            limit = f"(limit {target.limit:.2f}x)"
            lines.append(f"  {v.verdict:<8} {v.row:<20} {shown:>7} {limit}  {target.label}")
        lines += [f"  note: {note}" for note in notes]
    return lines


def _floor_ratio(states: dict[str, VariantState], target: Target) -> float | None:
    """Ratio of the floor to a target's baseline (a bound for any lazy variant)."""
    if target.baseline == FLOOR or FLOOR not in states or target.baseline not in states:
        return None
    return paired_ratio(states[FLOOR].series(target.metric), states[target.baseline].series(target.metric))


def check_line(state: VariantState) -> str:
    """One line describing a row's correctness check."""
    if state.check is None:
        return f"  FAIL  {state.name:<30} {state.check_error}"
    probes = ", ".join(f"{p['name']} {p['status']}" for p in state.check.get("probes", []))
    ops = state.check.get("operations")
    expected = generate.expected_operation_count(state.manifest["size"], state.variant)
    if state.variant == FLOOR:
        openapi = "openapi disabled"
    elif ops is None:
        openapi = f"openapi.json status {state.check.get('openapi_status')}"
    else:
        note = "" if ops == expected else f" (expected {expected}: INCOMPLETE/WRONG)"
        openapi = f"openapi.json {ops} operations{note}"
    verdict = "ok  " if not state.check_error else "FAIL"
    extra = f" -- {state.check_error}" if state.check_error else ""
    return f"  {verdict}  {state.name:<30} {probes}; {openapi}{extra}"


def openapi_incomplete(state: VariantState) -> str | None:
    """Why the row's ``/openapi.json`` numbers are not comparable (``None``: they are)."""
    if state.check is None or state.variant == FLOOR:
        return None
    ops = state.check.get("operations")
    expected = generate.expected_operation_count(state.manifest["size"], state.variant)
    if ops is None or ops == expected:
        return None
    return f"`/openapi.json` lists {ops} of {expected} operations, so its openapi figures cover less work"


def runtimes_of(states: dict[str, VariantState]) -> list[Runtime]:
    """The distinct runtimes of some rows, main first."""
    found: dict[str, Runtime] = {}
    for state in states.values():
        found.setdefault(state.runtime.suffix, state.runtime)
    return sorted(found.values(), key=lambda rt: rt.suffix != "")


def runtime_lines(states: dict[str, VariantState]) -> list[str]:
    """Which rows ran on which interpreter and package versions."""
    lines = ["interpreters:"]
    for rt in runtimes_of(states):
        rows = ", ".join(s.name for s in states.values() if s.runtime is rt)
        lines.append(f"  {rt.describe()}  [{rt.origin}]")
        lines.append(f"    rows: {rows}")
    return lines


def rounds_label(rounds: int, openapi_rounds: int) -> str:
    """``5 rounds (openapi: 2)``."""
    text = f"{rounds} round{'s' if rounds != 1 else ''}"
    return text if openapi_rounds == rounds else f"{text} (openapi: {openapi_rounds})"


def report(size: str, states: dict[str, VariantState], rounds: int, openapi_rounds: int, notes: Sequence[str]) -> str:
    """The whole plain-text report for one size."""
    any_state = next(iter(states.values()))
    m = any_state.manifest
    out = [
        "",
        f"=== size {size}: {m['routers']} routers, {m['routes']} routes, {m['models']} models;"
        f" {rounds_label(rounds, openapi_rounds)}; times in ms ===",
        *runtime_lines(states),
        *(f"note: {note}" for note in notes),
        "correctness check:",
        *(check_line(s) for s in states.values()),
    ]
    for state in states.values():
        if state.run_errors:
            count, first = len(state.run_errors), state.run_errors[0]
            out.append(f"  run errors for {state.name}: {count}, e.g. {first}")
    for metric in METRICS:
        if metric.key == "spawn_to_response_s" and not same_clock_across_processes():
            continue
        out += ["", *metric_table(states, metric)]
    out += ["", *target_lines(states)]
    return "\n".join(out)


def markdown(
    all_states: dict[str, dict[str, VariantState]],
    rounds: int,
    openapi_rounds: int,
    notes: Sequence[str],
) -> str:
    """The result tables as a Markdown snippet for the README."""
    runtimes = runtimes_of({f"{size}/{k}": s for size, states in all_states.items() for k, s in states.items()})
    out = [f"Machine: {machine_description(runtimes)}.", ""]
    for note in notes:
        out += [f"Note: {note}", ""]
    for size, states in all_states.items():
        m = next(iter(states.values())).manifest
        out += [
            f"### Size {size}: {m['routers']} routers, {m['routes']} routes, {m['models']} models",
            "",
            f"{rounds_label(rounds, openapi_rounds)}, one fresh process per run; median and min–max;"
            " ratios are paired by round (median of per-round ratios) against `eager`/`floor` on the same"
            " FastAPI release. Rows `@x.y` ran on FastAPI x.y (see the FastAPI column).",
            "",
        ]
        caveats = [
            f"* `{s.name}` failed its correctness check: {s.check_error}" for s in states.values() if s.check_error
        ]
        caveats += [f"* `{s.name}`: {why}" for s in states.values() if (why := openapi_incomplete(s))]
        if caveats:
            out += [*caveats, ""]
        for key, heading in MARKDOWN_METRICS:
            metric = METRICS_BY_KEY[key]
            rows = _rows(states, metric)
            if not rows:
                continue
            unit = "ms" if metric.unit == "s" else metric.unit
            out += [
                f"#### {heading} ({unit})",
                "",
                "| variant | FastAPI | median | min–max | vs eager | vs floor |",
                "| --- | --- | ---: | ---: | ---: | ---: |",
            ]
            for state in rows:
                summ = summarize(states, state.name, key)
                span = "-" if summ.low is None else f"{_fmt(summ.low, metric.unit)}–{_fmt(summ.high, metric.unit)}"
                out.append(
                    f"| `{state.name}` | {state.runtime.fastapi} | {_fmt(summ.median, metric.unit)} | {span}"
                    f" | {_fmt_ratio(summ.vs_eager)} | {_fmt_ratio(summ.vs_floor)} |"
                )
            out.append("")
        if any(s.variant in generate.LAZYROUTER_VARIANTS for s in states.values()):
            out += [
                "#### Targets",
                "",
                "| target | variant | ratio | against | limit | result |",
                "| --- | --- | ---: | --- | ---: | --- |",
            ]
            all_notes: list[str] = []
            for target, found, target_notes in verdicts(states):
                # e.g. no floor on the compat interpreter: nothing to compare with
                for v in (v for v in found if v.baseline_row in states):
                    shown = "-" if v.ratio is None else f"{v.ratio:.3f}x"
                    result = {"met": "met", "NOT met": "**not met**"}.get(v.verdict, "n/a")
                    out.append(
                        f"| {target.label} | `{v.row}` | {shown} | `{v.baseline_row}`"
                        f" | {target.limit:.2f}x | {result} |"
                    )
                all_notes += target_notes
            out.append("")
            out += [f"* {note}" for note in all_notes]
            if all_notes:
                out.append("")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------
# Plots (optional, matplotlib)
# --------------------------------------------------------------------------


def plot(all_states: dict[str, dict[str, VariantState]], out_dir: Path) -> list[Path]:
    """Write PNG charts; returns their paths.  Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for size, states in all_states.items():
        for key in ("first_response_s", "rss_mib", "openapi_cold_s", "mangum_s"):
            metric = METRICS_BY_KEY[key]
            names: list[str] = []
            med: list[float] = []
            below: list[float] = []
            above: list[float] = []
            scale = 1000.0 if metric.unit == "s" else 1.0
            for v in states:
                s = summarize(states, v, key)
                if (v, metric.scenario) in SKIPPED or s.median is None:
                    continue
                assert s.low is not None and s.high is not None
                names.append(v)
                med.append(s.median * scale)
                below.append((s.median - s.low) * scale)
                above.append((s.high - s.median) * scale)
            if not names:
                continue
            fig, ax = plt.subplots(figsize=(9, 4.5))
            ax.bar(names, med, yerr=[below, above], capsize=4, color="#4c72b0")
            ax.set_ylabel("ms" if metric.unit == "s" else metric.unit)
            ax.set_title(f"{metric.title}\nsize {size} (median, min-max)", fontsize=10)
            ax.tick_params(axis="x", rotation=30)
            fig.tight_layout()
            path = out_dir / f"{key.removesuffix('_s')}_{size}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    if len(all_states) > 1:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        sizes = list(all_states)
        variants = list(dict.fromkeys(v for states in all_states.values() for v in states))
        for variant in variants:
            ys: list[float] = []
            for size in sizes:
                states = all_states[size]
                median = summarize(states, variant, "first_response_s").median if variant in states else None
                ys.append(float("nan") if median is None else median * 1000)
            if any(y == y for y in ys):  # not all NaN
                ax.plot(sizes, ys, marker="o", label=variant)
        ax.set_ylabel("ms")
        ax.set_title("cold start to first response by app size (median)", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / "first_response_by_size.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress goes to stderr; the report goes to stdout."""
    print(message, file=sys.stderr, flush=True)


def prepare(size: str, rows: Iterable[tuple[str, Runtime]], workdir: Path) -> dict[str, VariantState]:
    """Generate (once per variant) and byte-compile the app of every row of ``size``."""
    apps: dict[str, tuple[Path, dict[str, Any]]] = {}
    states: dict[str, VariantState] = {}
    for variant, runtime in rows:
        if variant not in apps:
            app_dir = workdir / size / variant
            pkg = generate.generate(size, variant, app_dir)
            if not compileall.compile_dir(str(pkg), quiet=1):
                raise RuntimeError(f"generated code of {variant} does not compile: {pkg}")
            if variant == "lazy_snapshot":
                write_snapshot(runtime, app_dir, pkg / generate.SNAPSHOT_FILE)
            apps[variant] = (app_dir, json.loads((pkg / "manifest.json").read_text()))
        app_dir, manifest = apps[variant]
        state = VariantState(variant, app_dir, manifest, runtime)
        states[state.name] = state
    return states


def write_snapshot(runtime: Runtime, app_dir: Path, path: Path) -> None:
    """Write the OpenAPI snapshot ``lazy_snapshot`` serves, as a build step would."""
    log(f"  writing the OpenAPI snapshot of {app_dir.name} ({path.name})")
    command = [runtime.python, "-m", "lazyrouter", "openapi", "benchapp.main:app", "--snapshot", "-o", str(path)]
    proc = subprocess.run(
        command,
        env=child_env(app_dir, runtime.extra_paths),
        cwd=app_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"lazyrouter openapi --snapshot failed:\n{proc.stderr[-2000:]}")


def check_all(states: dict[str, VariantState]) -> None:
    """Run the correctness check of every row (in its own process)."""
    for state in states.values():
        rt = state.runtime
        result = run_child(rt.python, "check", state.app_dir, state.probes, rt.extra_paths)
        state.check = result.data
        state.check_error = result.error
        verdict = "ok" if not result.error else f"FAILED: {result.error}"
        log(f"  check {state.name}: {verdict}")


def openapi_round_indexes(rounds: int, openapi_rounds: int) -> frozenset[int]:
    """Which of the timed rounds run the ``openapi`` scenario (spread evenly)."""
    n = max(1, min(openapi_rounds, rounds))
    return frozenset(k * rounds // n for k in range(n))


def measure(states: dict[str, VariantState], rounds: int, warmup: int, openapi_rounds: int) -> None:
    """Time every scenario of every row, interleaved round by round.

    Warm-up rounds skip ``openapi``; of the timed rounds only those in
    ``openapi_round_indexes`` run it (the same rounds for every row).
    """
    active = list(states.values())
    for state in active:
        state.runs = {sc: [] for sc in SCENARIOS if (state.variant, sc) not in SKIPPED}
    with_openapi = openapi_round_indexes(rounds, openapi_rounds)
    for r in range(warmup + rounds):
        timed = r >= warmup
        label = f"round {r - warmup + 1}/{rounds}" if timed else f"warm-up {r + 1}"
        started = time.perf_counter()
        for scenario in SCENARIOS:
            if scenario == "openapi" and not (timed and r - warmup in with_openapi):
                continue
            for state in active:
                if scenario not in state.runs:
                    continue
                data = timed_run(state, scenario)
                if timed:
                    state.runs[scenario].append(data)
        log(f"  {label} done in {time.perf_counter() - started:.1f}s")


def _runtime_json(rt: Runtime) -> dict[str, Any]:
    return {"suffix": rt.suffix, "python": rt.python, "origin": rt.origin, "versions": rt.versions}


def to_json(
    all_states: dict[str, dict[str, VariantState]],
    args: argparse.Namespace,
    openapi_rounds: int,
    notes: Sequence[str],
    elapsed_s: float,
) -> dict[str, Any]:
    """Raw numbers and summaries, JSON-serialisable."""
    sizes: dict[str, Any] = {}
    for size, states in all_states.items():
        sizes[size] = {
            "variants": {
                name: {
                    "variant": s.variant,
                    "runtime": _runtime_json(s.runtime),
                    "manifest": {k: s.manifest[k] for k in ("routers", "routes", "models", "description")},
                    "check": s.check,
                    "check_error": s.check_error,
                    "runs": s.runs,
                    "run_errors": s.run_errors,
                    "summary": {m.key: vars(summarize(states, name, m.key)) for m in METRICS if m.scenario in s.runs},
                }
                for name, s in states.items()
            },
        }
    return {
        "meta": {
            "python": args.python,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "rounds": args.rounds,
            "openapi_rounds": openapi_rounds,
            "warmup": args.warmup,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "elapsed_s": elapsed_s,
            "notes": list(notes),
            "targets": [vars(t) for t in TARGETS],
        },
        "sizes": sizes,
    }


def _variant_list(text: str) -> list[str]:
    """``--variants`` items may be comma-separated: ``eager,floor lazy_optin``."""
    return [v for v in text.split(",") if v]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--size",
        action="append",
        choices=sorted(generate.SIZES),
        help="app size; repeat for several (default: large)",
    )
    p.add_argument("--rounds", type=int, default=ROUNDS, help=f"timed rounds (default {ROUNDS})")
    p.add_argument(
        "--openapi-rounds",
        type=int,
        default=OPENAPI_ROUNDS,
        metavar="N",
        help=f"how many of the timed rounds also run the slow openapi scenario (default {OPENAPI_ROUNDS};"
        " capped at --rounds)",
    )
    p.add_argument("--warmup", type=int, default=WARMUP_ROUNDS, help="untimed rounds first (without openapi)")
    p.add_argument(
        "--variants",
        nargs="+",
        type=_variant_list,
        default=[list(generate.VARIANTS)],
        metavar="VARIANT",
        help=f"variants to compare, space- or comma-separated (default: {' '.join(generate.VARIANTS)};"
        f" also: {' '.join(generate.EXTRA_VARIANTS)})",
    )
    p.add_argument("--python", default=sys.executable, help="interpreter for the children")
    p.add_argument(
        "--compat-python",
        default="auto",
        metavar="auto|PATH|none",
        help="interpreter with FastAPI < 0.164 for the fastapi_lazyrouter* variants, which also runs"
        " eager and lazy_fastapi as '@x.y' rows; 'auto' (default) creates and caches a virtualenv"
        f" with {' '.join(COMPAT_REQUIREMENTS)}; 'none' runs fastapi_lazyrouter* on --python",
    )
    p.add_argument(
        "--compat-venv",
        type=Path,
        metavar="DIR",
        help=f"where --compat-python auto keeps its virtualenv (default: WORKDIR/{COMPAT_VENV_NAME} with"
        f" --workdir, else ~/.cache/lazyrouter-bench/{COMPAT_VENV_NAME})",
    )
    p.add_argument(
        "--lazyrouter-path",
        default=str(REPO_ROOT),
        help="directory holding the lazyrouter package, appended to every"
        " child's PYTHONPATH ('' for none; default: the repo root)",
    )
    p.add_argument(
        "--include-failing",
        action="store_true",
        help="time variants even when their correctness check failed",
    )
    p.add_argument("--workdir", type=Path, help="where to generate apps (default: a temp dir, removed)")
    p.add_argument("--json", type=Path, help="write raw numbers to this file")
    p.add_argument("--markdown", type=Path, metavar="FILE", help="write the result tables as a Markdown snippet")
    p.add_argument("--plot", type=Path, metavar="DIR", help="write PNG charts (needs matplotlib)")
    args = p.parse_args(argv)
    args.size = list(dict.fromkeys(args.size or ["large"]))
    args.variants = list(dict.fromkeys(v for group in args.variants for v in group))
    unknown = [v for v in args.variants if v not in generate.ALL_VARIANTS]
    if unknown:
        p.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(generate.ALL_VARIANTS)}")
    if not args.variants:
        p.error("--variants needs at least one variant")
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.openapi_rounds < 1:
        p.error("--openapi-rounds must be >= 1")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("--plot needs matplotlib (pip install matplotlib)")
    return args


def plan_rows(variants: Sequence[str], main: Runtime, compat: Runtime | None) -> list[tuple[str, Runtime]]:
    """(variant, runtime) of every row: main rows first, then the compat group.

    With a compat runtime, ``fastapi_lazyrouter*`` run only there, next to
    ``eager`` and ``lazy_fastapi`` on the same interpreter (their pair baselines).
    """
    third_party = [v for v in variants if v in generate.FASTAPI_LAZYROUTER_VARIANTS]
    if compat is None or not third_party:
        return [(v, main) for v in variants]
    rows = [(v, main) for v in variants if v not in generate.FASTAPI_LAZYROUTER_VARIANTS]
    rows += [(v, compat) for v in dict.fromkeys([*COMPAT_PEERS, *third_party])]
    return rows


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{seconds:.1f}s"


def main(argv: list[str] | None = None) -> int:
    """Generate, check, time, report.

    Exit status 1 if one of our variants (anything but the third-party
    ``fastapi_lazyrouter*`` comparison variants) failed its correctness check.
    Interpreters or variants that cannot be set up (no network for the
    compat virtualenv, no import-string support for ``lazy_modules``) are
    reported as notes and skipped; they do not change the exit status.
    """
    started = time.perf_counter()
    args = parse_args(argv)
    variants = list(args.variants)
    openapi_rounds = min(args.openapi_rounds, args.rounds)
    extra_paths = (args.lazyrouter_path,) if args.lazyrouter_path else ()
    notes: list[str] = []

    versions = query_versions(args.python, extra_paths) or {}
    main_rt = Runtime("", args.python, extra_paths, versions, "--python")
    compat_rt: Runtime | None = None
    if args.compat_python != "none" and any(v in generate.FASTAPI_LAZYROUTER_VARIANTS for v in variants):
        # The compat interpreter imports lazyrouter from the checkout even if
        # the main one has it installed (--lazyrouter-path '').
        compat_paths = extra_paths or (str(REPO_ROOT),)
        venv_dir = args.compat_venv or default_compat_venv_dir(args.workdir)
        log(f"compat interpreter (--compat-python {args.compat_python})")
        compat_rt, note = ensure_compat_runtime(args.compat_python, main_rt, venv_dir, compat_paths)
        if note:  # no usable interpreter: skip the third-party variants
            log(f"  note: {note}")
            notes.append(note)
            variants = [v for v in variants if v not in generate.FASTAPI_LAZYROUTER_VARIANTS]
    if "lazy_modules" in variants and not lazy_modules_supported(main_rt):
        variants.remove("lazy_modules")
        note = "lazy_modules skipped: this lazyrouter does not accept import strings in include_router()"
        log(f"note: {note}")
        notes.append(note)
    rows = plan_rows(variants, main_rt, compat_rt)
    if not rows:
        log("nothing to measure")
        return 0

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lazyrouter-bench-"))
    all_states: dict[str, dict[str, VariantState]] = {}
    failed = False
    try:
        for size in args.size:
            log(f"[{size}] generating {len({v for v, _ in rows})} variants in {workdir / size}")
            states = prepare(size, rows, workdir)
            log(f"[{size}] correctness checks")
            check_all(states)
            failed |= any(
                s.check_error for s in states.values() if s.variant not in generate.FASTAPI_LAZYROUTER_VARIANTS
            )
            timed = {n: s for n, s in states.items() if not s.check_error or args.include_failing}
            log(f"[{size}] timing {len(timed)} rows x {rounds_label(args.rounds, openapi_rounds)}")
            measure(timed, args.rounds, args.warmup, openapi_rounds)
            all_states[size] = states
            print(report(size, states, args.rounds, openapi_rounds, notes), flush=True)
        elapsed = time.perf_counter() - started
        if args.json:
            args.json.write_text(json.dumps(to_json(all_states, args, openapi_rounds, notes, elapsed), indent=1) + "\n")
            log(f"wrote {args.json}")
        if args.markdown:
            text = markdown(all_states, args.rounds, openapi_rounds, notes)
            args.markdown.write_text(text, encoding="utf-8")
            log(f"wrote {args.markdown}")
        if args.plot:
            for path in plot(all_states, args.plot):
                log(f"wrote {path}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal elapsed: {_elapsed(time.perf_counter() - started)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
