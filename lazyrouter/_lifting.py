"""Lifting: a declaration seen through `include_router()`.

Including a router *lifts* its declarations into the including router: the
result is the declaration that, made directly on the including router, gives
the route FastAPI's `include_router()` would give, with FastAPI's rules for
combining prefixes, tags, dependencies, responses and the rest. Lifting only
moves keyword arguments around; nothing is built.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from fastapi import APIRouter
from fastapi.datastructures import Default
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.utils import generate_unique_id, get_value_or_default
from starlette.routing import (
    BaseRoute,
    Host,
    Mount,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
)

from lazyrouter import _compat
from lazyrouter._declarations import API_ROUTE, API_WEBSOCKET, OBJECT, STARLETTE_COPY, Chain, Declaration
from lazyrouter._deferred import _RouteFactory
from lazyrouter._routes import BrokenRoute
from lazyrouter.exceptions import RouteBuildError

# An APIRouter with FastAPI's defaults: the settings of a route whose own
# router's settings were already applied (a route taken from a plain APIRouter).
_NO_SETTINGS: Final = APIRouter()


def declaration_for_route(route: BaseRoute, effective: Any = None) -> Declaration:
    """Wrap a concrete route (with its router's settings already applied)."""
    if isinstance(effective, _compat.StarletteCopy):
        return Declaration(STARLETTE_COPY, effective.prefix, route, {}, None)
    if effective is not None:
        # A route FastAPI >= 0.137 reaches through an include context: rebuild it
        # from the context's combined values, as an API declaration.
        return Declaration(API_ROUTE, effective.path, effective.endpoint, _api_options_of(effective, route), None)
    factory: _RouteFactory | None = route.__dict__.get("_lazyrouter_factory")
    if factory is not None and not factory.declaration.key and not factory.user_writes(route.__dict__):
        # A route not built yet and still as declared: it stays lazy wherever it goes.
        return factory.declaration
    return Declaration(OBJECT, getattr(route, "path", ""), route, {}, None)


def _api_options_of(source: Any, route: BaseRoute) -> dict[str, Any]:
    options = {
        name: getattr(source, name)
        for name in _compat.API_ROUTE_PARAMETERS - {"path", "endpoint", "route_class_override"}
        if hasattr(source, name)
    }
    options["route_class_override"] = type(route)
    # The route's own methods set, not the context's rebuilt one: building from
    # it rebuilds it exactly once, as FastAPI's effective context did.
    options["methods"] = getattr(route, "methods", options.get("methods"))
    if getattr(source, "stream_item_type", None) is not None:
        # The item type of a streaming endpoint is inferred, never passed in.
        options["response_model"] = Default(None)
    return options


def lift(
    declaration: Declaration,
    include: dict[str, Any],
    parent: APIRouter,
    *,
    final: bool = True,
    source: APIRouter | None = None,
) -> Declaration | None:
    """The declaration on `parent` equivalent to `declaration` included with `include`.

    The rules are FastAPI's: its include context and effective route context
    (FastAPI >= 0.137) combine every setting the same way, level by level. The
    including router's own settings are applied later, when the route is built
    with `parent.add_api_route()`. Returns None for a route FastAPI would drop.

    `final` is False when FastAPI itself will derive the served route from the
    result (a LazyRouter included into a plain router, FastAPI >= 0.137).

    `source` is the included router as the include sees it: FastAPI fixes most
    of a route's settings at declaration (`declaration.owner`), but takes the
    default response class, unique-id function and strict content type the
    route was left without from the included router at include time (< 0.137)
    or on the first request (>= 0.137).
    """
    if declaration.kind == STARLETTE_COPY:
        # Still the original route: FastAPI >= 0.137 copies it once, under the
        # whole include context's prefix, and serves it with the innermost body
        # size limit of the includes around it.
        prefix = parent.prefix + include.get("prefix", "") + declaration.path
        limit = declaration.options.get("max_body_size")
        if limit is None:
            limit = _first_not_none(
                getattr(source, "max_body_size", None),
                include.get("max_body_size"),
                getattr(parent, "max_body_size", None),
            )
        limits = {} if limit is None else {"max_body_size": limit}
        return Declaration(STARLETTE_COPY, prefix, declaration.endpoint, limits, parent)
    built_methods = False
    if declaration.kind == OBJECT:
        route = declaration.endpoint
        if isinstance(route, APIRoute):
            declaration = Declaration(API_ROUTE, route.path, route.endpoint, _api_options_of(route, route), None)
            # A built route's methods set is rebuilt once when the lifted route
            # is built: that is FastAPI's copy at this include; no more.
            built_methods = True
        elif isinstance(route, APIWebSocketRoute):
            websocket_options = {"name": route.name, "dependencies": list(route.dependencies)}
            declaration = Declaration(API_WEBSOCKET, route.path, route.endpoint, websocket_options, None)
        elif _compat.INCLUDES_ARE_LIVE:
            return lift(Declaration(STARLETTE_COPY, "", route, {}, None), include, parent, final=final)
        else:
            # FastAPI < 0.137 copies the route at every include level, and
            # never applies the including router's prefix to it.
            copied = copy_starlette_route(route, include.get("prefix", ""))
            return None if copied is None else Declaration(OBJECT, getattr(copied, "path", ""), copied, {}, parent)

    router = declaration.owner or _NO_SETTINGS
    included = source or router
    options: dict[str, Any] = dict(declaration.options)
    path = include.get("prefix", "") + router.prefix + declaration.path
    options["dependencies"] = [
        *(include.get("dependencies") or []),
        *router.dependencies,
        *(options.get("dependencies") or []),
    ]
    if declaration.kind == API_WEBSOCKET:
        return Declaration(API_WEBSOCKET, path, declaration.endpoint, options, parent)

    methods = options.get("methods")
    if not built_methods and (not _compat.INCLUDES_ARE_LIVE or (final and not isinstance(methods, set))):
        # FastAPI rebuilds the methods set from the included route's set: once
        # in all (>= 0.137, where it is left to FastAPI when not `final`), or at
        # every include level (< 0.137). Rebuilding alike keeps set iteration
        # order, and so the Allow header and the operation id, identical.
        options["methods"] = {method.upper() for method in (["GET"] if methods is None else methods)}
    options["tags"] = [*(include.get("tags") or []), *router.tags, *(options.get("tags") or [])]
    options["responses"] = {
        **(include.get("responses") or {}),
        **router.responses,
        **(options.get("responses") or {}),
    }
    options["callbacks"] = [
        *(include.get("callbacks") or []),
        *router.callbacks,
        *(options.get("callbacks") or []),
    ]
    options["deprecated"] = options.get("deprecated") or router.deprecated or include.get("deprecated")
    options["include_in_schema"] = (
        options.get("include_in_schema", True) and router.include_in_schema and include.get("include_in_schema", True)
    )
    options["response_class"] = get_value_or_default(
        options.get("response_class", Default(JSONResponse)),
        included.default_response_class,
        include.get("default_response_class", Default(JSONResponse)),
    )
    options["generate_unique_id_function"] = get_value_or_default(
        options.get("generate_unique_id_function", Default(generate_unique_id)),
        included.generate_unique_id_function,
        include.get("generate_unique_id_function", Default(generate_unique_id)),
    )
    if "strict_content_type" in _compat.API_ROUTE_PARAMETERS:
        options["strict_content_type"] = get_value_or_default(
            options.get("strict_content_type", Default(True)), included.strict_content_type
        )
    if "max_body_size" in _compat.API_ROUTE_PARAMETERS:
        options["max_body_size"] = _first_not_none(
            options.get("max_body_size"), router.max_body_size, include.get("max_body_size")
        )
    if "form_limits" in _compat.API_ROUTE_PARAMETERS:
        # FastAPI applies router form limits to the request scope on the way
        # in, outer first; folded into the route they give the same result.
        form_limits = {
            **(include.get("form_limits") or {}),
            **router.form_limits,
            **(options.get("form_limits") or {}),
        }
        if form_limits:
            options["form_limits"] = form_limits
    options["route_class_override"] = options.get("route_class_override") or router.route_class
    return Declaration(API_ROUTE, path, declaration.endpoint, options, parent)


def _first_not_none(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def copy_starlette_route(route: BaseRoute, prefix: str) -> BaseRoute | None:
    """`route` under `prefix`, as FastAPI's include_router() copies it (None: dropped).

    A Starlette route never gets its own router's prefix, only the include's.
    A route that cannot be copied becomes a `BrokenRoute`: FastAPI would fail
    every request that reaches the include, lazyrouter only the requests that
    reach this route.
    """
    try:
        return _copy_starlette_route(route, prefix)
    except Exception as exc:
        return BrokenRoute(prefix + getattr(route, "path", ""), RouteBuildError(f"{route!r} under {prefix!r}", exc))


def _copy_starlette_route(route: BaseRoute, prefix: str) -> BaseRoute | None:
    if isinstance(route, Route):
        return Route(
            prefix + route.path,
            endpoint=route.endpoint,
            methods=list(route.methods or []),
            name=route.name,
            include_in_schema=route.include_in_schema,
        )
    if isinstance(route, WebSocketRoute):
        return WebSocketRoute(prefix + route.path, route.endpoint, name=route.name)
    if not _compat.INCLUDES_ARE_LIVE:
        return None  # FastAPI < 0.137 copies only routes, dropping mounts and hosts
    if isinstance(route, Mount):
        mount = copy.copy(route)
        mount.path = (prefix + route.path).rstrip("/")
        mount.path_regex, mount.path_format, mount.param_convertors = compile_path(mount.path + "/{path:path}")
        return mount
    if isinstance(route, Host):
        if not prefix:
            return route
        return Host(route.host, app=Router(routes=[Mount(prefix, app=route.app)]), name=route.name)
    return None


def lift_through(
    declaration: Declaration, chain: Chain, *, final: bool = True, source: APIRouter | None = None
) -> Declaration | None:
    """Lift `declaration` through each include of `chain`, innermost first
    (`source`: the router it was declared on, see `lift`)."""
    lifted: Declaration | None = declaration
    for options, parent in chain:
        if lifted is None:
            break
        lifted = lift(lifted, options, parent, final=final, source=source)
        source = None
    if lifted is not None and lifted is not declaration and lifted.kind in (API_ROUTE, API_WEBSOCKET):
        # Routes lifted along the same includes are the same objects.
        if declaration.routes is None:
            declaration.routes = {}
        lifted.routes = declaration.routes
        lifted.key = (final, *((id(options), id(parent)) for options, parent in chain))
        lifted.chain = chain
    return lifted
