"""What is measured and what it is judged against.

A *row* is one generated variant run on one interpreter.  Each timed run of
a row reports the metrics of its scenario.  Ratios are paired: round i of a
row over round i of its baseline (``eager`` or ``floor`` on the same
interpreter), then the median, so that slow drifts of a shared machine hit
both sides of a ratio alike.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import generate

from coldstart.runtimes import Runtime

SCENARIOS: tuple[str, ...] = ("first_response", "mangum", "openapi")
#: (variant, scenario) pairs that are not run: ``floor`` serves no OpenAPI.
SKIPPED: frozenset[tuple[str, str]] = frozenset({("floor", "openapi")})
BASELINE = "eager"
FLOOR = "floor"
#: Variants that import a router's module only when it is first needed: the
#: floor (importing every module, no route) does not bound them.
IMPORTS_ON_DEMAND: frozenset[str] = frozenset({"lazy_modules", "lazy_manifest"})


#: What each variant's wiring is, in a few words (the headline's second column).
WIRING: dict[str, str] = {
    "eager": "FastAPI + APIRouter",
    "eager_defer": "eager, defer_build models",
    "fastapi_lazyrouter": "fastapi-lazyrouter",
    "fastapi_lazyrouter_auto": "fastapi-lazyrouter, Auto mode",
    "lazy_fastapi": "LazyFastAPI + LazyRouter",
    "lazy_assign": "app.router = LazyRouter()",
    "lazy_optin": "FastAPI + LazyRouter routers",
    "lazy_modules": "LazyFastAPI + import strings",
    "lazy_manifest": "import strings + manifest",
    "lazy_snapshot": "LazyFastAPI + OpenAPI snapshot",
    "floor": "imports every module, no routes",
}


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
    # Other processes on the machine lengthen wall times far more than this.
    Metric("cpu_s", "first_response", "CPU time to first response (user + system, from interpreter start)"),
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
    #: Only these variants are judged (all lazyrouter variants when empty).
    variants: tuple[str, ...] = ()


TARGETS: tuple[Target, ...] = (
    Target(
        "with lazy module imports: cold start >= 8x faster than eager",
        "first_response_s",
        BASELINE,
        0.125,
        ("lazy_modules", "lazy_manifest"),
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
class Row:
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

    def reports(self, metric: Metric) -> bool:
        """Whether this row was timed in ``metric``'s scenario."""
        return bool(self.runs.get(metric.scenario))


Rows = dict[str, Row]


def paired_ratio(values: Sequence[float | None], base: Sequence[float | None]) -> float | None:
    """Median over rounds of ``values[i] / base[i]`` (rounds missing either are skipped)."""
    # A row that was not timed has no rounds at all, hence strict=False.
    ratios = [v / b for v, b in zip(values, base, strict=False) if v is not None and b]
    return statistics.median(ratios) if ratios else None


def ratio_to(rows: Rows, row: Row, baseline: str, metric: str) -> float | None:
    """Paired ratio of ``row`` to ``baseline`` on the same runtime."""
    peer = rows.get(row.peer(baseline))
    return None if peer is None else paired_ratio(row.series(metric), peer.series(metric))


@dataclass(frozen=True)
class Summary:
    """Median, range and paired ratios of one metric for one row."""

    n: int
    median: float | None
    low: float | None
    high: float | None
    vs_eager: float | None
    vs_floor: float | None


def summarize(rows: Rows, name: str, metric: str) -> Summary:
    """Summary of ``metric`` for row ``name``, ratios against its own runtime's baselines."""
    row = rows[name]
    present = [v for v in row.series(metric) if v is not None]
    if not present:
        return Summary(0, None, None, None, None, None)
    return Summary(
        n=len(present),
        median=statistics.median(present),
        low=min(present),
        high=max(present),
        vs_eager=ratio_to(rows, row, BASELINE, metric),
        vs_floor=ratio_to(rows, row, FLOOR, metric),
    )


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


def judged(target: Target, row: Row) -> bool:
    """Whether ``target`` applies to ``row`` (a lazyrouter variant it names, or any)."""
    if row.variant not in generate.LAZYROUTER_VARIANTS:
        return False
    return not target.variants or row.variant in target.variants


def verdicts(rows: Rows) -> list[tuple[Target, list[Verdict], list[str]]]:
    """Every target of every lazyrouter row, plus notes (floor misses the target)."""
    out: list[tuple[Target, list[Verdict], list[str]]] = []
    for target in TARGETS:
        found = [
            Verdict(target, row.name, row.peer(target.baseline), ratio_to(rows, row, target.baseline, target.metric))
            for row in rows.values()
            if judged(target, row)
        ]
        notes: list[str] = []
        bound = floor_ratio(rows, target)
        if bound is not None and bound > target.limit:
            notes.append(
                f"out of reach for a variant importing every module: floor itself is {bound:.3f}x"
                f" {target.baseline} for {target.metric}"
            )
        out.append((target, found, notes))
    return out


def floor_ratio(rows: Rows, target: Target) -> float | None:
    """Ratio of the floor to a target's baseline: a bound for the variants importing every module."""
    if target.variants and set(target.variants) <= IMPORTS_ON_DEMAND:
        return None
    if target.baseline == FLOOR or FLOOR not in rows or target.baseline not in rows:
        return None
    return paired_ratio(rows[FLOOR].series(target.metric), rows[target.baseline].series(target.metric))
