"""`include_router(max_body_size=..., form_limits=...)` (FastAPI >= 0.164):
checked when given and enforced on every route the include serves, API
routes, Starlette routes and mounts, as eager FastAPI does, in every mode.
Earlier releases refuse the arguments, lazily too."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse

from tests.modes import new_app, new_router

PATHS = ("/limited/api", "/limited/raw", "/limited/mounted/inner")


async def api(request: Request) -> int:
    return len(await request.body())


async def raw(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


def mounted() -> FastAPI:
    app = FastAPI()
    app.post("/inner")(api)
    return app


def outcome(mode: str, **include: Any) -> list[Any]:
    """What including with `include` raises, or each path's answer to a 4- and a 40-byte body."""
    app = new_app(mode)
    router = new_router(mode)
    router.post("/api")(api)
    router.add_route("/raw", raw, methods=["POST"])
    router.mount("/mounted", mounted())
    try:
        app.include_router(router, prefix="/limited", **include)
    except TypeError as error:  # a release without the argument: the messages name different methods
        return ["TypeError", "max_body_size" in str(error) or "form_limits" in str(error)]
    except ValueError as error:  # pydantic's ValidationError too
        return [type(error).__name__, str(error)]
    client = TestClient(app)
    return [(path, size, client.post(path, content=b"x" * size).status_code) for path in PATHS for size in (4, 40)]


@pytest.mark.parametrize(
    "include",
    [
        pytest.param({"max_body_size": 10}, id="limit"),
        pytest.param({"max_body_size": -1}, id="negative-limit"),
        pytest.param({"max_body_size": True}, id="boolean-limit"),
        pytest.param({"form_limits": {"max_files": 2}}, id="form-limits"),
        pytest.param({"form_limits": {"max_files": -1}}, id="negative-form-limit"),
    ],
)
def test_include_limits_answer_as_eagerly(mode: str, include: dict[str, Any]) -> None:
    assert outcome(mode, **include) == outcome("eager", **include)


def test_a_route_limit_is_checked_at_declaration_as_eagerly(mode: str) -> None:
    def declared(mode: str) -> str:
        router = new_router(mode)
        try:
            router.post("/api", max_body_size=-1)(api)  # FastAPI >= 0.164; a TypeError before
        except (TypeError, ValueError) as error:
            return type(error).__name__
        return "declared"

    assert declared(mode) == declared("eager")
