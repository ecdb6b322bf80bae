"""Build the same app in every usage mode, from one declarative spec.

The differential tests describe an app as data (routes, nested routers and
include_router() arguments), build it once with plain FastAPI and once in each
lazyrouter mode, and compare what the apps answer.
"""

from __future__ import annotations

import itertools
import json
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

from lazyrouter import LazyFastAPI, LazyRouter, WarmUp

MODES = ("lazy_app", "assign", "optin", "plain_children", "import_strings", "warm_up")
# A warm-up that builds as fast as it can, racing the requests it must not change.
RACING_WARM_UP = WarmUp(delay=0, share=1)
"""lazyrouter's usage modes, plus LazyFastAPI over plain APIRouter children,
and LazyFastAPI including its prefixed routers by import string."""


@dataclass
class RouteSpec:
    path: str
    methods: list[str]
    kind: str = "api"  # "api", "starlette", "mount"
    status_code: int | None = None


@dataclass
class RouterSpec:
    prefix: str = ""
    tags: list[str] = field(default_factory=list)
    items: list[RouteSpec | IncludeSpec] = field(default_factory=list)


@dataclass
class IncludeSpec:
    router: RouterSpec
    prefix: str = ""
    tags: list[str] = field(default_factory=list)
    guarded: bool = False
    plain_text: bool = False
    deprecated: bool | None = None
    include_in_schema: bool = True
    responses: bool = False


def _deny(name: str) -> Callable[..., None]:
    def deny(x_deny: str | None = Header(default=None)) -> None:
        if x_deny == name:
            raise HTTPException(status_code=403, detail=f"denied by {name}")

    deny.__name__ = f"deny_{name}"
    return deny


def _api_endpoint(route_id: str) -> Callable[..., Any]:
    async def endpoint(request: Request) -> dict[str, Any]:
        return {"route": route_id, "params": dict(request.path_params), "url": str(request.url.path)}

    endpoint.__name__ = endpoint.__qualname__ = f"endpoint_{route_id}"
    return endpoint


def _starlette_endpoint(route_id: str) -> Callable[..., Any]:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse({"route": route_id, "params": dict(request.path_params), "method": request.method})

    endpoint.__name__ = f"starlette_{route_id}"
    return endpoint


def _mounted_app(route_id: str) -> Callable[[Scope, Receive, Send], Any]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover
            return
        body = json.dumps({"mount": route_id, "root_path": scope.get("root_path"), "path": scope["path"]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


def build_router(spec: RouterSpec, router_class: type[APIRouter], name: str) -> APIRouter:
    router = router_class(prefix=spec.prefix, tags=list(spec.tags))
    _fill(router, spec, router_class, name)
    return router


def _fill(
    router: Any, spec: RouterSpec, router_class: type[APIRouter], name: str, import_strings: bool = False
) -> None:
    for number, item in enumerate(spec.items):
        item_id = f"{name}_{number}"
        if isinstance(item, IncludeSpec):
            child: Any = build_router(item.router, router_class, item_id)
            if import_strings and item.prefix:
                child = as_module(child)
            router.include_router(child, **include_options(item, item_id))
        else:
            add_route(router, item, item_id)


def include_options(item: IncludeSpec, item_id: str) -> dict[str, Any]:
    """The include_router() arguments `item` describes."""
    kwargs: dict[str, Any] = {"prefix": item.prefix, "tags": list(item.tags)}
    if item.guarded:
        kwargs["dependencies"] = [Depends(_deny(item_id))]
    if item.plain_text:
        kwargs["default_response_class"] = PlainTextResponse
    if item.deprecated is not None:
        kwargs["deprecated"] = item.deprecated
    if not item.include_in_schema:
        kwargs["include_in_schema"] = False
    if item.responses:
        kwargs["responses"] = {418: {"description": f"teapot {item_id}"}}
    return kwargs


def add_route(router: Any, item: RouteSpec, item_id: str) -> None:
    if item.kind == "api":
        router.add_api_route(item.path, _api_endpoint(item_id), methods=item.methods, status_code=item.status_code)
    elif item.kind == "starlette":
        router.add_route(item.path, _starlette_endpoint(item_id), methods=item.methods)
    else:
        router.mount(item.path, _mounted_app(item_id))


def build_app(spec: RouterSpec, mode: str) -> FastAPI:
    """The app `spec` describes: `mode` is "eager" or one of `MODES`."""
    app: FastAPI
    if mode == "eager":
        app, router_class = FastAPI(), APIRouter
    elif mode == "lazy_app":
        app, router_class = LazyFastAPI(), LazyRouter
    elif mode == "plain_children":
        app, router_class = LazyFastAPI(), APIRouter
    elif mode == "assign":
        app, router_class = FastAPI(), LazyRouter
        app.router = LazyRouter()
    elif mode == "optin":
        app, router_class = FastAPI(), LazyRouter
    elif mode == "import_strings":
        app, router_class = LazyFastAPI(), LazyRouter
    elif mode == "warm_up":
        app, router_class = LazyFastAPI(warm_up=RACING_WARM_UP), LazyRouter
    else:  # pragma: no cover
        raise ValueError(mode)
    # The top level is the app itself; its routes are declared on `app`, as
    # users do, and nested routers use the mode's router class.
    _fill(app, spec, router_class, "app", import_strings=mode == "import_strings")
    return app


def as_module(router: APIRouter) -> str:
    """Put `router` in a new module and return its import string."""
    name = f"lazyrouter_test_module_{next(_module_numbers)}"
    module = types.ModuleType(name)
    module.router = router  # type: ignore[attr-defined]
    sys.modules[name] = module
    return f"{name}:router"


_module_numbers = itertools.count()
