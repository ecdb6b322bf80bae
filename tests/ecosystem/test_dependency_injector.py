"""dependency-injector: `@inject` endpoints and dependencies with `Provide[...]`
markers, `container.wire(modules=[...])`, and provider overrides."""

# No `from __future__ import annotations`: @inject reads the Provide markers
# in the annotations at decoration time.

import importlib
from typing import Annotated, Any

import pytest
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from tests.ecosystem.shop import LAZY_MODES, SetUp, answers, app_for, counting_builds, include_module, optin_is_lazy

MODULE = "tests.ecosystem.di_endpoints"


class Service:
    async def process(self) -> str:
        return "service"

    async def greet(self, name: str) -> str:
        return name.title()


class FakeService(Service):
    async def process(self) -> str:
        return "fake"


class Container(containers.DeclarativeContainer):
    config = providers.Configuration()
    service = providers.Factory(Service)


@inject
async def index(service: Annotated[Service, Depends(Provide[Container.service])]) -> dict[str, str]:
    return {"result": await service.process()}


REQUESTS = [("GET", "/"), ("GET", "/v1/items/3"), ("GET", "/v1/items/x"), ("GET", "/v1/items/greeting/")]


def make_app(mode: str) -> tuple[FastAPI, Container]:
    container = Container()
    container.config.greeting.from_value("Hello")
    app = app_for(mode)
    app.add_api_route("/", index)
    if mode == "import_strings":
        include_module(app, MODULE, prefix="/v1")
    else:
        app.include_router(importlib.import_module(MODULE).items_router(mode), prefix="/v1")
    container.wire(modules=[MODULE, __name__])
    return app, container


def injected(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app, container = make_app(mode)
        at_start = builds.set_up()
        seen = answers(app, REQUESTS)
        with container.service.override(providers.Factory(FakeService)):
            seen += answers(app, REQUESTS[:2])
        greeted = TestClient(app).get("/v1/items/greeting/", headers={"x-user": "ann"})
        seen.append((greeted.status_code, greeted.json()))
        container.unwire()
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_wired_endpoints_equal_eager(mode: str) -> None:
    eager, _, _ = injected("eager")
    lazy, at_start, after = injected(mode)
    assert lazy == eager
    assert [answer[2] for answer in eager[:6]] == [200, 200, 422, 422, 200, 200]
    assert eager[1][3] == '{"item":3,"by":"service"}'
    assert eager[5][3] == '{"item":3,"by":"fake"}'
    assert eager[6] == (200, {"greeting": "Hello, Ann"})
    if optin_is_lazy(mode):
        # wire() imports the modules it wires: included by import string, the
        # router module is imported at set-up (its routes are still not built).
        imported = (MODULE,) if mode == "import_strings" else ()
        assert at_start == ((1 if mode == "optin" else 0), imported)
        assert after == 3
