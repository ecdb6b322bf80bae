"""One level of a `RouteIndex`: a router's routes and includes in order, and
the trie they are filed in by path segment, as lookups reach them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from lazyrouter._declarations import Branch, Declaration
from lazyrouter._templates import template_key
from lazyrouter._trie import SegmentTrie

Order = tuple[int, ...]


class Unmade:
    """A declared API or WebSocket route whose route object is not made yet.

    The index files it under its path, and makes the route (not built: see
    `_deferred`) the first time a lookup finds it, or a walk lists it: a
    request that reaches a router for the first time pays for the routes it
    may match, not for every route the router declares.
    """

    __slots__ = ("declaration", "route")

    def __init__(self, declaration: Declaration) -> None:
        self.declaration = declaration
        self.route: BaseRoute | None = None


Entry = BaseRoute | Branch | Unmade
FILING = threading.Lock()
"""Guards filing into a level's trie: not the index's lock, which a build may hold for long."""


@dataclass(eq=False, slots=True)
class Level:
    entries: list[tuple[Order, Entry]] = field(default_factory=list)
    trie: SegmentTrie[tuple[Order, Entry]] = field(default_factory=SegmentTrie)
    waiting: dict[str, list[tuple[str, tuple[Order, Entry]]]] = field(default_factory=dict)
    """Declared routes and includes not filed in `trie` yet, with their path
    templates (an include's: its prefix), by the first segment of those
    (literal text): such a route or include can match only a path whose first
    segment is that text, so a lookup files the ones of its own path's first
    segment first (`settle()`), and a router's first request files only those,
    not every route and include the router declares."""

    def settle(self, path: str) -> bool:
        """File in `trie` the routes waiting for `path`'s first segment;
        whether there were any (the trie's answers are new objects then)."""
        if not self.waiting:
            return False  # every route filed (a small app's first requests file them all)
        first = first_segment(path)
        if first is None or first not in self.waiting:
            return False
        with FILING:
            for template, value in self.waiting.get(first, ()):
                include = isinstance(value[1], Branch)  # every path below its prefix
                if include or "{" in template:
                    segments, catch_all = template_key(template, catch_all=include)
                    self.trie.insert(segments, value, value[0], catch_all)
                else:
                    self.trie.insert_static(template, value, value[0])
            # Last: until then, a lookup of this segment in another thread
            # waits for the lock instead of reading a trie still being filled.
            return self.waiting.pop(first, None) is not None

    def waits_for(self, path: str) -> bool:
        """Whether routes wait to be filed for `path` (see `settle()`)."""
        if not self.waiting:
            return False
        first = first_segment(path)
        return first is not None and first in self.waiting


def first_segment(path: str) -> str | None:
    """The segment a trie lookup of `path` looks at first (see `_trie`): the
    text after the first slash, up to the next one (None: it looks at none)."""
    parts = path.split("/", 2)
    return parts[1] if len(parts) > 1 else None
