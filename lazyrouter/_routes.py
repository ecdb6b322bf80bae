"""What lazyrouter asks of a route that may still be deferred (see `_deferred`):
its description, whether it is deferred or failed, whether its path matches,
all read without building it; and building it when asked to. Also the
`BrokenRoute` that stands where a route could not be made.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter.exceptions import LazyRouterError, RouteBuildError

if TYPE_CHECKING:
    from lazyrouter._deferred import _RouteFactory

logger = logging.getLogger("lazyrouter")


class BrokenRoute(BaseRoute):
    """Stands where a route that could not be built would be.

    It matches every path under its own (so route walkers such as metrics
    middleware calling `matches()` never see an exception); every request that
    reaches it in matching order gets the build error, a 500 through the app's
    error handling. Other requests never see it.
    """

    def __init__(self, path: str, error: LazyRouterError) -> None:
        self.path = path
        self.name = None
        self.error = error
        logger.error("%s", error, exc_info=error.__cause__)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = _compat.get_route_path(scope) if scope.get("type") in ("http", "websocket") else None
        if path is not None and (path == self.path or path.startswith(self.path.rstrip("/") + "/")):
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise self.error


def endpoint_location(endpoint: Any) -> tuple[str, str | None]:
    """`module:qualname` of an endpoint and its `file:line` (None if unknown)."""
    function = inspect.unwrap(endpoint) if callable(endpoint) else endpoint
    while hasattr(function, "func"):  # functools.partial
        function = function.func
    name = f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', repr(function))}"
    code = getattr(function, "__code__", None)
    return name, (f"{code.co_filename}:{code.co_firstlineno}" if code is not None else None)


def describe_route(route: BaseRoute) -> str:
    """`GET,POST /path (module:endpoint, file:line)`, read without building the route."""
    state = route.__dict__
    methods = ",".join(sorted(state.get("methods") or ())) or "WEBSOCKET"
    return f"{methods} {state['path']} ({_describe_endpoint(state['endpoint'])})"


def _describe_endpoint(endpoint: Callable[..., Any]) -> str:
    name, source = endpoint_location(endpoint)
    return name if source is None else f"{name}, {source}"


def is_deferred(route: BaseRoute) -> bool:
    """Whether `route` is still waiting for its build (or failed it)."""
    return "_lazyrouter_factory" in route.__dict__


def matches_path(route: BaseRoute, route_path: str) -> bool:
    """Whether `route`'s path pattern matches `route_path`, as Starlette's
    `path_regex.match()` tells, without compiling the pattern of a deferred
    route whose declared path has no parameters (its build compiles it):
    that pattern is the path escaped, between `^` and `$`, and `$` also
    matches before a final newline."""
    state = route.__dict__
    factory: _RouteFactory | None = state.get("_lazyrouter_factory")
    if factory is not None and "path_regex" not in state:
        declared: str = factory.installed["path"]
        if "{" not in declared:
            return route_path == declared or route_path == declared + "\n"
    return route.path_regex.match(route_path) is not None  # type: ignore[attr-defined]


def build_failed(route: BaseRoute) -> bool:
    """Whether `route` is deferred and its last build failed."""
    factory: _RouteFactory | None = route.__dict__.get("_lazyrouter_factory")
    return factory is not None and factory.error is not None


def resolve_route(route: BaseRoute) -> LazyRouterError | None:
    """Build `route` if it is deferred; return the error if that fails."""
    if isinstance(route, BrokenRoute):
        return route.error
    factory: _RouteFactory | None = route.__dict__.get("_lazyrouter_factory")
    if factory is None:
        return None
    try:
        factory.resolve(route)
    except Exception as exc:
        return RouteBuildError(describe_route(route), exc)
    return None


def build_now(route: BaseRoute) -> None:
    """Build `route` if it is deferred; a failure raises FastAPI's own error."""
    factory: _RouteFactory | None = route.__dict__.get("_lazyrouter_factory")
    if factory is not None:
        factory.resolve(route)


def prepare_route(route: BaseRoute) -> LazyRouterError | None:
    """Build `route` if it is deferred, and the validators its first request would build.

    What a warm-up does ahead of requests; a request only builds the route.
    """
    error = resolve_route(route)
    if error is not None:
        return error
    try:
        _compat.complete_validators(route)
    except Exception as exc:
        # The route is built; its first request will fail the same way (500),
        # as it does in eager FastAPI, where these validators also wait for it.
        description = f"validators of {describe_route(route)}"
        logger.error("Could not build the %s", description, exc_info=exc)
        return RouteBuildError(description, exc)
    return None
