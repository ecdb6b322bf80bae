"""Declaration cost of routers whose code reads `self.routes[-1]` after each route.

Some extensions (and router subclasses) look at the route they just declared.
For each layout, N routes are declared on a fresh router, interleaved in one
process, ROUNDS times; the table gives the median time and the ratios. Target:
a LazyRouter that reads its newest route after each declaration costs at most
1.2x one that reads `.routes` once at the end (reading `.routes` must not make
start-up quadratic; reading it at all creates the route objects).

    python bench/declare.py [--routes 600] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from lazyrouter import LazyRouter


class ReadingAPIRouter(APIRouter):
    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        self.last = self.routes[-1]


class ReadingLazyRouter(LazyRouter):
    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        self.last = self.routes[-1]


class ReadOnceLazyRouter(LazyRouter):
    """Reads `.routes` once, after the last declaration (as an app's start-up does)."""


def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
    return {"item_id": item_id, "q": q}


def declare(router_class: type[APIRouter], routes: int) -> float:
    started = time.perf_counter()
    router = router_class(prefix="/api", tags=["items"])
    for number in range(routes):
        router.add_api_route(f"/r{number}/{{item_id}}", read_item, methods=["GET"])
    if router_class is ReadOnceLazyRouter:
        assert len(router.routes) == routes
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    layouts = [APIRouter, ReadingAPIRouter, LazyRouter, ReadOnceLazyRouter, ReadingLazyRouter]
    times: dict[type[APIRouter], list[float]] = {layout: [] for layout in layouts}
    for _ in range(args.rounds):
        for layout in layouts:  # interleaved: drift on a shared machine hits all alike
            times[layout].append(declare(layout, args.routes))
    medians = {layout: statistics.median(samples) for layout, samples in times.items()}
    print(f"{args.routes} routes, median of {args.rounds} rounds")
    print(f"{'router':<20} {'median':>10} {'vs APIRouter':>13} {'vs reading APIRouter':>21}")
    for layout in layouts:
        print(
            f"{layout.__name__:<20} {medians[layout] * 1000:8.1f} ms {medians[layout] / medians[APIRouter]:12.2f}x"
            f" {medians[layout] / medians[ReadingAPIRouter]:20.2f}x"
        )
    # The target: a router subclass reading `self.routes[-1]` after each
    # declaration costs at most 1.2x the same code on a plain APIRouter.
    ratio = medians[ReadingLazyRouter] / medians[ReadingAPIRouter]
    print(f"target: reading after each route <= 1.2x APIRouter doing the same: {ratio:.3f}x, " + _verdict(ratio))
    # Reading `.routes` creates the route objects; reading once at the end
    # creates the same objects: what reading after each adds on top of that.
    ratio = medians[ReadingLazyRouter] / medians[ReadOnceLazyRouter]
    print(f"reading after each route vs reading once: {ratio:.3f}x (reported, no target)")


def _verdict(ratio: float) -> str:
    return "met" if ratio <= 1.2 else "NOT met"


if __name__ == "__main__":
    main()
