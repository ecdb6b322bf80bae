"""The direct path: a request to an API route the index already found.

For such a request FastAPI's dispatch loops over the router's routes, matches
the route (through an include, twice, and through the included router's own
`matches()`), leaves in the scope what matching found, and ends in a call it
could have made at once: the route's ASGI app (a route of the router) or the
route's `handle()` with the include's effective context in `scope["fastapi"]`
(a route of an included LazyRouter, FastAPI >= 0.137). Once the route is
built that outcome is known: a *direct route* leaves the same keys in the
scope, in the same order, and makes the same call.

A route with path parameters is matched by its own `matches()` (FastAPI's
code, as FastAPI's dispatch asks it), so its converted parameters and child
scope are FastAPI's; a static route's match is known from its path.

The first request a route is selected for takes it too: the route (and
context) is built where FastAPI's dispatch would have built it, just before.

It is taken only where nothing FastAPI would run instead could answer
otherwise: an APIRoute whose matching (and, for a route of the router,
handling) is FastAPI's own code, a method the route takes, no form limits,
no telemetry and no warm-up in progress, and, through an include, FastAPI's
own `_IncludedRouter` entry of a LazyRouter whose routes have not changed
since. Every other request goes FastAPI's way.
"""

from __future__ import annotations

import functools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final, cast

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter._routes import build_failed, is_deferred, matches_path, resolve_route
from lazyrouter._serving import MATCHED, lifted_match

if TYPE_CHECKING:
    from lazyrouter._dispatch import Dispatching
    from lazyrouter._serving import IncludeServing


class _IncludeAsked(BaseRoute):
    """Where a view lists an include entry FastAPI's dispatch would ask to
    match and lazyrouter knows cannot: asking makes `scope["fastapi"]`, and
    nothing else that lasts (FastAPI >= 0.137)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        scope.setdefault(_compat.SCOPE_KEY, {})
        return Match.NONE, {}

    def __repr__(self) -> str:
        return "<an include entry FastAPI would ask>"


INCLUDE_ASKED: Final = _IncludeAsked()

NOT_YET: Final = "not yet"
"""No direct route for the path yet: ask again next request (a route not
selected yet, or whose build failed; a warm-up in progress)."""


class DirectRoute:
    """A route of the router itself, served as `APIRouter.app` ends up
    serving it: the child scope `Route.matches()` makes, then `route.app`."""

    __slots__ = ("asks_include", "params", "regex", "route")

    stale: Final = False
    """Never: a change to the router's routes makes new views (and direct routes)."""

    def __init__(self, route: APIRoute, asks_include: bool) -> None:
        self.route = route
        self.regex = route.path_regex
        self.asks_include = asks_include
        self.params = bool(route.param_convertors)

    def serve(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None] | None:
        """The route's answer, or None: FastAPI's way for this request."""
        route = self.route
        methods = route.methods
        if (
            not methods
            or scope["method"] not in methods
            # Starlette matches with the regex, whatever `path` says.
            or route.path_regex is not self.regex
            or scope.get(_compat.TELEMETRY_KEY) is not None
            or _context_route(scope) is route
        ):
            return None
        if self.asks_include:
            scope.setdefault(_compat.SCOPE_KEY, {})
        if self.params:
            # The route's own match: FastAPI's conversions and child scope.
            match, child_scope = route.matches(scope)
            if match is not Match.FULL:
                return None
            _compat.update_scope(scope, child_scope)
        else:
            scope.update(
                {"endpoint": route.endpoint, "path_params": dict(scope.get("path_params", {})), "route": route}
            )
        return cast(Coroutine[Any, Any, None], route.app(scope, receive, send))


class DirectInclude:
    """A static route of a LazyRouter included by the router, served as
    FastAPI's `_IncludedRouter` ends up serving it (`_handle_selected()`):
    the include entry and the effective context in `scope["fastapi"]`, the
    child scope of the context's match, then the route's own `handle()`."""

    __slots__ = ("context", "entry", "known", "params", "route", "router", "serves_app", "stale", "version")

    def __init__(self, entry: Any, router: Dispatching, route: APIRoute, context: Any) -> None:
        self.entry = entry
        self.router = router
        self.version = router._version
        self.route = route
        self.context = context
        self.params = bool(context.param_convertors)
        self.known = entry.__dict__.get("_effective_candidates")
        # What the route's `handle()` would do with the context, done here.
        self.serves_app = _compat.CONTEXT_APP_SERVES and _compat.handles_as_fastapi(route)
        self.stale = False
        """Set once the included router's routes or contexts changed: found again."""

    def serve(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None] | None:
        """The route's answer, or None: FastAPI's way for this request."""
        context = self.context
        router = self.router
        if (
            router._version != self.version
            or router._warm_up_run is not None
            # FastAPI's own walk of the include made the contexts that serve from now on.
            or self.entry.__dict__.get("_effective_candidates") is not self.known
        ):
            self.stale = True
            return None
        methods = context.methods
        if not methods or scope["method"] not in methods or scope.get(_compat.TELEMETRY_KEY) is not None:
            return None
        route = self.route
        if self.params:
            # As `_match()` asks the route, with the context in the scope.
            match, child_scope = _compat.matched_in_context(scope, route, context)
            if match is not Match.FULL:
                return None
        fastapi_scope = scope.setdefault(_compat.SCOPE_KEY, {})
        fastapi_scope[_compat.INCLUDED_KEY] = self.entry
        if self.params:
            _compat.update_scope(scope, child_scope)
        else:
            scope.update(
                {"endpoint": context.endpoint, "path_params": dict(scope.get("path_params", {})), "route": route}
            )
        fastapi_scope[_compat.CONTEXT_KEY] = context
        if self.serves_app:
            return context.app(scope, receive, send)  # type: ignore[no-any-return]
        return route.handle(scope, receive, send)


Direct = DirectRoute | DirectInclude


def direct_route(
    router: Dispatching, first: Any, route_path: str, scope: Scope, asks_include: bool
) -> Direct | str | None:
    """The direct route for `route_path`, whose candidates `first` leads
    (None: FastAPI's way for good; `NOT_YET`: ask again next request).
    `asks_include`: FastAPI's dispatch asks an include entry before `first`."""
    if not _compat.DIRECT_PATH or scope["type"] != "http" or getattr(router, "form_limits", None):
        return None
    if isinstance(first, APIRoute):
        if is_deferred(first) and not _built_as_selected(first, route_path, scope):
            return NOT_YET
        if not (_compat.matches_as_fastapi(first) and _compat.handles_as_fastapi(first)):
            return None
        if not first.methods or first.path_regex.match(route_path) is None:
            return None
        return DirectRoute(first, asks_include)
    if _compat.plain_include_entry(first):
        return _direct_include(first, route_path, scope)
    return None


def _direct_include(entry: Any, route_path: str, scope: Scope) -> DirectInclude | str | None:
    router = entry.original_router
    if not isinstance(router, _dispatching()) or _overrides_hooks(router):
        return None
    if getattr(entry.include_context, "form_limits", None):
        return None
    if router._warm_up_run is not None:
        return NOT_YET
    serving: IncludeServing = router._included_serving(entry)
    skeleton = serving.skeleton(route_path)
    known: DirectInclude | None = serving.shape_direct(skeleton)
    if known is not None:
        return known
    # The first candidate whatever the method: one the route takes makes it FULL.
    leading = skeleton[0] if skeleton else None
    if leading is None or leading[0] != MATCHED or not isinstance(leading[1], APIRoute):
        return None
    route = leading[1]
    if is_deferred(route):
        path = serving.relative(route_path)
        if build_failed(route) or path is None or lifted_match(leading[2], scope, path) is not Match.FULL:
            return NOT_YET  # not selected (FastAPI's dispatch builds nothing), or failed before
        # Selected: the route and context FastAPI's dispatch would build now
        # (see `_built_as_selected()`).
    if not _compat.matches_as_fastapi(route):
        return None
    # One direct route per route of the include, whatever path it serves.
    direct = serving.directs.get(id(route))
    if direct is None or direct.route is not route or direct.stale:
        try:
            context = serving.effective_context(route)
        except Exception:  # the request gets FastAPI's error its own way, and tries again
            return NOT_YET
        if context is None or not context.methods:
            return None
        if _compat.CONTEXT_APP_SERVES and getattr(context, "app", None) is None:
            return None
        direct = serving.directs[id(route)] = DirectInclude(entry, router, route, context)
    if direct.context.path_regex.match(route_path) is None:
        return None
    if direct.params:
        serving.remember_shape_direct(skeleton, direct)
    return direct


def _built_as_selected(route: APIRoute, route_path: str, scope: Scope) -> bool:
    """Build `route`, deferred and first of the candidates, if FastAPI's
    dispatch selects it for this request (its path and a method it takes),
    and so builds it now: the first request then takes the direct path too.

    Whether it is built. A failed build is tried again by FastAPI's dispatch,
    which answers with the error its own way (what the scope holds then is
    what exception handlers and middleware read); once failed, a route is
    left to that dispatch, so that a request tries it once."""
    methods = route.methods
    if not methods or scope["method"] not in methods or build_failed(route):
        return False
    return matches_path(route, route_path) and resolve_route(route) is None


@functools.cache
def _dispatching() -> type[Dispatching]:
    """The LazyRouter base that imports this module (found once, not per request)."""
    from lazyrouter._dispatch import Dispatching

    return Dispatching


def _overrides_hooks(router: Dispatching) -> bool:
    cls = type(router)
    return (
        cls.matches is not _dispatching().matches
        or cls.handle is not _dispatching().handle
        or "matches" in router.__dict__
        or "handle" in router.__dict__
    )


def _context_route(scope: Scope) -> Any:
    """The route of the effective context in the scope: `APIRoute.handle()`
    serves that context instead, if it is the route's."""
    fastapi_scope = scope.get(_compat.SCOPE_KEY)
    context = None if fastapi_scope is None else fastapi_scope.get(_compat.CONTEXT_KEY)
    return None if context is None else context.original_route
