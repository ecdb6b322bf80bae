"""fastapi-cache2: `@cache()` on endpoints with its in-memory backend: cached
answers, Cache-Control and ETag headers, 304 on a matching If-None-Match."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastapi_cache import FastAPICache
from fastapi_cache.backends.inmemory import InMemoryBackend
from fastapi_cache.decorator import cache

from tests.ecosystem.shop import counting_builds, expected_builds, optin_is_lazy
from tests.modes import new_app, new_router

FastAPICache.init(InMemoryBackend())
_apps = itertools.count()
HEADERS = ("cache-control", "etag", "x-fastapi-cache")


def make_app(mode: str) -> FastAPI:
    namespace = f"app{next(_apps)}"  # one cache per app in this process
    calls = itertools.count()
    app = new_app(mode)
    items = new_router(mode, prefix="/items")

    @items.get("/{item_id}")
    @cache(expire=60, namespace=namespace)
    async def read_item(item_id: int) -> dict[str, Any]:
        return {"item": item_id, "call": next(calls)}

    @app.get("/fresh")
    @cache(expire=60, namespace=namespace)  # type: ignore[arg-type]  # sync endpoints run in the threadpool
    def fresh() -> dict[str, Any]:
        return {"call": next(calls)}

    app.include_router(items, prefix="/v1")
    return app


def cached(mode: str) -> tuple[list[Any], int, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.routes
        client = TestClient(app)
        seen: list[Any] = []
        for path in ["/v1/items/1", "/v1/items/1", "/v1/items/2", "/fresh", "/fresh"]:
            response = client.get(path)
            seen.append((path, response.status_code, response.json(), [response.headers.get(h) for h in HEADERS]))
        etag = client.get("/v1/items/1").headers["etag"]
        seen.append(client.get("/v1/items/1", headers={"if-none-match": etag}).status_code)
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_cached_answers_equal_eager(mode: str) -> None:
    eager, _, _ = cached("eager")
    lazy, at_start, after = cached(mode)
    assert lazy == eager
    assert [answer[2]["call"] for answer in eager[:5]] == [0, 0, 1, 2, 2]
    assert eager[-1] == 304
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode, reached=2)
