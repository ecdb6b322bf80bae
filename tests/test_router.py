"""LazyRouter and LazyFastAPI feature by feature, each against eager FastAPI."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import FastAPIError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.routing import NoMatchFound

from lazyrouter import LazyFastAPI, LazyRouter, RouteBuildError
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.conftest import count_builds
from tests.modes import new_app, new_router

LIVE_INCLUDES = pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 copies routes on include")

# -- dispatch ------------------------------------------------------------------


def test_scope_route_path_params_and_root_path(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)

    @router.get("/items/{item_id:int}/{name}")
    def read(item_id: int, name: str, request: Request) -> dict[str, Any]:
        return {
            "params": request.path_params,
            "endpoint": request.scope["endpoint"].__name__,
            "route_name": request.scope["route"].name,
            "url_for": str(request.url_for("read", item_id=3, name="n")),
        }

    app.include_router(router, prefix="/api")
    client = TestClient(app, root_path="/prefix")
    assert client.get("/api/items/7/x").json() == {
        "params": {"item_id": 7, "name": "x"},
        "endpoint": "read",
        "route_name": "read",
        "url_for": "http://testserver/prefix/api/items/3/n",
    }
    assert client.get("/api/items/x/x").status_code == 404


def test_head_and_405_allow_header(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)
    router.add_api_route("/things", lambda: "get", methods=["GET"], name="get_things")
    router.add_api_route("/things", lambda: "put", methods=["PUT"], name="put_things")
    router.add_route("/page", lambda request: PlainTextResponse("page"))
    app.include_router(router)
    client = TestClient(app)
    response = client.post("/things")
    assert (response.status_code, response.headers["allow"]) == (405, "GET")
    assert client.head("/page").status_code == 200
    assert client.head("/things").status_code == 405
    assert client.put("/things").json() == "put"


def test_redirect_slashes_and_disabled_redirects(mode: str) -> None:
    app = new_app(mode)
    app.get("/a/")(lambda: "a")
    app.get("/b")(lambda: "b")
    client = TestClient(app, follow_redirects=False)
    assert client.get("/a").headers["location"] == "http://testserver/a/"
    assert client.get("/b/").headers["location"] == "http://testserver/b"
    if mode != "assign":  # FastAPI(redirect_slashes=...) configures FastAPI's own router
        strict = new_app(mode, redirect_slashes=False)
        strict.get("/a/")(lambda: "a")
        assert TestClient(strict).get("/a").status_code == 404


def test_lifespan_and_event_handlers_of_included_routers_run(mode: str) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("app start")
        yield {"from": "app"}
        events.append("app stop")

    @contextlib.asynccontextmanager
    async def router_lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("router start")
        yield
        events.append("router stop")

    app = new_app(mode, lifespan=lifespan) if mode != "assign" else FastAPI()
    if mode == "assign":
        app.router = LazyRouter(lifespan=lifespan)
    router = new_router(mode, lifespan=router_lifespan)
    child = new_router(mode, on_startup=[lambda: events.append("child startup")])

    @child.get("/state")
    def state(request: Request) -> str:
        return str(request.state.__dict__.get("_state", {}).get("from"))

    router.include_router(child)
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/state").json() == "app"
    assert events == ["app start", "router start", "child startup", "router stop", "app stop"]


def test_dependency_overrides_set_before_and_after_first_request(mode: str) -> None:
    def user() -> str:
        return "real"

    app = new_app(mode)
    router = new_router(mode)

    @router.get("/me")
    def me(name: str = Depends(user)) -> str:
        return name

    @router.get("/other")
    def other(name: str = Depends(user)) -> str:
        return name

    app.include_router(router, prefix="/u")
    app.dependency_overrides[user] = lambda: "before"
    client = TestClient(app)
    assert client.get("/u/me").json() == "before"
    app.dependency_overrides[user] = lambda: "after"
    assert client.get("/u/me").json() == "after"
    assert client.get("/u/other").json() == "after"
    app.dependency_overrides.clear()
    assert client.get("/u/other").json() == "real"


def test_app_router_and_include_dependencies_are_enforced(mode: str) -> None:
    def deny(request: Request, level: str) -> None:
        if request.headers.get("x-deny") == level:
            raise HTTPException(status_code=403, detail=level)

    def deny_app(request: Request) -> None:
        deny(request, "app")

    def deny_router(request: Request) -> None:
        deny(request, "router")

    def deny_include(request: Request) -> None:
        deny(request, "include")

    app = new_app(mode, dependencies=[Depends(deny_app)]) if mode != "assign" else FastAPI()
    if mode == "assign":
        app.router = LazyRouter(dependencies=[Depends(deny_app)])
    router = new_router(mode, dependencies=[Depends(deny_router)])
    router.get("/x")(lambda: "ok")
    app.include_router(router, dependencies=[Depends(deny_include)])
    client = TestClient(app)
    for level in ("app", "router", "include"):
        assert client.get("/x", headers={"x-deny": level}).json() == {"detail": level}
    assert client.get("/x").json() == "ok"


def test_exception_handlers_see_errors_from_lazy_routes(mode: str) -> None:
    class Teapot(Exception):
        pass

    app = new_app(mode)

    @app.exception_handler(Teapot)
    def teapot(request: Request, exc: Teapot) -> JSONResponse:
        return JSONResponse({"teapot": True}, status_code=418)

    router = new_router(mode)

    @router.get("/brew")
    def brew() -> None:
        raise Teapot()

    app.include_router(router)
    client = TestClient(app)
    assert client.get("/brew").status_code == 418
    assert client.get("/missing").json() == {"detail": "Not Found"}


def test_websockets(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)

    @router.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        await websocket.send_text(f"{room}: {await websocket.receive_text()}")
        await websocket.close()

    async def raw(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("raw")
        await websocket.close()

    router.add_websocket_route("/raw", raw)
    app.include_router(router, prefix="/chat")
    client = TestClient(app)
    with client.websocket_connect("/chat/ws/lobby") as websocket:
        websocket.send_text("hi")
        assert websocket.receive_text() == "lobby: hi"
    with client.websocket_connect("/chat/raw") as websocket:
        assert websocket.receive_text() == "raw"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/chat/nope"):
        pass  # pragma: no cover


def test_mounts_static_files_sub_apps_and_hosts(mode: str, tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello")
    app = new_app(mode)
    sub = FastAPI()
    sub.get("/ping")(lambda: "pong")
    app.mount("/static", StaticFiles(directory=tmp_path), name="static")
    app.mount("/sub", sub, name="sub")
    host_app = FastAPI()
    host_app.get("/")(lambda: "host")
    app.host("api.example.com", host_app, name="api")
    router = new_router(mode)
    router.mount("/inner", sub)
    app.include_router(router, prefix="/r")
    client = TestClient(app)
    assert client.get("/static/hello.txt").text == "hello"
    assert client.get("/sub/ping").json() == "pong"
    # FastAPI < 0.137 drops the mounts of an included router.
    assert client.get("/r/inner/ping").status_code == (200 if INCLUDES_ARE_LIVE else 404)
    assert client.get("/", headers={"host": "api.example.com"}).json() == "host"
    assert app.url_path_for("static", path="hello.txt") == "/static/hello.txt"


def test_url_path_for_and_its_errors(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)
    router.get("/users/{user_id}", name="user")(lambda user_id: user_id)
    app.include_router(router, prefix="/v1")
    assert app.url_path_for("user", user_id=1) == "/v1/users/1"
    with pytest.raises(NoMatchFound, match='No route exists for name "user" and params "".'):
        app.url_path_for("user")


def test_routes_added_after_include_and_after_first_request(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)
    router.get("/one")(lambda: 1)
    app.include_router(router, prefix="/r")
    client = TestClient(app)
    assert client.get("/r/one").json() == 1
    # FastAPI >= 0.137 includes routers live, earlier releases copy them; a
    # LazyRouter does what the installed FastAPI does.
    router.get("/two")(lambda: 2)
    app.get("/three")(lambda: 3)
    assert client.get("/r/two").status_code == (200 if INCLUDES_ARE_LIVE else 404)
    assert client.get("/three").json() == 3
    assert ("/r/two" in client.get("/openapi.json").json()["paths"]) is INCLUDES_ARE_LIVE


def test_openapi_docs_and_redoc_are_served(mode: str) -> None:
    app = new_app(mode, title="Shop")
    router = new_router(mode)
    router.get("/items")(lambda: [])
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/openapi.json").json()["info"]["title"] == "Shop"
    assert "swagger-ui" in client.get("/docs").text
    assert "redoc" in client.get("/redoc").text


# -- LazyFastAPI and app.router = LazyRouter() -------------------------------------


def test_lazy_fastapi_honours_fastapi_arguments() -> None:
    def marker() -> None:
        pass

    kwargs: dict[str, Any] = {
        "title": "T",
        "version": "9",
        "openapi_url": "/schema.json",
        "docs_url": None,
        "redoc_url": "/read",
        "responses": {404: {"description": "gone"}},
        "dependencies": [Depends(marker)],
        "default_response_class": PlainTextResponse,
    }
    eager, lazy = FastAPI(**kwargs), LazyFastAPI(**kwargs)
    for app in (eager, lazy):
        app.get("/hello")(lambda: "hi")
    assert isinstance(lazy.router, LazyRouter)
    lazy_client, eager_client = TestClient(lazy), TestClient(eager)
    for path in ("/schema.json", "/docs", "/read", "/hello"):
        lazy_response, eager_response = lazy_client.get(path), eager_client.get(path)
        assert (lazy_response.status_code, lazy_response.text) == (eager_response.status_code, eager_response.text)


def test_assigned_router_adopts_docs_and_keeps_their_priority() -> None:
    app = FastAPI()
    app.router = LazyRouter()
    app.get("/{anything}")(lambda anything: anything)
    client = TestClient(app)
    assert client.get("/docs").headers["content-type"].startswith("text/html")
    assert client.get("/x").json() == "x"
    assert [getattr(route, "path", None) for route in app.routes][:3] == [
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
    ]


# -- declaration errors ------------------------------------------------------------


@pytest.mark.parametrize("router_class", [APIRouter, LazyRouter])
def test_declaration_errors_are_raised_at_declaration(router_class: type[APIRouter]) -> None:
    router = router_class()
    with pytest.raises(ValueError, match="Duplicated param name id at path /a/{id}/{id}"):
        router.get("/a/{id}/{id}")(lambda id: id)
    with pytest.raises(AssertionError, match="Unknown path convertor 'nope'"):
        router.get("/a/{id:nope}")(lambda id: id)
    with pytest.raises(AssertionError, match="Routed paths must start with '/'"):
        router.add_route("page", lambda request: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(AssertionError, match="A path prefix must start with '/'"):
        router_class(prefix="api")
    with pytest.raises(AssertionError, match="A path prefix must not end with '/'"):
        FastAPI().include_router(router_class(), prefix="/api/")
    with pytest.raises(AssertionError, match="A path prefix must not end with '/'"):
        LazyRouter().include_router(router_class(), prefix="/api/")
    if router_class is LazyRouter or INCLUDES_ARE_LIVE:
        with pytest.raises(AssertionError, match="Cannot include the same APIRouter instance into itself"):
            router.include_router(router)
    empty_path = router_class()
    empty_path.get("")(lambda: None)
    with pytest.raises(FastAPIError, match=r"Prefix and path cannot be both empty \(path operation: <lambda>\)"):
        LazyRouter().include_router(empty_path)


def test_unknown_keyword_arguments_are_refused_at_declaration() -> None:
    router = LazyRouter()
    with pytest.raises(TypeError, match="unexpected keyword argument 'response_modle'"):
        router.add_api_route("/x", lambda: None, response_modle=int)
    with pytest.raises(TypeError, match="unexpected keyword argument 'prefx'"):
        router.include_router(LazyRouter(), prefx="/x")


@LIVE_INCLUDES
def test_include_cycles_are_refused() -> None:
    parent, child = LazyRouter(), LazyRouter()
    parent.include_router(child, prefix="/c")
    with pytest.raises(AssertionError, match="already includes this router"):
        child.include_router(parent, prefix="/p")


# -- build failures ------------------------------------------------------------------


class Model(BaseModel):
    x: int


def broken_path_param(model: Model) -> None:  # pragma: no cover
    pass


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_a_route_that_fails_to_build_answers_500_and_breaks_nothing_else(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = new_app(mode)
    router = LazyRouter()
    router.get("/ok")(lambda: "ok")
    router.get("/broken/{model}")(broken_path_param)
    if mode == "optin" and not INCLUDES_ARE_LIVE:
        # FastAPI < 0.137 copies (and so builds) every route when it includes a router.
        with pytest.raises(AssertionError, match="Path params must be of one of the supported types"):
            app.include_router(router, prefix="/r")
        return
    app.include_router(router, prefix="/r")
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert client.get("/r/broken/1").status_code == 500
    [record] = [record for record in caplog.records if record.name == "lazyrouter"]
    message = record.getMessage()
    # FastAPI >= 0.137 serves the route object of the router itself, with the
    # router's own path; before, a copy under the include prefix.
    path = "/broken/{model}" if INCLUDES_ARE_LIVE else "/r/broken/{model}"
    assert message.startswith(f"Could not build route GET {path} (tests.test_router:broken_path_param, ")
    assert "test_router.py:" in message
    assert record.exc_info is not None
    assert "Path params must be of one of the supported types" in str(record.exc_info[1])
    assert client.get("/r/ok").json() == "ok"
    # Tried again on the next request, failing with FastAPI's own error, as
    # FastAPI >= 0.137 does for a route handler it cannot build; logged once.
    caplog.clear()
    with pytest.raises(AssertionError, match=r"Path params must be of one of the supported types"):
        TestClient(app).get("/r/broken/2")
    assert not [record for record in caplog.records if record.name == "lazyrouter"]


def test_stats_count_declared_built_and_failed_routes() -> None:
    router = LazyRouter()
    router.get("/a")(lambda: "a")
    router.get("/b")(lambda: "b")
    router.get("/broken/{model}")(broken_path_param)
    app = FastAPI()
    app.router = router
    client = TestClient(app, raise_server_exceptions=False)
    client.get("/a")
    client.get("/broken/1")
    stats = router.stats()
    assert (stats.declared, stats.built, stats.failed) == (3, 1, 1)
    assert stats.build_seconds > 0


# -- plain APIRouters inside lazy apps --------------------------------------------------


def test_plain_routers_included_in_a_lazy_app_are_served_lazily() -> None:
    plain = APIRouter(prefix="/plain", tags=["p"])
    nested = APIRouter()
    nested.get("/deep")(lambda: "deep")
    plain.include_router(nested, prefix="/n", tags=["n"])
    plain.get("/flat")(lambda: "flat")
    app = LazyFastAPI()
    app.include_router(plain, prefix="/v1")
    eager = FastAPI()
    eager.include_router(plain, prefix="/v1")
    client = TestClient(app)
    assert client.get("/v1/plain/n/deep").json() == "deep"
    assert client.get("/v1/plain/flat").json() == "flat"
    assert client.get("/openapi.json").json() == TestClient(eager).get("/openapi.json").json()


def test_user_code_appending_to_routes_is_served() -> None:
    app = LazyFastAPI()
    app.get("/a")(lambda: "a")
    plain = APIRouter()
    plain.get("/b")(lambda: "b")
    app.router.routes.extend(plain.routes)
    client = TestClient(app)
    assert client.get("/b").json() == "b"
    assert client.get("/a").json() == "a"


@pytest.fixture
def no_logging_noise() -> Iterator[None]:
    yield


# -- readers of .routes, custom convertors ---------------------------------------------


def test_tools_that_walk_routes_read_paths_and_match_without_building(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    count_builds(monkeypatch, built.append)
    app = LazyFastAPI()
    router = LazyRouter()
    router.get("/items/{item_id}")(lambda item_id: item_id)
    app.include_router(router, prefix="/v1")
    scope = {"type": "http", "path": "/v1/items/3", "method": "GET", "root_path": "", "headers": []}
    # What metrics middleware does on every request: find the route that matches
    # (on FastAPI >= 0.137, the _IncludedRouter entry, as in an eager app).
    matched = [route for route in app.routes if route.matches(dict(scope))[0].name == "FULL"]
    assert len(matched) == 1
    if not INCLUDES_ARE_LIVE:
        assert matched[0].path == "/v1/items/{item_id}"  # type: ignore[attr-defined]
    served = app.router.served_routes()
    templates = [cast(APIRoute, route).path for route in served if route.matches(dict(scope))[0].name == "FULL"]
    assert templates == ["/v1/items/{item_id}"]
    assert built == []


def test_custom_convertors_and_path_params_keep_order(mode: str) -> None:
    from starlette.convertors import Convertor, register_url_convertor

    class ShoutConvertor(Convertor[str]):
        regex = "[A-Z]+(/[A-Z]+)*"

        def convert(self, value: str) -> str:
            return value.lower()

        def to_string(self, value: str) -> str:
            return value.upper()

    register_url_convertor("shout", ShoutConvertor())
    app = new_app(mode)
    router = new_router(mode)
    router.get("/say/{words:shout}")(lambda words: f"shout {words}")
    router.get("/say/{rest:path}")(lambda rest: f"path {rest}")
    router.get("/say/HELLO")(lambda: "shadowed")
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/say/HELLO/WORLD").json() == "shout hello/world"
    assert client.get("/say/HELLO").json() == "shout hello"
    assert client.get("/say/hello/x").json() == "path hello/x"
    assert app.url_path_for("<lambda>", words="a/b") == "/say/A/B"


# -- warm-up and the eager switch ---------------------------------------------------------


def test_resolve_all_builds_everything_and_reports_the_first_failure() -> None:
    router = LazyRouter()
    router.get("/a")(lambda: "a")
    router.get("/b")(lambda: "b")
    app = LazyFastAPI()
    app.include_router(router)
    stats = app.router.resolve_all()
    assert (stats.declared, stats.built, stats.failed) == (2, 2, 0)
    app.get("/broken/{model}")(broken_path_param)
    with pytest.raises(RouteBuildError, match=r"GET /broken/\{model\}"):
        app.router.resolve_all()
    assert TestClient(app).get("/a").json() == "a"


def test_aresolve_all_builds_in_a_worker_thread() -> None:
    import anyio

    app = LazyFastAPI()
    app.get("/a")(lambda: "a")
    stats = anyio.run(app.router.aresolve_all)
    assert stats.built == 1


def test_eager_switch_raises_declaration_errors_at_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    router = LazyRouter()
    router.get("/fine/{model}")(broken_path_param)  # deferred: no error yet
    monkeypatch.setenv("LAZYROUTER_EAGER", "1")
    with pytest.raises(AssertionError, match="Path params must be of one of the supported types"):
        router.get("/broken/{model}")(broken_path_param)
    router.get("/ok")(lambda: "ok")
    assert TestClient(_app_with(router)).get("/ok").json() == "ok"


def _app_with(router: APIRouter) -> FastAPI:
    app = LazyFastAPI()
    app.include_router(router)
    return app
