"""fastapi-pagination: `Page[...]` response models, `paginate()`, `add_pagination(app)`."""

from __future__ import annotations

from typing import cast

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from fastapi_pagination import Page, add_pagination, paginate
from fastapi_pagination.utils import disable_installed_extensions_check
from pydantic import BaseModel

from tests.ecosystem.shop import LAZY_MODES, SetUp, app_for, counting_builds, include_module, optin_is_lazy, router_for


class Thing(BaseModel):
    id: int


THINGS = [Thing(id=number) for number in range(10)]
# The env has SQLAlchemy (for sqladmin); these lists are paginated in memory.
disable_installed_extensions_check()
REQUESTS = ["/v1/things", "/v1/things?page=2&size=3", "/v1/things?size=0", "/v1/more/things?page=4&size=3"]
MODULE = "tests.ecosystem.paginated"


def things_router(mode: str) -> APIRouter:
    things = router_for(mode)

    @things.get("/things")
    def list_things() -> Page[Thing]:
        return cast(Page[Thing], paginate(THINGS))

    return things


def more_router(mode: str) -> APIRouter:
    more = router_for(mode)

    @more.get("/things", response_model=Page[Thing])
    def more_things() -> object:
        return paginate(THINGS)

    return more


def make_app(mode: str) -> FastAPI:
    app = app_for(mode)
    if mode == "import_strings":
        include_module(app, MODULE, "things", prefix="/v1")
        include_module(app, MODULE, "more", prefix="/v1/more")
    else:
        app.include_router(things_router(mode), prefix="/v1")
        app.include_router(more_router(mode), prefix="/v1/more")
    add_pagination(app)
    return app


def paginated(mode: str) -> tuple[list[object], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[object] = [(path, client.get(path).status_code, client.get(path).text) for path in REQUESTS]
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_pages_and_openapi_equal_eager(mode: str) -> None:
    eager, _, _ = paginated("eager")
    lazy, at_start, _ = paginated(mode)
    assert lazy == eager
    assert [answer[1] for answer in eager[:-1]] == [200, 200, 422, 200]  # type: ignore[index]
    if optin_is_lazy(mode):
        # add_pagination() walks every route (through FastAPI's include entries)
        # and rewrites its dependant: it needs every route built, so it builds
        # them all when called (2 here), which eager FastAPI did at import, and
        # imports the modules of routers included by import string.
        assert at_start == (2, (MODULE,) if mode == "import_strings" else ())
