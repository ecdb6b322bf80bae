"""fastapi-cache2: `@cache()` on endpoints with its in-memory backend: cached
answers, Cache-Control and ETag headers, 304 on a matching If-None-Match."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastapi_cache import FastAPICache
from fastapi_cache.backends.inmemory import InMemoryBackend
from fastapi_cache.decorator import cache

from tests.ecosystem.shop import LAZY_MODES, Endpoint, SetUp, counting_builds, expected_builds, make_shop, optin_is_lazy

FastAPICache.init(InMemoryBackend())
_apps = itertools.count()
HEADERS = ("cache-control", "etag", "x-fastapi-cache")
PATHS = ["/v1/items/1", "/v1/items/1", "/v1/items/2", "/top/1", "/top/1"]


def cached_shop(mode: str) -> FastAPI:
    namespace = f"app{next(_apps)}"  # one cache per app in this process
    calls = itertools.count()

    def cached(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {**endpoint(*args, **kwargs), "call": next(calls)}

        # Sync endpoints: fastapi-cache runs them in the threadpool.
        return cache(expire=60, namespace=namespace)(counted)  # type: ignore[arg-type]

    return make_shop(mode, cached)


def _without_clock(name: str, value: str | None) -> str | None:
    """A cached answer's `max-age` is what is left of its 60 s: the clock's
    second may tick between the eager and the lazy run, so seconds are
    compared to within 5."""
    if name != "cache-control" or value is None:
        return value
    match = re.fullmatch(r"max-age=(\d+)", value)
    assert match is not None, value
    return "max-age=60" if 55 <= int(match.group(1)) <= 60 else value


def cached(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = cached_shop(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = []
        for path in PATHS:
            response = client.get(path)
            headers = [_without_clock(h, response.headers.get(h)) for h in HEADERS]
            seen.append((path, response.status_code, response.json(), headers))
        etag = client.get("/v1/items/1").headers["etag"]
        seen.append(client.get("/v1/items/1", headers={"if-none-match": etag}).status_code)
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_cached_answers_equal_eager(mode: str) -> None:
    eager, _, _ = cached("eager")
    lazy, at_start, after = cached(mode)
    assert lazy == eager
    assert [answer[2]["call"] for answer in eager[:5]] == [0, 0, 1, 2, 2]
    assert eager[-1] == 304
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode, reached=2)
