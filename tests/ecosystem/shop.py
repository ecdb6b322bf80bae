"""One small app, written for eager FastAPI and for each lazyrouter mode, that
the extension tests decorate as each extension's documentation shows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.conftest import count_builds
from tests.modes import new_app, new_router

MODES = ("eager", "lazy_app", "assign", "optin")

REQUESTS = [
    ("GET", "/v1/items/3"),
    ("GET", "/v1/items/3/"),
    ("POST", "/v1/items/3"),
    ("GET", "/v1/items/nested/users/ann"),
    ("GET", "/top/4"),
    ("GET", "/nope"),
]


Endpoint = Callable[..., Any]


def make_shop(mode: str, wrap: Callable[[Endpoint], Endpoint] = lambda endpoint: endpoint, **options: Any) -> FastAPI:
    """Items (with a nested users router) under /v1, and a route on the app;
    `wrap` decorates every endpoint (rate limits, caches)."""
    app = new_app(mode, **options)
    items, users = new_router(mode, prefix="/items"), new_router(mode)

    def read_item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item": item_id}

    def read_user(name: str, request: Request) -> dict[str, Any]:
        return {"user": name}

    def top(x: int, request: Request) -> dict[str, Any]:
        return {"top": x}

    items.get("/{item_id}")(wrap(read_item))
    users.get("/users/{name}")(wrap(read_user))
    items.include_router(users, prefix="/nested")
    app.include_router(items, prefix="/v1")
    app.get("/top/{x}")(wrap(top))
    return app


def answers(app: FastAPI, requests: list[tuple[str, str]] = REQUESTS, headers: tuple[str, ...] = ()) -> list[Any]:
    client = TestClient(app, follow_redirects=False)
    seen = []
    for method, path in requests:
        response = client.request(method, path)
        seen.append((method, path, response.status_code, response.text, [response.headers.get(h) for h in headers]))
    return seen


class Builds:
    """Route builds (FastAPI dependency analyses), counted apart from effective contexts."""

    def __init__(self) -> None:
        self.routes = 0
        self.contexts = 0


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


def expected_builds(mode: str, reached: int = 3) -> tuple[int, int]:
    """Routes built once the app is set up, and after the requests: the routes
    they reached. Per-router opt-in: the route on the plain app is FastAPI's,
    built when declared."""
    at_start = 1 if mode == "optin" else 0
    return at_start, max(reached, at_start)
