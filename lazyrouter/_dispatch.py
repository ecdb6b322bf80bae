"""Dispatch: how a LazyRouter answers requests.

Served by an app, a LazyRouter runs FastAPI's own `APIRouter.app` over a
*view* of itself that lists only the routes its index finds for the path (and
the include entries holding one). Included into another router on FastAPI >=
0.137, it answers the include entry's `matches()` and `handle()` with FastAPI's
own code over the same few candidates (see `_serving`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, Final, cast

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter._declarations import OBJECT, Branch, Declaration, Inclusion, RouterImport
from lazyrouter._deferred import BuildContext
from lazyrouter._direct import INCLUDE_ASKED, NOT_YET, Direct, DirectRoute, direct_route
from lazyrouter._index import CACHE_SIZE, CACHED_PATH_LENGTH, Grouped, RouteIndex
from lazyrouter._registration import Registering
from lazyrouter._serving import IncludeServing
from lazyrouter._tree import (
    expand,
    frontend_entries,
    has_frontends,
    holds_router_imports,
    lifted_items,
    live_include,
    plain_routers,
    with_entries,
)
from lazyrouter._warmup import PendingContext, WarmUpRun


@dataclasses.dataclass(eq=False, slots=True)
class _Views:
    """What `Dispatching._served()` made for one version of an index."""

    index: RouteIndex
    version: int
    http: dict[str, _Served] = dataclasses.field(default_factory=dict)
    websocket: dict[str, _Served] = dataclasses.field(default_factory=dict)
    shared: dict[tuple[int, ...], _View] = dataclasses.field(default_factory=dict)
    """Views by the ids of the routes they list."""
    by_grouped: dict[int, tuple[object, _View]] = dataclasses.field(default_factory=dict)
    """Views by the index's answer they were made from (kept alive with it):
    the index gives paths of one shape the same answer (see `RouteIndex`)."""


class _View:
    """The router as FastAPI's dispatch sees it for the paths of the same
    candidates (`router`, made when first asked: a request its direct route
    serves never asks), and the direct route that serves every one of them
    (a route with path parameters, which its own `matches()` checks), once known."""

    __slots__ = ("_router", "_source", "routes", "served")

    def __init__(self, source: APIRouter, routes: list[Any]) -> None:
        self._source = source
        self._router: APIRouter | None = None
        self.routes = routes
        self.served: _Served | None = None
        """How every HTTP path of the view is served, once its direct route is
        known: a route with path parameters, which its own `matches()` checks."""

    @property
    def router(self) -> APIRouter:
        router = self._router
        if router is None:
            router = APIRouter.__new__(APIRouter)
            router.__dict__ = {**self._source.__dict__, "routes": self.routes}
            self._router = router
        return router


@dataclasses.dataclass(eq=False, slots=True)
class _Served:
    """How the router serves one path: its view, and the direct route that
    stands in for FastAPI's dispatch over it (see `_direct`)."""

    view: _View
    direct: Direct | str | None = NOT_YET


# Private attributes FastAPI's dispatch reads besides the public ones.
_DISPATCH_STATE: Final = frozenset({"_low_priority_routes", "_frontend_routes"})


class Dispatching(Registering):
    """The serving half of a LazyRouter (which inherits this)."""

    # Set by LazyRouter.__init__.
    _bound: bool
    _serves_app: bool
    _warm_up_run: WarmUpRun | None
    _views: _Views | None
    _frontends: tuple[RouteIndex, list[tuple[int, Branch]]] | None
    _first_include_at: tuple[RouteIndex, int | None] | None
    _included_indexes: dict[int, IncludeServing]
    _plain_versions: tuple[int, ...] | None
    _plain_routers: tuple[int, list[APIRouter]] | None

    def _current_index(self, *, plain_routers_read: bool = False) -> RouteIndex:
        """The index of what this router serves, as its routes are now.

        `plain_routers_read`: also as the plain APIRouters it includes are now.
        FastAPI >= 0.137 includes them by reference, and lazyrouter learns of
        their changes only by asking (a walk): requests reach them through
        their include entries anyway, so only listing and naming routes ask.
        """
        if plain_routers_read and self._index is not None and self._plain_versions != self._plain_router_versions():
            self._changed()
        index = self._index
        if index is None or index.version != self._version:
            with self._index_lock:
                index = self._index
                if index is None or index.version != self._version:
                    self._sync_declarations()
                    # Included into a plain router, FastAPI derives the served
                    # routes from these; served by this router, they are final.
                    items = lifted_items(self, (), final=self._serves_app or not _compat.INCLUDES_ARE_LIVE)
                    self._plain_versions = self._plain_router_versions()
                    index = self._index = RouteIndex(self._context, self._version, items, expand, pinned=live_include)
        return index

    def _plain_router_versions(self) -> tuple[int, ...] | None:
        if not _compat.INCLUDES_ARE_LIVE:
            return None
        cached = self._plain_routers
        if cached is None or cached[0] != self._version:
            # Which routers are plain changes only with this router's version.
            cached = self._plain_routers = (self._version, list(plain_routers(self)))
        return tuple(router._get_routes_version() for router in cached[1])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._bound:
            self._bind(scope.get("app"))
        await self.middleware_stack(scope, receive, send)

    # Not `async def`, as `handle()` below: handing back FastAPI's own
    # coroutine saves a coroutine frame per request.
    def app(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        if scope["type"] == "lifespan":
            return super().app(scope, receive, send)
        if "router" not in scope:
            # FastAPI's dispatch applies the router's form limits first (which
            # makes `scope["fastapi"]`), then names the router.
            _compat.apply_form_limits(scope, self)
            scope["router"] = self
        served = self._served(scope)
        warm_up = self._warm_up_run
        if warm_up is None:
            direct = served.direct
            if direct is NOT_YET:
                direct = self._direct_for(served, scope)
            if direct is not None:
                answer = direct.serve(scope, receive, send)  # type: ignore[union-attr]
                if answer is not None:
                    return answer
                if direct.stale:  # type: ignore[union-attr]
                    served.direct = NOT_YET  # found again, for the routes as they are
            # FastAPI's own dispatch, over the only routes that can match this path
            # or its redirect_slashes twin: same answer as scanning them all.
            return APIRouter.app(served.view.router, scope, receive, send)
        return self._app_warming_up(warm_up, served.view.router, scope, receive, send)

    def _direct_for(self, served: _Served, scope: Scope) -> Direct | None:
        shared = served.view.served
        if shared is not None and scope["type"] == "http":
            served.direct = shared.direct  # found for another path of the view
            return served.direct  # type: ignore[return-value]
        routes = served.view.routes
        asks_include = bool(routes) and routes[0] is INCLUDE_ASKED
        candidates = routes[1:] if asks_include else routes
        route_path = _compat.get_route_path(scope)
        direct = direct_route(self, candidates[0], route_path, scope, asks_include) if candidates else None
        served.direct = direct
        if isinstance(direct, DirectRoute) and direct.params:
            served.view.served = _Served(served.view, direct)  # for the view's other paths too
        return None if direct is NOT_YET else direct  # type: ignore[return-value]

    async def _app_warming_up(
        self, warm_up: WarmUpRun, view: APIRouter, scope: Scope, receive: Receive, send: Send
    ) -> None:
        async with _answered(warm_up, scope):
            route_path = _compat.get_route_path(scope)
            await warm_up.wait_until_ready(self._current_index(), route_path, self._redirect_path(scope, route_path))
            await APIRouter.app(view, scope, receive, send)

    def _served(self, scope: Scope) -> _Served:
        """This router as FastAPI's dispatch sees it for a request: listing only
        the routes that may match its path or the path's redirect_slashes twin
        (on FastAPI >= 0.137: its own routes, and the entries of the includes
        that hold a candidate or a frontend).

        Views are remembered per path (while the index and the router's
        attributes stay), and shared by paths with the same candidates.
        """
        index = self._current_index()
        views = self._views
        if views is None or views.index is not index or views.version != index.version:
            views = self._views = _Views(index, index.version)
        route_path = _compat.get_route_path(scope)
        # Only HTTP requests have a redirect_slashes twin.
        by_path = views.http if scope["type"] == "http" else views.websocket
        served = by_path.get(route_path)
        if served is None:
            view = self._new_view(views, route_path, self._redirect_path(scope, route_path))
            if view.served is not None and scope["type"] == "http":
                # Its direct route serves every path of the view: nothing to
                # remember per path (parameter values come and go).
                return view.served
            served = _Served(view)
            if len(route_path) <= CACHED_PATH_LENGTH:
                if len(by_path) >= CACHE_SIZE:
                    by_path.clear()
                by_path[route_path] = served
            else:
                served.direct = None  # not remembered: nothing to stand in for
        return served

    def _redirect_path(self, scope: Scope, route_path: str) -> str | None:
        """The path FastAPI's dispatch tries when nothing matches (`redirect_slashes`)."""
        if scope["type"] != "http" or not self.redirect_slashes or route_path == "/":
            return None
        return route_path.rstrip("/") if route_path.endswith("/") else route_path + "/"

    def _new_view(self, views: _Views, route_path: str, redirect_path: str | None) -> _View:
        index = views.index
        if _compat.INCLUDES_ARE_LIVE:
            answer = index.grouped_candidates(route_path, redirect_path)
            known = views.by_grouped.get(id(answer))
            if known is not None and known[0] is answer:
                return known[1]
            view = self._shared_view(views, self._view_routes(index, answer))
            if len(views.by_grouped) >= CACHE_SIZE:
                views.by_grouped.clear()
            views.by_grouped[id(answer)] = (answer, view)
            return view
        return self._shared_view(views, index.candidates(route_path, redirect_path))

    def _view_routes(self, index: RouteIndex, answer: Grouped) -> list[Any]:
        """What a view lists for the index's answer (FastAPI >= 0.137): the
        candidates, the entries of their includes and of those holding hosts or
        frontends, and the first include entry FastAPI's dispatch asks."""
        # The index's remembered answer: with_entries() never changes it.
        grouped = with_entries(answer, self._frontend_entries(index))
        routes: list[Any] = [route if branch is None else branch.entry for _, branch, route in grouped]
        first_include = self._first_include(index)
        if first_include is not None and all(number != first_include for number, _, _ in grouped):
            # FastAPI's dispatch asks that include entry to match (which makes
            # `scope["fastapi"]`) if no route before it does.
            at = sum(1 for number, _, _ in grouped if number < first_include)
            routes.insert(at, INCLUDE_ASKED)
        return routes

    def _shared_view(self, views: _Views, routes: list[Any]) -> _View:
        key = tuple(map(id, routes))
        view = views.shared.get(key)
        if view is None:
            view = _View(self, routes)
            if len(views.shared) >= CACHE_SIZE:
                views.shared.clear()
            views.shared[key] = view
        return view

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        # A view holds a copy of the router's attributes: drop the views when
        # one FastAPI's dispatch reads is rebound (`router.redirect_slashes = False`).
        if not name.startswith("_") or name in _DISPATCH_STATE:
            self.__dict__["_views"] = None

    def _first_include(self, index: RouteIndex) -> int | None:
        """The position of the router's first include entry (FastAPI >= 0.137)."""
        cached = self._first_include_at
        if cached is None or cached[0] is not index:
            cached = self._first_include_at = (index, index.first_include_entry())
        return cached[1]

    def _frontend_entries(self, index: RouteIndex) -> list[tuple[int, Branch]]:
        """The includes with frontends (FastAPI >= 0.164) or hosts: FastAPI
        finds those through the include entries of `routes`, whatever the path."""
        cached = self._frontends
        if cached is None or cached[0] is not index:
            cached = self._frontends = (index, frontend_entries(index))
        return cached[1]

    # FastAPI >= 0.137 matches and dispatches an included router through these
    # two hooks, with its own code over effective route contexts; a LazyRouter
    # runs that code over the candidates its index finds (see `_serving`).
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        included = _compat.included_router_for(scope, self)
        if included is None:
            return super().matches(scope)
        return self._included_serving(included).match(scope)

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        included = _compat.included_router_for(scope, self)
        if included is None:
            return super().handle(scope, receive, send)
        serving = self._included_serving(included)
        warm_up = self._warm_up_run
        if warm_up is None:
            return serving.handle(scope, receive, send)
        return self._handle_warming_up(warm_up, serving, scope, receive, send)

    async def _handle_warming_up(
        self, warm_up: WarmUpRun, serving: IncludeServing, scope: Scope, receive: Receive, send: Send
    ) -> None:
        async with _answered(warm_up, scope):
            await warm_up.wait_until_ready(serving.index, _compat.get_route_path(scope))
            await serving.handle(scope, receive, send)

    def _listed_at(self, number: int) -> BaseRoute | None:
        return self._listed(self._declarations[number])

    def _included_serving(self, included: Any) -> IncludeServing:
        """How this router serves one FastAPI include entry: an index of its
        routes as the include sees them (for matching), and their contexts."""
        key = id(included)
        serving = self._included_indexes.get(key)
        if serving is not None and serving.reference() is included and serving.routes_version == self._version:
            return serving
        with self._index_lock:
            self._sync_declarations()
            prefix = included.include_context.prefix
            # Under a prefix with no parameters, a path matches a route here as the
            # rest of it matches the route's own path: this router's own index
            # answers, and nothing is lifted. Not with a failed import in it (its
            # stand-in matches the whole path), nor hosts and frontends (FastAPI
            # matches them whatever the path).
            stripped = "{" not in prefix and not holds_router_imports(self) and not has_frontends(self)
            if serving is None or serving.reference() is not included:
                reference = weakref.ref(included, lambda _: self._included_indexes.pop(key, None))
                serving = IncludeServing(reference, BuildContext(self), {}, cast(RouteIndex, None), self._listed_at)
            # Contexts last as long as the routes they were built from, as in FastAPI.
            if stripped:
                serving.reset(self._current_index(), strip=prefix)
            else:
                # The context folds in every enclosing router's settings: lift
                # this router's routes into a router that carries them.
                target = _compat.scratch_router(self, **_compat.router_settings_from_include(included))
                items = lifted_items(self, ((serving.options, target),))
                context = BuildContext(target, serving.context.lock)
                serving.reset(RouteIndex(context, self._version, items, expand, cached=False, pinned=live_include))
            serving.routes_version = self._version
            self._included_indexes[key] = serving
        return serving

    def _include_work(self, included: Any) -> Iterator[BaseRoute | PendingContext]:
        return self._included_serving(included).work()

    def _bind(self, app: Any) -> None:
        """Take over FastAPI's own router after `app.router = LazyRouter()`.

        FastAPI built its router with `dependency_overrides_provider=app` and
        the `/openapi.json`, `/docs` and `/redoc` routes; the replacement gets
        both, ahead of every other route as FastAPI has them.
        """
        with self._index_lock:
            if self._bound:
                return
            # Called as an ASGI app: this router serves its routes as they are.
            self._bound = self._serves_app = True
            self._changed()
            if not isinstance(app, FastAPI) or app.router is not self:
                return
            if self.dependency_overrides_provider is None:
                self.dependency_overrides_provider = app
                # Routers included before this know the app through their include
                # context, as they would had FastAPI's own router included them.
                for item in self._declarations:
                    if isinstance(item, Inclusion) and not isinstance(item.router, RouterImport):
                        context = getattr(item.entry, "include_context", None)
                        if context is not None and context.dependency_overrides_provider is None:
                            context.dependency_overrides_provider = app
            self._sync_declarations()
            if app.openapi_url and not any(
                declaration.kind == OBJECT and declaration.path == app.openapi_url
                for declaration in self._declarations
                if isinstance(declaration, Declaration)
            ):
                count = len(self._declarations)
                app.setup()
                added = self._declarations[count:]
                self._declarations[:] = added + self._declarations[:count]
            self._changed()


@contextlib.asynccontextmanager
async def _answered(warm_up: WarmUpRun, scope: Scope) -> AsyncIterator[None]:
    """Tell a warm-up waiting for the first request when one has been answered
    (a WebSocket counts once connected: it may stay open for hours)."""
    if scope["type"] == "websocket":
        warm_up.request_answered()
    try:
        yield
    finally:
        warm_up.request_answered()
