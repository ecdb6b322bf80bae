"""Errors raised by lazyrouter.

* `LazyRouterError` - base class of everything lazyrouter raises on its own.
    + `RouteBuildError` - a deferred route could not be built on first use.
    + `RouterImportError` - a router included by import string could not be
      imported, or is not a router.

Mistakes FastAPI reports while a route is declared (a bad prefix, duplicated
path parameters, an unknown convertor) are still raised at declaration time,
with FastAPI's and Starlette's own exception types and messages.
"""

from __future__ import annotations

from typing import Any

__all__ = ("LazyRouterError", "RouteBuildError", "RouterImportError")


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
        self.__cause__ = cause

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.description, self.cause))


class RouterImportError(LazyRouterError):
    """A router included by import string could not be imported.

    Could not import router 'app.routers.users:router' (included under
    '/users'): ModuleNotFoundError: No module named 'app.routers.users'
    """

    def __init__(self, import_string: str, prefix: str, reason: str) -> None:
        self.import_string = import_string
        self.prefix = prefix
        where = f"included under {prefix!r}" if prefix else "included with no prefix"
        super().__init__(f"Could not import router {import_string!r} ({where}): {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.import_string, self.prefix, str(self).rsplit("): ", 1)[-1]))
