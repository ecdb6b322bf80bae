"""`LazyRouter`: an `APIRouter` that builds each route on its first request."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute

from lazyrouter import _compat
from lazyrouter._declarations import Branch, Declaration, Inclusion
from lazyrouter._deferred import BuildContext, BuildStats
from lazyrouter._dispatch import Dispatching, _Views
from lazyrouter._index import RouteIndex
from lazyrouter._lifting import declaration_for_route
from lazyrouter._registration import HANDLER_LISTS
from lazyrouter._route_list import RouteList
from lazyrouter._routes import prepare_route
from lazyrouter._serving import IncludeServing
from lazyrouter._tree import (
    Declaring,
    count_declared,
    expand,
    holds_lazy_router,
    included_object,
    lifted_items,
    sum_stat,
)
from lazyrouter._warmup import ServedTree, WarmUp, WarmUpRun, WarmUpTarget, warm_up_settings
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


@functools.cache
def _lazy_state() -> frozenset[str]:
    """A LazyRouter's own bookkeeping, never frozen with the router's settings:
    every attribute it has that an APIRouter has not, and the handler lists."""
    own = frozenset(vars(LazyRouter())) - frozenset(vars(APIRouter()))
    return own | HANDLER_LISTS


class LazyRouter(Dispatching):
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

    def __init__(
        self,
        *,
        warm_up: bool | WarmUp = False,
        manifest: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """Takes every `APIRouter` argument, and:

        `warm_up`: once the app has answered its first request, build the
        routes no request has needed yet in a background thread, paced so that
        requests come first (`True`, or a `lazyrouter.WarmUp` with its delay and
        share of time). Runs within the app's lifespan; for the router that
        serves the app, or one included into a plain `FastAPI` app.

        `manifest`: a file written by `lazyrouter manifest`, saying where the
        routes of the routers this router includes by import string with no
        prefix are, so that they too are imported on first need (default: the
        file `LAZYROUTER_MANIFEST` names).
        """
        self._manifest_file = manifest
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
        self._first_include_at: tuple[RouteIndex, int | None] | None = None
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
            return self._document_routes()
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

    def served_routes(self) -> list[BaseRoute]:
        """Every route this router serves, in order, with include prefixes applied.

        What `.routes` lists on FastAPI < 0.137; on later releases `.routes` lists
        `_IncludedRouter` entries for includes, as FastAPI does. Lifts every
        include (and imports those included by import string); builds nothing.
        """
        return self._current_index(plain_routers_read=True).routes

    def _served_through(self, included: Any) -> list[BaseRoute]:
        """Every route as the include entry `included` (FastAPI >= 0.137) serves
        it, its prefix and settings applied: copies, for `lazyrouter check`."""
        with self._index_lock:
            self._sync_declarations()
            target = _compat.scratch_router(self, **_compat.router_settings_from_include(included))
            items = lifted_items(self, (({}, target),))
            return RouteIndex(BuildContext(target), self._version, items, expand, cached=False).routes

    def _document_routes(self) -> list[BaseRoute]:
        """What LazyFastAPI generates its OpenAPI document from: the served
        routes, built once for the document and the requests alike. On FastAPI
        >= 0.137 a plain APIRouter this router includes stays its include
        entry: FastAPI's walk builds the effective contexts its requests are
        served with (lifted copies would be built for the document alone)."""
        index = self._current_index(plain_routers_read=True)
        if not _compat.INCLUDES_ARE_LIVE:
            return index.routes
        return index.listed_routes(_plain_include_entry)

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

    def _settings(self) -> APIRouter:
        """This router's settings as they are now, as FastAPI reads them at declaration."""
        frozen = self._frozen
        if frozen is None or not _compat.same_settings(self, frozen):
            frozen = self._frozen = _compat.frozen_settings(self, _lazy_state())
        return frozen


def _plain_include_entry(branch: Branch) -> BaseRoute | None:
    """The FastAPI include entry of a plain APIRouter (imported, if included by
    import string) holding no LazyRouter: FastAPI's walk serves it as it is."""
    router = included_object(branch.router)
    if router is None or isinstance(router, Declaring) or holds_lazy_router(router):
        return None
    return branch.entry
