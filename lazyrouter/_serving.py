"""Serving an included LazyRouter the way FastAPI >= 0.137 serves included routers.

FastAPI >= 0.137 lists an `_IncludedRouter` entry for every include_router()
call and reaches the included router through it: the entry's `matches()` and
`handle()` call the router's own `matches()` and `handle()`, which answer with
FastAPI's `_match()` and `_handle_selected()` over *effective route contexts*
(each route as the include sees it; the original route object serves, with
`scope["route"]` and `scope["fastapi"]` set accordingly).

A LazyRouter answers those two hooks with that same FastAPI code, narrowed to
the candidates its index finds for the request path. A candidate whose match
the index can tell without building anything is matched that way; a context
(and the route it stands for) is built only for a candidate the request can
select, the first time it can. Contexts are kept until the router's routes
change, as FastAPI keeps its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from lazyrouter import _compat
from lazyrouter._declarations import Branch, RouterImport
from lazyrouter._deferred import BuildContext, can_defer
from lazyrouter._index import RouteIndex
from lazyrouter._routes import BrokenRoute, build_now, is_deferred, matches_path
from lazyrouter._tree import frontend_entries, with_entries
from lazyrouter._warmup import PendingContext, include_steps

SKELETONS: Final = 32
"""Paths whose candidates each include remembers."""
MATCHED: Final = "matched"
"""A candidate whose match result the index computed without building it."""
OPAQUE: Final = "opaque"
"""A candidate only its effective context can match (custom `matches()`, Starlette routes)."""
CHILD: Final = "child"
"""A router included by this one: it matches through its own entry."""

Candidate = tuple[str, Any, Match | None]
Skeleton = tuple[tuple[str, Any, Any], ...]
Listed = Callable[[int], BaseRoute | None]


@dataclass(eq=False)
class IncludeServing:
    """How a LazyRouter serves one FastAPI include entry (`reference`)."""

    reference: weakref.ref[Any]
    context: BuildContext
    """Its lock guards building contexts. (Routes lifted into `index`, for a
    prefix with parameters, only ever match paths: nothing builds them.)"""
    options: dict[str, Any]
    index: RouteIndex
    listed: Listed
    """The route `.routes` lists for the router's declaration at a position."""
    contexts: dict[int, tuple[BaseRoute, Any]] = field(default_factory=dict)
    """Effective contexts built so far, by id of their original route."""
    children: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    """Entries of the routers this one includes, as seen through this include."""
    fastapi_made: list[Any] = field(default_factory=list)
    """What FastAPI's own walk of the include made, by id (see `_compat.fastapi_candidates`)."""
    warmed: bool = False
    """Whether a walk of `work()` finished since the routes last changed:
    serving the include then builds nothing and takes no lock."""
    routes_version: int = -1
    """The router's routes version `index` was found for: a route appended to
    the router's own index leaves `index.version` current (see `reset()`)."""
    strip: str | None = None
    """The include's prefix, when `index` is the router's own (see `reset()`)."""
    hosting: list[tuple[int, Branch]] = field(default_factory=list)
    """The includes of the router holding hosts or frontends, by position."""
    directs: dict[int, Any] = field(default_factory=dict)
    """Direct routes (`_direct.DirectInclude`) by id of their route."""
    _shape_directs: dict[int, tuple[object, Any]] = field(default_factory=dict, repr=False)
    """Direct routes of routes with path parameters, by the skeleton of the
    paths they serve (kept alive with it): see `shape_direct()`."""
    _skeletons: dict[str, Skeleton] = field(default_factory=dict, repr=False)
    """Skeletons by path: few per include (an app may include hundreds of routers)."""
    _by_grouped: dict[int, tuple[object, Skeleton]] = field(default_factory=dict, repr=False)
    """Skeletons by the index's answer they were made from (kept alive with it)."""
    _last: tuple[tuple[int, str, str, Any], list[Candidate]] | None = field(default=None, repr=False)
    """The candidates of the last request: FastAPI calls `matches()` and then,
    for the same scope, `handle()`, which needs the same candidates."""

    # As a warm-up target (see `_warmup.WarmUpTarget`).
    @property
    def version(self) -> int:
        return self.index.version

    def iter_routes(self) -> Iterator[BaseRoute | PendingContext]:
        return self.work()

    def is_ready(self, route_path: str, redirect_path: str | None = None, busy: BaseRoute | None = None) -> bool:
        return self.warmed

    def reset(self, index: RouteIndex, strip: str | None = None) -> None:
        """Serve `index` from now on: the routes changed. `strip`: `index` is
        the router's own, and a path is looked up there without this prefix."""
        self.index = index
        self.strip = strip
        # With a prefix stripped, the router holds no hosts or frontends.
        self.hosting = [] if strip is not None else frontend_entries(index)
        self._skeletons.clear()
        self.contexts.clear()
        self.children.clear()
        self.fastapi_made.clear()
        self.directs.clear()
        self._shape_directs.clear()
        self._by_grouped.clear()
        self._last = None
        self.warmed = False

    def candidates(self, scope: Scope) -> list[Candidate]:
        """What FastAPI's `_match()` must look at for `scope`, in order.

        Of the candidates whose match the index can tell, only those that can
        be selected are kept: the first FULL (nothing after it is looked at),
        or else the first PARTIAL.
        """
        route_path = _compat.get_route_path(scope)
        # All the candidates depend on; the scope's id tells apart two requests
        # to the same path only so that each is looked at once.
        key = (id(scope), route_path, scope["type"], scope.get("method"))
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        found: list[Candidate] = []
        partial_at: int | None = None
        path = self.relative(route_path)
        for kind, candidate, lifted in self.skeleton(route_path):
            if kind == CHILD:
                found.append((CHILD, self._child(candidate), None))
                continue
            if kind == OPAQUE:
                found.append((OPAQUE, candidate, None))
                continue
            assert path is not None
            match = lifted_match(lifted, scope, path)
            if match is Match.FULL:
                if partial_at is not None:
                    del found[partial_at]
                found.append((MATCHED, candidate, match))
                break
            if match is Match.PARTIAL and partial_at is None:
                partial_at = len(found)
                found.append((MATCHED, candidate, match))
        self._last = (key, found)
        return found

    def relative(self, route_path: str) -> str | None:
        """The path `index` looks up for `route_path` (None: nothing there)."""
        strip = self.strip
        if strip is None:
            return route_path
        if not route_path.startswith(strip):
            return None
        rest = route_path[len(strip) :]
        # Every route path starts with "/" (or is "" under a prefix); a pattern
        # also matches before a final newline.
        return rest if not rest or rest[0] == "/" or rest == "\n" else None

    def skeleton(self, route_path: str) -> Skeleton:
        """The candidates for `route_path` before the scope is looked at (the
        same object for the paths of one shape, see `_skeleton()`)."""
        skeleton = self._skeletons.get(route_path)
        if skeleton is None:
            skeleton = self._skeleton(route_path)
            if len(self._skeletons) >= SKELETONS:
                self._skeletons.clear()
            self._skeletons[route_path] = skeleton
        return skeleton

    def shape_direct(self, skeleton: Skeleton) -> Any:
        """The direct route (with path parameters) found for another path of
        this `skeleton`, if any: its route leads the same candidates, and its
        own match decides each path."""
        known = self._shape_directs.get(id(skeleton))
        if known is None or known[0] is not skeleton or known[1].stale:
            return None
        return known[1]

    def remember_shape_direct(self, skeleton: Skeleton, direct: Any) -> None:
        if len(self._shape_directs) >= SKELETONS:
            self._shape_directs.clear()
        self._shape_directs[id(skeleton)] = (skeleton, direct)

    def _skeleton(self, route_path: str) -> Skeleton:
        """The candidates for `route_path` before the scope is looked at: what
        the index finds, with the route `.routes` lists for each."""
        path = self.relative(route_path)
        if path is None:
            return self._skeleton_of([])
        # The index's answer is one list for the paths of one shape.
        grouped = self.index.grouped_candidates(path)
        known = self._by_grouped.get(id(grouped))
        if known is None or known[0] is not grouped:
            if len(self._by_grouped) >= SKELETONS:
                self._by_grouped.clear()
            known = self._by_grouped[id(grouped)] = (grouped, self._skeleton_of(grouped))
        return known[1]

    def _skeleton_of(self, grouped: list[tuple[int, Branch | None, Any]]) -> Skeleton:
        skeleton: list[tuple[str, Any, Any]] = []
        # FastAPI asks the includes holding hosts or frontends whatever the path.
        for number, branch, lifted in with_entries(grouped, self.hosting):
            if branch is not None:
                if _import_failed(branch) and lifted is not None:
                    skeleton.append((OPAQUE, lifted, None))  # a BrokenRoute stands in its place
                else:
                    skeleton.append((CHILD, branch, None))
                continue
            original = self.listed(number)
            if original is not None:
                skeleton.append((MATCHED if _matches_as_lifted(original) else OPAQUE, original, lifted))
        return tuple(skeleton)

    def _child(self, branch: Branch) -> Any:
        """The entry of an include of this router, as seen through this include
        (FastAPI's child `_IncludedRouter`), the same object while routes last."""
        entry = branch.entry
        known = _compat.fastapi_candidates(self.reference(), self.fastapi_made)
        if known is not None and (child := known.get(id(entry))) is not None:
            return child
        cached = self.children.get(id(entry))
        if cached is None or cached[0] is not entry:
            cached = self.children[id(entry)] = (entry, _compat.child_include(self.reference(), entry))
        return cached[1]

    def effective_context(self, route: BaseRoute) -> Any:
        """FastAPI's effective context of `route` in this include (None: FastAPI drops it).

        Builds the route first if it is deferred; a failed build raises FastAPI's
        own error, and is tried again next time, as FastAPI >= 0.137 retries.
        """
        known = _compat.fastapi_candidates(self.reference(), self.fastapi_made)
        if known is not None and (context := known.get(id(route))) is not None:
            return context
        cached = self.contexts.get(id(route))
        if cached is not None and cached[0] is route:
            return cached[1]
        if isinstance(route, BrokenRoute):
            context = _compat.context_for_broken(route)
        else:
            build_now(route)
            with self.context.lock:
                cached = self.contexts.get(id(route))
                if cached is not None and cached[0] is route:
                    return cached[1]
                context = _compat.effective_context(self.reference(), route)
        self.contexts[id(route)] = (route, context)
        return context

    def match(self, scope: Scope) -> tuple[Match, Scope]:
        """The included router's `matches()`: FastAPI's answer, building as little as can be."""
        included = self.reference()
        partial: tuple[Match, Scope] | None = None
        for kind, candidate, known in self.candidates(scope):
            if kind == MATCHED:
                assert known is not None
                result: tuple[Match, Scope] = (known, {})
            elif kind == CHILD:
                result = candidate.matches(scope)
            else:
                context = self.effective_context(candidate)
                if context is None:
                    continue
                match, child_scope, _, _ = _compat.NarrowedInclude(included, [context])._match(scope)
                result = (match, child_scope)
            if result[0] is Match.FULL:
                return result
            if result[0] is Match.PARTIAL and partial is None:
                partial = result
        return partial or (Match.NONE, {})

    def handle(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        """The included router's `handle()`: FastAPI's `_handle_selected()` over
        the candidates (its coroutine, handed back as it is: one frame less)."""
        effective = []
        for kind, candidate, _ in self.candidates(scope):
            context = candidate if kind == CHILD else self.effective_context(candidate)
            if context is not None:
                effective.append(context)
        return _compat.NarrowedInclude(self.reference(), effective)._handle_selected(scope, receive, send)  # type: ignore[no-any-return]

    def work(self) -> Iterator[BaseRoute | PendingContext]:
        """What serving this include needs built, in order: each route and its
        context, then those of the LazyRouters it includes (plain routers are
        built; FastAPI builds their contexts)."""
        index = self.index
        yield from self._work()
        if self.index is index:
            self.warmed = True

    def _work(self) -> Iterator[BaseRoute | PendingContext]:
        for number, entry in self.index.root_entries():
            if not isinstance(entry, Branch):
                original = self.listed(number)
                if original is not None:
                    yield PendingContext(self, original)
                continue
            yield from include_steps(entry, self._child)


def _import_failed(branch: Branch) -> bool:
    router = branch.router
    return isinstance(router, RouterImport) and router.router is None and branch.level is not None


def lifted_match(lifted: Any, scope: Scope, route_path: str) -> Match:
    """Starlette's `Route.matches()` / `WebSocketRoute.matches()` verdict for a
    lifted copy, without the child scope nobody reads."""
    if scope["type"] != ("websocket" if isinstance(lifted, APIWebSocketRoute) else "http"):
        return Match.NONE
    if not matches_path(lifted, route_path):
        return Match.NONE
    methods = getattr(lifted, "methods", None)
    if methods and scope["method"] not in methods:
        return Match.PARTIAL
    return Match.FULL


def _matches_as_lifted(route: BaseRoute) -> bool:
    """Whether `route`'s effective context matches as its lifted copy does:
    FastAPI's own matching, not a route class's own `matches()`."""
    if isinstance(route, APIRoute):
        return is_deferred(route) or can_defer(type(route))
    return isinstance(route, APIWebSocketRoute) and is_deferred(route)
