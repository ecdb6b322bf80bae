"""How much lazyrouter builds, counted: nothing at declaration, only what a
request needs on first match, and each route once for /openapi.json."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from lazyrouter import LazyFastAPI, LazyRouter
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.conftest import count_builds

ROUTERS = 25
ROUTES_PER_ROUTER = 20  # 500 routes


class Thing(BaseModel):
    model_config = ConfigDict(defer_build=True)
    id: int
    name: str
    tags: list[str] = []


class BuildCounter:
    """Counts FastAPI route builds by endpoint (one dependant analysis each)."""

    def __init__(self) -> None:
        self.by_endpoint: Counter[Callable[..., Any]] = Counter()
        self.contexts: Counter[Callable[..., Any]] = Counter()

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[BuildCounter]:
    counter = BuildCounter()

    def count(call: Callable[..., Any]) -> None:
        counter.by_endpoint[call] += 1

    def count_context(call: Callable[..., Any]) -> None:
        counter.contexts[call] += 1

    count_builds(monkeypatch, count, count_context)
    yield counter


def make_router(router_class: type[APIRouter], number: int) -> APIRouter:
    router = router_class(tags=[f"r{number}"])
    for route in range(ROUTES_PER_ROUTER // 4):

        @router.get(f"/things{route}", name=f"list_{number}_{route}")
        def list_things(limit: int = 10) -> list[Thing]:
            return [Thing(id=i, name="x") for i in range(limit)]

        @router.get(f"/things{route}/{{thing_id}}", name=f"get_{number}_{route}")
        def get_thing(thing_id: int) -> Thing:
            return Thing(id=thing_id, name=f"thing {thing_id}")

        @router.post(f"/things{route}", status_code=201, name=f"create_{number}_{route}")
        def create_thing(thing: Thing) -> Thing:
            return thing

        @router.delete(f"/things{route}/{{thing_id}}", status_code=204, name=f"delete_{number}_{route}")
        def delete_thing(thing_id: int):  # type: ignore[no-untyped-def]  # no body for 204 on every FastAPI
            return None

    return router


def make_app(mode: str) -> FastAPI:
    app: FastAPI
    if mode == "lazy_app":
        app = LazyFastAPI()
    else:
        app = FastAPI()
        if mode == "assign":
            app.router = LazyRouter()
    router_class = APIRouter if mode == "eager" else LazyRouter
    for number in range(ROUTERS):
        app.include_router(make_router(router_class, number), prefix=f"/r{number}")
    return app


MODES = ["lazy_app", "assign", "optin"]
# A plain FastAPI app before 0.137 copies an included router's routes, building
# every one of them (twice for a plain router: at declaration and at include).
OPTIN_IS_LAZY = pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 builds included routes")


def test_optin_on_fastapi_before_0_137_builds_at_include_as_eager_fastapi_does(builds: BuildCounter) -> None:
    # Reading each route for the copy builds it, then the copy is built: the
    # same two builds per route eager FastAPI < 0.137 pays (see below).
    make_app("optin")
    assert builds.total == (0 if INCLUDES_ARE_LIVE else 1000)


@pytest.mark.parametrize("mode", ["lazy_app", "assign", pytest.param("optin", marks=OPTIN_IS_LAZY)])
def test_declaring_500_routes_builds_none(mode: str, builds: BuildCounter) -> None:
    app = make_app(mode)
    assert builds.total == 0
    declared = [route for route in app.routes if re.match(r"/r\d", getattr(route, "path", ""))]
    # FastAPI >= 0.137 lists one _IncludedRouter per include, and so do LazyRouters;
    # earlier releases copy the included routes (deferred ones, here).
    assert len(declared) == (0 if mode == "optin" or INCLUDES_ARE_LIVE else 500)
    if mode != "optin":
        assert len(app.router.served_routes()) >= 500  # type: ignore[attr-defined]
    assert builds.total == 0


def test_eager_fastapi_builds_every_route_at_declaration(builds: BuildCounter) -> None:
    make_app("eager")
    assert builds.total == (500 if INCLUDES_ARE_LIVE else 1000)


@pytest.mark.parametrize("mode", ["lazy_app", "assign", pytest.param("optin", marks=OPTIN_IS_LAZY)])
def test_first_request_builds_only_its_route(mode: str, builds: BuildCounter) -> None:
    client = TestClient(make_app(mode))
    # FastAPI >= 0.137 serves an included route through its effective context,
    # which it builds on the route's first request (eager FastAPI too).
    per_route = 1 if INCLUDES_ARE_LIVE else 0
    assert client.get("/r7/things3/42").json() == {"id": 42, "name": "thing 42", "tags": []}
    assert (builds.total, sum(builds.contexts.values())) == (1, per_route)
    # The DELETE route on the same path is matched but not built (GET won).
    assert client.delete("/r7/things3/42").status_code == 204
    assert (builds.total, sum(builds.contexts.values())) == (2, 2 * per_route)
    # Warm requests build nothing.
    for _ in range(3):
        client.get("/r7/things3/1")
        client.get("/r7/things3/1/")  # redirect_slashes
    assert client.get("/r7/nothing").status_code == 404
    assert client.get("/nowhere").status_code == 404
    assert (builds.total, sum(builds.contexts.values())) == (2, 2 * per_route)


@pytest.mark.parametrize("mode", ["lazy_app", "assign"])
def test_openapi_builds_each_route_once_and_requests_reuse_them(mode: str, builds: BuildCounter) -> None:
    client = TestClient(make_app(mode))
    client.get("/r0/things0/1")
    schema = client.get("/openapi.json").json()
    assert len(schema["paths"]) == ROUTERS * ROUTES_PER_ROUTER // 2
    contexts = builds.contexts
    if INCLUDES_ARE_LIVE and mode == "assign":
        # `app.router = LazyRouter()` leaves FastAPI's openapi() in charge: it
        # walks the _IncludedRouter entries of `app.routes`, building every
        # route and its effective context, as for an eager app (which built the
        # routes at import). Requests are then served by those very objects.
        assert (builds.total, sum(contexts.values())) == (500, 1 + 500)
        client.get("/openapi.json")
        client.post("/r24/things4", json={"id": 1, "name": "n"})
        assert (builds.total, sum(contexts.values())) == (500, 1 + 500)
        return
    if INCLUDES_ARE_LIVE:
        # LazyFastAPI generates the document from one route per path operation
        # lifted through its includes (one build each, where FastAPI's walk
        # builds a route and a context); a request is served by the declared
        # route and its context, built on its first request.
        assert (builds.total, sum(contexts.values())) == (1 + 500, 1)
        client.get("/openapi.json")
        client.post("/r24/things4", json={"id": 1, "name": "n"})
        assert (builds.total, sum(contexts.values())) == (1 + 500 + 1, 2)
        return
    assert max(builds.by_endpoint.values()) == 1
    assert builds.total == 500
    client.get("/openapi.json")
    client.post("/r24/things4", json={"id": 1, "name": "n"})
    assert builds.total == 500


@OPTIN_IS_LAZY
def test_openapi_of_an_included_lazy_router_builds_like_eager_fastapi(builds: BuildCounter) -> None:
    # Per-router opt-in: FastAPI's own include machinery generates the
    # document and builds an effective route per route, as for a plain router.
    client = TestClient(make_app("optin"))
    assert len(client.get("/openapi.json").json()["paths"]) == 250
    assert (builds.total, sum(builds.contexts.values())) == (500, 500)
    builds.by_endpoint.clear()
    builds.contexts.clear()
    eager = TestClient(make_app("eager"))
    assert builds.total == 500
    eager.get("/openapi.json")
    assert (builds.total, sum(builds.contexts.values())) == (500, 500)


@pytest.mark.parametrize("mode", MODES)
def test_url_path_for_builds_nothing(mode: str, builds: BuildCounter) -> None:
    app = make_app(mode)
    assert app.url_path_for("get_3_2", thing_id=5) == "/r3/things2/5"
    if mode != "optin":
        # FastAPI's own _IncludedRouter answers url_path_for by building its
        # effective routes; a LazyRouter that is the app's router does not.
        assert builds.total == 0
