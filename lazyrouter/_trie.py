"""A prefix trie keyed by path segment.

The trie narrows a request path to the few values whose path template could
match it. It knows nothing of ASGI, FastAPI or regular expressions: callers
describe each template as a list of segment keys, and confirm every candidate
with the route's own matcher afterwards. The trie only has to be *conservative*:
it may return a value that does not match, never omit one that does.

    trie = SegmentTrie()
    trie.insert(["users", PARAM], "user", order=0)      # /users/{id}
    trie.insert(["users", "me"], "me", order=1)         # /users/me
    trie.insert(["static"], "files", order=2, catch_all=True)  # mount /static
    assert trie.lookup("/users/me") == ["user", "me"]   # registration order
    assert trie.lookup("/static/css/site.css") == ["files"]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, Generic, TypeVar

__all__ = ("PARAM", "SegmentTrie")

T = TypeVar("T")


class _Param:
    """Key of the child that stands for any one non-empty segment."""

    def __repr__(self) -> str:
        return "PARAM"


PARAM: Final = _Param()
SHARED: Final = 4096
"""Lookup answers a trie keeps (`shared_lookup()`), one per set of nodes reached."""


_NO_CHILDREN: Final[dict[Any, Any]] = {}
"""Shared by every node without static children (never written to)."""


class _Node(Generic[T]):
    """One segment position. Hashed by identity: lookups remember by node.
    (A plain class whose containers are made on first use: a router's first
    request makes one or more nodes per route, most of them leaves.)"""

    __slots__ = ("catch_all", "param", "static", "terminal")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = _NO_CHILDREN
        """Children keyed by the exact text of the next segment."""
        self.param: _Node[T] | None = None
        """The child for templates whose next segment is a parameter."""
        self.terminal: list[tuple[Any, T]] | tuple[()] = ()
        """Values whose template ends exactly at this node, with their order."""
        self.catch_all: list[tuple[Any, T]] | tuple[()] = ()
        """Values that may match any path at or below this node (mounts, ``{p:path}``)."""

    def child(self, segment: str) -> _Node[T]:
        """The static child for `segment`, made if need be."""
        static = self.static
        child = static.get(segment)
        if child is None:
            if static is _NO_CHILDREN:
                static = self.static = {}
            child = static[segment] = _Node()
        return child

    def add(self, value: tuple[Any, T], catch_all: bool) -> None:
        if catch_all:
            if self.catch_all:
                self.catch_all.append(value)
            else:
                self.catch_all = [value]
        elif self.terminal:
            self.terminal.append(value)
        else:
            self.terminal = [value]


class SegmentTrie(Generic[T]):
    """Values indexed by path template, looked up by concrete path."""

    __slots__ = ("_root", "_shared", "_size")

    def __init__(self) -> None:
        self._root: _Node[T] = _Node()
        self._size = 0
        self._shared: dict[tuple[_Node[T] | None, ...], tuple[T, ...]] = {}

    def __len__(self) -> int:
        return self._size

    def insert(self, segments: Iterable[str | _Param], value: T, order: Any, catch_all: bool = False) -> None:
        """Index `value` under `segments`.

        Each segment is either its literal text or `PARAM`. With `catch_all`,
        the value is a candidate for every path that starts with `segments`.
        `order` ranks candidates (any sortable key, unique per value): lookups
        return values sorted by it.
        """
        node = self._root
        for segment in segments:
            if segment is PARAM:
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.child(segment)  # type: ignore[arg-type]
        node.add((order, value), catch_all)
        self._size += 1
        if self._shared:
            self._shared.clear()

    def insert_static(self, path: str, value: T, order: Any) -> None:
        """`insert()` for a template with no parameters, such as ``"/users/me"``:
        each segment of `path` is literal text."""
        node = self._root
        for segment in path.split("/")[1:]:
            node = node.child(segment)
        node.add((order, value), False)
        self._size += 1
        if self._shared:
            self._shared.clear()

    def lookup(self, path: str) -> list[T]:
        """Return the values whose template may match `path`, in order.

        `path` is a request path such as ``"/users/42/"``; it is split on ``/``
        exactly as written, so an empty segment (a trailing or doubled slash)
        matches only a template with the same empty segment.
        """
        return list(self.shared_lookup(path))

    @staticmethod
    def _walk(frontier: list[_Node[T]], segments: list[str], at: int, passed: list[_Node[T]]) -> list[_Node[T]]:
        """The rest of `shared_lookup()`'s walk, from several nodes."""
        for segment in segments[at:]:
            next_frontier: list[_Node[T]] = []
            for node in frontier:
                if node.catch_all:
                    passed.append(node)
                child = node.static.get(segment)
                if child is not None:
                    next_frontier.append(child)
                if segment and node.param is not None:
                    next_frontier.append(node.param)
            frontier = next_frontier
            if not frontier:
                break
        return frontier

    def shared_lookup(self, path: str) -> tuple[T, ...]:
        """`lookup()`, as one tuple for all the paths that reach the same nodes
        (paths that differ only in the segments parameters stand for): callers
        may remember what they derive from it by its identity, while the trie
        is unchanged. At most `SHARED` are kept."""
        passed: list[_Node[T]] = []
        segments = path.split("/")
        # The leading "/" yields an empty first piece, which the root stands for.
        at, end = 1, len(segments)
        node: _Node[T] | None = self._root
        # While one node is reached (the usual case), no list is built.
        while at < end and node is not None:
            if node.catch_all:
                passed.append(node)
            segment = segments[at]
            child = node.static.get(segment)
            # Every parameter convertor the trie indexes needs at least one character.
            param = node.param if segment else None
            at += 1
            if child is not None and param is not None:
                frontier = self._walk([child, param], segments, at, passed)
                break
            node = child if child is not None else param
        else:
            frontier = [] if node is None else [node]
        # None parts the nodes passed from those the path ends at.
        key = (*passed, None, *frontier)
        values = self._shared.get(key)
        if values is None:
            found: list[tuple[Any, T]] = []
            for node in passed:
                found.extend(node.catch_all)
            for node in frontier:
                found.extend(node.catch_all)
                found.extend(node.terminal)
            if len(found) > 1:
                found.sort(key=_order)
            if len(self._shared) >= SHARED:
                self._shared.clear()
            values = self._shared[key] = _Answer(value for _, value in found)
        return values


class _Answer(tuple):  # type: ignore[type-arg]
    """A lookup's answer: a tuple that is an object of its own even when empty
    (the empty tuple is one object for all), so that its identity tells which
    nodes a path reached."""

    __slots__ = ()


def _order(item: tuple[Any, object]) -> Any:
    return item[0]
