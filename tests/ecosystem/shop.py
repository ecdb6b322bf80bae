"""One small app, written for eager FastAPI and for each lazyrouter mode, that
the extension tests decorate as each extension's documentation shows."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.conftest import count_builds
from tests.modes import new_app, new_router

MODES = ("eager", "lazy_app", "assign", "optin", "import_strings")
LAZY_MODES = MODES[1:]
"""The modes of tests.modes, and `import_strings`: a LazyFastAPI that includes
its routers by import string (the modules below, imported afresh for each app)."""

ITEMS_MODULE, USERS_MODULE = "tests.ecosystem.shop_items", "tests.ecosystem.shop_users"

REQUESTS = [
    ("GET", "/v1/items/3"),
    ("GET", "/v1/items/3/"),
    ("POST", "/v1/items/3"),
    ("GET", "/v1/items/nested/users/ann"),
    ("GET", "/top/4"),
    ("GET", "/nope"),
    # A static route, twice: built by the first request, served directly by the second.
    ("GET", "/v1/items/featured"),
    ("GET", "/v1/items/featured"),
]


Endpoint = Callable[..., Any]
Wrap = Callable[[Endpoint], Endpoint]


def unwrapped(endpoint: Endpoint) -> Endpoint:
    return endpoint


def app_for(mode: str, **options: Any) -> FastAPI:
    return new_app("lazy_app" if mode == "import_strings" else mode, **options)


def router_for(mode: str, **options: Any) -> APIRouter:
    return new_router("lazy_app" if mode == "import_strings" else mode, **options)


def include_module(router: APIRouter | FastAPI, module: str, attribute: str = "router", **options: Any) -> None:
    """Include `module`'s router by import string. The module is forgotten
    first: each app of these tests imports its routers afresh, on its first
    request under the prefix."""
    sys.modules.pop(module, None)
    router.include_router(f"{module}:{attribute}", **options)  # type: ignore[arg-type]  # a LazyRouter or LazyFastAPI


IMPORTS: list[str] = []
"""The router modules of these tests, each time one is imported."""


# What the shop's router modules decorate their endpoints with when imported,
# as router modules import the app's limiter or cache: what the last shop made
# with import strings was given.
_module_wrap: Wrap = unwrapped


def module_wrap() -> Wrap:
    return _module_wrap


def users_router(mode: str, wrap: Wrap) -> APIRouter:
    users = router_for(mode)

    def read_user(name: str, request: Request) -> dict[str, Any]:
        return {"user": name}

    users.get("/users/{name}")(wrap(read_user))
    return users


def items_router(mode: str, wrap: Wrap) -> APIRouter:
    """Items, with the users router nested under /nested."""
    items = router_for(mode, prefix="/items")

    def featured(request: Request) -> dict[str, Any]:
        return {"featured": [1, 2]}

    def read_item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item": item_id}

    items.get("/featured")(wrap(featured))
    items.get("/{item_id}")(wrap(read_item))
    if mode == "import_strings":
        include_module(items, USERS_MODULE, prefix="/nested")
    else:
        items.include_router(users_router(mode, wrap), prefix="/nested")
    return items


def make_shop(mode: str, wrap: Wrap = unwrapped, **options: Any) -> FastAPI:
    """Items (with a nested users router) under /v1, and a route on the app;
    `wrap` decorates every endpoint (rate limits, caches)."""
    global _module_wrap
    app = app_for(mode, **options)

    def top(x: int, request: Request) -> dict[str, Any]:
        return {"top": x}

    if mode == "import_strings":
        _module_wrap = wrap
        include_module(app, ITEMS_MODULE, prefix="/v1")
    else:
        app.include_router(items_router(mode, wrap), prefix="/v1")
    app.get("/top/{x}")(wrap(top))
    return app


def answers(app: FastAPI, requests: list[tuple[str, str]] = REQUESTS, headers: tuple[str, ...] = ()) -> list[Any]:
    client = TestClient(app, follow_redirects=False)
    seen = []
    for method, path in requests:
        response = client.request(method, path)
        seen.append((method, path, response.status_code, response.text, [response.headers.get(h) for h in headers]))
    return seen


class SetUp(NamedTuple):
    """What setting the app up cost: routes built, and the router modules
    (included by import string) it imported."""

    routes: int
    imported: tuple[str, ...]


class Builds:
    """Route builds (FastAPI dependency analyses), counted apart from effective contexts."""

    def __init__(self) -> None:
        self.routes = 0
        self.contexts = 0
        self._imports_before = len(IMPORTS)

    def set_up(self) -> SetUp:
        """Call once the app is set up, before its first request."""
        return SetUp(self.routes, tuple(IMPORTS[self._imports_before :]))


@contextmanager
def counting_builds() -> Iterator[Builds]:
    builds = Builds()
    with pytest.MonkeyPatch.context() as monkeypatch:

        def route(_: Any) -> None:
            builds.routes += 1

        def context(_: Any) -> None:
            builds.contexts += 1

        count_builds(monkeypatch, route, context)
        yield builds


def optin_is_lazy(mode: str) -> bool:
    """Before FastAPI 0.137 a plain app copies (and so builds) included routes."""
    return mode != "optin" or INCLUDES_ARE_LIVE


def expected_builds(mode: str, reached: int = 4) -> tuple[SetUp, int]:
    """Routes built once the app is set up (and no router module imported), and
    after the requests: the routes they reached. Per-router opt-in: the route on
    the plain app is FastAPI's, built when declared."""
    at_start = 1 if mode == "optin" else 0
    return SetUp(at_start, ()), max(reached, at_start)
