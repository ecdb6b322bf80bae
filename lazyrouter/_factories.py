"""Route declarations, how they combine through include_router(), and the
deferred routes built from them.

A *declaration* records one registration call (`add_api_route(...)`, a mounted
app, ...) exactly as the user made it. Including a router *lifts* its
declarations into the including router: the result is the declaration that,
made directly on the including router, gives the same route, as FastAPI's
`include_router()` would give it. Lifting only moves keyword arguments around;
nothing is built.

A *deferred route* is what a router serves for an API declaration before its
first request: an instance of the declared route class (so `isinstance`
checks, `.path`, `.name`, `.methods`, `matches()` and `url_path_for()` work as
usual) that has not run the route class's `__init__` yet. The first time
anything needs more than that, it builds the real route with FastAPI's own
`add_api_route()` and takes its state, becoming an ordinary route.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn, SupportsIndex, cast

import fastapi.routing
import starlette.routing
from fastapi import APIRouter
from fastapi.datastructures import Default
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.utils import generate_unique_id, get_value_or_default
from starlette.convertors import (
    CONVERTOR_TYPES,
    FloatConvertor,
    IntegerConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.datastructures import URLPath
from starlette.routing import (
    PARAM_REGEX,
    BaseRoute,
    Host,
    Match,
    Mount,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
    compile_path,
    get_name,
)
from starlette.types import Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter._trie import PARAM, SegmentTrie
from lazyrouter.exceptions import LazyRouterError, RouteBuildError, RouterImportError

__all__ = (
    "API_ROUTE",
    "API_WEBSOCKET",
    "BuildContext",
    "OBJECT",
    "STARLETTE_COPY",
    "BrokenRoute",
    "Branch",
    "BuildStats",
    "Declaration",
    "Inclusion",
    "RouteIndex",
    "RouterImport",
    "can_defer",
    "deferred_route",
    "is_deferred",
    "lift",
    "lift_through",
    "prepare_route",
    "resolve_route",
    "validate_path",
)

logger = logging.getLogger("lazyrouter")

API_ROUTE: Final = "api_route"
API_WEBSOCKET: Final = "api_websocket_route"
OBJECT: Final = "object"
"""A concrete route, served as it is."""
STARLETTE_COPY: Final = "starlette_copy"
"""A concrete Starlette route to serve copied under `Declaration.path` as prefix."""

# An APIRouter with FastAPI's defaults: the settings of a route whose own
# router's settings were already applied (a route taken from a plain APIRouter).
_NO_SETTINGS: Final = APIRouter()

# Convertors whose regex matches one non-empty segment; any other convertor
# (`path`, or one registered by the app) may span segments.
_SINGLE_SEGMENT_CONVERTORS: Final = (StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)


@dataclass(eq=False, slots=True)
class Declaration:
    """One registration call, as made on `owner` (None: the settings are applied).

    `owner` holds the router's settings as they were when the call was made
    (see `_compat.frozen_settings`): FastAPI reads them at declaration, so later
    changes to the router apply only to routes declared later.
    """

    kind: str
    path: str
    endpoint: Any
    """The endpoint, or the route object itself for `OBJECT`."""
    options: dict[str, Any]
    owner: APIRouter | None
    routes: dict[tuple[Any, ...], tuple[Chain, BaseRoute]] | None = None
    """The deferred routes made from this declaration (shared with the
    declarations lifted from it), by the chain of includes they were lifted
    through: index rebuilds serve the same objects again."""
    key: tuple[Any, ...] = ()
    chain: Chain = ()


def import_object(import_string: str) -> Any:
    """The object `"package.module:attribute.path"` names (imports the module)."""
    module_name, _, attribute = import_string.partition(":")
    found: Any = importlib.import_module(module_name)
    for name in attribute.split("."):
        found = getattr(found, name)
    return found


def has_lifespan(router: APIRouter) -> bool:
    """Whether `router` (or a router it includes) was given a lifespan."""
    tracked = getattr(router, "_has_lifespan", None)  # a LazyRouter keeps count
    if tracked is not None:
        return bool(tracked)
    return not _compat.is_default_lifespan(router.lifespan_context)


@dataclass(eq=False, slots=True)
class RouterImport:
    """A router included by import string, imported when first needed."""

    import_string: str
    prefix: str
    router: APIRouter | None = None

    def resolve(self) -> APIRouter:
        """Import the router (once); raise `RouterImportError` naming the include."""
        if self.router is None:
            attribute = self.import_string.partition(":")[2]
            try:
                found = import_object(self.import_string)
            except Exception as exc:
                raise RouterImportError(self.import_string, self.prefix, f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(found, APIRouter):
                reason = f"{attribute} is a {type(found).__name__}, not an APIRouter"
                raise RouterImportError(self.import_string, self.prefix, reason)
            if found.on_startup or found.on_shutdown or has_lifespan(found):
                # FastAPI merges these into the app's lifespan at include time,
                # before start-up; a router imported later cannot join in.
                reason = "it has a lifespan or startup/shutdown handlers; include it by object"
                raise RouterImportError(self.import_string, self.prefix, reason)
            self.router = found
        return self.router


@dataclass(eq=False, slots=True)
class Inclusion:
    """An `include_router()` call: the router and the keyword arguments given."""

    router: APIRouter | RouterImport
    options: dict[str, Any]
    parent: APIRouter
    """The including router's settings when include_router() was called: FastAPI
    reads them then, copying the routes (< 0.137) or into its include context."""
    snapshot: list[Any] | None = None
    """The included router's items when it was included, on FastAPI releases
    whose include_router() copies routes; None where inclusion is live."""
    included: APIRouter | None = None
    """With `snapshot`: the included router's settings when it was included."""
    entry: BaseRoute | None = None
    """What `.routes` lists for this call on FastAPI >= 0.137 (an `_IncludedRouter`)."""


def validate_path(path: str) -> None:
    """Raise what Starlette's `compile_path(path)` raises for a malformed path.

    Compiling every path's regex at declaration time would cost ~0.1 ms a route,
    a tenth of a second for a 1,000-route app, so only the parameter scan runs
    now; the route compiles its regex when it first takes part in matching.
    """
    seen: set[str] = set()
    duplicated: set[str] = set()
    for match in PARAM_REGEX.finditer(path):
        name, convertor = match.groups("str")
        convertor = convertor.lstrip(":")
        assert convertor in CONVERTOR_TYPES, f"Unknown path convertor '{convertor}'"
        (duplicated if name in seen else seen).add(name)
    if duplicated:
        names = ", ".join(sorted(duplicated))
        ending = "s" if len(duplicated) > 1 else ""
        raise ValueError(f"Duplicated param name{ending} {names} at path {path}")


def declaration_for_route(route: BaseRoute, effective: Any = None) -> Declaration:
    """Wrap a concrete route (with its router's settings already applied)."""
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
        error = RouteBuildError(f"{route!r} under {prefix!r}", exc)
        error.__cause__ = exc
        return BrokenRoute(prefix + getattr(route, "path", ""), error)


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


@dataclass(slots=True)
class BuildStats:
    """What a router has built so far."""

    declared: int = 0
    built: int = 0
    failed: int = 0
    build_seconds: float = 0.0


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


# Route classes whose construction lazyrouter may defer: building one later runs
# exactly the code FastAPI runs at declaration. A class that overrides one of
# these decides matching or construction itself, so it is built at declaration.
_DEFERRABLE_METHODS: Final = (
    "__init__",
    "__new__",
    "__setattr__",
    "__getattribute__",
    "__getattr__",
    "matches",
    "url_path_for",
    "handle",
)


def can_defer(route_class: Any) -> bool:
    """Whether routes of `route_class` can wait for their first request."""
    if not isinstance(route_class, type) or not issubclass(route_class, APIRoute):
        return False  # a factory (functools.partial, ...): only calling it tells
    if "__slots__" in vars(route_class):
        return False
    return all(getattr(route_class, name, None) is getattr(APIRoute, name, None) for name in _DEFERRABLE_METHODS)


class _Deferred:
    """Mixin of deferred routes: build on the first attribute the route lacks.

    Before the build a deferred route holds `path`, `endpoint`, `name`,
    `methods` (as the route class would compute them) and whatever user code
    writes to it; `path_regex` and friends are compiled on first match. Reading
    an attribute a built route of its class would have builds it, in place: the
    route class's `__init__` runs on this very object, so identity, references
    and the route handler's `self` are the eager ones, and what user code wrote
    before the build is written back after it. Any other name is a plain
    `AttributeError` (`getattr(route, "x", None)` builds nothing).

    No `__slots__` here: the built route's class must be layout-compatible for
    the `__class__` switch, and an empty `__slots__` in the mixin breaks that.
    """

    def __getattr__(self, name: str) -> Any:
        factory: _RouteFactory | None = self.__dict__.get("_lazyrouter_factory")
        if factory is None or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if name in ("path_regex", "path_format", "param_convertors"):
            # Matching and url_path_for() need only the compiled path.
            factory.compile_path(self)
            return self.__dict__[name]
        if name not in _instance_attributes(factory.route_class) or factory.builder == threading.get_ident():
            # Not an attribute of a built route, or asked by the route class's
            # own __init__ while it builds this route: as without lazyrouter.
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        factory.resolve(self)
        return getattr(self, name)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # copy, deepcopy and pickle see the built route, built once.
        resolve_route(cast(BaseRoute, self))
        return self.__reduce_ex__(protocol)


_deferred_classes: weakref.WeakKeyDictionary[type[BaseRoute], type[BaseRoute]] = weakref.WeakKeyDictionary()


def _deferred_class(route_class: type[BaseRoute]) -> type[BaseRoute]:
    # One subclass per route class, named like it so reprs read the same.
    deferred = _deferred_classes.get(route_class)
    if deferred is None:
        deferred = type(
            route_class.__name__,
            (_Deferred, route_class),
            {"__module__": route_class.__module__, "__qualname__": route_class.__qualname__},
        )
        _deferred_classes[route_class] = deferred
    return deferred


def _instance_attributes(route_class: type[BaseRoute]) -> frozenset[str]:
    """Every name a built route of `route_class` may have as an attribute.

    A superset, read off the code that builds routes (every attribute name in
    `fastapi.routing`, `starlette.routing` and the route class's own methods),
    so that probing a name none of them sets builds nothing.
    """
    names = _attribute_names.get(route_class)
    if names is None:
        found = set(_routing_names())
        for cls in route_class.__mro__:
            if cls.__module__ not in ("fastapi.routing", "starlette.routing", "builtins", __name__):
                for value in vars(cls).values():
                    found.update(_code_names(value))
        names = _attribute_names[route_class] = frozenset(found)
    return names


_attribute_names: weakref.WeakKeyDictionary[type[BaseRoute], frozenset[str]] = weakref.WeakKeyDictionary()


@functools.cache
def _routing_names() -> frozenset[str]:
    names: set[str] = set()
    for module in (fastapi.routing, starlette.routing):
        for value in vars(module).values():
            if getattr(value, "__module__", None) == module.__name__:
                names.update(_code_names(value))
                for member in vars(value).values() if isinstance(value, type) else ():
                    names.update(_code_names(member))
    return frozenset(names)


def _code_names(value: Any) -> set[str]:
    value = getattr(value, "__func__", value)  # classmethod, staticmethod
    if isinstance(value, property):
        return set().union(*(_code_names(f) for f in (value.fget, value.fset) if f is not None))
    code = getattr(value, "__code__", None)
    names: set[str] = set()
    pending = [code] if code is not None else []
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return names


@dataclass(slots=True)
class BuildContext:
    """What the routes of one router (or one include context) share across
    index rebuilds: the router to build with, a lock, and the counts."""

    target: APIRouter
    """Whose `dependency_overrides_provider` a route takes when its own
    settings have none (a router that adopts an app after declarations)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    stats: BuildStats = field(default_factory=lambda: BuildStats())


class _RouteFactory:
    """Builds one deferred route, once, with the settings it was declared with."""

    __slots__ = ("builder", "context", "declaration", "error", "installed", "methods", "route_class")

    def __init__(
        self, declaration: Declaration, context: BuildContext, route_class: type[BaseRoute], installed: dict[str, Any]
    ) -> None:
        self.declaration = declaration
        self.context = context
        self.route_class = route_class
        self.builder: int | None = None
        """The thread running the route class's __init__ on the route, if any."""
        self.error: BaseException | None = None
        self.installed = installed
        """The values the deferred route was given, to tell user writes apart."""
        methods = installed.get("methods")
        self.methods = None if methods is None else frozenset(methods)

    def resolve(self, route: Any) -> None:
        with self.context.lock:
            if route.__dict__.get("_lazyrouter_factory") is not self:
                return  # another thread built it while this one waited
            # A failed build is tried again next time, as FastAPI >= 0.137 retries
            # constructing a route handler: the cause may have gone away.
            started = time.perf_counter()
            state = route.__dict__
            saved = dict(state)
            self.builder = threading.get_ident()
            try:
                built_class = self.build(route)
            except Exception as exc:
                state.clear()
                state.update(saved)
                self.fail(route, exc)
            finally:
                self.builder = None
            elapsed = time.perf_counter() - started
            # What user code wrote before the build wins, as it would have
            # overwritten what eager FastAPI built at declaration.
            state.update(self.user_writes(saved))
            # Until here, other threads reaching a missing attribute wait for
            # the lock. Published last: a lock-free reader (is_deferred) never
            # sees a route that is neither deferred nor complete.
            route.__class__ = built_class
            del state["_lazyrouter_factory"]
            self.context.stats.built += 1
            self.context.stats.build_seconds += elapsed
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("Built route %s in %.2f ms", describe_route(route), elapsed * 1000)

    def user_writes(self, state: dict[str, Any]) -> dict[str, Any]:
        """What code other than lazyrouter wrote to the route before its build."""
        writes = {}
        for name, value in state.items():
            if name == "_lazyrouter_factory" or name in _COMPILED:
                continue
            installed = self.installed.get(name, _MISSING)
            if value is not installed or (name == "methods" and value != self.methods):
                writes[name] = value
        return writes

    def compile_path(self, route: Any) -> None:
        # From the declared path: a route compiles its regex in `__init__`,
        # so writing `route.path` later does not change what it matches.
        try:
            compiled = compile_path(self.installed["path"])
        except Exception as exc:
            self.fail(route, exc)
        route.path_regex, route.path_format, route.param_convertors = compiled
        self.installed.update(zip(_COMPILED, compiled, strict=True))

    def fail(self, route: Any, exc: BaseException) -> NoReturn:
        """Log the first failure, naming the route; raise FastAPI's own error."""
        with self.context.lock:
            if self.error is None:
                self.error = exc
                self.context.stats.failed += 1
                logger.error("Could not build route %s", describe_route(route), exc_info=exc)
        raise exc

    def build(self, route: Any) -> type[BaseRoute]:
        """Build `route` in place with FastAPI's own `add_api_route()`; return its class."""
        declaration = self.declaration
        scratch = _compat.scratch_router(declaration.owner or self.context.target)
        if scratch.dependency_overrides_provider is None:
            scratch.dependency_overrides_provider = self.context.target.dependency_overrides_provider
        if declaration.kind == API_ROUTE:
            route_class = self.route_class

            def construct_in_place(*args: Any, **kwargs: Any) -> BaseRoute:
                route_class.__init__(route, *args, **kwargs)
                return cast(BaseRoute, route)

            options = {**declaration.options, "route_class_override": construct_in_place}
            APIRouter.add_api_route(scratch, declaration.path, declaration.endpoint, **options)
            return route_class
        # FastAPI constructs websocket routes itself: take the built state.
        APIRouter.add_api_websocket_route(scratch, declaration.path, declaration.endpoint, **declaration.options)
        built = scratch.routes[-1]
        route.__dict__.update(built.__dict__)
        return type(built)


_COMPILED: Final = ("path_regex", "path_format", "param_convertors")
_MISSING: Final = object()


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
        error = RouteBuildError(describe_route(route), exc)
        error.__cause__ = exc
        return error
    return None


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
        failure = RouteBuildError(description, exc)
        failure.__cause__ = exc
        return failure
    return None


def deferred_route(declaration: Declaration, context: BuildContext) -> BaseRoute:
    """The route `declaration` stands for, not built yet: the same object every
    time for the same chain of includes, so identity and user writes last."""
    routes = declaration.routes
    if routes is None:
        routes = declaration.routes = {}
    cached = routes.get(declaration.key)
    # The key holds ids of the chain's option dicts; the entry keeps them alive.
    if cached is not None and _same_chain(cached[0], declaration.chain):
        return cached[1]
    route = _new_deferred_route(declaration, context)
    routes[declaration.key] = (declaration.chain, route)
    return route


def _same_chain(chain: Chain, other: Chain) -> bool:
    return len(chain) == len(other) and all(
        options is other_options and parent is other_parent
        for (options, parent), (other_options, other_parent) in zip(chain, other, strict=True)
    )


def _new_deferred_route(declaration: Declaration, context: BuildContext) -> BaseRoute:
    owner = declaration.owner or context.target
    options = declaration.options
    endpoint = declaration.endpoint
    if declaration.kind == API_ROUTE:
        route_class = options.get("route_class_override") or owner.route_class
    else:
        route_class = APIWebSocketRoute
    route: Any = object.__new__(_deferred_class(route_class))
    # The attributes every reader of `.routes` expects, computed as the route
    # class computes them; everything else waits for the build.
    installed: dict[str, Any] = {
        "path": owner.prefix + declaration.path,
        "endpoint": endpoint,
        "name": get_name(endpoint) if options.get("name") is None else options["name"],
    }
    if declaration.kind == API_ROUTE:
        methods = options.get("methods")
        installed["methods"] = {method.upper() for method in (["GET"] if methods is None else methods)}
    route.__dict__.update(installed)
    route._lazyrouter_factory = _RouteFactory(declaration, context, route_class, dict(installed))
    if declaration.kind == API_ROUTE and not can_defer(route_class):
        # Its own __init__ or matching decides what it matches: build it now.
        resolve_route(route)
    return cast(BaseRoute, route)


# The matchers the index knows the meaning of; a route class that overrides
# `matches()` is asked about every request (an opaque candidate).
_KNOWN_MATCHERS: Final = frozenset(
    {Route.matches, WebSocketRoute.matches, APIRoute.matches, APIWebSocketRoute.matches, Mount.matches}
)


def _route_key(route: BaseRoute) -> tuple[list[Any], bool]:
    """The segments under which `route` is indexed, and whether it is a catch-all."""
    if type(route).matches not in _KNOWN_MATCHERS and not isinstance(route, BrokenRoute):
        return [], True
    if isinstance(route, (Mount, BrokenRoute)):
        return _template_key(route.path, catch_all=True)
    if isinstance(route, (Route, WebSocketRoute, _Deferred)):
        return _template_key(route.__dict__["path"], catch_all=False)
    return [], True  # Host, or a route type lazyrouter cannot see into


def _template_key(path: str, *, catch_all: bool) -> tuple[list[Any], bool]:
    """Trie segments for a path template: literal text, `PARAM`, or a catch-all
    from the first parameter whose convertor may span segments."""
    if not path.startswith("/"):
        return [], True
    segments: list[Any] = []
    for part in path.split("/")[1:]:
        params = list(PARAM_REGEX.finditer(part))
        if not params:
            segments.append(part)
            continue
        for param in params:
            convertor = CONVERTOR_TYPES.get((param.group(2) or ":str")[1:])
            if type(convertor) not in _SINGLE_SEGMENT_CONVERTORS:
                return segments, True
        segments.append(PARAM)
    return segments, catch_all


Chain = tuple[tuple[dict[str, Any], APIRouter], ...]
"""(include_router() options, including router) pairs, innermost first."""


@dataclass(eq=False, slots=True)
class Branch:
    """An included router whose routes are lifted only once a request may need them."""

    router: APIRouter | RouterImport
    chain: Chain
    snapshot: list[Any] | None = None
    """The router's items as included (see `Inclusion.snapshot`)."""
    final: bool = True
    """Whether the routes lifted from it are served as they are (see `lift`)."""
    including: APIRouter | None = None
    """The router whose include_router() call this branch stands for."""
    included: APIRouter | None = None
    """The included router's settings when it was included (see `Inclusion.included`)."""
    level: _Level | None = None
    """The branch's own routes and branches, indexed once expanded."""

    @property
    def prefix(self) -> str:
        """The path every API route of the branch starts with."""
        return "".join(parent.prefix + options.get("prefix", "") for options, parent in reversed(self.chain))

    @property
    def common_prefix(self) -> str:
        """The path every route of the branch starts with: what the index keys it by.

        FastAPI < 0.137 gives the Starlette routes of an included router only the
        include_router() prefixes, not the routers' own: API and Starlette routes
        share the prefix only up to the first router that has a prefix of its own.
        """
        if _compat.INCLUDES_ARE_LIVE:
            return self.prefix
        common = []
        for options, parent in reversed(self.chain):
            if parent.prefix:
                break
            common.append(options.get("prefix", ""))
        return "".join(common)


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


CACHE_SIZE: Final = 1024
CACHED_PATH_LENGTH: Final = 200
"""Longer paths are looked up every time, so the cache stays small."""

Item = Declaration | Branch | None
Order = tuple[int, ...]


@dataclass(eq=False, slots=True)
class _Level:
    entries: list[tuple[Order, BaseRoute | Branch]] = field(default_factory=list)
    trie: SegmentTrie[tuple[Order, BaseRoute | Branch]] = field(default_factory=SegmentTrie)


class RouteIndex:
    """The routes a router serves, in order, indexed by path segment.

    An included router is one trie entry under its prefix (a `Branch`) until a
    request path reaches it; only then are its declarations lifted and indexed.
    A first request therefore costs what its own include path holds, not what
    the whole app holds. Orders are tuples (position at each nesting level), so
    routes from different branches still sort in registration order.
    """

    def __init__(
        self, context: BuildContext, version: int, items: list[Item], expand: Callable[[Branch], list[Item]]
    ) -> None:
        self.context = context
        self.version = version
        self.expand = expand
        self.lock = context.lock
        self.root = self._index((), items)
        # Per instance: a cache on the class would keep every index (and app) alive.
        self._cached_candidates = functools.lru_cache(maxsize=CACHE_SIZE)(self._candidates)

    def _index(self, prefix: Order, items: list[Item]) -> _Level:
        level = _Level()
        for number, item in enumerate(items):
            self._add(level, (*prefix, number), item)
        return level

    def _add(self, level: _Level, order: Order, item: Item) -> BaseRoute | Branch | None:
        if item is None:
            return None
        entry: BaseRoute | Branch
        if isinstance(item, Branch):
            entry = item
            branch_prefix = item.common_prefix
            segments, catch_all = _template_key(branch_prefix or "/", catch_all=True)
            if not branch_prefix:
                segments = []
        elif item.kind in (OBJECT, STARLETTE_COPY):
            route = item.endpoint if item.kind == OBJECT else copy_starlette_route(item.endpoint, item.path)
            if route is None:
                return None
            if item.kind == STARLETTE_COPY and item.options.get("max_body_size") is not None:
                _compat.limit_body_size(route, item.options["max_body_size"])
            entry = route
            segments, catch_all = _route_key(entry)
        else:
            entry = deferred_route(item, self.context)
            segments, catch_all = _route_key(entry)
        level.entries.append((order, entry))
        level.trie.insert(segments, (order, entry), order=order, catch_all=catch_all)
        return entry

    def append(self, number: int, declaration: Declaration) -> BaseRoute | None:
        """Index one more top-level declaration, `number` in the router's list."""
        with self.lock:
            entry = self._add(self.root, (number,), declaration)
            self._cached_candidates.cache_clear()
        assert not isinstance(entry, Branch)
        return entry

    def _expanded(self, order: Order, branch: Branch) -> _Level:
        level = branch.level
        if level is None:
            with self.lock:
                level = branch.level
                if level is None:
                    level = branch.level = self._index(order, self.expand(branch))
        return level

    def _lookup(self, level: _Level, path: str, found: dict[Order, BaseRoute], *, expand: bool = True) -> bool:
        """Collect into `found` the routes of `level` that may match `path`.

        With `expand=False`, stop and answer False at the first branch not
        lifted yet instead of lifting it.
        """
        for order, entry in level.trie.lookup(path):
            if isinstance(entry, Branch):
                if entry.level is None and not expand:
                    return False
                if not self._lookup(self._expanded(order, entry), path, found, expand=expand):
                    return False
            else:
                found[order] = entry
        return True

    def is_ready(self, route_path: str, redirect_path: str | None = None, busy: BaseRoute | None = None) -> bool:
        """Whether serving `route_path` needs no lock: nothing to lift, nothing to build,
        and not `busy`, a route another thread is still working on.

        Takes no lock and builds nothing, so it can run while another thread builds.
        """
        found: dict[Order, BaseRoute] = {}
        for path in (route_path, redirect_path):
            if path is not None and not self._lookup(self.root, path, found, expand=False):
                return False
        return not any(route is busy or is_deferred(route) for route in found.values())

    def candidates(self, route_path: str, redirect_path: str | None = None) -> list[BaseRoute]:
        """Routes that may match `route_path` (or `redirect_path`), in order.

        Answers for short paths are remembered, at most `CACHE_SIZE` of them;
        the cache belongs to this index and goes when the routes change.
        """
        if len(route_path) > CACHED_PATH_LENGTH:
            return self._candidates(route_path, redirect_path)
        return self._cached_candidates(route_path, redirect_path)

    def _candidates(self, route_path: str, redirect_path: str | None) -> list[BaseRoute]:
        found: dict[Order, BaseRoute] = {}
        self._lookup(self.root, route_path, found)
        if redirect_path is not None:
            self._lookup(self.root, redirect_path, found)
        if len(found) > 1:
            return [found[order] for order in sorted(found)]
        return list(found.values())

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route, in order (lifts every branch)."""
        with self.lock:
            return list(self._iter_routes(self.root))

    def url_path_for(self, name: str, path_params: dict[str, Any]) -> URLPath:
        """Starlette's reverse lookup, expanding branches only as far as needed.

        Routes are tried in order, as Starlette does; a branch is lifted (and a
        router included by import string imported) only when the lookup
        reaches it without having found the name.
        """
        for route in self.iter_routes():
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    def iter_routes(self) -> Iterator[BaseRoute]:
        """Every route, in order, lifting each branch only when the walk reaches it."""
        return self._iter_routes(self.root)

    def _iter_routes(self, level: _Level) -> Iterator[BaseRoute]:
        for order, entry in level.entries:
            if isinstance(entry, Branch):
                yield from self._iter_routes(self._expanded(order, entry))
            else:
                yield entry
