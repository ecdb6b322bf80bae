"""`LazyFastAPI`: a FastAPI app whose router is a `LazyRouter`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from lazyrouter.router import LazyRouter

__all__ = ("LazyFastAPI",)


class LazyFastAPI(FastAPI):
    """`FastAPI` with a `LazyRouter` as its router; takes every `FastAPI` argument.

        app = LazyFastAPI(title="Inventory", lifespan=lifespan)
        app.include_router(items.router, prefix="/items")

    FastAPI builds its router in `__init__`; this class hands that router's
    settings, routes (`/openapi.json`, `/docs`, ...) and lifespan to a
    `LazyRouter` before any route is declared.
    """

    router: LazyRouter

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.router = LazyRouter._from_router(self.router)
