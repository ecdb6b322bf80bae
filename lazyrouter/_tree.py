"""Walks over a router's declaration tree: its declarations and, through its
includes, those of the routers it includes, lazy or plain, to any depth.

Each walk reads what the router recorded (see `_declarations`) and builds
nothing; `lifted_items()` and `expand()` give an index (`_index`) its items.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Host

from lazyrouter import _compat
from lazyrouter._declarations import OBJECT, Branch, Chain, Declaration, Inclusion, RouterImport
from lazyrouter._deferred import BuildContext
from lazyrouter._index import ENTRY_ONLY, LOOK_INSIDE, Item, RouteIndex
from lazyrouter._lifting import declaration_for_route, lift_through
from lazyrouter._routes import BrokenRoute, resolve_route
from lazyrouter.exceptions import LazyRouterError


class Declaring:
    """What the walks read of a LazyRouter, which inherits this: the
    declarations it recorded, its build counts, the routers including it."""

    _declarations: list[Declaration | Inclusion]
    _context: BuildContext
    _parents: list[weakref.ref[Any]]
    prefix: str

    def _current_declarations(self) -> list[Declaration | Inclusion]:
        raise NotImplementedError


def snapshot(router: APIRouter) -> list[Any]:
    """`router`'s items as FastAPI < 0.137 copies them when it is included."""
    if isinstance(router, Declaring):
        return [_as_included_now(as_declared(item)) for item in router._current_declarations()]
    return list(_compat.effective_routes(router))


def _as_included_now(item: Any) -> Any:
    """`item`, with a route object (built, or written to by user code) read as
    it is now: FastAPI < 0.137 copies a route from what it is when included,
    so what user code writes to it later reaches only the router's own route.
    A shallow copy, with the route's lists, sets and dicts copied too, as
    FastAPI's copy builds its own."""
    if not (isinstance(item, Declaration) and item.kind == OBJECT):
        return item
    route = item.endpoint
    if not isinstance(route, (APIRoute, APIWebSocketRoute)) or resolve_route(route) is not None:
        return item  # not built (its build failed): its copy fails the same way later
    frozen = copy.copy(route)
    state = vars(frozen)
    for name, value in list(state.items()):
        if type(value) in (list, set, dict):
            state[name] = type(value)(value)
    return Declaration(OBJECT, item.path, frozen, item.options, item.owner)


def lifted_items(
    router: APIRouter,
    chain: Chain,
    snapshot: list[Any] | None = None,
    *,
    final: bool = True,
    included: APIRouter | None = None,
) -> list[Item]:
    """`router`'s routes lifted through `chain`; its includes stay unexpanded.

    `included`: `router`'s settings as its include saw them, if not as they are.
    """
    source = included or router
    if isinstance(router, Declaring):
        return [
            lift_through(as_declared(item) if snapshot is None else item, chain, final=final, source=source)
            if isinstance(item, Declaration)
            else Branch(
                item.router,
                ((item.options, item.parent), *chain),
                item.snapshot,
                final,
                including=router,
                included=item.included,
                entry=item.entry,
            )
            for item in (router._current_declarations() if snapshot is None else snapshot)
        ]
    # A plain APIRouter built its routes when they were declared.
    return [
        lift_through(declaration_for_route(route, effective), chain, final=final, source=source)
        for route, effective in (_compat.effective_routes(router) if snapshot is None else snapshot)
    ]


def frontend_entries(index: RouteIndex) -> list[tuple[int, Branch]]:
    """The includes of `index`'s router with frontends or hosts (see
    `has_frontends`), by position: FastAPI asks them whatever the path."""
    return [(number, branch) for number, branch in index.root_branches() if has_frontends(branch.router)]


Grouped = Sequence[tuple[int, Branch | None, BaseRoute | None]]


def with_entries(grouped: Grouped, entries: list[tuple[int, Branch]]) -> Grouped:
    """`grouped` candidates (see `RouteIndex.grouped_candidates`) with the
    include `entries` it lacks, in position order."""
    if not entries:
        return grouped
    present = {number for number, _, _ in grouped}
    missing = [(number, branch, None) for number, branch in entries if number not in present]
    return sorted([*grouped, *missing], key=lambda candidate: candidate[0]) if missing else grouped


def has_frontends(router: APIRouter | RouterImport, seen: set[int] | None = None) -> bool:
    """Whether `router`, or a router it includes, has routes FastAPI >= 0.137
    matches whatever the path under the include's prefix: `frontend()` routes
    (FastAPI >= 0.164), and hosts (an included `Host` matches on the host
    alone). Read without listing or building any route."""
    if isinstance(router, RouterImport):
        return False  # not imported to look: its entry is a candidate under its prefix anyway
    seen = set() if seen is None else seen
    if id(router) in seen:
        return False
    seen.add(id(router))
    if _compat.has_own_frontends(router):
        return True
    if isinstance(router, Declaring):
        own = [item.endpoint for item in router._declarations if isinstance(item, Declaration) and item.kind == OBJECT]
        nested = [item.router for item in router._declarations if isinstance(item, Inclusion)]
    else:
        own = list(router.routes)
        nested = [route.original_router for route in own if _compat.is_include_entry(route)]
    if any(isinstance(route, Host) for route in own):
        return True
    return any(has_frontends(child, seen) for child in nested)


def holds_lazy_router(router: APIRouter, seen: set[int] | None = None) -> bool:
    """Whether a plain APIRouter includes a LazyRouter, at any depth (FastAPI >= 0.137)."""
    seen = set() if seen is None else seen
    if id(router) in seen:
        return False
    seen.add(id(router))
    for route in router.routes:
        if _compat.is_include_entry(route):
            child = route.original_router  # type: ignore[attr-defined]
            if isinstance(child, Declaring) or holds_lazy_router(child, seen):
                return True
    return False


def as_declared(item: Any) -> Any:
    """A declaration, or its route once that exists and is not as declared:
    built, or written to by user code. Including the router then reads the
    route's attributes, as FastAPI does."""
    if isinstance(item, Declaration) and item.routes is not None:
        own = item.routes.get(())
        if own is not None:
            declaration = declaration_for_route(own[1])
            if declaration is not item:
                return declaration
    return item


def expand(branch: Branch) -> list[Item]:
    router = branch.router
    if isinstance(router, RouterImport):
        first_import = router.router is None
        resolved = imported_or_broken(branch)
        if isinstance(resolved, BrokenRoute):
            return [Declaration(OBJECT, branch.prefix, resolved, {}, None)]
        including_router = branch.including
        if first_import and isinstance(resolved, Declaring) and isinstance(including_router, Declaring):
            resolved._parents.append(weakref.ref(including_router))
        router = resolved
    return lifted_items(router, branch.chain, branch.snapshot, final=branch.final, included=branch.included)


def imported_or_broken(branch: Branch) -> APIRouter | BrokenRoute:
    """The router `branch` includes, imported if need be; a `BrokenRoute` with
    the error if that import fails: requests under its prefix get the error,
    others never see it, `resolve_all()` reports it, a warm-up passes over it."""
    router = branch.router
    if not isinstance(router, RouterImport):
        return router
    try:
        return router.resolve()
    except LazyRouterError as error:
        return BrokenRoute(branch.prefix, error)


def sum_stat(router: Declaring, name: str, seen: set[int] | None = None) -> Any:
    """A stat of `router` and every LazyRouter it includes (each counted once)."""
    seen = set() if seen is None else seen
    if id(router) in seen:
        return 0
    seen.add(id(router))
    total = getattr(router._context.stats, name)
    for item in router._declarations:
        if isinstance(item, Inclusion):
            child = item.router.router if isinstance(item.router, RouterImport) else item.router
            if isinstance(child, Declaring):
                total += sum_stat(child, name, seen)
    return total


def count_declared(router: APIRouter | RouterImport) -> int:
    if isinstance(router, RouterImport):
        return 0 if router.router is None else count_declared(router.router)
    if not isinstance(router, Declaring):
        return sum(1 for _ in _compat.effective_routes(router))
    return sum(
        count_declared(item.router) if isinstance(item, Inclusion) else int(item.kind != OBJECT)
        for item in router._current_declarations()
    )


def empty_path_names(router: APIRouter | RouterImport, prefix: str = "") -> Iterator[str]:
    """Names of `router`'s routes whose path is empty, as include_router() checks."""
    if isinstance(router, RouterImport):
        return  # included under a prefix, always
    if not isinstance(router, Declaring):
        for route, effective in _compat.effective_routes(router):
            path = effective.path if effective is not None else getattr(route, "path", None)
            if path is not None and not prefix + path:
                yield getattr(route, "name", "unknown")
        return
    for item in router._current_declarations():
        if isinstance(item, Inclusion):
            yield from empty_path_names(item.router, prefix + router.prefix + item.options.get("prefix", ""))
        elif item.kind == OBJECT:
            path = getattr(item.endpoint, "path", None)
            if path is not None and not prefix + path:
                yield getattr(item.endpoint, "name", "unknown")
        elif not prefix + (item.owner or router).prefix + item.path:
            yield str(item.options.get("name") or getattr(item.endpoint, "__name__", "unknown"))


def included_object(router: APIRouter | RouterImport, *, resolve: bool = True) -> APIRouter | None:
    """The router an include stands for (importing it, with `resolve`; None if
    that fails or is not allowed)."""
    if not isinstance(router, RouterImport):
        return router
    if router.router is None and resolve:
        try:
            router.resolve()
        except LazyRouterError:
            return None
    return router.router


def plain_routers(router: Declaring, seen: set[int] | None = None) -> Iterator[APIRouter]:
    """The plain APIRouters `router` includes, directly or through LazyRouters
    (not those included by import string and not imported yet)."""
    seen = set() if seen is None else seen
    if id(router) in seen:
        return
    seen.add(id(router))
    for item in router._current_declarations():
        if isinstance(item, Inclusion):
            included = included_object(item.router, resolve=False)
            if isinstance(included, Declaring):
                yield from plain_routers(included, seen)
            elif included is not None:
                yield included


def holds_router_imports(router: Declaring) -> bool:
    """Whether `router`, or a router it includes with no prefix, includes one
    by import string."""
    for item in router._current_declarations():
        if isinstance(item, Inclusion):
            if isinstance(item.router, RouterImport):
                return True
            if isinstance(item.router, Declaring) and not item.options.get("prefix"):
                if holds_router_imports(item.router):
                    return True
    return False


def live_include(branch: Branch) -> int | None:
    """Whether every path below `branch`'s prefix goes to its include entry
    (FastAPI >= 0.137), whatever the index holds, and whether the index need
    look inside (see `RouteIndex.pinned`):

    - an include of a plain APIRouter: FastAPI serves it live, routes added
      later too; the entry alone looks its routes up;
    - of a LazyRouter under a prefix: its own index looks its routes up when
      FastAPI asks the entry (`matches()`), so they are never lifted here;
    - by import string: imported for the request anyway (FastAPI finds its
      frontends through the entry), and looked into, which imports it.
    """
    if not _compat.INCLUDES_ARE_LIVE:
        return None
    if isinstance(branch.router, RouterImport):
        return LOOK_INSIDE
    if not isinstance(branch.router, Declaring) or branch.has_prefix:
        return ENTRY_ONLY
    # Included with no prefix, its routes may lie anywhere: the index lifts
    # them, so that only the paths they can match reach the entry.
    return None
