"""`LazyRouter`: an `APIRouter` that builds each route on its first request."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from typing import Any, Final, cast

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.exceptions import FastAPIError
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Host, Match, Mount, Router, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter._declarations import (
    API_ROUTE,
    API_WEBSOCKET,
    OBJECT,
    Branch,
    Declaration,
    Inclusion,
    RouterImport,
    has_lifespan,
)
from lazyrouter._deferred import BuildContext, BuildStats, can_defer, deferred_route, prepare_route
from lazyrouter._index import CACHE_SIZE, CACHED_PATH_LENGTH, RouteIndex
from lazyrouter._lifting import declaration_for_route
from lazyrouter._route_list import RouteList
from lazyrouter._serving import IncludeServing, PendingContext, ServedTree
from lazyrouter._templates import validate_path
from lazyrouter._tree import (
    Declaring,
    count_declared,
    empty_path_names,
    expand,
    has_frontends,
    lifted_items,
    plain_routers,
    snapshot,
    sum_stat,
)
from lazyrouter._warmup import WarmUp, WarmUpRun, WarmUpTarget, warm_up_settings
from lazyrouter.exceptions import LazyRouterError

__all__ = ("LazyRouter",)

# While set, `.routes` lists the routes served (see `LazyRouter.served_routes`):
# LazyFastAPI generates its OpenAPI document from the routes it serves.
_LIST_SERVED_ROUTES: contextvars.ContextVar[bool] = contextvars.ContextVar("lazyrouter_list_served", default=False)


@contextlib.contextmanager
def listing_served_routes() -> Iterator[None]:
    token = _LIST_SERVED_ROUTES.set(True)
    try:
        yield
    finally:
        _LIST_SERVED_ROUTES.reset(token)


# include_router() arguments lazyrouter knows how to combine (see `lift`).
_COMBINED_INCLUDE_OPTIONS = frozenset(
    {
        "prefix",
        "tags",
        "dependencies",
        "default_response_class",
        "responses",
        "callbacks",
        "deprecated",
        "include_in_schema",
        "generate_unique_id_function",
        "max_body_size",
        "form_limits",
    }
)


@functools.cache
def _lazy_state() -> frozenset[str]:
    """A LazyRouter's own bookkeeping, never frozen with the router's settings:
    every attribute it has that an APIRouter has not, and the handler lists
    include_router() extends (a change to them is no change of settings)."""
    own = frozenset(vars(LazyRouter())) - frozenset(vars(APIRouter()))
    return own | {"on_startup", "on_shutdown"}


class _RouteCollector:
    """Stands in for `self` when Starlette's own registration code builds a route."""

    def __init__(self) -> None:
        self.routes: list[BaseRoute] = []


@dataclasses.dataclass(eq=False, slots=True)
class _Views:
    """The views `LazyRouter._view()` made for one version of an index."""

    index: RouteIndex
    version: int
    by_path: Callable[[str, str | None], APIRouter]
    shared: dict[tuple[int, ...], APIRouter] = dataclasses.field(default_factory=dict)


# Private attributes FastAPI's dispatch reads besides the public ones.
_DISPATCH_STATE: Final = frozenset({"_low_priority_routes", "_frontend_routes"})


class LazyRouter(APIRouter, Declaring):
    """An `APIRouter` that declares routes now and builds them on first use.

    Use it wherever an `APIRouter` goes; nothing else changes:

        router = LazyRouter(prefix="/items", tags=["items"])

        @router.get("/{item_id}")
        async def read_item(item_id: int) -> Item: ...

    Registering a route records the call. The first request that matches it
    builds the route with FastAPI's own code, with the settings FastAPI would
    have used, and later requests reuse it. Requests are matched through a
    segment trie, so only the few routes that can match are looked at.
    """

    def __init__(self, *, warm_up: bool | WarmUp = False, **kwargs: Any) -> None:
        """Takes every `APIRouter` argument, and:

        `warm_up`: once the app has answered its first request, build the
        routes no request has needed yet in a background thread, paced so that
        requests come first (`True`, or a `lazyrouter.WarmUp` with its delay and
        share of time). Runs within the app's lifespan; for the router that
        serves the app, or one included into a plain `FastAPI` app.
        """
        self.warm_up = warm_up_settings(warm_up)
        self._warm_up_run: WarmUpRun | None = None
        # Starlette's __init__ assigns `self.routes`; the setter needs these.
        self._declarations: list[Declaration | Inclusion] = []
        self._version = 0
        # Weak, so a router included somewhere does not keep that app alive.
        self._parents: list[weakref.ref[LazyRouter]] = []
        self._index_lock = threading.RLock()  # _bind() declares the docs routes under it
        self._index: RouteIndex | None = None
        self._context = BuildContext(self)
        self._included_indexes: dict[int, IncludeServing] = {}
        # `.routes`: one list for the router's lifetime, as Starlette has it.
        self._route_list = RouteList((), self._routes_edited)
        self._route_list_version = -1
        self._edited = False  # the list was changed by user code: it is the truth
        self._frozen: APIRouter | None = None
        # FastAPI >= 0.137: the `_IncludedRouter` entries of `.routes`, by id.
        self._inclusions: dict[int, Inclusion] = {}
        self._views: _Views | None = None
        self._served_tree: ServedTree | None = None
        self._plain_versions: tuple[int, ...] | None = None
        self._plain_routers: tuple[int, list[APIRouter]] | None = None
        self._frontends: tuple[RouteIndex, list[tuple[int, Branch]]] | None = None
        self._bound = False
        self._serves_app = False  # the router of a FastAPI app, not included by one
        # include_router() merges lifespans even when every one is FastAPI's
        # default; this remembers whether any real one was given.
        self._has_lifespan = kwargs.get("lifespan") is not None
        super().__init__(**kwargs)

    @classmethod
    def _from_router(cls, router: APIRouter, **kwargs: Any) -> LazyRouter:
        """A LazyRouter with `router`'s settings, routes and lifespan."""
        lazy = cls(**_compat.router_init_kwargs(router), **kwargs)
        lazy._bound = lazy._serves_app = True
        return lazy

    # -- what the router serves ------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route, in order, with include_router() prefixes applied.

        Routes not requested yet are deferred: reading `.path`, `.name`,
        `.methods` or matching them builds nothing; any other attribute builds
        the route (as generating the OpenAPI document does). The list is the
        router's: every change to it changes what the router serves.
        """
        if _LIST_SERVED_ROUTES.get():
            return self.served_routes()
        if not self._edited and self._route_list_version != self._version:
            version = self._version
            self._route_list.replace_contents(self._listed_routes())
            self._route_list_version = version
        return self._route_list

    @routes.setter
    def routes(self, routes: Sequence[BaseRoute]) -> None:
        self._declarations = [declaration_for_route(route) for route in routes]
        self._edited = False
        self._changed()

    def _listed_routes(self) -> list[BaseRoute]:
        if not _compat.INCLUDES_ARE_LIVE:
            # FastAPI < 0.137 copies included routes into the including router.
            return self.served_routes()
        # FastAPI >= 0.137: the router's own routes, and an `_IncludedRouter`
        # for each include; nothing is lifted, built or imported.
        self._sync_declarations()
        return [route for item in self._declarations if (route := self._listed(item)) is not None]

    def _listed(self, item: Declaration | Inclusion) -> BaseRoute | None:
        if isinstance(item, Inclusion):
            return item.entry
        if item.kind == OBJECT:
            return cast(BaseRoute, item.endpoint)
        return deferred_route(item, self._context)

    def served_routes(self) -> list[BaseRoute]:
        """Every route this router serves, in order, with include prefixes applied.

        What `.routes` lists on FastAPI < 0.137; on later releases `.routes` lists
        `_IncludedRouter` entries for includes, as FastAPI does. Lifts every
        include (and imports those included by import string); builds nothing.
        """
        return self._current_index(plain_routers_read=True).routes

    def _routes_edited(self, routes: RouteList) -> None:
        # Served as it stands from the next request on (see _current_index).
        self._edited = True
        self._changed()

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self._current_index(plain_routers_read=True).url_path_for(name, path_params)

    def stats(self) -> BuildStats:
        """Counts of declared, built and failed routes, and time spent building,
        over this router and the LazyRouters it includes."""
        self._current_index()
        return BuildStats(
            declared=count_declared(self),
            **{
                field.name: sum_stat(self, field.name)
                for field in dataclasses.fields(BuildStats)
                if field.name != "declared"
            },
        )

    def resolve_all(self) -> BuildStats:
        """Build every route now, as eager FastAPI would have at import.

        For a warm-up before serving: in tests, in gunicorn's `--preload`
        master before it forks workers, in an AWS Lambda SnapStart init.
        Every route is attempted; if some fail, the first `RouteBuildError`
        is raised after the others are built.
        """
        failures = [error for _, error in self.resolve_each() if error is not None]
        if failures:
            raise failures[0]
        return self.stats()

    async def aresolve_all(self) -> BuildStats:
        """`resolve_all()` in a worker thread, so the event loop keeps serving."""
        return await anyio.to_thread.run_sync(self.resolve_all)

    def resolve_each(self) -> Iterator[tuple[BaseRoute, LazyRouterError | None]]:
        """Build each route in order; yield it with its build error, if any.

        The Pydantic validators and serializers FastAPI leaves to a route's first
        request (those of `defer_build` models) are built too.

        On FastAPI >= 0.137 an included route serves through the effective
        route context FastAPI makes for each include: the contexts of the
        includes this router serves (or that requests have used, included into
        a plain app) are built too.
        """
        for target in self._warm_up_targets(everything=True):
            for item in target.iter_routes():
                if isinstance(item, BaseRoute):
                    yield item, prepare_route(item)
                else:
                    yield item.route, item.prepare()

    # -- background warm-up ------------------------------------------------------

    # Starlette runs the router's lifespan through this attribute, and FastAPI's
    # include_router() merges it into the including router's: wrapping it here
    # runs the warm-up within the app's lifespan in every usage mode.
    @property
    def lifespan_context(self) -> Any:
        if self.warm_up is None:
            return self._lifespan_context
        return functools.partial(self._lifespan_with_warm_up, self._lifespan_context)

    @lifespan_context.setter
    def lifespan_context(self, lifespan_context: Any) -> None:
        self._lifespan_context = lifespan_context

    @contextlib.asynccontextmanager
    async def _lifespan_with_warm_up(self, lifespan_context: Any, app: Any) -> AsyncIterator[Any]:
        assert self.warm_up is not None
        async with lifespan_context(app) as state:
            run = self._warm_up_run = WarmUpRun(self.warm_up, self._warm_up_targets)
            try:
                async with run.running():
                    yield state
            finally:
                self._warm_up_run = None

    def _warm_up_targets(self, *, everything: bool = False) -> list[WarmUpTarget]:
        """What answers requests, to build ahead of them (`everything`: also
        the routes of a router that serves no request yet)."""
        if self._serves_app or everything:
            index = self._current_index()
            if not _compat.INCLUDES_ARE_LIVE:
                return [index]  # the routes served are the index's own
            tree = self._served_tree
            if tree is None or tree.index is not index:
                tree = self._served_tree = ServedTree(index)
            return [tree, *([] if self._serves_app else self._includes_in_use())]
        return list(self._includes_in_use())

    def _includes_in_use(self) -> list[IncludeServing]:
        return [
            serving
            for serving in list(self._included_indexes.values())
            if serving.reference() is not None and serving.index.version == self._version
        ]

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
                    index = self._index = RouteIndex(self._context, self._version, items, expand, pinned=_live_include)
        return index

    def _plain_router_versions(self) -> tuple[int, ...] | None:
        if not _compat.INCLUDES_ARE_LIVE:
            return None
        cached = self._plain_routers
        if cached is None or cached[0] != self._version:
            # Which routers are plain changes only with this router's version.
            cached = self._plain_routers = (self._version, list(plain_routers(self)))
        return tuple(router._get_routes_version() for router in cached[1])

    def _sync_declarations(self) -> None:
        """After user code changed `.routes`, serve that list as it stands."""
        if self._edited:
            self._declarations = [self._declaration_of(route) for route in self._route_list]
            self._edited = False

    def _declaration_of(self, route: BaseRoute) -> Declaration | Inclusion:
        inclusion = self._inclusions.get(id(route))
        if inclusion is not None and inclusion.entry is route:
            return inclusion
        return declaration_for_route(route)

    def _current_declarations(self) -> list[Declaration | Inclusion]:
        self._sync_declarations()
        return self._declarations

    def _settings(self) -> APIRouter:
        """This router's settings as they are now, as FastAPI reads them at declaration."""
        frozen = self._frozen
        if frozen is None or not _compat.same_settings(self, frozen):
            frozen = self._frozen = _compat.frozen_settings(self, _lazy_state())
        return frozen

    def _changed(self) -> None:
        self._version += 1
        for reference in self._parents:
            parent = reference()
            if parent is not None:
                parent._changed()

    # FastAPI >= 0.137 asks routers for these; walking `.routes` would build.
    def _mark_routes_changed(self) -> None:
        self._changed()

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        return self._version

    def _contains_router(self, router: APIRouter, seen: set[int] | None = None) -> bool:
        seen = set() if seen is None else seen
        if id(self) in seen:
            return False
        seen.add(id(self))
        for item in self._current_declarations():
            if isinstance(item, Inclusion):
                if isinstance(item.router, RouterImport):
                    continue  # not imported yet: it cannot include an object of this app
                if item.router is router:
                    return True
                contains = getattr(item.router, "_contains_router", None)
                if contains is not None and contains(router, seen):
                    return True
        return False

    # -- registration ----------------------------------------------------------

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        unknown = kwargs.keys() - _compat.API_ROUTE_PARAMETERS
        if unknown:
            raise TypeError(f"add_api_route() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        validate_path(self.prefix + path)
        _compat.validate_include_options(kwargs)  # the body and form limits, as FastAPI checks them now
        settings = self._settings()
        if not can_defer(kwargs.get("route_class_override") or settings.route_class):
            # A route class with its own __init__ or matching: only running it
            # tells what it matches, so it is built now, as FastAPI builds it.
            scratch = _compat.scratch_router(settings)
            started = time.perf_counter()
            APIRouter.add_api_route(scratch, path, endpoint, **kwargs)
            self._context.stats.built_at_declaration += 1
            self._context.stats.declaration_build_seconds += time.perf_counter() - started
            self._declare_route(scratch.routes[-1])
            return
        if _eager_mode():
            # Build once here, only for the errors FastAPI raises at declaration.
            APIRouter.add_api_route(_compat.scratch_router(settings), path, endpoint, **kwargs)
        self._declare(Declaration(API_ROUTE, path, endpoint, kwargs, settings))

    def add_api_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None, **kwargs: Any
    ) -> None:
        validate_path(self.prefix + path)
        settings = self._settings()
        if _eager_mode():
            APIRouter.add_api_websocket_route(_compat.scratch_router(settings), path, endpoint, name=name, **kwargs)
        self._declare(Declaration(API_WEBSOCKET, path, endpoint, {"name": name, **kwargs}, settings))

    # Starlette routes, mounts and hosts cost nothing to build: build them now,
    # with Starlette's own code, so they fail where FastAPI's would.
    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        collector = _RouteCollector()
        Router.add_route(collector, path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema)  # type: ignore[arg-type]
        self._declare_route(collector.routes[0])

    def add_websocket_route(self, path: str, endpoint: Callable[..., Any], name: str | None = None) -> None:
        self._declare_route(WebSocketRoute(path, endpoint=endpoint, name=name))

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        self._declare_route(Mount(path, app=app, name=name))

    def host(self, host: str, app: ASGIApp, name: str | None = None) -> None:
        self._declare_route(Host(host, app=app, name=name))

    def include_router(self, router: APIRouter | str, **kwargs: Any) -> None:
        """Include `router`; its routes stay unbuilt until requested.

        Accepts every `APIRouter.include_router()` argument. `router` may be an
        import string, `"package.module:router"`: the module is then imported
        only when a request first reaches `prefix` (or something needs every
        route: `.routes`, `/openapi.json`, `url_path_for()` of a name not
        found before it). A prefix is required for that:

            app.include_router("shop.routers.orders:router", prefix="/orders")
        """
        unknown = kwargs.keys() - _compat.INCLUDE_PARAMETERS
        if unknown:
            raise TypeError(f"include_router() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        uncombined = kwargs.keys() - _COMBINED_INCLUDE_OPTIONS
        if uncombined:
            raise LazyRouterError(
                f"lazyrouter does not know how to apply include_router(..., {sorted(uncombined)[0]}=...) "
                "of this FastAPI release; include this router into a plain APIRouter instead"
            )
        if isinstance(router, str):
            self._include_import_string(router, kwargs)
            return
        assert self is not router, (
            "Cannot include the same APIRouter instance into itself. Did you mean to include a different router?"
        )
        if isinstance(router, LazyRouter) and router.warm_up is not None:
            raise LazyRouterError(
                "warm_up= belongs to the router that serves the app (LazyFastAPI(warm_up=...), or the LazyRouter "
                "assigned to app.router): the routes of a LazyRouter included into another one are served, and "
                "warmed up, by that router"
            )
        contains = getattr(router, "_contains_router", None)
        assert not _compat.INCLUDES_ARE_LIVE or contains is None or not contains(self), (
            "Cannot include an APIRouter instance that already includes this router. "
            "Did you mean to include a different router?"
        )
        prefix = kwargs.get("prefix", "")
        if prefix:
            _check_prefix(prefix)
        else:
            for name in empty_path_names(router):
                raise FastAPIError(f"Prefix and path cannot be both empty (path operation: {name})")
        _compat.validate_include_options(kwargs)
        self._sync_declarations()
        if _compat.INCLUDES_ARE_LIVE:
            settings = self._settings()
            inclusion = Inclusion(router, kwargs, settings, entry=_compat.include_entry(settings, router, kwargs))
            self._add_inclusion(inclusion)
            if isinstance(router, LazyRouter):
                router._parents.append(weakref.ref(self))
        else:
            # FastAPI < 0.137 copies the routes as they are now; so does this.
            included = _compat.frozen_settings(router, _lazy_state())
            self._declarations.append(Inclusion(router, kwargs, self._settings(), snapshot(router), included))
        self._changed()
        for handler in router.on_startup:
            self.add_event_handler("startup", handler)
        for handler in router.on_shutdown:
            self.add_event_handler("shutdown", handler)
        self.lifespan_context = _compat.merge_lifespan(self._lifespan_context, router.lifespan_context)
        self._has_lifespan = self._has_lifespan or has_lifespan(router)

    def _include_import_string(self, import_string: str, options: dict[str, Any]) -> None:
        prefix = options.get("prefix", "")
        if not prefix:
            raise LazyRouterError(
                f"include_router({import_string!r}) needs a prefix: a router included by import string "
                "is imported on the first request under its prefix, and without one every request could need it"
            )
        module, _, attribute = import_string.partition(":")
        if not module or not attribute:
            raise LazyRouterError(f"Import string {import_string!r} must be of the form 'package.module:router'")
        _check_prefix(prefix)
        _compat.validate_include_options(options)
        self._sync_declarations()
        settings = self._settings()
        router_import = RouterImport(import_string, prefix)
        inclusion = Inclusion(router_import, options, settings)
        if _compat.INCLUDES_ARE_LIVE:

            def load() -> tuple[APIRouter, Any]:
                resolved = router_import.resolve()  # raises RouterImportError
                context = cast(Any, _compat.include_entry(settings, resolved, options)).include_context
                if context.dependency_overrides_provider is None:  # adopted an app since
                    context.dependency_overrides_provider = self.dependency_overrides_provider
                return resolved, context

            # Its include context's prefix, as FastAPI computes it.
            inclusion.entry = _compat.DeferredInclude(settings.prefix + prefix, load)
        self._add_inclusion(inclusion)
        self._changed()

    def _add_inclusion(self, inclusion: Inclusion) -> None:
        self._declarations.append(inclusion)
        if inclusion.entry is not None:
            self._inclusions[id(inclusion.entry)] = inclusion

    def _declare(self, declaration: Declaration) -> None:
        self._sync_declarations()
        self._declarations.append(declaration)
        index = self._index
        # Appended to an index (and a `.routes` list) that is up to date, a
        # route is added on its own: code that reads `self.routes[-1]` after
        # each declaration stays linear. Anything else is rebuilt on next use.
        extend = index is not None and index.version == self._version
        listed = self._route_list_version == self._version and not self._edited
        self._changed()
        with self._index_lock:
            route = None
            if extend and index is not None:
                route = index.append(len(self._declarations) - 1, declaration)
                index.version = self._version
            if listed:
                route = route or self._listed(declaration)
                if route is not None:
                    list.append(self._route_list, route)
                self._route_list_version = self._version

    def _declare_route(self, route: BaseRoute) -> None:
        self._declare(declaration_for_route(route))

    # -- serving ---------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._bound:
            self._bind(scope.get("app"))
        await self.middleware_stack(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        index = self._current_index()
        route_path = _compat.get_route_path(scope)
        redirect_path = None
        if scope["type"] == "http" and self.redirect_slashes and route_path != "/":
            redirect_path = route_path.rstrip("/") if route_path.endswith("/") else route_path + "/"
        warm_up = self._warm_up_run
        if warm_up is None:
            # FastAPI's own dispatch, over the only routes that can match this path
            # or its redirect_slashes twin: same answer as scanning them all.
            await APIRouter.app(self._view(index, route_path, redirect_path), scope, receive, send)
            return
        async with _answered(warm_up, scope):
            await warm_up.wait_until_ready(index, route_path, redirect_path)
            await APIRouter.app(self._view(index, route_path, redirect_path), scope, receive, send)

    def _view(self, index: RouteIndex, route_path: str, redirect_path: str | None) -> APIRouter:
        """This router as FastAPI's dispatch sees it for a path: listing only
        the routes that may match it (on FastAPI >= 0.137: its own routes, and
        the entries of the includes that hold a candidate or a frontend).

        Views are remembered per path (while the index and the router's
        attributes stay), and shared by paths with the same candidates.
        """
        views = self._views
        if views is None or views.index is not index or views.version != index.version:
            views = self._views = _Views(index, index.version, functools.lru_cache(maxsize=CACHE_SIZE)(self._new_view))
        if len(route_path) > CACHED_PATH_LENGTH:
            return self._new_view(route_path, redirect_path)
        return views.by_path(route_path, redirect_path)

    def _new_view(self, route_path: str, redirect_path: str | None) -> APIRouter:
        views = self._views
        assert views is not None
        index = views.index
        routes: list[Any]
        if _compat.INCLUDES_ARE_LIVE:
            grouped: Sequence[tuple[int, Branch | None, BaseRoute | None]]
            grouped = index.grouped_candidates(route_path, redirect_path)  # cached: not to be changed
            pinned = self._frontend_entries(index)
            if pinned:
                present = {number for number, _, _ in grouped}
                missing = [(number, branch, None) for number, branch in pinned if number not in present]
                grouped = sorted([*grouped, *missing], key=lambda candidate: candidate[0])
            routes = [route if branch is None else branch.entry for _, branch, route in grouped]
        else:
            routes = index.candidates(route_path, redirect_path)
        key = tuple(map(id, routes))
        view = views.shared.get(key)
        if view is None:
            view = APIRouter.__new__(APIRouter)
            view.__dict__ = {**self.__dict__, "routes": routes}
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

    def _frontend_entries(self, index: RouteIndex) -> list[tuple[int, Branch]]:
        """The includes with frontends (FastAPI >= 0.164): FastAPI finds those
        through the include entries of `routes`, whatever the path."""
        cached = self._frontends
        if cached is None or cached[0] is not index:
            entries = [(number, entry) for number, entry in index.root_entries() if isinstance(entry, Branch)]
            cached = self._frontends = (index, [(n, branch) for n, branch in entries if has_frontends(branch.router)])
        return cached[1]

    # FastAPI >= 0.137 matches and dispatches an included router through these
    # two hooks, with its own code over effective route contexts; a LazyRouter
    # runs that code over the candidates its index finds (see `_serving`).
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        included = _compat.included_router_for(scope, self)
        if included is None:
            return super().matches(scope)
        return self._included_serving(included).match(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        included = _compat.included_router_for(scope, self)
        if included is None:
            await super().handle(scope, receive, send)
            return
        serving = self._included_serving(included)
        warm_up = self._warm_up_run
        if warm_up is None:
            await serving.handle(scope, receive, send)
            return
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
        if serving is not None and serving.reference() is included and serving.index.version == self._version:
            return serving
        with self._index_lock:
            self._sync_declarations()
            if serving is None or serving.reference() is not included:
                # The context folds in every enclosing router's settings: lift
                # this router's routes into a router that carries them.
                target = _compat.scratch_router(self, **_compat.router_settings_from_include(included))
                reference = weakref.ref(included, lambda _: self._included_indexes.pop(key, None))
                serving = IncludeServing(reference, BuildContext(target), {}, cast(RouteIndex, None), self._listed_at)
            target = serving.context.target
            items = lifted_items(self, ((serving.options, target),))
            # Contexts last as long as the routes they were built from, as in FastAPI.
            serving.reset(RouteIndex(serving.context, self._version, items, expand, cached=False, pinned=_live_include))
            self._included_indexes[key] = serving
        return serving

    def _include_work(self, included: Any) -> Iterator[PendingContext]:
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
async def _answered(warm_up: WarmUpRun | None, scope: Scope) -> AsyncIterator[None]:
    """Tell a warm-up waiting for the first request when one has been answered
    (a WebSocket counts once connected: it may stay open for hours)."""
    if warm_up is not None and scope["type"] == "websocket":
        warm_up.request_answered()
    try:
        yield
    finally:
        if warm_up is not None:
            warm_up.request_answered()


def _live_include(branch: Branch) -> bool:
    """Whether every path below `branch`'s prefix goes to its include entry
    (FastAPI >= 0.137), whatever the index holds: an include of a plain
    APIRouter (FastAPI serves it live, routes added later too), or by import
    string (imported for the request anyway; FastAPI finds its frontends
    through the entry)."""
    if not _compat.INCLUDES_ARE_LIVE:
        return False
    if isinstance(branch.router, RouterImport):
        return True
    return not isinstance(branch.router, Declaring)


def _check_prefix(prefix: str) -> None:
    """FastAPI's include_router() prefix checks, with its messages."""
    assert prefix.startswith("/"), "A path prefix must start with '/'"
    assert not prefix.endswith("/"), "A path prefix must not end with '/', as the routes will start with '/'"


def _eager_mode() -> bool:
    """`LAZYROUTER_EAGER=1` builds every route at declaration too, for test suites
    that rely on FastAPI raising declaration errors at import."""
    return os.environ.get("LAZYROUTER_EAGER", "").lower() in ("1", "true", "yes")
