"""A router's `.routes` behaves as eager FastAPI's plain list under the list
operations no other test makes: copies and `*=`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.modes import new_app, new_router


def greet() -> str:
    return "hello"


def plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse("plain")


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copy_of_routes_is_a_plain_list_apart_from_the_router(mode: str, copier: Callable[[Any], Any]) -> None:
    router = new_router(mode)
    router.add_route("/plain", plain)
    copied = copier(router.routes)
    assert type(copied) is list
    assert [route.path for route in copied] == ["/plain"]
    copied.clear()
    assert len(router.routes) == 1


@pytest.mark.parametrize(("times", "status"), [(2, 200), (0, 404)])
def test_routes_multiplied_in_place_are_served_as_eagerly(mode: str, times: int, status: int) -> None:
    app = new_app(mode)
    router = new_router(mode)
    router.get("/hello")(greet)
    router.routes *= times
    assert len(router.routes) == times
    app.include_router(router, prefix="/greet")
    assert TestClient(app).get("/greet/hello").status_code == status
