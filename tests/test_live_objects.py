"""Routes, routers and `.routes` lists as user code reads and changes them.

Each test writes one app the way a user would, once for eager FastAPI and once
in a lazyrouter mode, changes routers, routes or route lists between
declarations and requests, and compares what the two apps answer (responses
and `/openapi.json`) or what the objects say.
"""

from __future__ import annotations

import copy
import functools
import pickle
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, cast

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.routing import APIRoute

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI < 0.137
    iter_route_contexts = None  # type: ignore[assignment]
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount, Route

from lazyrouter import LazyFastAPI, LazyRouter
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.modes import new_app, new_router

LAZY_MODES = ["lazy_app", "assign", "optin"]

Request_ = tuple[str, str, dict[str, str]]
"""(method, path, headers) of one request."""


def authenticated(x_token: str | None = Header(default=None)) -> None:
    if x_token != "secret":
        raise HTTPException(status_code=401, detail="not authenticated")


def observe(app: FastAPI, requests: list[Request_]) -> list[Any]:
    client = TestClient(app)
    answers: list[Any] = [
        (response.status_code, response.headers.get("allow"), response.content)
        for method, path, headers in requests
        for response in [client.request(method, path, headers=headers)]
    ]
    answers.append(client.get("/openapi.json").json() if app.openapi_url else None)
    return answers


def same_as_eager(build: Callable[[str], tuple[FastAPI, list[Request_]]], mode: str) -> None:
    lazy_app, requests = build(mode)
    eager_app, eager_requests = build("eager")
    assert observe(lazy_app, requests) == observe(eager_app, eager_requests)


@pytest.fixture(params=LAZY_MODES)
def lazy_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- router settings are read at declaration ------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda router: setattr(router, "dependencies", []), id="assign-dependencies"),
        pytest.param(lambda router: router.dependencies.clear(), id="clear-dependencies"),
        pytest.param(lambda router: setattr(router, "prefix", ""), id="assign-prefix"),
        pytest.param(lambda router: router.tags.append("later"), id="append-tags"),
        pytest.param(lambda router: setattr(router, "tags", ["other"]), id="assign-tags"),
        pytest.param(lambda router: router.responses.update({418: {"description": "tea"}}), id="update-responses"),
        pytest.param(lambda router: setattr(router, "deprecated", True), id="deprecated"),
        pytest.param(lambda router: setattr(router, "include_in_schema", False), id="include-in-schema"),
        pytest.param(lambda router: setattr(router, "default_response_class", PlainTextResponse), id="response-class"),
    ],
)
def test_router_changes_after_declaration_reach_only_later_routes(lazy_mode: str, change: Callable[..., Any]) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode, prefix="/api", tags=["api"], dependencies=[Depends(authenticated)])

        @router.get("/protected")
        def protected() -> str:
            return "protected"

        change(router)

        @router.get("/later")
        def later() -> str:
            return "later"

        app.include_router(router)
        paths = ["/api/protected", "/protected", "/api/later", "/later"]
        return app, [("GET", path, {}) for path in paths] + [("GET", path, {"x-token": "secret"}) for path in paths]

    same_as_eager(build, lazy_mode)


def test_dropping_the_dependencies_of_a_router_keeps_earlier_routes_protected(lazy_mode: str) -> None:
    app = new_app(lazy_mode)
    router = new_router(lazy_mode, dependencies=[Depends(authenticated)])
    router.add_api_route("/admin", lambda: "admin")
    router.dependencies = []
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/admin").status_code == 401
    assert client.get("/admin", headers={"x-token": "secret"}).status_code == 200


@pytest.mark.parametrize("setting", ["dependencies", "prefix", "tags"])
def test_including_router_changes_after_include_reach_only_later_includes(lazy_mode: str, setting: str) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        outer = new_router(mode, prefix="/outer", tags=["outer"], dependencies=[Depends(authenticated)])
        first, second = new_router(mode), new_router(mode)
        first.add_api_route("/first", lambda: "first")
        second.add_api_route("/second", lambda: "second")
        outer.include_router(first)
        setattr(outer, setting, "" if setting == "prefix" else [])
        outer.include_router(second)
        app.include_router(outer)
        paths = ["/outer/first", "/first", "/outer/second", "/second"]
        return app, [("GET", path, {}) for path in paths]

    same_as_eager(build, lazy_mode)


# -- the route object is the route ------------------------------------------------


def test_fastapi_docs_operation_id_loop_and_route_writes_reach_openapi(lazy_mode: str) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode, prefix="/items")
        router.add_api_route("/", lambda: [], name="list_items")
        router.add_api_route("/{item_id}", lambda item_id: item_id, name="read_item")
        router.add_api_route("/hidden", lambda: "hidden", name="hidden")
        app.include_router(router)
        app.add_api_route("/root", lambda: "root", name="root")
        # https://fastapi.tiangolo.com/advanced/path-operation-advanced-configuration/
        for route in app.routes:
            if isinstance(route, APIRoute):
                route.operation_id = route.name
                if route.name == "hidden":
                    route.include_in_schema = False
        return app, [("GET", "/items/", {}), ("GET", "/items/hidden", {})]

    same_as_eager(build, lazy_mode)


# GET and HEAD share the operation id: FastAPI warns, eager or lazy alike.
@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_methods_added_to_a_route_are_kept(lazy_mode: str) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        app.add_api_route("/ping", lambda: "pong")
        for route in app.routes:
            if isinstance(route, APIRoute) and route.path == "/ping":
                cast(set[str], route.methods).add("HEAD")
        return app, [("HEAD", "/ping", {}), ("HEAD", "/ping", {}), ("GET", "/ping", {}), ("POST", "/ping", {})]

    same_as_eager(build, lazy_mode)


@pytest.mark.parametrize("make_app", [LazyFastAPI, lambda: _assigned()], ids=["lazy_app", "assign"])
def test_route_declared_on_the_app_serves_as_itself(make_app: Callable[[], FastAPI]) -> None:
    app = make_app()
    served: list[Any] = []

    @app.get("/me")
    def me(request: Request) -> str:
        served.append(request.scope["route"])
        return "me"

    route = app.routes[-1]
    app.add_api_route("/other", lambda: "other")  # declared later: same objects
    client = TestClient(app)
    assert client.get("/me").status_code == 200
    assert served == [route]
    assert app.routes[-2] is route
    assert type(route) is APIRoute  # built, in place


def _assigned() -> FastAPI:
    app = FastAPI()
    app.router = LazyRouter()
    return app


def test_route_class_handler_self_is_the_route_in_routes(lazy_mode: str) -> None:
    class CountingRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def counting(request: Request) -> Response:
                self.count = getattr(self, "count", 0) + 1
                return await handler(request)

            return counting

    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        app.router.route_class = CountingRoute
        app.add_api_route("/count", lambda: "counted")
        router = new_router(mode, route_class=CountingRoute)
        router.add_api_route("/included", lambda: "counted")
        app.include_router(router)
        return app, [("GET", "/count", {}), ("GET", "/included", {})] * 3

    app, requests = build(lazy_mode)
    observe(app, requests)
    counted = [route for route in app.routes if isinstance(route, CountingRoute)]
    assert [route.count for route in counted] == [3] * len(counted)
    same_as_eager(build, lazy_mode)


@pytest.mark.filterwarnings("ignore:Duplicate Operation ID")
def test_route_classes_with_their_own_init_or_matching_are_obeyed(lazy_mode: str) -> None:
    class HeadRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            super().__init__(path, endpoint, **kwargs)
            cast(set[str], self.methods).add("HEAD")

    class CaseInsensitiveRoute(APIRoute):
        def matches(self, scope: Any) -> tuple[Match, Any]:
            return super().matches({**scope, "path": scope["path"].lower()})

    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode)
        router.add_api_route("/head", lambda: "head", route_class_override=HeadRoute)
        router.add_api_route("/case", lambda: "case", route_class_override=CaseInsensitiveRoute)
        router.add_api_route("/partial", lambda: "partial", route_class_override=functools.partial(APIRoute))  # type: ignore[arg-type]
        app.include_router(router)
        return app, [("HEAD", "/head", {}), ("GET", "/CASE", {}), ("GET", "/partial", {})]

    same_as_eager(build, lazy_mode)


def test_deferred_routes_copy_pickle_and_probe_as_built_routes() -> None:
    app = LazyFastAPI()
    app.add_api_route("/items/{item_id}", read_item)
    route = app.routes[-1]
    assert getattr(route, "no_such_attribute", None) is None
    assert not hasattr(route, "no_such_attribute")
    assert app.router.stats().built == 0
    copied = copy.copy(route)
    assert app.router.stats().built == 1
    assert type(copied) is type(route) is APIRoute
    assert copied.path == "/items/{item_id}" and copied.dependant is route.dependant
    assert app.router.stats().built == 1
    router = LazyRouter()  # an app's routes deep-copy the app: eager FastAPI recurses there
    router.add_api_route("/items/{item_id}", read_item)
    deep = copy.deepcopy(router.routes[-1])
    assert type(deep) is APIRoute and deep.path == "/items/{item_id}"


def test_deferred_routes_pickle_as_eager_routes_do() -> None:
    def pickled(router: APIRouter) -> type[BaseException] | None:
        router.add_api_route("/items/{item_id}", read_item)
        try:
            pickle.dumps(router.routes[-1])
        except Exception as exc:  # an APIRoute holds its ASGI handler, a closure
            return type(exc)
        return None

    assert pickled(LazyRouter()) is pickled(APIRouter())


def read_item(item_id: int) -> int:
    return item_id


@pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 serves copies of included routes")
def test_an_included_route_is_served_as_the_object_in_its_router(mode: str) -> None:
    app = new_app(mode)
    outer, inner = new_router(mode, prefix="/outer"), new_router(mode)
    served: list[tuple[Any, Any]] = []

    @inner.get("/me/{name}")
    def me(name: str, request: Request) -> str:
        served.append((request.scope["route"], request.scope["fastapi"]["effective_route_context"]))
        return name

    outer.include_router(inner, prefix="/inner", tags=["inner"])
    app.include_router(outer, prefix="/v1")
    client = TestClient(app)
    assert client.get("/v1/outer/inner/me/x").json() == "x"
    assert client.get("/v1/outer/inner/me/y").json() == "y"
    (route, context), second = served
    assert second[0] is route and second[1] is context
    assert route is inner.routes[0]
    assert (context.path, context.tags, context.original_route) == ("/v1/outer/inner/me/{name}", ["inner"], route)
    # The contexts FastAPI's own walk makes are the ones that serve, from then on.
    [walked] = [ctx for ctx in iter_route_contexts(app.routes) if ctx.original_route is route]
    client.get("/v1/outer/inner/me/z")
    assert served[-1][0] is route and served[-1][1] is walked._route_context


@pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI >= 0.137 include entries")
def test_route_and_router_subclasses_of_an_include_are_called_as_in_eager(mode: str) -> None:
    calls: list[str] = []
    base = APIRouter if mode == "eager" else LazyRouter

    class HeaderRouter(base):  # type: ignore[misc, valid-type]
        def matches(self, scope: Any) -> Any:
            calls.append("router.matches")
            if dict(scope["headers"]).get(b"x-router") != b"yes":
                return Match.NONE, {}
            return super().matches(scope)

        async def handle(self, scope: Any, receive: Any, send: Any) -> None:
            calls.append("router.handle")
            await super().handle(scope, receive, send)

    class TrackingRoute(APIRoute):
        def get_route_handler(self) -> Any:
            handler = super().get_route_handler()

            async def tracked(request: Request) -> Any:
                calls.append(f"handler of {self.name}")
                return await handler(request)

            return tracked

        async def handle(self, scope: Any, receive: Any, send: Any) -> None:
            calls.append(f"route.handle {self.name}")
            await super().handle(scope, receive, send)

    app = new_app(mode)
    router = HeaderRouter(route_class=TrackingRoute)
    router.get("/items", name="items")(lambda: "items")
    router.post("/items", name="add")(lambda: "added")
    app.include_router(router, prefix="/api")
    client = TestClient(app)
    assert client.get("/api/items").status_code == 404
    assert calls == ["router.matches"] * 2  # and its redirect_slashes twin
    calls.clear()
    assert client.get("/api/items", headers={"x-router": "yes"}).json() == "items"
    assert calls == ["router.matches", "router.handle", "route.handle items", "handler of items"]
    calls.clear()
    assert client.put("/api/items", headers={"x-router": "yes"}).status_code == 405
    assert calls == ["router.matches", "router.handle", "route.handle items"]


# -- .routes is the list that serves ---------------------------------------------


def _static(request: Request) -> PlainTextResponse:
    return PlainTextResponse("static " + request.url.path)


LIST_EDITS: dict[str, Callable[[list[Any]], object]] = {
    "append-mount": lambda routes: routes.append(Mount("/static", routes=[Route("/{name:path}", _static)])),
    "insert-route": lambda routes: routes.insert(0, Route("/items/{item_id}", _static)),
    "remove": lambda routes: routes.remove(next(r for r in routes if getattr(r, "name", "") == "bulk")),
    "pop": lambda routes: routes.pop(),
    "del-slice": lambda routes: routes.__delitem__(slice(-2, None)),
    "assign-item": lambda routes: routes.__setitem__(-1, Route("/items/bulk", _static)),
    "sort-by-path": lambda routes: routes.sort(key=lambda route: getattr(route, "path", "")),
    "reverse": lambda routes: routes.reverse(),
    "extend": lambda routes: routes.extend([Route("/extra", _static)]),
    "iadd": lambda routes: routes.__iadd__([Route("/extra", _static)]),
    "clear": lambda routes: routes.clear(),
}


@pytest.mark.parametrize("edit", LIST_EDITS)
def test_every_list_operation_on_app_routes_has_the_eager_effect(lazy_mode: str, edit: str) -> None:
    if lazy_mode == "optin":
        pytest.skip("app.routes of a plain app is FastAPI's own list")

    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode, openapi_url=None)
        app.add_api_route("/items/{item_id}", read_item, name="read")
        app.add_api_route("/items/bulk", lambda: "bulk", name="bulk")
        LIST_EDITS[edit](app.routes)
        app.add_api_route("/after", lambda: "after")
        paths = ["/items/1", "/items/bulk", "/static/x.css", "/extra", "/after", "/docs"]
        return app, [("GET", path, {}) for path in paths]

    same_as_eager(build, lazy_mode)


@pytest.mark.parametrize("edit", ["remove", "sort-by-path", "assign-item", "append-mount"])
def test_list_operations_on_a_router_before_include(lazy_mode: str, edit: str) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode)
        router.add_api_route("/items/{item_id}", read_item, name="read")
        router.add_api_route("/items/bulk", lambda: "bulk", name="bulk")
        LIST_EDITS[edit](router.routes)
        app.include_router(router, prefix="/v1")
        paths = ["/v1/items/1", "/v1/items/bulk", "/v1/static/x.css", "/static/x.css"]
        return app, [("GET", path, {}) for path in paths]

    same_as_eager(build, lazy_mode)


def test_assigned_router_keeps_its_docs_after_an_append_before_the_first_request() -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        app.routes.append(Route("/raw", _static))
        app.add_api_route("/api", lambda: "api")
        return app, [("GET", "/raw", {}), ("GET", "/api", {}), ("GET", "/docs", {})]

    same_as_eager(build, "assign")


def test_routes_list_is_one_list_and_cheap_to_read_after_each_declaration(monkeypatch: pytest.MonkeyPatch) -> None:
    from lazyrouter import _index

    indexes = []
    original = _index.RouteIndex.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        indexes.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(_index.RouteIndex, "__init__", counting)

    class RecordingRouter(LazyRouter):
        """Reads its newest route after each declaration, as some extensions do."""

        def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            super().add_api_route(path, endpoint, **kwargs)
            self.last = self.routes[-1]

    router = RecordingRouter()
    routes = router.routes
    for number in range(200):
        router.add_api_route(f"/r{number}", read_item)
        assert cast(APIRoute, router.last).path == f"/r{number}"
    assert router.routes is routes and len(routes) == 200
    assert len(indexes) <= 2  # built once, then extended route by route
    assert router.stats().built == 0


# -- class-based views (the real packages) --------------------------------------


@pytest.mark.parametrize("package", ["fastapi_utils", "fastapi_restful"])
def test_class_based_views_of_the_real_packages(lazy_mode: str, package: str) -> None:
    cbv = pytest.importorskip(f"{package}.cbv").cbv

    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode, prefix="/items", tags=["items"])

        @cbv(router)
        class Items:
            token: None = Depends(authenticated)

            @router.get("/")
            def list_items(self) -> list[int]:
                return [1, 2]

            @router.get("/{item_id}")
            def read(self, item_id: int) -> int:
                return item_id

        app.include_router(router, prefix="/api")
        paths = ["/api/items/", "/api/items", "/api/items/3", "/items/3"]
        headers = {"x-token": "secret"}
        return app, [("GET", path, headers) for path in paths] + [("GET", "/api/items/3", {})]

    same_as_eager(build, lazy_mode)


# -- failures stay where they are -----------------------------------------------


def test_a_failed_import_string_include_does_not_break_route_walkers() -> None:
    app = LazyFastAPI()
    app.add_api_route("/ok", lambda: "ok")
    app.include_router("tests.no_such_module:router", prefix="/broken")
    scope = {"type": "http", "path": "/ok", "method": "GET", "root_path": ""}
    matches = [route.matches(scope)[0] for route in app.routes]
    assert Match.FULL in matches
    under = {**scope, "path": "/broken/x"}
    assert Match.FULL in [route.matches(dict(under))[0] for route in app.routes]  # and nothing raised
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/ok").status_code == 200
    assert client.get("/broken/x").status_code == 500


@pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 copies included routes")
def test_later_routes_of_an_included_router_are_served(lazy_mode: str) -> None:
    def build(mode: str) -> tuple[FastAPI, list[Request_]]:
        app = new_app(mode)
        router = new_router(mode, prefix="/live")
        app.include_router(router)
        router.add_api_route("/added", lambda: "added")
        return app, [("GET", "/live/added", {})]

    same_as_eager(build, lazy_mode)


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level("CRITICAL", logger="lazyrouter")
    yield


__all__ = ["APIRouter"]


@pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="before FastAPI 0.137 `.routes` lists the included routes themselves")
def test_walking_routes_imports_an_import_string_include_only_under_its_prefix(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "walked_pkg.py").write_text(
        "from lazyrouter import LazyRouter\nrouter = LazyRouter()\nrouter.add_api_route('/x', lambda: 'x')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import sys

    app = LazyFastAPI()
    app.add_api_route("/ok", lambda: "ok")
    app.include_router("walked_pkg:router", prefix="/walked")
    elsewhere = {"type": "http", "path": "/ok", "method": "GET", "root_path": "", "headers": []}
    assert [route.matches(dict(elsewhere))[0] for route in app.routes].count(Match.FULL) == 1
    assert "walked_pkg" not in sys.modules
    under = {**elsewhere, "path": "/walked/x"}
    assert Match.FULL in [route.matches(dict(under))[0] for route in app.routes]
    assert "walked_pkg" in sys.modules
    assert TestClient(app).get("/walked/x").json() == "x"
    monkeypatch.delitem(sys.modules, "walked_pkg")


def test_routes_built_at_declaration_are_counted() -> None:
    class HeadRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            super().__init__(path, endpoint, **kwargs)
            cast(set[str], self.methods).add("HEAD")

    app = LazyFastAPI()
    router = LazyRouter(route_class=HeadRoute)
    router.add_api_route("/head", lambda: "head")
    app.include_router(router)
    app.add_api_route("/lazy", lambda: "lazy")
    stats = app.router.stats()
    assert (stats.built_at_declaration, stats.built) == (1, 0)
    assert stats.declaration_build_seconds > 0


@pytest.mark.skipif(not INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 copies routes at include_router()")
def test_routes_added_to_an_included_plain_router_after_requests_are_served(mode: str) -> None:
    app = new_app(mode)
    plain = APIRouter(prefix="/plain")
    plain.get("/a")(lambda: "a")
    outer = new_router(mode)
    outer.include_router(plain)
    app.include_router(outer, prefix="/v1")
    client = TestClient(app)
    assert client.get("/v1/plain/a").json() == "a"
    # FastAPI >= 0.137 includes by reference: later routes are served, listed and named.
    plain.get("/b/{x}", name="b")(lambda x: x)
    assert client.get("/v1/plain/b/1").json() == "1"
    assert app.url_path_for("b", x="2") == "/v1/plain/b/2"
    assert "/v1/plain/b/{x}" in client.get("/openapi.json").json()["paths"]


def test_router_attributes_rebound_after_requests_take_effect(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)
    router.get("/items")(lambda: "items")
    app.include_router(router, prefix="/v1")
    client = TestClient(app, follow_redirects=False)
    assert client.get("/v1/items/").status_code == 307
    app.router.redirect_slashes = False
    assert client.get("/v1/items/").status_code == 404
    app.router.redirect_slashes = True
    assert client.get("/v1/items/").status_code == 307
    # Read by FastAPI's dispatch on every request: a new one answers the next 404.
    assert client.get("/nowhere").status_code == 404
    app.router.default = PlainTextResponse("teapot", status_code=418)
    assert (client.get("/nowhere").status_code, client.get("/nowhere").text) == (418, "teapot")
