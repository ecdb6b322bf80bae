"""The same app written for eager FastAPI and for each lazyrouter mode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from lazyrouter import LazyFastAPI, LazyRouter

MODES = ("eager", "lazy_app", "assign", "optin")
"""eager FastAPI; LazyFastAPI; `app.router = LazyRouter()`; LazyRouters
included into a plain FastAPI app."""


def new_app(mode: str, **kwargs: Any) -> FastAPI:
    if mode == "lazy_app":
        return LazyFastAPI(**kwargs)
    app = FastAPI(**kwargs)
    if mode == "assign":
        app.router = LazyRouter()
    return app


def new_router(mode: str, **kwargs: Any) -> APIRouter:
    return APIRouter(**kwargs) if mode == "eager" else LazyRouter(**kwargs)
