"""fastapi-versioning: `@version()` on the app's routes and `VersionedFastAPI(app)`,
which walks `app.routes` and moves each route into a new app per version.

Routes declared on the app only, as its documentation shows: on FastAPI >= 0.137
it fails on an included router, eager or lazy alike (an `_IncludedRouter` has no
`.endpoint`). So the modes are the two whose app is lazy itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi_versioning  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.ecosystem.shop import Endpoint, SetUp, counting_builds
from tests.modes import new_app

# The package has no type hints: its two names, typed.
version: Callable[[int], Callable[[Endpoint], Endpoint]] = fastapi_versioning.version
VersionedFastAPI: Callable[..., FastAPI] = fastapi_versioning.VersionedFastAPI

PATHS = ["/v1/greet", "/v2/greet", "/v1/items/3", "/v2/items/3", "/v2/items/x", "/latest/greet", "/v3/greet"]
DOCUMENTS = ["/v1/openapi.json", "/v2/openapi.json", "/latest/openapi.json", "/openapi.json"]


def make_app(mode: str) -> FastAPI:
    app = new_app(mode, title="Shop")

    @app.get("/greet")
    @version(1)
    def greet() -> str:
        return "hello"

    @app.get("/greet")
    @version(2)
    def greet_again() -> str:
        return "hi"

    @app.get("/items/{item_id}")
    @version(2)
    def read_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    return VersionedFastAPI(app, version_format="{major}", prefix_format="/v{major}", enable_latest=True)


def versioned(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = [(path, client.get(path).status_code, client.get(path).text) for path in PATHS]
        seen += [client.get(path).json() for path in DOCUMENTS]
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", ["lazy_app", "assign"])
def test_versioned_apps_equal_eager(mode: str) -> None:
    eager, _, _ = versioned("eager")
    lazy, at_start, after = versioned(mode)
    assert lazy == eager
    assert [status for _, status, _ in eager[: len(PATHS)]] == [200, 200, 404, 200, 422, 200, 404]
    # VersionedFastAPI reads each route's endpoint (for its @version), which builds
    # nothing: the moved routes wait for their first request, or a document. What
    # is built at set-up is the plain app it returns: its 4 openapi/docs routes.
    assert (at_start, after) == (SetUp(4, ()), 4 + 3)
