"""Registration: how a LazyRouter records routes and includes without building them.

Each `add_*()` and `include_router()` call becomes a `Declaration` or an
`Inclusion` (see `_declarations`) holding what FastAPI would have read at that
moment: the arguments and a frozen copy of the router's settings. The route
itself is built later, with FastAPI's own code (see `_deferred`).
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable, Collection
from typing import Any, Final, cast

from fastapi import APIRouter
from fastapi.exceptions import FastAPIError
from starlette.routing import BaseRoute, Host, Mount, Router, WebSocketRoute
from starlette.types import ASGIApp

from lazyrouter import _compat, _manifest
from lazyrouter._declarations import (
    API_ROUTE,
    API_WEBSOCKET,
    OBJECT,
    Declaration,
    Inclusion,
    RouterImport,
    has_lifespan,
)
from lazyrouter._deferred import can_defer, deferred_route
from lazyrouter._index import RouteIndex
from lazyrouter._lifting import declaration_for_route
from lazyrouter._route_list import RouteList
from lazyrouter._templates import validate_path
from lazyrouter._tree import Declaring, empty_path_names, snapshot
from lazyrouter._warmup import WarmUp
from lazyrouter.exceptions import LazyRouterError

# The handler lists include_router() extends: a change to them is no change of
# a router's settings, and they are never frozen with them.
HANDLER_LISTS: Final = frozenset({"on_startup", "on_shutdown"})

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


class _RouteCollector:
    """Stands in for `self` when Starlette's own registration code builds a route."""

    def __init__(self) -> None:
        self.routes: list[BaseRoute] = []


class Registering(APIRouter, Declaring):
    """The declaration record of a LazyRouter (which inherits this): every
    registration method of `APIRouter`, recording instead of building."""

    # Set by LazyRouter.__init__.
    warm_up: WarmUp | None
    _version: int
    _index: RouteIndex | None
    _index_lock: Any
    _route_list: RouteList
    _route_list_version: int
    _edited: bool
    _inclusions: dict[int, Inclusion]
    _has_lifespan: bool
    _lifespan_context: Any
    _manifest_file: str | os.PathLike[str] | None

    def _settings(self) -> APIRouter:
        """This router's settings as they are now (LazyRouter's)."""
        raise NotImplementedError

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
        found before it):

            app.include_router("shop.routers.orders:router", prefix="/orders")

        With no prefix (a router that declares its own), a manifest says where
        its routes are (see `LazyRouter`'s `manifest`); without one, the router
        is imported now.
        """
        if _manifest.recording is not None:
            _manifest.recording.include(router, kwargs)
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
        else:
            self._include_object(router, kwargs)

    def _include_object(self, router: APIRouter, kwargs: dict[str, Any]) -> None:
        assert self is not router, (
            "Cannot include the same APIRouter instance into itself. Did you mean to include a different router?"
        )
        if isinstance(router, Registering) and router.warm_up is not None:
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
            if isinstance(router, Registering):
                router._parents.append(weakref.ref(self))
        else:
            # FastAPI < 0.137 copies the routes as they are now; so does this.
            if isinstance(router, Registering):
                included = router._settings()
            else:
                included = _compat.frozen_settings(router, HANDLER_LISTS)
            self._declarations.append(Inclusion(router, kwargs, self._settings(), snapshot(router), included))
        self._changed()
        for handler in router.on_startup:
            self.add_event_handler("startup", handler)
        for handler in router.on_shutdown:
            self.add_event_handler("shutdown", handler)
        self.lifespan_context = _compat.merge_lifespan(self._lifespan_context, router.lifespan_context)
        self._has_lifespan = self._has_lifespan or has_lifespan(router)

    def _include_import_string(self, import_string: str, options: dict[str, Any]) -> None:
        module, _, attribute = import_string.partition(":")
        if not module or not attribute:
            raise LazyRouterError(f"Import string {import_string!r} must be of the form 'package.module:router'")
        prefix = options.get("prefix", "")
        if prefix:
            _check_prefix(prefix)
            router_import = RouterImport(import_string, prefix)
        else:
            # Every request could need a router with no include prefix, unless
            # a manifest says which paths its routes are under.
            recorded = _manifest.find(import_string, self._manifest_file)
            if recorded is None:
                # Imported now (a failure fails here, as the import would):
                # then it is included as the object it is.
                router = RouterImport(import_string, "").resolve()
                _manifest.recorded_import(import_string, router)
                self._include_object(router, options)
                return
            router_import = RouterImport(import_string, recorded.prefix, recorded=recorded.prefix, check=recorded.check)
        _compat.validate_include_options(options)
        self._sync_declarations()
        settings = self._settings()
        inclusion = Inclusion(router_import, options, settings)
        if _compat.INCLUDES_ARE_LIVE:

            def load() -> tuple[APIRouter, Any]:
                resolved = router_import.resolve()  # raises RouterImportError
                context = cast(Any, _compat.include_entry(settings, resolved, options)).include_context
                if context.dependency_overrides_provider is None:  # adopted an app since
                    context.dependency_overrides_provider = self.dependency_overrides_provider
                return resolved, context

            # Its include context's prefix, as FastAPI computes it, and the
            # manifest's: every path its routes may match starts with both.
            inclusion.entry = _compat.DeferredInclude(settings.prefix + router_import.prefix, load)
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

    def _listed(self, item: Declaration | Inclusion) -> BaseRoute | None:
        if isinstance(item, Inclusion):
            return item.entry
        if item.kind == OBJECT:
            return cast(BaseRoute, item.endpoint)
        return deferred_route(item, self._context)

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


def _check_prefix(prefix: str) -> None:
    """FastAPI's include_router() prefix checks, with its messages."""
    assert prefix.startswith("/"), "A path prefix must start with '/'"
    assert not prefix.endswith("/"), "A path prefix must not end with '/', as the routes will start with '/'"


def _eager_mode() -> bool:
    """`LAZYROUTER_EAGER=1` builds every route at declaration too, for test suites
    that rely on FastAPI raising declaration errors at import."""
    return os.environ.get("LAZYROUTER_EAGER", "").lower() in ("1", "true", "yes")
