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
router, the parameterized route of the middle router, and a 404.  A second
table compares the *first* request to a not-yet-hit route (one route in
each of several distinct routers; lazyrouter builds it then) with a warm
request to the same route.

Usage::

    python bench/routing.py            # full run (several minutes)
    python bench/routing.py --quick    # smoke run, well under 60 s
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROUTE_COUNTS: tuple[int, ...] = (10, 100, 1_000, 5_000, 10_000)
QUICK_ROUTE_COUNTS: tuple[int, ...] = (10, 100)
ROUTES_PER_ROUTER = 10
REPEATS = 7  # R: timed batches per measurement
QUICK_REPEATS = 3
BATCH_TARGET_S = 0.05  # a batch runs at least this long (N is calibrated)
QUICK_BATCH_TARGET_S = 0.005
MAX_BATCH = 100_000
FIRST_HIT_SAMPLES = 15  # distinct routers probed for first-hit latency
QUICK_FIRST_HIT_SAMPLES = 3
PARAM_ID = 42

FRAMEWORKS: tuple[str, ...] = ("fastapi", "starlette", "lazyrouter")
LAYOUTS: tuple[str, ...] = ("routers", "flat")
PROBES: tuple[str, ...] = ("first", "last", "param", "param_last", "404", "405", "redirect")
BASELINE = "fastapi"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

# Make the repository root importable so that ``lazyrouter`` is found when
# this script runs from a checkout.
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))


# --------------------------------------------------------------------------
# App construction
# --------------------------------------------------------------------------


def router_prefix(index: int) -> str:
    """Path prefix of router ``index``."""
    return f"/g{index:04d}"


def static_path(j: int) -> str:
    return f"/s{j}"


def probe_paths(n_routes: int) -> dict[str, tuple[str, int, str]]:
    """Path, expected status and method of every probe for an app of ``n_routes``."""
    routers = n_routes // ROUTES_PER_ROUTER
    last_static = ROUTES_PER_ROUTER - 2
    first = router_prefix(0) + static_path(0)
    return {
        "first": (first, 200, "GET"),
        "last": (router_prefix(routers - 1) + static_path(last_static), 200, "GET"),
        "param": (f"{router_prefix(routers // 2)}/items/{PARAM_ID}", 200, "GET"),
        "param_last": (f"{router_prefix(routers - 1)}/items/{PARAM_ID}", 200, "GET"),
        "404": ("/no/such/route", 404, "GET"),
        "405": (first, 405, "POST"),
        "redirect": (first + "/", 307, "GET"),
    }


def first_hit_paths(n_routes: int, samples: int) -> list[str]:
    """One static route in each of ``samples`` routers spread over the app."""
    routers = n_routes // ROUTES_PER_ROUTER
    picks = sorted({round(k * (routers - 1) / max(1, samples - 1)) for k in range(samples)})
    return [router_prefix(r) + static_path(4) for r in picks[:samples]]


async def _fastapi_static() -> dict[str, bool]:
    return {"ok": True}


async def _fastapi_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


def build_fastapi_like(n_routes: int, layout: str, lazy: bool) -> ASGIApp:
    """Eager FastAPI (``lazy=False``) or LazyFastAPI/LazyRouter (``lazy=True``)."""
    from fastapi import APIRouter, FastAPI

    app_cls: type[FastAPI] = FastAPI
    router_cls: type[APIRouter] = APIRouter
    if lazy:
        from lazyrouter import LazyFastAPI, LazyRouter

        app_cls, router_cls = LazyFastAPI, LazyRouter
    app = app_cls(openapi_url=None)
    for r in range(n_routes // ROUTES_PER_ROUTER):
        prefix = router_prefix(r)
        router = router_cls() if layout == "routers" else None
        add_route = router.add_api_route if router is not None else app.add_api_route
        base = "" if router is not None else prefix
        for j in range(ROUTES_PER_ROUTER - 1):
            add_route(base + static_path(j), _fastapi_static, methods=["GET"])
        add_route(base + "/items/{item_id}", _fastapi_item, methods=["GET"])
        if router is not None:
            app.include_router(router, prefix=prefix)
    return app


def build_starlette(n_routes: int, layout: str) -> ASGIApp:
    """Raw ``starlette.routing.Router`` (``Mount`` per router or flat ``Route``s)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import BaseRoute, Mount, Route, Router

    async def static(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["item_id"]})

    def routes(base: str) -> list[BaseRoute]:
        out: list[BaseRoute] = [
            Route(base + static_path(j), static, methods=["GET"]) for j in range(ROUTES_PER_ROUTER - 1)
        ]
        out.append(Route(base + "/items/{item_id:int}", item, methods=["GET"]))
        return out

    n_routers = n_routes // ROUTES_PER_ROUTER
    if layout == "routers":
        return Router(routes=[Mount(router_prefix(r), routes=routes("")) for r in range(n_routers)])
    return Router(routes=[route for r in range(n_routers) for route in routes(router_prefix(r))])


def build_app(framework: str, n_routes: int, layout: str) -> ASGIApp:
    """Build the app under test."""
    if framework == "starlette":
        return build_starlette(n_routes, layout)
    return build_fastapi_like(n_routes, layout, lazy=framework == "lazyrouter")


def prebuild_middleware(app: Any) -> None:
    """Build a Starlette/FastAPI middleware stack now, not on the first request."""
    if getattr(app, "middleware_stack", "absent") is None:
        app.middleware_stack = app.build_middleware_stack()


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


async def timed_batch(app: ASGIApp, path: str, n: int, method: str = "GET") -> float:
    """Seconds taken by ``n`` sequential requests to ``path`` (fresh scope each)."""
    template = make_scope(path, method)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            await app(dict(template), _receive, _noop_send)
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


async def batch_size(app: ASGIApp, path: str, target_s: float, method: str = "GET") -> int:
    """Requests per timed batch: enough for a batch to last ``target_s``."""
    n = 1
    while n < MAX_BATCH:
        if await timed_batch(app, path, n, method) >= target_s:
            break
        n *= 2
    return n


async def per_request_us(app: ASGIApp, path: str, repeats: int, target_s: float, method: str = "GET") -> float:
    """Median over ``repeats`` batches of µs per request (N calibrated to ``target_s``)."""
    n = await batch_size(app, path, target_s, method)
    samples = [await timed_batch(app, path, n, method) / n for _ in range(repeats)]
    return statistics.median(samples) * 1e6


async def first_hit_us(app: ASGIApp, paths: list[str]) -> tuple[float, float]:
    """Median µs of the first request to each path, and of a warm one right after."""
    first: list[float] = []
    warm: list[float] = []
    for path in paths:
        start = time.perf_counter()
        status, _ = await request_once(app, path)
        first.append(time.perf_counter() - start)
        if status != 200:
            raise AssertionError(f"first hit of {path}: status {status}")
        warm.append(statistics.median([await timed_batch(app, path, 1) for _ in range(5)]))
    return statistics.median(first) * 1e6, statistics.median(warm) * 1e6


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
) -> dict[str, tuple[dict[str, float], tuple[float, float], float]]:
    """Per framework: warm µs/request per probe, first-hit vs warm µs, and
    build time (s). The timed batches of the frameworks alternate, batch by
    batch, so that a shared machine's load weighs on each alike."""
    apps: dict[str, ASGIApp] = {}
    hits: dict[str, tuple[float, float]] = {}
    builds: dict[str, float] = {}
    for framework in frameworks:
        start = time.perf_counter()
        apps[framework] = app = build_app(framework, n_routes, layout)
        builds[framework] = time.perf_counter() - start
        prebuild_middleware(app)
        hits[framework] = await first_hit_us(app, first_hit_paths(n_routes, config.first_hit_samples))
    warm: dict[str, dict[str, float]] = {framework: {} for framework in frameworks}
    for probe, (path, want, method) in probe_paths(n_routes).items():
        batches = {}
        for framework, app in apps.items():
            status, body = await request_once(app, path, method)  # warm: route built
            check_answer(framework, probe, path, status, body, want)
            batches[framework] = await batch_size(app, path, config.batch_target_s, method)
        samples: dict[str, list[float]] = {framework: [] for framework in frameworks}
        for _ in range(config.repeats):
            for framework, app in apps.items():
                n = batches[framework]
                samples[framework].append(await timed_batch(app, path, n, method) / n)
        for framework in frameworks:
            warm[framework][probe] = statistics.median(samples[framework]) * 1e6
    return {framework: (warm[framework], hits[framework], builds[framework]) for framework in frameworks}


async def measure_floor(config: Config) -> dict[str, float]:
    """FastAPI's own floor per probe kind: an eager app holding only the route
    probed, found first in its list (µs/request). No router can cost less for
    that endpoint while FastAPI handles the request."""
    from fastapi import FastAPI

    floor: dict[str, float] = {}
    for probe, path, endpoint in (
        ("first", router_prefix(0) + static_path(0), _fastapi_static),
        ("param", router_prefix(0) + "/items/{item_id}", _fastapi_item),
    ):
        app = FastAPI(openapi_url=None)
        app.add_api_route(path, endpoint, methods=["GET"])
        prebuild_middleware(app)
        probe_path = path.replace("{item_id}", str(PARAM_ID))
        await request_once(app, probe_path)
        floor[probe] = await per_request_us(app, probe_path, config.repeats, config.batch_target_s)
    return floor


def _ratio(value: float | None, base: float | None) -> str:
    return "    -" if value is None or not base else f"{value / base:5.2f}"


def print_tables(
    frameworks: list[str],
    counts: tuple[int, ...],
    warm: dict[tuple[str, str, int], dict[str, float]],
    hits: dict[tuple[str, str, int], tuple[float, float]],
    builds: dict[tuple[str, str, int], float],
) -> None:
    """Plain-text report: µs/request with ratios vs 10 routes and vs eager FastAPI."""
    col = 30
    print("warm per-request cost: median us/request  [x vs 10 routes, x vs fastapi]")
    for layout in LAYOUTS:
        for probe in PROBES:
            print(f"\n[{layout}] probe={probe}")
            print("  " + f"{'routes':>7}" + "".join(f"{f:>{col}}" for f in frameworks))
            for n in counts:
                cells = []
                for f in frameworks:
                    value = warm.get((f, layout, n), {}).get(probe)
                    if value is None:
                        cells.append(f"{'-':>{col}}")
                        continue
                    base10 = warm.get((f, layout, counts[0]), {}).get(probe)
                    eager = warm.get((BASELINE, layout, n), {}).get(probe)
                    text = f"{value:9.1f} [{_ratio(value, base10)},{_ratio(value, eager)}]"
                    cells.append(f"{text:>{col}}")
                print("  " + f"{n:>7}" + "".join(cells))
    print("\nfirst request to a not-yet-hit route vs warm request to it: median us")
    print("  " + f"{'layout':<9}{'routes':>7}" + "".join(f"{f:>{col}}" for f in frameworks))
    for layout in LAYOUTS:
        for n in counts:
            cells = []
            for f in frameworks:
                hit = hits.get((f, layout, n))
                if hit is None:
                    cells.append(f"{'-':>{col}}")
                    continue
                text = f"{hit[0]:9.1f} / {hit[1]:7.1f} ({hit[0] / hit[1]:5.1f}x)"
                cells.append(f"{text:>{col}}")
            print("  " + f"{layout:<9}{n:>7}" + "".join(cells))
    print("\napp construction time: ms")
    print("  " + f"{'layout':<9}{'routes':>7}" + "".join(f"{f:>{col}}" for f in frameworks))
    for layout in LAYOUTS:
        for n in counts:
            cells = [
                f"{'-':>{col}}" if (f, layout, n) not in builds else f"{builds[(f, layout, n)] * 1000:>{col}.1f}"
                for f in frameworks
            ]
            print("  " + f"{layout:<9}{n:>7}" + "".join(cells))


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
    hits: dict[tuple[str, str, int], tuple[float, float]] = {}
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


# The goals: at small and medium sizes never slower than eager FastAPI
# (and clearly faster with one router per resource); flat in route count.
EAGER_LIMITS: dict[str, float] = {"flat": 1.0, "routers": 0.8}
EAGER_SIZES: tuple[int, ...] = (10, 100, 1_000)
FLAT_LIMIT = 1.3
FLAT_SIZES: tuple[int, ...] = (5_000, 10_000)


def print_targets(
    counts: tuple[int, ...], warm: dict[tuple[str, str, int], dict[str, float]], floor: dict[str, float]
) -> None:
    """The routing targets for lazyrouter, met or not, per layout and probe."""
    print("\nFastAPI's floor: an eager app holding only the probed route (us/request)")
    for probe, value in floor.items():
        print(f"  {probe:<6} {value:7.1f}")
    for n in counts:
        eager = warm.get((BASELINE, "routers", n), {})
        if n in EAGER_SIZES and "first" in eager and "first" in floor:
            limit = EAGER_LIMITS["routers"] * eager["first"]
            print(
                f"  [routers {n:>6}] first route: {EAGER_LIMITS['routers']:.1f}x eager = {limit:.1f} us, "
                f"{limit / floor['first']:.2f}x the floor"
            )
    print("\ntargets for lazyrouter (ratios of median us/request)")
    met = total = 0
    for layout in LAYOUTS:
        smallest = warm.get(("lazyrouter", layout, counts[0]), {})
        for n in counts:
            lazy = warm.get(("lazyrouter", layout, n), {})
            eager = warm.get((BASELINE, layout, n), {})
            checks: list[tuple[str, float, float]] = []
            if n in EAGER_SIZES and eager:
                limit = EAGER_LIMITS[layout]
                checks += [
                    (f"{p} vs eager FastAPI", lazy[p] / eager[p], limit) for p in PROBES if p in lazy and p in eager
                ]
            if n in FLAT_SIZES and smallest:
                checks += [
                    (f"{p} vs lazyrouter at {counts[0]} routes", lazy[p] / smallest[p], FLAT_LIMIT)
                    for p in PROBES
                    if p in lazy and p in smallest
                ]
            for label, ratio, limit in checks:
                total += 1
                met += ratio <= limit
                verdict = "met" if ratio <= limit else "NOT met"
                print(f"  [{layout} {n:>6}] {label:<34} {ratio:5.2f}x (limit {limit:.1f}x)  {verdict}")
    print(f"  {met} of {total} met")


def plot(
    frameworks: list[str], counts: tuple[int, ...], warm: dict[tuple[str, str, int], dict[str, float]], out: str
) -> None:
    """Per-request cost by route count, one panel per probe (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, grid = plt.subplots(len(LAYOUTS), len(PROBES), figsize=(3.2 * len(PROBES), 3.2 * len(LAYOUTS)), sharey=True)
    for row, layout in zip(grid, LAYOUTS, strict=True):
        for axis, probe in zip(row, PROBES, strict=True):
            for framework in frameworks:
                points = [(n, warm[(framework, layout, n)][probe]) for n in counts if (framework, layout, n) in warm]
                axis.plot([n for n, _ in points], [v for _, v in points], marker="o", label=framework)
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.set_title(f"{probe} ({layout})", fontsize=9)
            axis.set_xlabel("routes")
    axes = grid[:, 0]
    for axis in axes:
        axis.set_ylabel("us per request (median)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}", file=sys.stderr)


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
