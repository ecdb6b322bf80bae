"""starlette-context: `RawContextMiddleware` with its plugins, and the request
context (`starlette_context.context`) read in endpoints."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.middleware import Middleware
from starlette_context import context, plugins
from starlette_context.middleware import RawContextMiddleware

from tests.ecosystem.shop import (
    LAZY_MODES,
    REQUESTS,
    Endpoint,
    SetUp,
    counting_builds,
    expected_builds,
    make_shop,
    optin_is_lazy,
)

MIDDLEWARE = [
    Middleware(
        RawContextMiddleware,
        plugins=(plugins.RequestIdPlugin(), plugins.CorrelationIdPlugin(), plugins.UserAgentPlugin()),
    )
]
HEADERS = {
    "x-request-id": "9a2b9b4a-7b1b-4b8a-9d9c-3c0f2c1e6f10",
    "x-correlation-id": "5b0f6c1e-3d5b-4a43-8f4e-1d2f3a4b5c6d",
    "user-agent": "shop-test",
}


def with_context(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return {**endpoint(*args, **kwargs), "context": dict(context.data)}

    return wrapped


def contexts(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_shop(mode, with_context, middleware=MIDDLEWARE)
        at_start = builds.set_up()
        client = TestClient(app, headers=HEADERS, follow_redirects=False)
        seen: list[Any] = []
        for method, path in REQUESTS:
            response = client.request(method, path)
            seen.append((method, path, response.status_code, response.text, response.headers.get("x-request-id")))
        bad = client.get("/top/1", headers={"x-request-id": "not-a-uuid"})
        seen.append((bad.status_code, bad.text))
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_request_context_equals_eager(mode: str) -> None:
    eager, _, _ = contexts("eager")
    lazy, at_start, after = contexts(mode)
    assert lazy == eager
    assert '"X-Correlation-ID":"5b0f6c1e' in eager[0][3] and '"User-Agent":"shop-test"' in eager[0][3]
    assert eager[-1][0] == 400
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode)
