"""fastapi-pagination: `Page[...]` response models, `paginate()`, `add_pagination(app)`."""

from __future__ import annotations

from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastapi_pagination import Page, add_pagination, paginate
from fastapi_pagination.utils import disable_installed_extensions_check
from pydantic import BaseModel

from tests.ecosystem.shop import counting_builds, optin_is_lazy
from tests.modes import new_app, new_router


class Thing(BaseModel):
    id: int


THINGS = [Thing(id=number) for number in range(10)]
# The env has SQLAlchemy (for sqladmin); these lists are paginated in memory.
disable_installed_extensions_check()
REQUESTS = ["/v1/things", "/v1/things?page=2&size=3", "/v1/things?size=0", "/v1/more/things?page=4&size=3"]


def make_app(mode: str) -> FastAPI:
    app = new_app(mode)
    things, more = new_router(mode), new_router(mode)

    @things.get("/things")
    def list_things() -> Page[Thing]:
        return cast(Page[Thing], paginate(THINGS))

    @more.get("/things", response_model=Page[Thing])
    def more_things() -> object:
        return paginate(THINGS)

    app.include_router(things, prefix="/v1")
    app.include_router(more, prefix="/v1/more")
    add_pagination(app)
    return app


def paginated(mode: str) -> tuple[list[object], int, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.routes
        client = TestClient(app)
        seen: list[object] = [(path, client.get(path).status_code, client.get(path).text) for path in REQUESTS]
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_pages_and_openapi_equal_eager(mode: str) -> None:
    eager, _, _ = paginated("eager")
    lazy, at_start, _ = paginated(mode)
    assert lazy == eager
    assert [answer[1] for answer in eager[:-1]] == [200, 200, 422, 200]  # type: ignore[index]
    if optin_is_lazy(mode):
        # add_pagination() walks every route (through FastAPI's include entries)
        # and rewrites its dependant: it needs every route built, so it builds
        # them all when called (2 here), which eager FastAPI did at import.
        assert at_start == 2
