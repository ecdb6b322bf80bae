"""Declaring an app, then its very first request: eager FastAPI beside lazyrouter.

Where lazyrouter does its work is a trade: whatever it does at declaration, every
process start pays for every route; whatever it leaves to requests, only the routes
requested pay for, and the first request of each pays it. This benchmark shows both
halves of that trade for the apps of ``routing_apps.py`` (flat, and one router per
10 routes), each in a fresh interpreter, as a new instance of a function-as-a-service
host starts one:

* ``declare``: building the app (every ``add_api_route()`` and ``include_router()``);
* ``first``: the app's very first request, to its first route (lazyrouter builds
  that route then, and indexes what the request reaches);
* ``total``: the two together, what the app costs between its imports and its first
  answer.

FastAPI's one-time work on its first route construction (Pydantic's first schema,
a lazily imported module) falls in eager's ``declare`` and in lazyrouter's ``first``:
compare the totals. Imports are not timed (``cold_start.py`` measures them, on a real
app). Middleware stacks are built before the clock starts, in both.

Garbage collection: declaring a large app lazily leaves the objects it made to the
first full collection, which the first request's allocations (FastAPI building the
route) set off; eager FastAPI's declaration pays its collections as it goes. With
``--gc-freeze`` both call ``gc.freeze()`` after declaring, as an app's entry point can
(see docs/recipes.md): the first request then scans only what was made after it.

Each round runs every app size and layout, eager and lazy alternating, so that a
shared machine's load weighs on both alike; the table gives medians, and ratios
paired round by round. Target: the total at most eager's (1.0x), every size and layout.

    python bench/first_request.py [--counts 10 100 1000 10000] [--rounds 5] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROUTE_COUNTS: tuple[int, ...] = (10, 100, 1_000, 10_000)
ROUNDS = 5
LAYOUTS: tuple[str, ...] = ("flat", "routers")
FRAMEWORKS: tuple[str, ...] = ("fastapi", "lazyrouter")
"""Eager first, as in ``routing.py``: ratios are lazyrouter's over eager's."""
TARGET = 1.0
"""Lazyrouter's declare + first request, over eager FastAPI's, at most."""
PARTS: tuple[str, ...] = ("declare", "first", "total")


def child(framework: str, layout: str, n_routes: int, *, freeze: bool = False) -> dict[str, Any]:
    """In this (fresh) process: declare the app, then send its first request."""
    sys.path.insert(0, str(BENCH))
    sys.path.insert(1, str(BENCH.parent))  # lazyrouter from this checkout
    import fastapi  # noqa: F401  (imports are not timed: see the module docstring)
    from routing import request_once
    from routing_apps import build_app, first_hit_paths, prebuild_middleware

    import lazyrouter  # noqa: F401

    path = first_hit_paths(n_routes, 1)[0]
    frozen = gc.get_freeze_count()  # not 0 on every Python (3.12 starts with some)
    started = time.perf_counter()
    app = build_app(framework, n_routes, layout)
    declared = time.perf_counter()
    prebuild_middleware(app)
    if freeze:
        gc.freeze()
    before = time.perf_counter()
    status, body = asyncio.run(request_once(app, path))
    answered = time.perf_counter()
    return {
        "declare": declared - started,
        "first": answered - before,
        "total": (declared - started) + (answered - before),
        "froze": gc.get_freeze_count() > frozen,
        "status": status,
        "body": body.decode(errors="replace"),
        "path": path,
    }


def run_child(python: str, framework: str, layout: str, n_routes: int, freeze: bool) -> dict[str, Any]:
    """One fresh process; fail loudly if it did not answer as the app should."""
    args = [python, str(Path(__file__).resolve()), "--child", framework, layout, str(n_routes)]
    args += ["--gc-freeze"] if freeze else []
    proc = subprocess.run(args, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"{framework} {layout} {n_routes}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    if result["froze"] != freeze:
        raise AssertionError(f"{framework} {layout} {n_routes}: gc.freeze() {'not ' * freeze}called")
    if result["status"] != 200 or '"ok":true' not in result["body"].replace(" ", ""):
        raise AssertionError(f"{framework} {layout} {n_routes} {result['path']}: {result['status']} {result['body']!r}")
    return result


def measure(
    python: str, counts: tuple[int, ...], rounds: int, freeze: bool
) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    """Every framework x layout x count, `rounds` times, interleaved."""
    runs: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for number in range(rounds):
        started = time.perf_counter()
        for n_routes in counts:
            for layout in LAYOUTS:
                for framework in FRAMEWORKS:
                    result = run_child(python, framework, layout, n_routes, freeze)
                    runs.setdefault((framework, layout, n_routes), []).append(result)
        print(f"  round {number + 1} of {rounds}: {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    return runs


def paired_ratio(lazy: list[dict[str, Any]], eager: list[dict[str, Any]], part: str) -> float:
    """Median over rounds of lazyrouter's `part` over eager's in the same round."""
    return statistics.median(mine[part] / theirs[part] for mine, theirs in zip(lazy, eager, strict=True))


def report(
    runs: dict[tuple[str, str, int], list[dict[str, Any]]], counts: tuple[int, ...], rounds: int, freeze: bool
) -> None:
    """Print the table and how many cells meet the target."""

    def ms(framework: str, layout: str, n_routes: int, part: str) -> float:
        return statistics.median(result[part] for result in runs[(framework, layout, n_routes)]) * 1e3

    frozen = ", gc.freeze() after declaring" if freeze else ""
    print(f"=== declaring an app, then its very first request{frozen}: fresh processes, median ms of {rounds} rounds")
    group = f"{'':<15} | {'eager FastAPI':^26} | {'lazyrouter':^26} | {'lazyrouter vs eager':^24}"
    print(group)
    parts = "".join(f" {part:>8}" for part in PARTS)
    print(f"{'layout':<8} {'routes':>6} |{parts} |{parts} | {'total':>14} {'first':>9}")
    missed = 0
    for n_routes in counts:
        for layout in LAYOUTS:
            eager_ms = "".join(f" {ms('fastapi', layout, n_routes, part):8.1f}" for part in PARTS)
            lazy_ms = "".join(f" {ms('lazyrouter', layout, n_routes, part):8.1f}" for part in PARTS)
            lazy, eager = runs[("lazyrouter", layout, n_routes)], runs[("fastapi", layout, n_routes)]
            total, first = paired_ratio(lazy, eager, "total"), paired_ratio(lazy, eager, "first")
            missed += total > TARGET
            verdict = "met" if total <= TARGET else "NOT met"
            print(f"{layout:<8} {n_routes:>6} |{eager_ms} |{lazy_ms} | {total:6.3f}x {verdict:<7} {first:8.2f}x")
    cells = len(counts) * len(LAYOUTS)
    print(f"target: declare + first request <= {TARGET:.1f}x eager FastAPI's: {cells - missed} of {cells} met")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--counts", type=int, nargs="+", help="route counts, multiples of 10 (default: 10 100 1000 10000)")
    p.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds (default {ROUNDS})")
    p.add_argument("--python", default=sys.executable, help="interpreter for the fresh processes")
    p.add_argument("--gc-freeze", action="store_true", help="call gc.freeze() after declaring, in both")
    p.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "LAYOUT", "ROUTES"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        framework, layout, n_routes = args.child
        print(json.dumps(child(framework, layout, int(n_routes), freeze=args.gc_freeze)))
        return 0
    counts = tuple(args.counts or ROUTE_COUNTS)
    if any(n < 10 or n % 10 for n in counts):
        p.error("route counts must be positive multiples of 10")
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    report(measure(args.python, counts, args.rounds, args.gc_freeze), counts, args.rounds, args.gc_freeze)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
