"""Warm per-request routing cost as the number of routes grows.

In-process micro-benchmark: apps with 10, 100, 1,000 and 10,000 trivial
routes are built for eager FastAPI (``FastAPI`` + ``APIRouter``), raw
Starlette (``starlette.routing.Router`` with ``Route``/``Mount``) and
lazyrouter (``LazyFastAPI`` + ``LazyRouter``), in two layouts:

* ``routers``: one router per 10 routes, each included with its own prefix
  (``/g0000``, ``/g0001``, ...): 9 static routes ``/s0``..``/s8`` and one
  parameterized route ``/items/{item_id}`` per router;
* ``flat``: the same paths registered directly on the app.

Raw ASGI ``http`` scopes are sent straight to the app (no TestClient, no
server).  Every probe is sent once first, so its route is built and
caches are warm; then batches of N requests are timed with
``time.perf_counter`` (GC disabled, as ``timeit`` does) and the reported
figure is the median over R batches of microseconds per request.  The
frameworks' batches alternate (eager, Starlette, lazyrouter, eager, ...), so
a shared machine's changing load weighs on each alike.

Probes: the first registered route, the last static route of the last
router, the parameterized route of the middle router (one value asked again
and again, ``param``, and a value never asked before on every request,
``param_new``, as real traffic asks), and a 404, a 405 and a redirect.  A second
table compares the *first* request to a not-yet-hit route (one route in
each of several distinct routers; lazyrouter builds it then) with a warm
request to the same route.

Usage::

    python bench/routing.py            # full run (several minutes)
    python bench/routing.py --quick    # smoke run, well under 60 s

This file is the driver and the command line; the apps and their probes are
built in ``routing_apps.py``, the tables, targets and chart in
``routing_report.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import itertools
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing_apps import (
    BASELINE,
    FLOOR_PROBES,
    FRAMEWORKS,
    FRESH_PROBES,
    LAYOUTS,
    PARAM_ID,
    ROUTES_PER_ROUTER,
    ASGIApp,
    build_app,
    build_floor,
    first_hit_paths,
    prebuild_middleware,
    probe_paths,
)
from routing_report import plot, print_tables, print_targets

ROUTE_COUNTS: tuple[int, ...] = (10, 100, 1_000, 5_000, 10_000)
QUICK_ROUTE_COUNTS: tuple[int, ...] = (10, 100)
REPEATS = 7  # R: timed batches per measurement
QUICK_REPEATS = 3
BATCH_TARGET_S = 0.05  # a batch runs at least this long (N is calibrated)
QUICK_BATCH_TARGET_S = 0.005
MAX_BATCH = 100_000
FIRST_HIT_SAMPLES = 15  # distinct routers probed for first-hit latency
QUICK_FIRST_HIT_SAMPLES = 3

# Make the repository root importable so that ``lazyrouter`` is found when
# this script runs from a checkout.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))


# --------------------------------------------------------------------------
# Raw ASGI requests
# --------------------------------------------------------------------------


def make_scope(path: str, method: str = "GET") -> dict[str, Any]:
    """A minimal HTTP/1.1 scope for ``path``."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench.local"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("bench.local", 80),
    }


_REQUEST_MESSAGE = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return _REQUEST_MESSAGE


class _Sink:
    """ASGI ``send`` that keeps only the status and body."""

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def request_once(app: ASGIApp, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Send one request; return status and body."""
    sink = _Sink()
    await app(make_scope(path, method), _receive, sink)
    return sink.status, sink.body


async def _noop_send(message: dict[str, Any]) -> None:
    return None


_fresh_values = itertools.count(PARAM_ID + 1)


async def timed_batch(app: ASGIApp, path: str, n: int, method: str = "GET", *, fresh: bool = False) -> float:
    """Seconds taken by ``n`` sequential requests to ``path`` (fresh scope each).

    ``fresh``: each request asks for a last path segment never asked before
    (the paths are made before the clock starts)."""
    template = make_scope(path, method)
    if fresh:
        stem = path.rsplit("/", 1)[0]
        paths = [f"{stem}/{next(_fresh_values)}" for _ in range(n)]
        scopes = [{**template, "path": each, "raw_path": each.encode()} for each in paths]
    else:
        scopes = [template] * n
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for scope in scopes:
            await app(dict(scope), _receive, _noop_send)
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


async def batch_size(app: ASGIApp, path: str, target_s: float, method: str = "GET", *, fresh: bool = False) -> int:
    """Requests per timed batch: enough for a batch to last ``target_s``."""
    n = 1
    while n < MAX_BATCH:
        if await timed_batch(app, path, n, method, fresh=fresh) >= target_s:
            break
        n *= 2
    return n


async def per_request_us(app: ASGIApp, path: str, repeats: int, target_s: float, method: str = "GET") -> float:
    """Median over ``repeats`` batches of µs per request (N calibrated to ``target_s``)."""
    n = await batch_size(app, path, target_s, method)
    samples = [await timed_batch(app, path, n, method) / n for _ in range(repeats)]
    return statistics.median(samples) * 1e6


class ConstructionTimer:
    """Time spent in FastAPI's own construction while it is installed:
    `APIRouter.add_api_route()` (building a route) and, on FastAPI >= 0.137,
    `_IncludedRouter._build_effective_context()` (a route as an include sees
    it). Whatever framework calls them, lazyrouter or FastAPI itself."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._saved: list[tuple[type, str, Any]] = []

    def __enter__(self) -> ConstructionTimer:
        import fastapi.routing

        targets = [(fastapi.routing.APIRouter, "add_api_route")]
        included = getattr(fastapi.routing, "_IncludedRouter", None)
        if included is not None and hasattr(included, "_build_effective_context"):
            targets.append((included, "_build_effective_context"))
        for owner, name in targets:
            original = vars(owner)[name]
            self._saved.append((owner, name, original))
            setattr(owner, name, self._timed(original))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _timed(self, original: Any) -> Any:
        depth = [0]  # add_api_route() may call itself through subclasses: time the outer call

        @functools.wraps(original)  # lazyrouter reads add_api_route's signature
        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return original(*args, **kwargs)
            depth[0] += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                depth[0] -= 1

        return timed


class OwnTimer:
    """Time spent in lazyrouter's own dispatch while installed: the app
    router's `app()`, which finds, builds and hands over the route a first
    request selects (the route's answer runs after it returns, as a
    coroutine), less FastAPI's construction within it (`ConstructionTimer`).
    Starlette's router calls `app()` through `middleware_stack`, the bound
    method it took when the router was made: that is what is wrapped."""

    def __init__(self, app: Any, construction: ConstructionTimer) -> None:
        self.seconds = 0.0
        self._router = app.router
        self._construction = construction

    def __enter__(self) -> OwnTimer:
        router = self._router
        dispatch = router.middleware_stack
        if getattr(dispatch, "__func__", None) is not type(router).app:
            raise AssertionError("the bench apps' routers have no middleware of their own")

        @functools.wraps(dispatch)
        def timed(scope: Any, receive: Any, send: Any) -> Any:
            built = self._construction.seconds
            start = time.perf_counter()
            try:
                return dispatch(scope, receive, send)
            finally:
                self.seconds += time.perf_counter() - start - (self._construction.seconds - built)

        router.middleware_stack = timed
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._router.middleware_stack = self._router.middleware_stack.__wrapped__


@dataclass(frozen=True)
class FirstHit:
    """Medians over several first requests, in µs."""

    first: float
    """The first request to a route not yet requested."""
    warm: float
    """A request to the same route right after."""
    construction: float
    """Of `first`, FastAPI building the route and its context (`ConstructionTimer`)."""
    rest: float
    """Of `first`, the rest beyond a warm request: `first - construction - warm`."""
    own: float | None = None
    """Of `rest`, lazyrouter's own dispatch (`OwnTimer`); None for the others."""


async def first_hits(framework: str, app: ASGIApp, n_routes: int, layout: str, samples: int) -> FirstHit:
    """First requests to `samples` routes (one a router), in `app` and, if it
    has fewer routers, in fresh copies of it: a first request is one sample."""
    paths = first_hit_paths(n_routes, samples)
    time_own = framework == "lazyrouter"
    rows = await first_hit_rows(app, paths, time_own)
    while len(rows) < samples:
        fresh = build_app(framework, n_routes, layout)
        prebuild_middleware(fresh)
        rows += await first_hit_rows(fresh, paths[: samples - len(rows)], time_own)
    first, warm, construction, own = (statistics.median(column) * 1e6 for column in zip(*rows, strict=True))
    rest = statistics.median(f - c - w for f, w, c, _ in rows) * 1e6
    return FirstHit(first, warm, construction, rest, own if time_own else None)


async def first_hit_rows(app: ASGIApp, paths: list[str], time_own: bool) -> list[tuple[float, float, float, float]]:
    """For each path: its first request, a warm one right after, the
    construction within the first, and (`time_own`) lazyrouter's own dispatch
    within it (seconds; else 0)."""
    rows: list[tuple[float, float, float, float]] = []
    with ConstructionTimer() as timer, contextlib.ExitStack() as stack:
        own = stack.enter_context(OwnTimer(app, timer)) if time_own else None
        for path in paths:
            timer.seconds = 0.0
            if own is not None:
                own.seconds = 0.0
            start = time.perf_counter()
            status, _ = await request_once(app, path)
            first = time.perf_counter() - start
            construction = timer.seconds
            own_seconds = 0.0 if own is None else own.seconds
            if status != 200:
                raise AssertionError(f"first hit of {path}: status {status}")
            warm = statistics.median([await timed_batch(app, path, 1) for _ in range(5)])
            rows.append((first, warm, construction, own_seconds))
    return rows


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """How much work to do."""

    counts: tuple[int, ...]
    repeats: int
    batch_target_s: float
    first_hit_samples: int
    plot: str | None = None


def available_frameworks() -> tuple[list[str], dict[str, str]]:
    """Frameworks that can be imported, and why the others cannot."""
    missing: dict[str, str] = {}
    try:
        import lazyrouter  # noqa: F401
    except Exception as exc:  # any import-time failure of a work in progress
        missing["lazyrouter"] = f"{type(exc).__name__}: {exc}"
    return [f for f in FRAMEWORKS if f not in missing], missing


def check_answer(framework: str, probe: str, path: str, status: int, body: bytes, want: int) -> None:
    """Fail loudly if a probe did not get the expected answer."""
    if status != want:
        raise AssertionError(f"{framework} {probe} {path}: status {status} != {want}: {body[:100]!r}")
    if probe.startswith("param") and str(PARAM_ID).encode() not in body:
        raise AssertionError(f"{framework} {probe} {path}: unexpected body {body[:100]!r}")


async def measure_apps(
    frameworks: list[str], n_routes: int, layout: str, config: Config
) -> dict[str, tuple[dict[str, float], FirstHit, float]]:
    """Per framework: warm µs/request per probe, first-hit vs warm µs, and
    build time (s). The timed batches of the frameworks alternate, batch by
    batch, so that a shared machine's load weighs on each alike."""
    apps: dict[str, ASGIApp] = {}
    hits: dict[str, FirstHit] = {}
    builds: dict[str, float] = {}
    for framework in frameworks:
        start = time.perf_counter()
        apps[framework] = app = build_app(framework, n_routes, layout)
        builds[framework] = time.perf_counter() - start
        prebuild_middleware(app)
        hits[framework] = await first_hits(framework, app, n_routes, layout, config.first_hit_samples)
    warm: dict[str, dict[str, float]] = {framework: {} for framework in frameworks}
    for probe, (path, want, method) in probe_paths(n_routes).items():
        fresh = probe in FRESH_PROBES
        batches = {}
        for framework, app in apps.items():
            status, body = await request_once(app, path, method)  # warm: route built
            check_answer(framework, probe, path, status, body, want)
            batches[framework] = await batch_size(app, path, config.batch_target_s, method, fresh=fresh)
        samples: dict[str, list[float]] = {framework: [] for framework in frameworks}
        for _ in range(config.repeats):
            for framework, app in apps.items():
                n = batches[framework]
                samples[framework].append(await timed_batch(app, path, n, method, fresh=fresh) / n)
        for framework in frameworks:
            warm[framework][probe] = statistics.median(samples[framework]) * 1e6
    return {framework: (warm[framework], hits[framework], builds[framework]) for framework in frameworks}


async def measure_floor(config: Config) -> dict[str, tuple[float, float]]:
    """FastAPI's own floor per probe kind (µs/request), on the apps of
    ``routing_apps.build_floor``, with eager FastAPI's one-router-per-resource
    app of the smallest size on the same probe: their batches alternate, so
    the ratio of the two holds on a loaded machine."""
    eager = build_app(BASELINE, config.counts[0], "routers")
    prebuild_middleware(eager)
    floor: dict[str, tuple[float, float]] = {}
    for probe in FLOOR_PROBES:
        app, probe_path = build_floor(probe)
        prebuild_middleware(app)
        eager_path = probe_paths(config.counts[0])[probe][0]
        await request_once(app, probe_path)
        await request_once(eager, eager_path)
        pairs = ((app, probe_path), (eager, eager_path))
        batches = [await batch_size(target, path, config.batch_target_s) for target, path in pairs]
        samples: tuple[list[float], list[float]] = ([], [])
        for _ in range(config.repeats):
            for (target, path), n, found in zip(pairs, batches, samples, strict=True):
                found.append(await timed_batch(target, path, n) / n)
        floor[probe] = (statistics.median(samples[0]) * 1e6, statistics.median(samples[1]) * 1e6)
    return floor


async def warm_up_process(frameworks: list[str]) -> None:
    """Pay process-wide one-time costs (lazy imports, first-call paths) up front.

    Uses throwaway apps, so that first-hit timings of the measured apps only
    contain per-route work.
    """
    for layout in LAYOUTS:
        for f in frameworks:
            app = build_app(f, ROUTES_PER_ROUTER * 2, layout)
            for path, _, method in probe_paths(ROUTES_PER_ROUTER * 2).values():
                await request_once(app, path, method)


async def run(config: Config, frameworks: list[str]) -> None:
    """Measure every framework x layout x route count, then print tables."""
    await warm_up_process(frameworks)
    warm: dict[tuple[str, str, int], dict[str, float]] = {}
    hits: dict[tuple[str, str, int], FirstHit] = {}
    builds: dict[tuple[str, str, int], float] = {}
    for n in config.counts:
        for layout in LAYOUTS:
            t = time.perf_counter()
            for f, (warm_us, hit_us, build_s) in (await measure_apps(frameworks, n, layout, config)).items():
                warm[(f, layout, n)], hits[(f, layout, n)], builds[(f, layout, n)] = warm_us, hit_us, build_s
            print(f"  measured {layout} {n} routes in {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
            gc.collect()
    floor = await measure_floor(config)
    print_tables(frameworks, config.counts, warm, hits, builds)
    print_targets(config.counts, warm, floor)
    if config.plot:
        plot(frameworks, config.counts, warm, config.plot)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny smoke run (10 and 100 routes)")
    p.add_argument("--counts", type=int, nargs="+", help="route counts (multiples of 10)")
    p.add_argument("--repeats", type=int, help=f"R, timed batches (default {REPEATS})")
    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    p.add_argument("--plot", metavar="PNG", help="write a chart of per-request cost by route count (matplotlib)")
    args = p.parse_args(argv)
    counts = tuple(args.counts or (QUICK_ROUTE_COUNTS if args.quick else ROUTE_COUNTS))
    if any(n < ROUTES_PER_ROUTER or n % ROUTES_PER_ROUTER for n in counts):
        p.error(f"route counts must be positive multiples of {ROUTES_PER_ROUTER}")
    config = Config(
        counts=counts,
        repeats=args.repeats or (QUICK_REPEATS if args.quick else REPEATS),
        batch_target_s=QUICK_BATCH_TARGET_S if args.quick else BATCH_TARGET_S,
        first_hit_samples=QUICK_FIRST_HIT_SAMPLES if args.quick else FIRST_HIT_SAMPLES,
        plot=args.plot,
    )
    usable, missing = available_frameworks()
    frameworks = [f for f in args.frameworks if f in usable]
    for name, reason in missing.items():
        if name in args.frameworks:
            print(f"note: skipping {name}: {reason}", file=sys.stderr)
    if BASELINE not in frameworks:
        print("note: ratios vs fastapi need the fastapi framework", file=sys.stderr)
    asyncio.run(run(config, frameworks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
