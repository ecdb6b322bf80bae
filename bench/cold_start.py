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
* ``openapi``: import the app, GET ``/openapi.json`` twice.

Usage::

    python bench/cold_start.py --size large --rounds 7 --json results.json
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

ROUNDS = 7
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


@dataclass(frozen=True)
class Target:
    """A goal for the lazyrouter variants: ``metric`` ratio vs ``baseline`` <= ``limit``."""

    label: str
    metric: str
    baseline: str
    limit: float


TARGETS: tuple[Target, ...] = (
    Target("cold start to first response >= 4x faster than eager", "first_response_s", BASELINE, 0.25),
    Target("cold start to first response within 1.15x of floor", "first_response_s", FLOOR, 1.15),
    Target("peak RSS <= 0.6x eager", "rss_mib", BASELINE, 0.60),
    Target("cold start to first /openapi.json <= 0.85x eager", "openapi_cold_s", BASELINE, 0.85),
)


@dataclass
class VariantState:
    """Everything known about one generated variant of one size."""

    variant: str
    app_dir: Path
    manifest: dict[str, Any]
    check: dict[str, Any] | None = None
    check_error: str | None = None
    #: scenario -> one entry per timed round (``None``: the run failed)
    runs: dict[str, list[dict[str, Any] | None]] = field(default_factory=dict)
    run_errors: list[str] = field(default_factory=list)

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


def child_env(app_dir: Path, extra_paths: Sequence[str]) -> dict[str, str]:
    """A clean environment: no inherited PYTHON* variables, app dir on the path."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(app_dir), *extra_paths]),
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


def timed_run(python: str, state: VariantState, scenario: str, extra_paths: Sequence[str]) -> dict[str, Any] | None:
    """One timed child run; adds the parent-side measurements to its result."""
    result = run_child(python, scenario, state.app_dir, state.probes[:1], extra_paths)
    if result.data is None or result.error:
        state.run_errors.append(f"{scenario}: {result.error}")
        return None
    data = dict(result.data)
    data["wall_s"] = result.wall_s
    if same_clock_across_processes() and "done_abs" in data:
        data["spawn_to_response_s"] = data["done_abs"] - result.spawn_abs
    return data


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
    """Median, range and paired ratios of one metric for one variant."""

    n: int
    median: float | None
    low: float | None
    high: float | None
    vs_eager: float | None
    vs_floor: float | None


def summarize(states: dict[str, VariantState], variant: str, metric: str) -> Summary:
    """Summary of ``metric`` for ``variant`` (ratios are paired by round)."""
    values = states[variant].series(metric)
    present = [v for v in values if v is not None]

    def ratio(baseline: str) -> float | None:
        if baseline not in states:
            return None
        return paired_ratio(values, states[baseline].series(metric))

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


def metric_table(states: dict[str, VariantState], metric: Metric) -> list[str]:
    """Plain-text table of one metric across variants."""
    unit = "ms" if metric.unit == "s" else metric.unit
    lines = [
        f"{metric.key}: {metric.title} [{unit}]",
        f"  {'variant':<25}{'median':>9}{'min-max':>19}{'vs eager':>10}{'vs floor':>10}{'n':>4}",
    ]
    for variant, state in states.items():
        if (variant, metric.scenario) in SKIPPED or not state.runs:
            continue
        s = summarize(states, variant, metric.key)
        span = f"{_fmt(s.low, metric.unit)}-{_fmt(s.high, metric.unit)}"
        lines.append(
            f"  {variant:<25}{_fmt(s.median, metric.unit):>9}{span:>19}"
            f"{_fmt_ratio(s.vs_eager):>10}{_fmt_ratio(s.vs_floor):>10}{s.n:>4}"
        )
    return lines


def target_lines(states: dict[str, VariantState]) -> list[str]:
    """Targets of the lazyrouter variants, each reported met / NOT met / n/a."""
    lines = ["targets (lazyrouter variants; paired median ratios):"]
    lazy = [v for v in states if v in generate.LAZYROUTER_VARIANTS]
    if not lazy:
        return lines + ["  (no lazyrouter variant measured)"]
    for target in TARGETS:
        for variant in lazy:
            state = states[variant]
            if target.baseline not in states or not state.runs:
                verdict, shown = "n/a", "-"
            else:
                ratio = paired_ratio(state.series(target.metric), states[target.baseline].series(target.metric))
                shown = "-" if ratio is None else f"{ratio:.3f}x"
                verdict = "n/a" if ratio is None else ("met" if ratio <= target.limit else "NOT met")
            limit = f"(limit {target.limit:.2f}x)"
            lines.append(f"  {verdict:<8} {variant:<14} {shown:>7} {limit}  {target.label}")
        floor_ratio = _floor_ratio(states, target)
        if floor_ratio is not None and floor_ratio > target.limit:
            lines.append(
                f"  note: unreachable on this app: floor itself is {floor_ratio:.3f}x"
                f" {target.baseline} for {target.metric}"
            )
    return lines


def _floor_ratio(states: dict[str, VariantState], target: Target) -> float | None:
    """Ratio of the floor to a target's baseline (a bound for any lazy variant)."""
    if target.baseline == FLOOR or FLOOR not in states or target.baseline not in states:
        return None
    return paired_ratio(states[FLOOR].series(target.metric), states[target.baseline].series(target.metric))


def check_line(state: VariantState) -> str:
    """One line describing a variant's correctness check."""
    if state.check is None:
        return f"  FAIL  {state.variant:<25} {state.check_error}"
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
    return f"  {verdict}  {state.variant:<25} {probes}; {openapi}{extra}"


def report(size: str, states: dict[str, VariantState], rounds: int) -> str:
    """The whole plain-text report for one size."""
    any_state = next(iter(states.values()))
    m = any_state.manifest
    out = [
        "",
        f"=== size {size}: {m['routers']} routers, {m['routes']} routes, {m['models']} models;"
        f" {rounds} rounds; times in ms ===",
        "correctness check:",
        *(check_line(s) for s in states.values()),
    ]
    for state in states.values():
        if state.run_errors:
            count, first = len(state.run_errors), state.run_errors[0]
            out.append(f"  run errors for {state.variant}: {count}, e.g. {first}")
    for metric in METRICS:
        if metric.key == "spawn_to_response_s" and not same_clock_across_processes():
            continue
        out += ["", *metric_table(states, metric)]
    out += ["", *target_lines(states)]
    return "\n".join(out)


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


def prepare(size: str, variants: Iterable[str], workdir: Path) -> dict[str, VariantState]:
    """Generate (once) and byte-compile every variant of ``size``."""
    states: dict[str, VariantState] = {}
    for variant in variants:
        app_dir = workdir / size / variant
        pkg = generate.generate(size, variant, app_dir)
        if not compileall.compile_dir(str(pkg), quiet=1):
            raise RuntimeError(f"generated code of {variant} does not compile: {pkg}")
        manifest = json.loads((pkg / "manifest.json").read_text())
        states[variant] = VariantState(variant, app_dir, manifest)
    return states


def check_all(python: str, states: dict[str, VariantState], extra_paths: Sequence[str]) -> None:
    """Run the correctness check of every variant (in its own process)."""
    for state in states.values():
        result = run_child(python, "check", state.app_dir, state.probes, extra_paths)
        state.check = result.data
        state.check_error = result.error
        verdict = "ok" if not result.error else f"FAILED: {result.error}"
        log(f"  check {state.variant}: {verdict}")


def measure(
    python: str,
    states: dict[str, VariantState],
    rounds: int,
    warmup: int,
    extra_paths: Sequence[str],
) -> None:
    """Time every scenario of every variant, interleaved round by round."""
    active = list(states.values())
    for state in active:
        state.runs = {sc: [] for sc in SCENARIOS if (state.variant, sc) not in SKIPPED}
    for r in range(warmup + rounds):
        label = f"warm-up {r + 1}" if r < warmup else f"round {r - warmup + 1}/{rounds}"
        started = time.perf_counter()
        for scenario in SCENARIOS:
            for state in active:
                if scenario not in state.runs:
                    continue
                data = timed_run(python, state, scenario, extra_paths)
                if r >= warmup:
                    state.runs[scenario].append(data)
        log(f"  {label} done in {time.perf_counter() - started:.1f}s")


def to_json(all_states: dict[str, dict[str, VariantState]], args: argparse.Namespace) -> dict[str, Any]:
    """Raw numbers and summaries, JSON-serialisable."""
    sizes: dict[str, Any] = {}
    for size, states in all_states.items():
        sizes[size] = {
            "variants": {
                v: {
                    "manifest": {k: s.manifest[k] for k in ("routers", "routes", "models", "description")},
                    "check": s.check,
                    "check_error": s.check_error,
                    "runs": s.runs,
                    "run_errors": s.run_errors,
                    "summary": {m.key: vars(summarize(states, v, m.key)) for m in METRICS if m.scenario in s.runs},
                }
                for v, s in states.items()
            },
        }
    return {
        "meta": {
            "python": args.python,
            "python_version": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "rounds": args.rounds,
            "warmup": args.warmup,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "targets": [vars(t) for t in TARGETS],
        },
        "sizes": sizes,
    }


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
    p.add_argument("--warmup", type=int, default=WARMUP_ROUNDS, help="untimed rounds first")
    p.add_argument(
        "--variants",
        nargs="+",
        choices=generate.ALL_VARIANTS,
        default=list(generate.VARIANTS),
        metavar="VARIANT",
        help=f"variants to compare (default: {' '.join(generate.VARIANTS)}; also: {' '.join(generate.EXTRA_VARIANTS)})",
    )
    p.add_argument("--python", default=sys.executable, help="interpreter for the children")
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
    p.add_argument("--plot", type=Path, metavar="DIR", help="write PNG charts (needs matplotlib)")
    args = p.parse_args(argv)
    args.size = list(dict.fromkeys(args.size or ["large"]))
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            p.error("--plot needs matplotlib (pip install matplotlib)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate, check, time, report.

    Exit status 1 if one of our variants (anything but the third-party
    ``fastapi_lazyrouter*`` comparison variants) failed its correctness check.
    """
    args = parse_args(argv)
    variants = list(dict.fromkeys(args.variants))
    extra_paths = [args.lazyrouter_path] if args.lazyrouter_path else []
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lazyrouter-bench-"))
    all_states: dict[str, dict[str, VariantState]] = {}
    failed = False
    try:
        for size in args.size:
            log(f"[{size}] generating {len(variants)} variants in {workdir / size}")
            states = prepare(size, variants, workdir)
            log(f"[{size}] correctness checks")
            check_all(args.python, states, extra_paths)
            failed |= any(s.check_error for v, s in states.items() if v not in generate.FASTAPI_LAZYROUTER_VARIANTS)
            timed = {v: s for v, s in states.items() if not s.check_error or args.include_failing}
            log(f"[{size}] timing {len(timed)} variants x {args.rounds} rounds")
            measure(args.python, timed, args.rounds, args.warmup, extra_paths)
            all_states[size] = states
            print(report(size, states, args.rounds), flush=True)
        if args.json:
            args.json.write_text(json.dumps(to_json(all_states, args), indent=1) + "\n")
            log(f"wrote {args.json}")
        if args.plot:
            for path in plot(all_states, args.plot):
                log(f"wrote {path}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
