"""Deferred routes: the route object before its first request, and its build.

A *deferred route* is what a router lists and serves for an API declaration
before anything needs it: an instance of the declared route class (so
`isinstance` checks, `.path`, `.name`, `.methods`, `matches()` and
`url_path_for()` work as usual) that has not run the route class's `__init__`
yet. The first time anything needs more, the route class's `__init__` runs on
that very object, through FastAPI's own `add_api_route()`, with the settings
recorded at declaration; what user code wrote to it before is written back,
and the object becomes an ordinary route. Builds take the router's lock; the
factory is removed last, so lock-free readers never see a half-built route.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn, SupportsIndex, cast

import fastapi.routing
import starlette.routing
from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import (
    BaseRoute,
    compile_path,
    get_name,
)

from lazyrouter import _compat
from lazyrouter._declarations import API_ROUTE, Chain, Declaration
from lazyrouter._routes import describe_route, resolve_route

logger = logging.getLogger("lazyrouter")


@dataclass(slots=True)
class BuildStats:
    """What a router has built so far."""

    declared: int = 0
    built: int = 0
    failed: int = 0
    build_seconds: float = 0.0
    built_at_declaration: int = 0
    """Routes whose route class decides matching itself, built when declared."""
    declaration_build_seconds: float = 0.0


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
    if route_class is APIRoute:
        return True  # the usual case, asked for every route: no weak lookup
    if not isinstance(route_class, type) or not issubclass(route_class, APIRoute):
        return False  # a factory (functools.partial, ...): only calling it tells
    deferrable = _deferrable.get(route_class)
    if deferrable is None:
        deferrable = _deferrable[route_class] = "__slots__" not in vars(route_class) and all(
            getattr(route_class, name, None) is getattr(APIRoute, name, None) for name in _DEFERRABLE_METHODS
        )
    return deferrable


_deferrable: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


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
    if route_class is APIRoute and _deferred_api_route:
        return _deferred_api_route[0]
    deferred = _deferred_classes.get(route_class)
    if deferred is None:
        deferred = type(
            route_class.__name__,
            (_Deferred, route_class),
            {"__module__": route_class.__module__, "__qualname__": route_class.__qualname__},
        )
        _deferred_classes[route_class] = deferred
        if route_class is APIRoute:
            _deferred_api_route.append(deferred)
    return deferred


_deferred_api_route: list[type[BaseRoute]] = []
"""`_deferred_class(APIRoute)`, once made: asked for nearly every route."""


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


def deferred_route(declaration: Declaration, context: BuildContext) -> BaseRoute:
    """The route `declaration` stands for, not built yet: the same object every
    time for the same chain of includes, so identity and user writes last."""
    route = made_route(declaration)
    if route is None:
        route = _new_deferred_route(declaration, context)
        if declaration.routes is None:
            declaration.routes = {}
        declaration.routes[declaration.key] = (declaration.chain, route)
    return route


def made_route(declaration: Declaration) -> BaseRoute | None:
    """The route `deferred_route()` made for `declaration` already, if any."""
    routes = declaration.routes
    cached = None if routes is None else routes.get(declaration.key)
    # The key holds ids of the chain's option dicts; the entry keeps them alive.
    if cached is not None and _same_chain(cached[0], declaration.chain):
        return cached[1]
    return None


def route_path_if_deferrable(declaration: Declaration, context: BuildContext) -> str | None:
    """The path the route of `declaration` will have, if making it can wait
    for the first lookup that finds it: a route class that defers (it
    matches by its path), and no route made for it yet."""
    owner = declaration.owner or context.target
    if declaration.kind == API_ROUTE:
        options = declaration.options
        if not can_defer(options.get("route_class_override") or owner.route_class):
            return None
    if declaration.routes is not None and made_route(declaration) is not None:
        return None
    return owner.prefix + declaration.path


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
