"""Every contact with FastAPI's and Starlette's private names lives here.

FastAPI's internals move between releases; each helper says which releases it
was written against. Public API is used everywhere else.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import fastapi
import fastapi.routing
import pydantic
import starlette.routing
from fastapi import APIRouter
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

try:  # Starlette >= 0.33
    from starlette._utils import get_route_path
except ImportError:  # pragma: no cover

    def get_route_path(scope: Scope) -> str:
        root_path = scope.get("root_path", "")
        path: str = scope["path"]
        return path[len(root_path) :] if root_path and path.startswith(root_path) else path


__all__ = (
    "API_ROUTE_PARAMETERS",
    "INCLUDES_ARE_LIVE",
    "INCLUDE_PARAMETERS",
    "StarletteCopy",
    "DeferredInclude",
    "complete_validators",
    "effective_routes",
    "frozen_settings",
    "get_route_path",
    "include_entry",
    "is_include_entry",
    "limit_body_size",
    "included_router_for",
    "is_default_lifespan",
    "merge_lifespan",
    "router_init_kwargs",
    "router_settings_from_include",
    "same_settings",
    "scratch_router",
)

FASTAPI_VERSION = tuple(int(part) for part in fastapi.__version__.split(".")[:3] if part.isdigit())
MINIMUM_FASTAPI = (0, 115)

if FASTAPI_VERSION < MINIMUM_FASTAPI or not pydantic.VERSION.startswith("2."):  # pragma: no cover
    raise ImportError(
        f"lazyrouter needs FastAPI 0.115 or later with Pydantic 2; found FastAPI {fastapi.__version__} "
        f"with Pydantic {pydantic.VERSION}. Upgrade with: pip install 'fastapi>=0.115' 'pydantic>=2'"
    )

# Keyword arguments the installed FastAPI accepts; lazyrouter forwards what the
# user passed and only reads the ones it must combine.
API_ROUTE_PARAMETERS = frozenset(inspect.signature(APIRouter.add_api_route).parameters) - {"self"}
INCLUDE_PARAMETERS = frozenset(inspect.signature(APIRouter.include_router).parameters) - {"self", "router"}
_ROUTER_INIT_PARAMETERS = frozenset(inspect.signature(APIRouter.__init__).parameters) - {"self"}

# FastAPI >= 0.137 keeps an `_IncludedRouter` per include_router() call and asks
# the included router to match through its (alpha) `matches()`/`handle()` hooks.
_IncludedRouter: type[BaseRoute] | None = getattr(fastapi.routing, "_IncludedRouter", None)
_get_scope_included_router = getattr(fastapi.routing, "_get_scope_included_router", None)
_DefaultLifespan = getattr(fastapi.routing, "_DefaultLifespan", None)
_StarletteDefaultLifespan = getattr(starlette.routing, "_DefaultLifespan", None)

_RouterIncludeContext = getattr(fastapi.routing, "_RouterIncludeContext", None)

INCLUDES_ARE_LIVE = _IncludedRouter is not None
"""FastAPI >= 0.137 includes routers by reference: routes added to an included
router later are served, and its mounts and hosts are kept. FastAPI 0.115 to
0.136 copies the routes (not mounts or hosts) when include_router() runs."""


def scratch_router(source: APIRouter, **overrides: Any) -> APIRouter:
    """A plain `APIRouter` with `source`'s settings and an empty route list.

    FastAPI's own `add_api_route()` runs on it, so the route it appends is
    exactly the route `source` would have built, without touching `source`.
    """
    scratch = APIRouter.__new__(APIRouter)
    scratch.__dict__.update(source.__dict__)
    scratch.__dict__.update(overrides)
    scratch.routes = []
    return scratch


def frozen_settings(router: APIRouter, exclude: frozenset[str]) -> APIRouter:
    """A plain `APIRouter` holding `router`'s settings as they are now.

    FastAPI reads a router's settings when a route is declared, and those of
    the including router when a router is included: later changes to them must
    not reach routes declared before. Lists, dicts and sets are copied, as
    `add_api_route()` copies them (`self.tags.copy()`, ...); every attribute is
    kept, so settings of newer FastAPI releases come along.
    """
    frozen = APIRouter.__new__(APIRouter)
    frozen.__dict__.update(
        (name, value.copy() if isinstance(value, (list, dict, set)) else value)
        for name, value in router.__dict__.items()
        if name not in exclude
    )
    frozen.routes = []
    return frozen


def same_settings(router: APIRouter, frozen: APIRouter) -> bool:
    """Whether `router`'s settings are still those `frozen` holds."""
    state = router.__dict__
    for name, value in frozen.__dict__.items():
        if name != "routes":
            current = state.get(name, frozen)
            if current is not value and current != value:
                return False
    return True


def include_entry(parent: APIRouter, router: APIRouter, options: dict[str, Any]) -> BaseRoute:
    """What FastAPI >= 0.137's include_router() appends to `parent.routes`.

    FastAPI's own `_IncludedRouter` with FastAPI's own include context (0.137
    to 0.165: `_RouterIncludeContext.for_include`), so code that walks
    `.routes`, and FastAPI itself (OpenAPI, `iter_route_contexts()`), treat it
    as eager FastAPI's.
    """
    assert _IncludedRouter is not None and _RouterIncludeContext is not None
    accepted = _for_include_parameters()
    context = _RouterIncludeContext.for_include(
        parent_router=parent, included_router=router, **{k: v for k, v in options.items() if k in accepted}
    )
    return _IncludedRouter(original_router=router, include_context=context)  # type: ignore[call-arg]


@functools.cache
def _for_include_parameters() -> frozenset[str]:
    assert _RouterIncludeContext is not None  # FastAPI >= 0.137
    return frozenset(inspect.signature(_RouterIncludeContext.for_include).parameters)


def is_include_entry(route: object) -> bool:
    return _IncludedRouter is not None and isinstance(route, _IncludedRouter)


if _IncludedRouter is not None:
    _ENTRY_FIELDS = [field for field in dataclasses.fields(_IncludedRouter) if field.init]  # type: ignore[arg-type]

    class DeferredInclude(_IncludedRouter):  # type: ignore[misc, valid-type]
        """An `_IncludedRouter` whose router is imported on first need.

        `include_router("pkg.module:router", prefix=...)` lists this in
        `.routes`: walking the list imports nothing; matching a path under the
        prefix, or anything that reads the router, imports it (`load()`, which
        returns the router and its include context, or raises).
        """

        def __init__(self, prefix: str, load: Callable[[], tuple[APIRouter, Any]]) -> None:
            for field in _ENTRY_FIELDS:
                if field.name not in ("original_router", "include_context"):
                    default = field.default_factory() if callable(field.default_factory) else field.default
                    object.__setattr__(self, field.name, default)
            self._lazyrouter_prefix = prefix
            self._lazyrouter_load = load
            self._lazyrouter_loaded: tuple[APIRouter, Any] | None = None

        def _under_prefix(self, path: str) -> bool:
            # The prefix may hold path parameters ("/{tenant}").
            patterns = self.__dict__.get("_lazyrouter_patterns")
            if patterns is None:
                prefix = self._lazyrouter_prefix
                patterns = self._lazyrouter_patterns = (
                    starlette.routing.compile_path(prefix)[0],
                    starlette.routing.compile_path(prefix + "/{_lazyrouter_rest:path}")[0],
                )
            return any(pattern.match(path) for pattern in patterns)

        def _loaded(self) -> tuple[APIRouter, Any]:
            if self._lazyrouter_loaded is None:
                self._lazyrouter_loaded = self._lazyrouter_load()
            return self._lazyrouter_loaded

        @property
        def original_router(self) -> APIRouter:
            return self._loaded()[0]

        @property
        def include_context(self) -> Any:
            return self._loaded()[1]

        def matches(self, scope: Scope) -> Any:
            scope.setdefault("fastapi", {})  # as FastAPI's entry makes it, asked to match
            if not self._under_prefix(get_route_path(scope)):
                return starlette.routing.Match.NONE, {}
            try:
                self._loaded()
            except Exception:
                # Route walkers must not see the import error: the request
                # under this prefix gets it when it is handled (500).
                return starlette.routing.Match.FULL, {}
            return super().matches(scope)

        # Identity, and a repr that imports nothing (the dataclass ones read the router).
        def __eq__(self, other: object) -> bool:
            return self is other

        __hash__ = None  # type: ignore[assignment]

        def __repr__(self) -> str:
            return f"{type(self).__name__}(prefix={self._lazyrouter_prefix!r})"

else:  # pragma: no cover - FastAPI < 0.137

    class DeferredInclude:  # type: ignore[no-redef]
        pass


if _IncludedRouter is not None:
    _Included: Any = _IncludedRouter
    _EffectiveRouteContext: Any = fastapi.routing._EffectiveRouteContext

    class NarrowedInclude:
        """An `_IncludedRouter` narrowed to the candidates one request can select.

        FastAPI's own `_IncludedRouter._match()` and `_handle_selected()`
        (0.137 to 0.165: they read `effective_candidates()`, `original_router`
        and `include_context`, nothing else) run over `candidates` instead of
        every route of the router.
        """

        __slots__ = ("_candidates", "include_context", "original_router")

        def __init__(self, included: Any, candidates: list[Any]) -> None:
            self.original_router = included.original_router
            self.include_context = included.include_context
            self._candidates = candidates

        def effective_candidates(self) -> list[Any]:
            return self._candidates

        _match = _Included._match
        _handle_selected = _Included._handle_selected

    def effective_context(included: Any, route: BaseRoute) -> Any:
        """FastAPI's effective context of `route` in `included` (0.137 to 0.165)."""
        return _Included._build_effective_context(included, route)

    def fastapi_candidates(included: Any, known: list[Any]) -> dict[int, Any] | None:
        """What FastAPI's own `included.effective_candidates()` made, if it made
        them for the routes as they are (after a walk such as `iter_route_contexts()`
        or FastAPI's `openapi()`), by id of the route or include entry each
        stands for; the same objects then serve, as in eager FastAPI.
        `known`: the caller's memo, `[candidates, by_id]` (FastAPI's objects
        are left as they are). FastAPI 0.137 to 0.165: candidates follow
        `original_router.routes`, include entries and routes alike."""
        state = included.__dict__
        candidates = state.get("_effective_candidates")
        version = state.get("_effective_candidates_version")
        if not candidates or version != included.original_router._get_routes_version():
            return None
        if not known or known[0] is not candidates:
            by_id: dict[int, Any] = {}
            entries = (route for route in included.original_router.routes if isinstance(route, _Included))
            for candidate in candidates:
                if isinstance(candidate, _Included):
                    entry = next(entries, None)
                    if entry is not None:
                        by_id[id(entry)] = candidate
                else:
                    by_id[id(candidate.original_route)] = candidate
            known[:] = [candidates, by_id]
        found: dict[int, Any] = known[1]
        return found

    def child_include(included: Any, entry: Any) -> Any:
        """The entry of a router `included`'s router includes, seen through
        `included`: what `_IncludedRouter.effective_candidates()` makes of it."""
        return _Included(
            original_router=entry.original_router,
            include_context=included.include_context.combine(entry.include_context),
        )

    def context_for_broken(route: BaseRoute) -> Any:
        """A context for a route that stands for a failed import: FastAPI
        matches and serves it as it is (as it does a Starlette route)."""
        return _EffectiveRouteContext(original_route=route, starlette_route=route)


# The direct path (see `_direct`) stands in for FastAPI's dispatch of a request
# to a static API route: `APIRouter.app()`'s FULL branch, and through an include
# `_IncludedRouter.matches()`, `handle()` and `_handle_selected()`. Their code
# was compared release by release: every one from 0.138.0 to 0.165.0 leaves
# what the direct path leaves when no form limits apply, telemetry is off and
# the child scope holds no "fastapi" key. 0.137 has no `APIRouter.app()` of
# its own, and Starlette's (1.x) sets `scope["route"]` first: no direct path
# there, nor on releases not yet compared.
DIRECT_PATH = (0, 138) <= FASTAPI_VERSION < (0, 166) and "app" in APIRouter.__dict__
# From 0.142.1 on, `APIRoute.handle()` serves an effective context with the
# context's own `app`, once it checked the method.
CONTEXT_APP_SERVES = (0, 142, 1) <= FASTAPI_VERSION
SCOPE_KEY = "fastapi"
CONTEXT_KEY: str | None = getattr(fastapi.routing, "_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY", None)
INCLUDED_KEY: str | None = getattr(fastapi.routing, "_FASTAPI_INCLUDED_ROUTER_KEY", None)
TELEMETRY_KEY = "fastapi.telemetry"
# FastAPI's own merge of a matched route's child scope (0.138.0 to 0.165.0;
# absent before, where there is no direct path).
update_scope: Callable[[Scope, Scope], None] = getattr(fastapi.routing, "_update_scope", dict.update)


def matched_in_context(scope: Scope, route: BaseRoute, context: Any) -> tuple[Match, Scope]:
    """What `route.matches(scope)` answers when `_IncludedRouter._match()` asks
    it with `context` in the scope, for an APIRoute that matches with FastAPI's
    own code (`matches_as_fastapi`): the context's match, and the route in the
    child scope. `APIRoute.matches()` is that, unchanged from 0.138.0 to 0.165.0."""
    match, child_scope = context.matches(scope)
    if match is not Match.NONE:
        child_scope["route"] = route
    return match, child_scope


_apply_router_form_limits = getattr(fastapi.routing, "_apply_router_form_limits", None)


def apply_form_limits(scope: Scope, router: APIRouter) -> None:
    """What `APIRouter.app()` does first (0.165): record the router's form
    limits in `scope["fastapi"]`. Doing it twice leaves the same limits."""
    limits = router.__dict__.get("form_limits")
    if limits and _apply_router_form_limits is not None:
        _apply_router_form_limits(scope, limits)


def _own(cls: type, name: str, module: str) -> Any:
    """`cls.name` if it is still the function `module` defines (not patched)."""
    function = getattr(cls, name, None)
    return function if getattr(function, "__module__", None) == module else None


# The route matching and handling the direct path stands in for: Starlette's,
# and FastAPI's APIRoute overrides (`matches()` adds `route` to the child
# scope; `handle()` takes the effective context's way only when the scope
# carries one).
_STARLETTE_ROUTE_MATCHES = _own(starlette.routing.Route, "matches", "starlette.routing")
_STARLETTE_ROUTE_HANDLE = _own(starlette.routing.Route, "handle", "starlette.routing")
_API_ROUTE_MATCHES = _own(fastapi.routing.APIRoute, "matches", "fastapi.routing")
_API_ROUTE_HANDLE = _own(fastapi.routing.APIRoute, "handle", "fastapi.routing")


def matches_as_fastapi(route: Any) -> bool:
    """Whether an APIRoute matches with FastAPI's and Starlette's own code."""
    return (
        _API_ROUTE_MATCHES is not None
        and type(route).matches is _API_ROUTE_MATCHES
        and "matches" not in route.__dict__
        and getattr(super(fastapi.routing.APIRoute, route).matches, "__func__", None) is _STARLETTE_ROUTE_MATCHES
    )


def handles_as_fastapi(route: Any) -> bool:
    """Whether an APIRoute is handled by FastAPI's and Starlette's own code:
    for a request whose method it takes, that code awaits `route.app` (no
    effective context in the scope) or the context's `app` (one for `route`,
    `CONTEXT_APP_SERVES`)."""
    return (
        _API_ROUTE_HANDLE is not None
        and _STARLETTE_ROUTE_HANDLE is not None
        and type(route).handle is _API_ROUTE_HANDLE
        and "handle" not in route.__dict__
        and getattr(super(fastapi.routing.APIRoute, route).handle, "__func__", None) is _STARLETTE_ROUTE_HANDLE
    )


def plain_include_entry(entry: object) -> bool:
    """Whether `entry` is FastAPI's own `_IncludedRouter` (not a subclass)."""
    return _IncludedRouter is not None and type(entry) is _IncludedRouter


def has_own_frontends(router: APIRouter) -> bool:
    """Whether `router` has `frontend()` routes of its own (FastAPI >= 0.164)."""
    return bool(router.__dict__.get("_low_priority_routes"))


def limit_body_size(route: BaseRoute, max_body_size: int) -> None:
    """Serve a Starlette route or mount of an include with the include's body
    size limit, as FastAPI >= 0.164 does (`wrap_app_with_body_limit`)."""
    wrap = getattr(fastapi.routing, "wrap_app_with_body_limit", None)
    if wrap is not None:
        route.handle = wrap(route.handle, max_body_size)  # type: ignore[method-assign]


def included_router_for(scope: Scope, router: APIRouter) -> Any | None:
    """The `_IncludedRouter` through which FastAPI >= 0.137 is asking `router` to match."""
    if _get_scope_included_router is None:  # pragma: no cover - FastAPI < 0.137
        return None
    included = _get_scope_included_router(scope)
    if _IncludedRouter is not None and isinstance(included, _IncludedRouter):
        if included.original_router is router:  # type: ignore[attr-defined]
            return included
    return None


def router_settings_from_include(included: Any) -> dict[str, Any]:
    """Router attributes equivalent to a FastAPI >= 0.137 include context.

    The context already folds in every enclosing router's settings, so a router
    carrying these attributes builds the same route as FastAPI's effective
    route context does. Form limits are left out: FastAPI applies them to the
    request scope itself before it hands the request over.
    """
    context = included.include_context
    settings = {
        "prefix": context.prefix,
        "tags": list(context.tags),
        "dependencies": list(context.dependencies),
        "default_response_class": context.default_response_class,
        "responses": dict(context.responses),
        "callbacks": list(context.callbacks),
        "deprecated": context.deprecated,
        "include_in_schema": context.include_in_schema,
        "generate_unique_id_function": context.generate_unique_id_function,
        "dependency_overrides_provider": context.dependency_overrides_provider,
    }
    for name in ("strict_content_type", "max_body_size"):
        if hasattr(context, name):
            settings[name] = getattr(context, name)
    if hasattr(context, "form_limits"):
        settings["form_limits"] = {}
    return settings


def effective_routes(router: APIRouter) -> Iterator[tuple[BaseRoute, Any]]:
    """Yield `(route, effective)` for each route of a plain `APIRouter`.

    On FastAPI >= 0.137, routes of routers it includes are only reachable
    through their effective route contexts, which carry the combined settings;
    `effective` is that context (or None for a route of `router` itself).
    """
    for route in router.routes:
        if _IncludedRouter is not None and isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():  # type: ignore[attr-defined]
                copied, original = context.starlette_route, context.original_route
                if copied is None:
                    yield original, context
                elif type(original) in _PLAIN_STARLETTE_ROUTES and copied.path.endswith(original.path):
                    yield original, StarletteCopy(copied.path[: len(copied.path) - len(original.path)], copied)
                else:
                    yield copied, None
        else:
            yield route, None


_PLAIN_STARLETTE_ROUTES = (starlette.routing.Route, starlette.routing.WebSocketRoute)


class StarletteCopy:
    """A Starlette route FastAPI >= 0.137 serves as a copy under `prefix`.

    lazyrouter makes its own copy, once, from the original route with every
    prefix of the include chain, as FastAPI does: a copy of FastAPI's copy
    would rebuild the methods set twice, and under some hash seeds list the
    `Allow` header in another order. Reads fall through to FastAPI's copy.
    """

    def __init__(self, prefix: str, copied: BaseRoute) -> None:
        self.prefix = prefix
        self.copied = copied

    def __getattr__(self, name: str) -> Any:
        return getattr(self.copied, name)


# Where FastAPI keeps the ModelFields of a built APIRoute (0.115 to 0.165).
_ROUTE_FIELDS = ("response_field", "secure_cloned_response_field", "body_field")
_DEPENDANT_FIELDS = ("path_params", "query_params", "header_params", "cookie_params", "body_params")


def complete_validators(route: BaseRoute) -> None:
    """Build the Pydantic validators and serializers FastAPI left for first use.

    FastAPI wraps each parameter, body and response of a route in a `ModelField`
    holding a `TypeAdapter` (`_type_adapter`, 0.115 to 0.165). For a model with
    `defer_build=True`, Pydantic >= 2.10 defers the adapter's build too, to the
    first request that validates or serializes through it. Older Pydantic builds
    adapters at once (no `pydantic_complete`), so there is nothing to do there.
    """
    state = route.__dict__
    fields = [state.get(name) for name in _ROUTE_FIELDS]
    fields.extend((state.get("response_fields") or {}).values())
    dependants, seen = [state.get("dependant")], set()
    while dependants:
        dependant = dependants.pop()
        if dependant is None or id(dependant) in seen:
            continue
        seen.add(id(dependant))
        for name in _DEPENDANT_FIELDS:
            fields.extend(getattr(dependant, name, ()))
        dependants.extend(getattr(dependant, "dependencies", ()))
    for field in fields:
        adapter = getattr(field, "_type_adapter", None)
        if adapter is not None and getattr(adapter, "pydantic_complete", True) is False:
            # Errors are left for the request that needs the adapter, as without lazyrouter.
            adapter.rebuild(raise_errors=False)


def merge_lifespan(original: Any, nested: Any) -> Any:
    """Combine two lifespans the way `include_router()` does."""
    return fastapi.routing._merge_lifespan_context(original, nested)


def is_default_lifespan(lifespan_context: Any) -> bool:
    """Whether a router runs only its on_startup/on_shutdown handlers.

    FastAPI >= 0.137 has its own `_DefaultLifespan`; earlier releases use
    Starlette's (whose `lifespan_context` is the `Router._DefaultLifespan`
    instance of Starlette >= 0.3x). include_router() merges lifespans even
    when both are defaults (`_merge_lifespan_context`, 0.115 to 0.165): a
    merge of defaults is a default too (the handlers are merged on their own).
    """
    merged = getattr(lifespan_context, "__wrapped__", None)
    if getattr(merged, "__qualname__", None) == "_merge_lifespan_context.<locals>.merged_lifespan":
        return all(is_default_lifespan(cell.cell_contents) for cell in merged.__closure__ or ())  # type: ignore[union-attr]
    defaults = tuple(cls for cls in (_DefaultLifespan, _StarletteDefaultLifespan) if cls is not None)
    return isinstance(lifespan_context, defaults)


def router_init_kwargs(router: APIRouter) -> dict[str, Any]:
    """Keyword arguments that rebuild `router`'s configuration in a new router.

    Read off the installed `APIRouter.__init__` signature, so arguments added by
    newer FastAPI releases are carried over as long as the router stores them
    under the same attribute name (every current argument does).
    """
    kwargs = {name: getattr(router, name) for name in _ROUTER_INIT_PARAMETERS if hasattr(router, name)}
    kwargs["routes"] = list(router.routes)
    default = kwargs.get("default")
    if getattr(default, "__self__", None) is router:  # the router's own not_found
        del kwargs["default"]
    kwargs.pop("lifespan", None)
    if not is_default_lifespan(router.lifespan_context):
        kwargs["lifespan"] = router.lifespan_context
    return kwargs


def validate_include_options(options: dict[str, Any]) -> None:
    """Raise what FastAPI raises at include time for a bad limit (FastAPI >= 0.164)."""
    if options.get("max_body_size") is not None:
        validate = getattr(fastapi.routing, "validate_max_body_size", None)
        if validate is not None:
            validate(options["max_body_size"])
    if options.get("form_limits") is not None:
        validate_form_limits = getattr(fastapi.routing, "_validate_form_limits", None)
        if validate_form_limits is not None:
            validate_form_limits(options["form_limits"])
