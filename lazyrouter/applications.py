"""`LazyFastAPI`: a FastAPI app whose router is a `LazyRouter`."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, FastAPI

from lazyrouter._warmup import WarmUp
from lazyrouter.router import LazyRouter, listing_served_routes

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

    def __init__(
        self,
        *,
        openapi_snapshot: str | os.PathLike[str] | None = None,
        warm_up: bool | WarmUp = False,
        manifest: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        """`openapi_snapshot`: a file written by `lazyrouter openapi --snapshot`.

        `/openapi.json` (and `/docs`, `/redoc`) then serve it without building
        a route, as long as its fingerprint matches the routes declared; if
        not, the document is generated as usual and a warning is logged.

        `warm_up`: build the routes no request has needed yet in the
        background once the first request has been answered (see `WarmUp`).

        `manifest`: a file written by `lazyrouter manifest module:app -o FILE`:
        routers included by import string with no prefix (they declare their
        own) are then imported on first need too (default: `LAZYROUTER_MANIFEST`).
        """
        super().__init__(**kwargs)
        self.router = LazyRouter._from_router(self.router, warm_up=warm_up, manifest=manifest)
        self.openapi_snapshot = openapi_snapshot
        self._snapshot_version: int | None = None

    def include_router(self, router: APIRouter | str, **kwargs: Any) -> None:
        """`FastAPI.include_router()`, also taking an import string (see `LazyRouter`)."""
        self.router.include_router(router, **kwargs)

    def openapi(self) -> dict[str, Any]:
        # From the routes this app serves, built once for the document and the
        # requests alike (FastAPI would build each included route's context too).
        with listing_served_routes():
            return self._openapi()

    def _openapi(self) -> dict[str, Any]:
        if self.openapi_snapshot is not None:
            version = self.router._get_routes_version()
            if self._snapshot_version is None:
                # Imported here: an app without a snapshot never pays for it.
                from lazyrouter import _snapshot

                document = _snapshot.load(self.openapi_snapshot, self)
                if document is None:
                    self.openapi_snapshot = None  # stale or unreadable: generate from now on
                    return super().openapi()
                self.openapi_schema, self._snapshot_version = document, version
            if version == self._snapshot_version and self.openapi_schema:
                return self.openapi_schema
            # Routes declared after the snapshot was checked: generate.
            self.openapi_snapshot, self.openapi_schema = None, None
        return super().openapi()
