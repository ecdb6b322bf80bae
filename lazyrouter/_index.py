"""`RouteIndex`: the routes a router serves, in order, filed by path segment."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

from starlette.datastructures import URLPath
from starlette.routing import (
    BaseRoute,
    NoMatchFound,
)

from lazyrouter import _compat
from lazyrouter._declarations import OBJECT, STARLETTE_COPY, Branch, Declaration
from lazyrouter._deferred import BuildContext, deferred_route, route_path_if_deferrable
from lazyrouter._level import FILING, Entry, Level, Order, Unmade
from lazyrouter._lifting import copy_starlette_route
from lazyrouter._routes import is_deferred
from lazyrouter._templates import appends_a_slash, looked_up_paths, route_key, template_key

CACHE_SIZE: Final = 1024
CACHED_PATH_LENGTH: Final = 200
"""Longer paths are looked up every time, so the cache stays small."""
LOOK_INSIDE: Final = 1
"""A pinned include whose routes are looked up too (see `RouteIndex.pinned`)."""
ENTRY_ONLY: Final = 2
"""A pinned include whose routes its entry alone looks up: the index never lifts them."""

Item = Declaration | Branch | None
Grouped = list[tuple[int, Branch | None, BaseRoute | None]]


_making = threading.Lock()


class RouteIndex:
    """The routes a router serves, in order, indexed by path segment.

    An included router is one trie entry under its prefix (a `Branch`) until a
    request path reaches it; only then are its declarations lifted and indexed.
    A first request therefore costs what its own include path holds, not what
    the whole app holds. Orders are tuples (position at each nesting level), so
    routes from different branches still sort in registration order.
    """

    def __init__(
        self,
        context: BuildContext,
        version: int,
        items: list[Item],
        expand: Callable[[Branch], list[Item]],
        *,
        cached: bool = True,
        pinned: Callable[[Branch], int | None] | None = None,
    ) -> None:
        self.context = context
        self.version = version
        self.expand = expand
        self.lock = context.lock
        self.root = self._index((), items)
        # Includes whose every path below their prefix goes to the include
        # entry (`grouped_candidates`): routers the index cannot see change,
        # or that look their routes up themselves. `pinned(branch)` is None,
        # LOOK_INSIDE or ENTRY_ONLY.
        self.pinned = pinned
        self._branches = {order[0]: entry for order, entry in self.root.entries if isinstance(entry, Branch)}
        # Per instance: a cache on the class would keep every index (and app) alive.
        # `cached=False` for the indexes of included routers: an app can include
        # hundreds, and the lookup is cheap next to FastAPI's own request work.
        self.cached = cached
        self._cached_candidates: dict[tuple[str, str | None], list[BaseRoute]] = {}
        # `_grouped_candidates()` by the trie's answers it was made of (which it
        # keeps alive, so their ids stay theirs): paths that differ only where
        # parameters stand get the same list.
        self._pins: dict[int, tuple[Branch, int | None]] = {}
        self._grouped_by_shape: dict[tuple[int, ...], tuple[tuple[tuple[Any, ...], ...], Grouped]] = {}

    def _index(self, prefix: Order, items: list[Item]) -> Level:
        level = Level()
        entries, waiting, context = level.entries, level.waiting, self.context
        for number, item in enumerate(items):
            order = (*prefix, number)
            # The usual item, listed here and filed by `Level.settle()`: a
            # router's first request lists every route the router declares.
            path: str | None = None
            if type(item) is Declaration and item.kind not in (OBJECT, STARLETTE_COPY):
                path = route_path_if_deferrable(item, context)
            elif type(item) is Branch:
                path = item.common_prefix
            if path is not None and path[:1] == "/" and "{" not in (first := path.split("/", 2)[1]):
                value: tuple[Order, Entry] = (order, item if isinstance(item, Branch) else Unmade(item))  # type: ignore[arg-type]
                entries.append(value)
                waiting.setdefault(first, []).append((path, value))
                continue
            self._add(level, order, item)
        return level

    def _add(self, level: Level, order: Order, item: Item) -> Entry | None:
        if item is None:
            return None
        entry: Entry
        if isinstance(item, Branch):
            entry = item
            branch_prefix = item.common_prefix
            segments, catch_all = template_key(branch_prefix or "/", catch_all=True)
            if not branch_prefix:
                segments = []
        elif item.kind in (OBJECT, STARLETTE_COPY):
            route = item.endpoint if item.kind == OBJECT else copy_starlette_route(item.endpoint, item.path)
            if route is None:
                return None
            if item.kind == STARLETTE_COPY and item.options.get("max_body_size") is not None:
                _compat.limit_body_size(route, item.options["max_body_size"])
            entry = route
            segments, catch_all = route_key(entry)
        elif (path := route_path_if_deferrable(item, self.context)) is not None:
            entry = Unmade(item)
            segments, catch_all = template_key(path, catch_all=False)
        else:
            entry = deferred_route(item, self.context)
            segments, catch_all = route_key(entry)
        value = (order, entry)
        level.entries.append(value)
        with FILING:  # `Level.settle()` may be filing into the same trie
            level.trie.insert(segments, value, order, catch_all)
        return entry

    def _made(self, entry: Entry) -> BaseRoute | Branch:
        """`entry`, its route made if it was `Unmade`."""
        return entry if isinstance(entry, Branch) else self._route(entry)

    def _route(self, entry: BaseRoute | Unmade) -> BaseRoute:
        if not isinstance(entry, Unmade):
            return entry
        route = entry.route
        if route is None:
            # Not the index's lock: a build may hold that for long, and this
            # makes an object and builds nothing.
            with _making:
                route = entry.route
                if route is None:
                    route = entry.route = deferred_route(entry.declaration, self.context)
        return route

    def append(self, number: int, declaration: Declaration) -> BaseRoute | None:
        """Index one more top-level declaration, `number` in the router's list."""
        with self.lock:
            entry = self._add(self.root, (number,), declaration)
            self._cached_candidates.clear()
            self._grouped_by_shape.clear()
        if entry is None:
            return None
        route = self._made(entry)
        assert not isinstance(route, Branch)
        return route

    def _expanded(self, order: Order, branch: Branch) -> Level:
        level = branch.level
        if level is None:
            with self.lock:
                level = branch.level
                if level is None:
                    level = branch.level = self._index(order, self.expand(branch))
        return level

    def _lookup(
        self,
        level: Level,
        path: str,
        found: dict[Order, BaseRoute],
        *,
        expand: bool = True,
        pins: set[int] | None = None,
        answer: tuple[tuple[Order, Entry], ...] | None = None,
    ) -> bool:
        """Collect into `found` the routes of `level` that may match `path`.

        With `expand=False`, stop and answer False at the first branch not
        lifted yet instead of lifting it. `pins` collects the positions, in
        the router's own list, of the includes that hold a pinned branch
        reached by `path` (see `pinned`). `answer`: the level's trie's, if known.
        """
        if answer is None:
            if not expand and level.waits_for(path):
                return False  # routes to file: not ready
            level.settle(path)
            answer = level.trie.shared_lookup(path)
        for order, entry in answer:
            if isinstance(entry, Branch):
                pin = self._pin(entry) if pins is not None else None
                if pin is not None:
                    assert pins is not None
                    pins.add(order[0])
                    if pin == ENTRY_ONLY:
                        continue
                if entry.level is None and not expand:
                    return False
                if not self._lookup(self._expanded(order, entry), path, found, expand=expand, pins=pins):
                    return False
            elif isinstance(entry, Unmade) and entry.route is None and not expand:
                return False  # a route to make: not ready
            else:
                found[order] = self._route(entry)
        return True

    def is_ready(
        self,
        route_path: str,
        redirect_path: str | None = None,
        busy: BaseRoute | None = None,
        branch_ready: Callable[[Branch], bool] | None = None,
    ) -> bool:
        """Whether serving `route_path` needs no lock: nothing to lift, nothing to build,
        and not `busy`, a route another thread is still working on.

        `branch_ready` judges the includes of the router itself instead, where
        their routes are served through FastAPI's include entries.

        Takes no lock and builds nothing, so it can run while another thread builds.
        """
        if branch_ready is not None:
            for path in looked_up_paths(route_path, redirect_path):
                if self.root.waits_for(path):
                    return False
                for _, entry in self.root.trie.lookup(path):
                    if isinstance(entry, Branch):
                        if not branch_ready(entry):
                            return False
                    elif isinstance(entry, Unmade) or entry is busy or is_deferred(entry):
                        return False
            return True
        found: dict[Order, BaseRoute] = {}
        for path in looked_up_paths(route_path, redirect_path):
            if not self._lookup(self.root, path, found, expand=False):
                return False
        return not any(route is busy or is_deferred(route) for route in found.values())

    def candidates(self, route_path: str, redirect_path: str | None = None) -> list[BaseRoute]:
        """Routes that may match `route_path` (or `redirect_path`), in order.

        Answers for short paths are remembered, at most `CACHE_SIZE` of them;
        the cache belongs to this index and goes when the routes change.
        """
        if len(route_path) > CACHED_PATH_LENGTH or not self.cached:
            return self._candidates(route_path, redirect_path)
        key = (route_path, redirect_path)
        found = self._cached_candidates.get(key)
        if found is None:
            found = self._candidates(route_path, redirect_path)
            if len(self._cached_candidates) >= CACHE_SIZE:
                self._cached_candidates.clear()
            self._cached_candidates[key] = found
        return found

    def _candidates(self, route_path: str, redirect_path: str | None) -> list[BaseRoute]:
        found: dict[Order, BaseRoute] = {}
        for path in looked_up_paths(route_path, redirect_path):
            self._lookup(self.root, path, found)
        if len(found) > 1:
            return [found[order] for order in sorted(found)]
        return list(found.values())

    def grouped_candidates(self, route_path: str, redirect_path: str | None = None) -> Grouped:
        """`candidates()`, with where each came from: its position in the
        router's own list, and the include (`Branch`) it was lifted from, if
        any. Consecutive candidates of one include collapse into the first.

        Remembered by shape, not path: the same list for every path that
        reaches the same trie nodes, while the routes stay (at most
        `CACHE_SIZE` shapes), unless an include the router lifts holds one.
        """
        paths = looked_up_paths(route_path, redirect_path)
        if any([self.root.settle(path) for path in paths]):
            # What was remembered by the trie's former answers is never asked again.
            self._grouped_by_shape.clear()
        lookup = self.root.trie.shared_lookup
        if appends_a_slash(route_path, redirect_path):
            # The twin reaches the nodes one more (empty) segment below those
            # `route_path` reaches: that path's answer is the whole shape.
            first = lookup(route_path)
            shape: tuple[int, ...] = (id(first), 0)
            known = self._grouped_by_shape.get(shape)
            if known is not None:
                return known[1]
            answers = (first, *map(lookup, paths[1:]))
        else:
            answers = tuple(map(lookup, paths))
            shape = tuple(map(id, answers))
            known = self._grouped_by_shape.get(shape)
            if known is not None:
                return known[1]
        found: dict[Order, BaseRoute] = {}
        pins: set[int] = set()
        for path, answer in zip(paths, answers, strict=True):
            self._lookup(self.root, path, found, pins=pins, answer=answer)
        grouped = self._grouped(found, pins)
        # Only the router's own level decides: an include it reached is pinned
        # to its entry, or the answer depends on more than these nodes.
        if all(
            not isinstance(entry, Branch) or self._pin(entry) == ENTRY_ONLY for answer in answers for _, entry in answer
        ):
            if len(self._grouped_by_shape) >= CACHE_SIZE:
                self._grouped_by_shape.clear()
            self._grouped_by_shape[shape] = (answers, grouped)
        return grouped

    def _pin(self, branch: Branch) -> int | None:
        """`pinned(branch)`, asked once per branch (it reads the include's prefix)."""
        if self.pinned is None:
            return None
        known = self._pins.get(id(branch))
        if known is None or known[0] is not branch:
            known = self._pins[id(branch)] = (branch, self.pinned(branch))
        return known[1]

    def _grouped(self, found: dict[Order, BaseRoute], pins: set[int]) -> Grouped:
        grouped: list[tuple[int, Branch | None, BaseRoute | None]] = []
        for order in sorted(found):
            number = order[0]
            branch = self._branches.get(number) if len(order) > 1 else None
            if branch is not None and grouped and grouped[-1][1] is branch:
                continue
            grouped.append((number, branch, found[order]))
        if pins:
            present = {number for number, branch, _ in grouped if branch is not None}
            grouped.extend((number, self._branches[number], None) for number in pins if number not in present)
            grouped.sort(key=lambda candidate: candidate[0])
        return grouped

    def root_entries(self) -> list[tuple[int, BaseRoute | Branch]]:
        """The router's own routes and includes, by position in its list."""
        return [(order[0], self._made(entry)) for order, entry in self.root.entries]

    def first_include_entry(self) -> int | None:
        """The position of the router's first include entry (no route made:
        a declared API route is never one)."""
        for order, entry in self.root.entries:
            if isinstance(entry, Unmade):
                continue
            if _compat.is_include_entry(entry.entry if isinstance(entry, Branch) else entry):
                return order[0]
        return None

    def root_branches(self) -> list[tuple[int, Branch]]:
        """The router's own includes, by position in its list (no route made)."""
        return [(order[0], entry) for order, entry in self.root.entries if isinstance(entry, Branch)]

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route, in order (lifts every branch)."""
        return self.listed_routes(_lifted)

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

    def listed_routes(self, kept: Callable[[Branch], BaseRoute | None]) -> list[BaseRoute]:
        """`routes`, with the top-level includes that `kept` returns an entry for
        listed as that entry instead of lifted."""
        with self.lock:
            listed: list[BaseRoute] = []
            for order, entry in self.root.entries:
                if not isinstance(entry, Branch):
                    listed.append(self._route(entry))
                elif (instead := kept(entry)) is not None:
                    listed.append(instead)
                else:
                    listed.extend(self._iter_routes(self._expanded(order, entry)))
            return listed

    def _iter_routes(self, level: Level) -> Iterator[BaseRoute]:
        for order, entry in level.entries:
            if isinstance(entry, Branch):
                yield from self._iter_routes(self._expanded(order, entry))
            else:
                yield self._route(entry)


def _lifted(branch: Branch) -> None:
    """For `listed_routes()`: every include lifted."""
    return None
