"""`RouteList`: a router's `.routes`, a list that reports every change.

Starlette serves `router.routes` as it stands, so user code edits it: appends
a `Mount`, removes routes to move them elsewhere (class-based views), sorts it,
assigns slices. A `LazyRouter` serves from its index; this list tells it when
the list has become the truth, so the index is rebuilt from it before the next
request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from starlette.routing import BaseRoute

__all__ = ("RouteList",)


class RouteList(list[BaseRoute]):
    """A `list` of routes that calls `on_change(self)` after every mutation."""

    __slots__ = ("_on_change",)

    def __init__(self, routes: Iterable[BaseRoute], on_change: Callable[[RouteList], None]) -> None:
        super().__init__(routes)
        self._on_change = on_change

    def replace_contents(self, routes: Iterable[BaseRoute]) -> None:
        """Set the contents without reporting a change (the router's own refresh)."""
        super().__setitem__(slice(None), routes)

    def _changed(self) -> None:
        self._on_change(self)

    # A copy is a plain list: changing it must not change the router.
    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[BaseRoute]:
        return list(self)

    def append(self, route: BaseRoute) -> None:
        super().append(route)
        self._changed()

    def extend(self, routes: Iterable[BaseRoute]) -> None:
        super().extend(routes)
        self._changed()

    def insert(self, index: SupportsIndex, route: BaseRoute) -> None:
        super().insert(index, route)
        self._changed()

    def remove(self, route: BaseRoute) -> None:
        super().remove(route)
        self._changed()

    def pop(self, index: SupportsIndex = -1) -> BaseRoute:
        route = super().pop(index)
        self._changed()
        return route

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __setitem__(self, index: Any, value: Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, routes: Iterable[BaseRoute]) -> RouteList:  # type: ignore[override, misc]
        super().__iadd__(routes)
        self._changed()
        return self

    def __imul__(self, count: SupportsIndex) -> RouteList:
        super().__imul__(count)
        self._changed()
        return self
