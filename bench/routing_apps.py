"""The apps ``bench/routing.py`` measures, and the requests it probes them with.

Eager FastAPI, raw Starlette and lazyrouter apps of ``n_routes`` trivial
routes, one router per ``ROUTES_PER_ROUTER`` routes (``routers``) or all on
the app (``flat``); the path, status and method of every probe; and the
one-route apps that give FastAPI's floor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

ROUTES_PER_ROUTER = 10
PARAM_ID = 42

FRAMEWORKS: tuple[str, ...] = ("fastapi", "starlette", "lazyrouter")
LAYOUTS: tuple[str, ...] = ("routers", "flat")
PROBES: tuple[str, ...] = ("first", "last", "param", "param_new", "param_last", "404", "405", "redirect")
#: Probes whose every request asks for a parameter value not asked before (as
#: real traffic does): the last path segment counts up from ``PARAM_ID``.
FRESH_PROBES: frozenset[str] = frozenset({"param_new"})
BASELINE = "fastapi"
#: The probe kinds FastAPI's floor is measured for (see ``build_floor``).
FLOOR_PROBES: tuple[str, ...] = ("first", "param")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def router_prefix(index: int) -> str:
    """Path prefix of router ``index``."""
    return f"/g{index:04d}"


def static_path(j: int) -> str:
    return f"/s{j}"


def probe_paths(n_routes: int) -> dict[str, tuple[str, int, str]]:
    """Path, expected status and method of every probe for an app of ``n_routes``."""
    routers = n_routes // ROUTES_PER_ROUTER
    last_static = ROUTES_PER_ROUTER - 2
    first = router_prefix(0) + static_path(0)
    return {
        "first": (first, 200, "GET"),
        "last": (router_prefix(routers - 1) + static_path(last_static), 200, "GET"),
        "param": (f"{router_prefix(routers // 2)}/items/{PARAM_ID}", 200, "GET"),
        "param_new": (f"{router_prefix(routers // 2)}/items/{PARAM_ID}", 200, "GET"),
        "param_last": (f"{router_prefix(routers - 1)}/items/{PARAM_ID}", 200, "GET"),
        "404": ("/no/such/route", 404, "GET"),
        "405": (first, 405, "POST"),
        "redirect": (first + "/", 307, "GET"),
    }


def first_hit_paths(n_routes: int, samples: int) -> list[str]:
    """One static route in each of ``samples`` routers spread over the app."""
    routers = n_routes // ROUTES_PER_ROUTER
    picks = sorted({round(k * (routers - 1) / max(1, samples - 1)) for k in range(samples)})
    return [router_prefix(r) + static_path(4) for r in picks[:samples]]


async def _fastapi_static() -> dict[str, bool]:
    return {"ok": True}


async def _fastapi_item(item_id: int) -> dict[str, int]:
    return {"id": item_id}


def build_fastapi_like(n_routes: int, layout: str, lazy: bool) -> ASGIApp:
    """Eager FastAPI (``lazy=False``) or LazyFastAPI/LazyRouter (``lazy=True``)."""
    from fastapi import APIRouter, FastAPI

    app_cls: type[FastAPI] = FastAPI
    router_cls: type[APIRouter] = APIRouter
    if lazy:
        from lazyrouter import LazyFastAPI, LazyRouter

        app_cls, router_cls = LazyFastAPI, LazyRouter
    app = app_cls(openapi_url=None)
    for r in range(n_routes // ROUTES_PER_ROUTER):
        prefix = router_prefix(r)
        router = router_cls() if layout == "routers" else None
        add_route = router.add_api_route if router is not None else app.add_api_route
        base = "" if router is not None else prefix
        for j in range(ROUTES_PER_ROUTER - 1):
            add_route(base + static_path(j), _fastapi_static, methods=["GET"])
        add_route(base + "/items/{item_id}", _fastapi_item, methods=["GET"])
        if router is not None:
            app.include_router(router, prefix=prefix)
    return app


def build_starlette(n_routes: int, layout: str) -> ASGIApp:
    """Raw ``starlette.routing.Router`` (``Mount`` per router or flat ``Route``s)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import BaseRoute, Mount, Route, Router

    async def static(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["item_id"]})

    def routes(base: str) -> list[BaseRoute]:
        out: list[BaseRoute] = [
            Route(base + static_path(j), static, methods=["GET"]) for j in range(ROUTES_PER_ROUTER - 1)
        ]
        out.append(Route(base + "/items/{item_id:int}", item, methods=["GET"]))
        return out

    n_routers = n_routes // ROUTES_PER_ROUTER
    if layout == "routers":
        return Router(routes=[Mount(router_prefix(r), routes=routes("")) for r in range(n_routers)])
    return Router(routes=[route for r in range(n_routers) for route in routes(router_prefix(r))])


def build_app(framework: str, n_routes: int, layout: str) -> ASGIApp:
    """Build the app under test."""
    if framework == "starlette":
        return build_starlette(n_routes, layout)
    return build_fastapi_like(n_routes, layout, lazy=framework == "lazyrouter")


def prebuild_middleware(app: Any) -> None:
    """Build a Starlette/FastAPI middleware stack now, not on the first request."""
    if getattr(app, "middleware_stack", "absent") is None:
        app.middleware_stack = app.build_middleware_stack()


def build_floor(probe: str) -> tuple[ASGIApp, str]:
    """FastAPI's floor for a probe kind: an eager app holding only that route,
    found first in its list; and the path to request. No router can cost less
    for that endpoint while FastAPI handles the request."""
    from fastapi import FastAPI

    path, endpoint = {
        "first": (router_prefix(0) + static_path(0), _fastapi_static),
        "param": (router_prefix(0) + "/items/{item_id}", _fastapi_item),
    }[probe]
    app = FastAPI(openapi_url=None)
    app.add_api_route(path, endpoint, methods=["GET"])
    return app, path.replace("{item_id}", str(PARAM_ID))
