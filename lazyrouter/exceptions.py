"""Errors raised by lazyrouter.

* `LazyRouterError` - base class of everything lazyrouter raises on its own.
    + `RouteBuildError` - a deferred route could not be built on first use.
    + `RouterBindError` - a `LazyRouter` was plugged into an app in a way that
      would silently drop the app's configuration.

Mistakes FastAPI reports while a route is declared (a bad prefix, duplicated
path parameters, an unknown convertor) are still raised at declaration time,
with FastAPI's and Starlette's own exception types and messages.
"""

from __future__ import annotations

from typing import Any

__all__ = ("LazyRouterError", "RouteBuildError", "RouterBindError")


class LazyRouterError(Exception):
    """Base class of lazyrouter's own errors."""


class RouteBuildError(LazyRouterError):
    """Building a deferred route failed; the original error is `__cause__`.

    The message names the route the way a log reader needs it:

        GET /items/{item_id} (app.items:read_item, app/items.py:12): Path params
        must be of one of the supported types
    """

    def __init__(self, description: str, cause: BaseException) -> None:
        self.description = description
        self.cause = cause
        super().__init__(f"{description}: {type(cause).__name__}: {cause}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.description, self.cause))


class RouterBindError(LazyRouterError):
    """A `LazyRouter` cannot take over the app it was given to."""
