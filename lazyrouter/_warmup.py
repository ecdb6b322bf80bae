"""Background warm-up: build the routes no request has needed yet.

A warm-up runs inside the app's lifespan, so it lives exactly as long as the
server's event loop serves the app (a server that runs no lifespan warms
nothing), and it is paced so that requests always come first:

- It starts `delay` seconds after the first request has been answered, never
  during start-up or the first request.
- It builds in one worker thread, one route at a time, and after each build
  sleeps so that building takes at most `share` of the wall-clock time.
- Builds are serialized (Pydantic's deferred model builds are not safe to run
  concurrently), so a request that needs a route built, or an included router
  lifted, while the warm-up thread is building waits for that one build. It
  waits on the event loop, which goes on serving every other request.
- At shutdown it stops before the app's own shutdown code runs, once the
  build in progress, if any, has finished.

What it walks, on FastAPI >= 0.137, is what serving needs built: a router's own
routes, and for each include the routes and effective contexts that serve it
(`ServedTree`, `PendingContext`, `include_steps()`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread
from starlette.routing import BaseRoute

from lazyrouter._declarations import Branch
from lazyrouter._routes import BrokenRoute, describe_route, is_deferred, prepare_route
from lazyrouter._tree import imported_or_broken, included_object
from lazyrouter.exceptions import LazyRouterError, RouteBuildError

if TYPE_CHECKING:
    from lazyrouter._index import RouteIndex
    from lazyrouter._serving import IncludeServing

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup  # anyio's dependency there

__all__ = ("WarmUp", "WarmUpRun", "WarmUpTarget", "warm_up_settings")


class Step(Protocol):
    """Something to build that is not a route of its own (an effective context)."""

    route: BaseRoute

    def pending(self) -> bool: ...

    def prepare(self) -> LazyRouterError | None: ...


class WarmUpTarget(Protocol):
    """What a warm-up walks: a `RouteIndex`, or what serves an include."""

    @property
    def version(self) -> int: ...

    def iter_routes(self) -> Iterator[BaseRoute | Step]: ...

    def is_ready(self, route_path: str, redirect_path: str | None = None, busy: BaseRoute | None = None) -> bool: ...


logger = logging.getLogger("lazyrouter")


@dataclass(frozen=True)
class WarmUp:
    """How a `LazyRouter` builds its remaining routes in the background.

        app = LazyFastAPI(warm_up=WarmUp(delay=5.0, share=0.1))

    `warm_up=True` means `WarmUp()`.
    """

    delay: float = 1.0
    """Seconds to wait after the first request has been answered."""
    share: float = 0.25
    """At most this fraction of wall-clock time is spent building (0 < share <= 1)."""

    def __post_init__(self) -> None:
        if not self.delay >= 0:
            raise ValueError(f"WarmUp delay must be zero or more seconds, not {self.delay!r}")
        if not 0 < self.share <= 1:
            raise ValueError(f"WarmUp share must be more than 0 and at most 1, not {self.share!r}")


def warm_up_settings(value: bool | WarmUp | None) -> WarmUp | None:
    """The settings a `warm_up=` argument stands for (None: no warm-up)."""
    if value is None or value is False:
        return None
    if value is True:
        return WarmUp()
    if isinstance(value, WarmUp):
        return value
    raise TypeError(f"warm_up must be True, False or a lazyrouter.WarmUp, not {value!r}")


_Step = tuple[BaseRoute, LazyRouterError | None]


# After a walk, look for routes declared meanwhile at most this often.
_RECHECK_SECONDS = 1.0


class WarmUpRun:
    """The warm-up of one lifespan."""

    def __init__(self, settings: WarmUp, serving_indexes: Callable[[], list[WarmUpTarget]]) -> None:
        self.settings = settings
        self._serving_indexes = serving_indexes
        self._answered = anyio.Event()  # a request has been answered since the last look
        self._busy: anyio.Event | None = None  # set while the worker thread builds
        # The route the worker thread is building, until its validators are built too.
        self._preparing: BaseRoute | None = None
        self.built = 0
        self.failed = 0

    def request_answered(self) -> None:
        self._answered.set()

    async def wait_until_ready(self, index: WarmUpTarget, route_path: str, redirect_path: str | None = None) -> None:
        """Wait, without blocking the event loop, until serving this path needs no lock.

        A warm-up step only starts from the event loop, so once this returns
        the request builds its route before the warm-up can start another step.
        (The validators of a route a request builds itself are built as the
        request uses them, after awaits: as in eager FastAPI, where response
        validation of sync endpoints runs in the thread pool, those builds can
        overlap another thread's.)
        """
        while self._busy is not None and not index.is_ready(route_path, redirect_path, self._preparing):
            await self._busy.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._run)
                try:
                    yield
                finally:
                    # Waits for the build in progress: worker threads cannot be interrupted.
                    tasks.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The task group wraps what the lifespan body raised; `_run` raises
            # nothing of its own, so hand the lifespan its own exception back.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise  # pragma: no cover

    async def _run(self) -> None:
        walked: list[_Walked] = []
        try:
            while True:
                await self._answered.wait()
                self._answered = anyio.Event()
                # First after the first request; later when routes were declared
                # (the router then serves a new index), after the next request.
                if not _same(self._serving_indexes(), walked):
                    await anyio.sleep(self.settings.delay)
                    walked = await self._walk()
                await anyio.sleep(_RECHECK_SECONDS)
        except Exception:  # pragma: no cover - a bug here must not take the lifespan down
            logger.exception("Warm-up stopped by an unexpected error")

    async def _walk(self) -> list[_Walked]:
        """Build every unbuilt route the router serves; return the indexes walked."""
        started = time.perf_counter()
        built, failed = self.built, self.failed
        try:
            walked = await self._build_all()
        except anyio.get_cancelled_exc_class():
            logger.info(
                "Warm-up stopped at shutdown after building %d routes in %.1f s",
                self.built - built,
                time.perf_counter() - started,
            )
            raise
        logger.info(
            "Warm-up built %d routes in %.1f s (%d failed to build)",
            self.built - built,
            time.perf_counter() - started,
            self.failed - failed,
        )
        return walked

    async def _build_all(self) -> list[_Walked]:
        pause_per_second_built = (1 - self.settings.share) / self.settings.share
        limiter = anyio.CapacityLimiter(1)
        walked: list[_Walked] = []
        # Routes declared meanwhile give the router a new index, or a new
        # version of it: walk it again (built routes are skipped).
        while not _same(indexes := self._serving_indexes(), walked):
            walked = [(index, index.version) for index in indexes]
            for index in indexes:
                routes = index.iter_routes()
                while _contains(self._serving_indexes(), index):
                    started = time.perf_counter()
                    step = await self._step(routes, limiter)
                    if step is None:
                        break
                    if step[1] is None:
                        self.built += 1
                    else:
                        self.failed += 1
                    await anyio.sleep((time.perf_counter() - started) * pause_per_second_built)
        return walked

    async def _step(self, routes: Iterator[BaseRoute | Step], limiter: anyio.CapacityLimiter) -> _Step | None:
        self._busy = anyio.Event()
        try:
            return await anyio.to_thread.run_sync(self._build_next, routes, limiter=limiter)
        finally:
            busy, self._busy = self._busy, None
            busy.set()

    def _build_next(self, routes: Iterator[BaseRoute | Step]) -> _Step | None:
        """In the worker thread: walk on to the next unbuilt route and build it,
        with the validators its first request would otherwise build."""
        for item in routes:
            if isinstance(item, BaseRoute):
                if is_deferred(item):
                    self._preparing = item
                    try:
                        return item, prepare_route(item)
                    finally:
                        self._preparing = None
            elif item.pending():
                self._preparing = item.route
                try:
                    return item.route, item.prepare()
                finally:
                    self._preparing = None
        return None


_Walked = tuple[WarmUpTarget, int]
"""An index, and its version when it was walked."""


def _same(indexes: list[WarmUpTarget], walked: list[_Walked]) -> bool:
    return len(indexes) == len(walked) and all(
        index is other and index.version == version for index, (other, version) in zip(indexes, walked, strict=True)
    )


def _contains(indexes: list[WarmUpTarget], index: WarmUpTarget) -> bool:
    return any(candidate is index for candidate in indexes)


@dataclass(eq=False, slots=True)
class PendingContext:
    """A warm-up step: a route of an include and its effective context."""

    serving: IncludeServing
    route: BaseRoute

    def pending(self) -> bool:
        cached = self.serving.contexts.get(id(self.route))
        return is_deferred(self.route) or cached is None or cached[0] is not self.route

    def prepare(self) -> LazyRouterError | None:
        error = prepare_route(self.route)
        if error is not None:
            return error
        try:
            self.serving.effective_context(self.route)
        except Exception as exc:
            return RouteBuildError(f"effective context of {describe_route(self.route)}", exc)
        return None


class ServedTree:
    """What a LazyRouter serves on FastAPI >= 0.137, as a warm-up walks it: its
    own routes, and what serving each include needs (see `_serving`)."""

    def __init__(self, index: RouteIndex) -> None:
        self.index = index

    @property
    def version(self) -> int:
        return self.index.version

    def iter_routes(self) -> Iterator[BaseRoute | PendingContext]:
        for _, entry in self.index.root_entries():
            if not isinstance(entry, Branch):
                yield entry
                continue
            yield from include_steps(entry, lambda branch: branch.entry)

    def is_ready(self, route_path: str, redirect_path: str | None = None, busy: BaseRoute | None = None) -> bool:
        return self.index.is_ready(route_path, redirect_path, busy, branch_ready=self._include_ready)

    @staticmethod
    def _include_ready(branch: Branch) -> bool:
        included = included_object(branch.router, resolve=False)
        if included is None:
            return False  # an import to make first
        servings = getattr(included, "_included_indexes", None)
        if servings is None:
            return True  # a plain router: built at declaration; FastAPI serves it
        serving = servings.get(id(branch.entry))
        return serving is not None and serving.reference() is branch.entry and serving.warmed


def include_steps(branch: Branch, entry_of: Callable[[Branch], Any]) -> Iterator[BaseRoute | PendingContext]:
    """What serving an include needs built: the work of its router (a
    LazyRouter; plain routers are built) through the include entry
    `entry_of(branch)`, or the `BrokenRoute` of a failed import."""
    router = imported_or_broken(branch)
    if isinstance(router, BrokenRoute):
        yield router
        return
    include_work = getattr(router, "_include_work", None)
    if include_work is not None:
        yield from include_work(entry_of(branch))
