"""Background warm-up: builds what no request has needed, never ahead of requests."""

from __future__ import annotations

import logging
import sys
import threading
import time
import types
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict, TypeAdapter

from lazyrouter import LazyFastAPI, LazyRouter, LazyRouterError, RouteBuildError, WarmUp
from lazyrouter._compat import INCLUDES_ARE_LIVE
from lazyrouter.cli import check_routes

ROUTES = 30
NOW = WarmUp(delay=0, share=1)
# A deadline for things that must happen, not a performance target: a
# warm-up that never finishes fails the test instead of hanging it.
DEADLINE = 20.0


def add_routes(router: LazyRouter, count: int = ROUTES, route_class: type[APIRoute] = APIRoute) -> None:
    for number in range(count):

        def endpoint(value: int, number: int = number) -> dict[str, int]:
            return {"route": number, "value": value}

        endpoint.__name__ = f"endpoint_{number}"
        router.add_api_route(f"/r{number}/{{value}}", endpoint, methods=["GET"], route_class_override=route_class)


def lazy_app(warm_up: bool | WarmUp = NOW, **kwargs: Any) -> tuple[FastAPI, LazyRouter]:
    app = LazyFastAPI(warm_up=warm_up, **kwargs)
    add_routes(app.router)
    return app, app.router


def assigned_app(warm_up: bool | WarmUp = NOW) -> tuple[FastAPI, LazyRouter]:
    app = FastAPI()
    app.router = LazyRouter(warm_up=warm_up)
    add_routes(app.router)
    return app, app.router


def optin_app(warm_up: bool | WarmUp = NOW) -> tuple[FastAPI, LazyRouter]:
    app = FastAPI()
    router = LazyRouter(warm_up=warm_up)
    add_routes(router)
    app.include_router(router, prefix="/api")
    return app, router


APPS = {"LazyFastAPI": lazy_app, "assign": assigned_app, "optin": optin_app}


def path(app: FastAPI, number: int, value: int = 1) -> str:
    prefix = "/api" if not isinstance(app.router, LazyRouter) else ""
    return f"{prefix}/r{number}/{value}"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def built(router: LazyRouter) -> int:
    return router.stats().built


@pytest.mark.parametrize("make_app", APPS.values(), ids=APPS.keys())
def test_warm_up_builds_every_route_after_the_first_request(make_app: Callable[[], tuple[FastAPI, LazyRouter]]) -> None:
    app, router = make_app()
    lazy = isinstance(app.router, LazyRouter) or INCLUDES_ARE_LIVE
    with TestClient(app) as client:
        time.sleep(0.2)
        assert not lazy or built(router) == 0, "started before the first request"
        assert client.get(path(app, 7)).json() == {"route": 7, "value": 1}
        if lazy:
            wait_for(lambda: built(router) == ROUTES, "every route built")
            # Built in the index that serves requests: no request builds again.
            before = built(router)
            for number in range(ROUTES):
                assert client.get(path(app, number, number)).json() == {"route": number, "value": number}
            assert built(router) == before
        else:
            # FastAPI < 0.137 copied (so built) the included routes at include.
            assert all(client.get(path(app, number)).status_code == 200 for number in range(ROUTES))


def test_warm_up_is_off_by_default() -> None:
    app, router = lazy_app(warm_up=False)
    with TestClient(app) as client:
        client.get("/r1/1")
        time.sleep(0.3)
        assert built(router) == 1


def test_warm_up_waits_for_its_delay() -> None:
    app, router = lazy_app(warm_up=WarmUp(delay=60))
    with TestClient(app) as client:
        client.get("/r1/1")
        time.sleep(0.3)
        assert built(router) == 1


def test_without_a_lifespan_nothing_is_warmed() -> None:
    # TestClient outside `with` runs no lifespan, like `uvicorn --lifespan off`.
    app, router = lazy_app()
    client = TestClient(app)
    client.get("/r1/1")
    time.sleep(0.3)
    assert built(router) == 1


class Gate:
    """A route class whose build of one path blocks until released."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.entered = threading.Event()
        self.release = threading.Event()
        self.finished: list[float] = []
        gate = self

        # APIRoute.__init__ asks for the handler last: gating it gates the build.
        # (A class with its own __init__ would be built at declaration.)
        class GatedRoute(APIRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                if self.path.endswith(gate.path):
                    gate.entered.set()
                    assert gate.release.wait(DEADLINE)
                handler = super().get_route_handler()
                gate.finished.append(time.monotonic())
                return handler

        self.route_class = GatedRoute


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    return thread, result


def test_requests_are_served_while_the_warm_up_thread_builds() -> None:
    gate = Gate("/r5/{value}")
    app = LazyFastAPI(warm_up=NOW)
    add_routes(app.router, 10, gate.route_class)
    with TestClient(app) as client:
        assert client.get("/r0/0").status_code == 200
        assert gate.entered.wait(DEADLINE), "the warm-up never reached the gated route"
        # The warm-up thread is stuck inside a build. A built route answers:
        # the event loop is not blocked.
        assert client.get("/r0/1").json() == {"route": 0, "value": 1}
        # A route that needs building waits for the build in progress (builds
        # are serialized) without holding up the loop...
        waiting, answer = in_thread(lambda: client.get("/r9/9"))
        waiting.join(0.3)
        assert waiting.is_alive()
        assert client.get("/r0/2").json() == {"route": 0, "value": 2}
        # ...and gets its answer once that build is done.
        gate.release.set()
        waiting.join(DEADLINE)
        assert answer[0].json() == {"route": 9, "value": 9}
        wait_for(lambda: built(app.router) == 10, "every route built")


def test_shutdown_stops_the_warm_up_before_the_app_shutdown_code() -> None:
    gate = Gate("/r3/{value}")
    shutdown_at: list[float] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        shutdown_at.append(time.monotonic())

    app = LazyFastAPI(warm_up=NOW, lifespan=lifespan)
    add_routes(app.router, 20, gate.route_class)
    with TestClient(app) as client:
        client.get("/r0/0")
        assert gate.entered.wait(DEADLINE)
        # Shut down while the warm-up thread is inside the build of /r3.
        threading.Timer(0.2, gate.release.set).start()
    built_at_shutdown = built(app.router)
    assert 1 < built_at_shutdown < 20, "the build in progress finishes, no other starts"
    assert max(gate.finished) < shutdown_at[0], "a build ran during the app's shutdown code"
    time.sleep(0.3)
    assert built(app.router) == built_at_shutdown


def test_warm_up_logs_failures_and_builds_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    app = LazyFastAPI(warm_up=NOW)
    add_routes(app.router, 5)

    def broken(item: dict[str, int]) -> None:  # a path parameter FastAPI cannot read
        return None

    app.add_api_route("/broken/{item}", broken, methods=["GET"])
    with caplog.at_level(logging.INFO, logger="lazyrouter"), TestClient(app, raise_server_exceptions=False) as client:
        client.get("/r0/0")
        wait_for(lambda: "Warm-up built" in caplog.text, "the warm-up to finish")
        assert client.get("/broken/1").status_code == 500
        assert client.get("/r4/4").json() == {"route": 4, "value": 4}
    stats = app.router.stats()
    assert (stats.built, stats.failed) == (5, 1)
    assert "Could not build route GET /broken/{item}" in caplog.text
    assert "Warm-up built 4 routes" in caplog.text
    assert "(1 failed to build)" in caplog.text


def test_routes_declared_after_the_warm_up_started_are_warmed_too() -> None:
    app, router = lazy_app()
    with TestClient(app) as client:
        client.get("/r0/0")
        wait_for(lambda: built(router) == ROUTES, "every route built")
        router.add_api_route("/late", lambda: {"late": True}, methods=["GET"])
        assert client.get("/late").json() == {"late": True}
        # The router serves a new index now; the next walk builds all of it.
        wait_for(lambda: built(router) == ROUTES + 1, "every route built again, the late one too")


def test_lifespan_state_and_handlers_are_kept() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    app = LazyFastAPI(warm_up=NOW, lifespan=lifespan)

    @app.get("/state")
    def state(request: Request) -> str:
        return str(request.state.greeting)

    with TestClient(app) as client:
        assert client.get("/state").json() == "hello"
    assert events == ["startup", "shutdown"]


def test_warm_up_imports_routers_included_by_import_string() -> None:
    module = types.ModuleType("lazyrouter_warmup_module")
    router = LazyRouter()
    add_routes(router, 3)
    module.router = router  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        app = LazyFastAPI(warm_up=NOW)
        app.include_router("lazyrouter_warmup_module:router", prefix="/lazy")
        add_routes(app.router, 2)
        with TestClient(app) as client:
            client.get("/r0/0")
            wait_for(lambda: built(app.router) == 5, "every route built, the imported ones too")
            assert client.get("/lazy/r2/2").json() == {"route": 2, "value": 2}
    finally:
        del sys.modules[module.__name__]


def test_warm_up_on_an_included_lazy_router_is_refused() -> None:
    with pytest.raises(LazyRouterError, match="warm_up= belongs to the router that serves the app"):
        LazyFastAPI().include_router(LazyRouter(warm_up=True), prefix="/x")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("yes", TypeError),
        (1, TypeError),
    ],
)
def test_bad_warm_up_values_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="warm_up must be True, False or a lazyrouter.WarmUp"):
        LazyRouter(warm_up=value)


@pytest.mark.parametrize(("delay", "share"), [(-1, 0.5), (0, 0), (0, 1.5), (float("nan"), 0.5)])
def test_bad_warm_up_settings_are_refused(delay: float, share: float) -> None:
    with pytest.raises(ValueError, match="WarmUp"):
        WarmUp(delay=delay, share=share)


class Deferred(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str
    tags: list[str] = []


DEFERS_ADAPTERS = hasattr(TypeAdapter(int), "pydantic_complete")  # Pydantic >= 2.10


@pytest.fixture
def adapter_builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    original = TypeAdapter.rebuild

    def counting(self: TypeAdapter[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TypeAdapter, "rebuild", counting)
    return calls


def deferred_model_app(warm_up: bool | WarmUp = False) -> LazyFastAPI:
    app = LazyFastAPI(warm_up=warm_up)

    @app.post("/things/{number}")
    def create(number: int, thing: Deferred) -> Deferred:
        return thing

    @app.get("/first")
    def first() -> dict[str, bool]:
        return {"first": True}

    return app


@pytest.mark.skipif(not DEFERS_ADAPTERS, reason="Pydantic < 2.10 builds TypeAdapters at once")
@pytest.mark.parametrize("ahead", ["nothing", "resolve_all", "warm_up"])
def test_building_ahead_also_builds_the_validators_of_deferred_models(ahead: str, adapter_builds: list[Any]) -> None:
    app = deferred_model_app(warm_up=NOW if ahead == "warm_up" else False)
    if ahead == "resolve_all":
        app.router.resolve_all()
    with TestClient(app) as client:
        client.get("/first")
        if ahead == "warm_up":
            wait_for(lambda: built(app.router) == app.router.stats().declared, "every route built")
            wait_for(lambda: not app.router._warm_up_run or not app.router._warm_up_run._busy, "the last step")
        adapter_builds.clear()
        response = client.post("/things/1", json={"name": "x", "tags": ["a"]})
        assert response.json() == {"name": "x", "tags": ["a"]}
    # Built on its first request unless built ahead.
    assert (len(adapter_builds) > 0) == (ahead == "nothing"), adapter_builds


class Opaque:
    """Not a type Pydantic can validate without arbitrary_types_allowed."""


class Unbuildable(BaseModel):
    model_config = ConfigDict(defer_build=True)
    thing: Opaque


@pytest.mark.skipif(not DEFERS_ADAPTERS, reason="Pydantic < 2.10 builds TypeAdapters at once")
def test_a_validator_that_cannot_be_built_is_reported_and_breaks_nothing_else(caplog: pytest.LogCaptureFixture) -> None:
    app = deferred_model_app()

    @app.post("/unbuildable")
    def unbuildable(item: Unbuildable) -> dict[str, bool]:  # FastAPI defers this model's adapter too
        return {}

    with pytest.raises(RouteBuildError, match=r"validators of POST /unbuildable .*PydanticSchemaGenerationError"):
        app.router.resolve_all()
    assert "Could not build the validators of POST /unbuildable" in caplog.text
    report = check_routes(app.router.routes)
    assert [(problem.kind, problem.path) for problem in report.problems] == [("error", "/unbuildable")]
    client = TestClient(app, raise_server_exceptions=False)
    # As in eager FastAPI, the route's first request fails; every other route answers.
    assert client.post("/unbuildable", json={"thing": 1}).status_code == 500
    assert client.post("/things/1", json={"name": "x"}).json() == {"name": "x", "tags": []}


def test_an_error_in_the_lifespan_body_reaches_the_lifespan_as_itself() -> None:
    # The warm-up's task group must not turn it into an ExceptionGroup.
    caught: list[BaseException] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        except ValueError as error:
            caught.append(error)
            raise

    app = LazyFastAPI(warm_up=NOW, lifespan=lifespan)

    async def main() -> None:
        async with app.router.lifespan_context(app):
            raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        anyio.run(main)
    assert [str(error) for error in caught] == ["inside"]
