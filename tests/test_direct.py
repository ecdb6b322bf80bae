"""The direct path (lazyrouter/_direct.py): a request to an API route the
index already found, served without FastAPI's dispatch loop.

Each test runs the same steps on an eager app and a lazy twin, and compares,
request by request, the answer and what dispatch left in the scope (keys in
order, `scope["fastapi"]`, and how the objects there stand to each other).
Where the direct path must be taken, the tests say so; where it must not
(its gates), they say that too, so that neither side passes unnoticed.
"""

from __future__ import annotations

import inspect
import re
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match, Mount

from lazyrouter import _compat
from lazyrouter._direct import DirectInclude, DirectRoute
from tests.modes import new_app, new_router
from tests.test_sequences import _scope_shape

# Modes whose app router is a LazyRouter: the direct path is its own.
APP_ROUTER_MODES = ["lazy_app", "assign"]
needs_direct_path = pytest.mark.skipif(not _compat.DIRECT_PATH, reason="no direct path on this FastAPI release")

Step = Callable[[FastAPI, TestClient], Any]


def shape(request: Request) -> dict[str, Any]:
    return {"scope": _scope_shape(request), "path": request.url.path}


def get(path: str, method: str = "GET") -> Step:
    def step(app: FastAPI, client: TestClient) -> Any:
        response = client.request(method, path)
        return (response.status_code, response.headers.get("allow"), response.content)

    return step


def direct_of(app: FastAPI, path: str) -> Any:
    """The direct route the app's router serves `path` with now (after a
    request to it or to another path of its shape), or what stands instead."""
    views = app.router._views  # type: ignore[attr-defined]
    if views is None:
        return None
    served = views.http.get(path)
    if served is None:  # a shared view's: the paths of a parameter route
        served = app.router._served({"type": "http", "path": path, "root_path": ""})  # type: ignore[attr-defined]
    return served.direct


def direct_kind(app: FastAPI, path: str) -> str | None:
    """What the app's router serves `path` with now (after a request to it)."""
    direct = direct_of(app, path)
    return type(direct).__name__ if isinstance(direct, (DirectRoute, DirectInclude)) else None


def served_directly(app: FastAPI, path: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """Request `path` with FastAPI's dispatch over the router's view refused:
    only the direct path can answer."""

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{path} went FastAPI's way")

    with monkeypatch.context() as patched:
        patched.setattr(APIRouter, "app", refused)
        status: int = TestClient(app).get(path).status_code
        return status


def run(mode: str, build: Callable[[str], FastAPI], steps: list[Step]) -> list[Any]:
    app = build(mode)
    with TestClient(app) as client:
        return [step(app, client) for step in steps]


def same_as_eager(mode: str, build: Callable[[str], FastAPI], steps: list[Step]) -> FastAPI:
    lazy = build(mode)
    with TestClient(lazy) as client:
        answers = [step(lazy, client) for step in steps]
    assert answers == run("eager", build, steps)
    return lazy


def two_layouts(mode: str) -> FastAPI:
    """A route on the app, and one in a router included under a prefix
    (behind an include entry that cannot match, as FastAPI asks it first)."""
    app = new_app(mode)
    empty = new_router(mode)
    app.include_router(empty, prefix="/nothing")
    app.add_api_route("/flat", shape)
    items = new_router(mode, prefix="/items")
    items.add_api_route("/all", shape)
    items.add_api_route("/{item_id}", shape)
    app.include_router(items, prefix="/v1")
    return app


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_repeated_requests_take_the_direct_path_and_leave_the_scope_eager_leaves(mode: str) -> None:
    steps = [get("/flat"), get("/flat"), get("/flat"), get("/v1/items/all"), get("/v1/items/all"), get("/v1/items/all")]
    lazy = same_as_eager(mode, two_layouts, steps)
    assert direct_kind(lazy, "/flat") == "DirectRoute"
    if _compat.INCLUDES_ARE_LIVE:
        assert direct_kind(lazy, "/v1/items/all") == "DirectInclude"


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_what_the_direct_path_leaves_to_fastapi(mode: str) -> None:
    # Other methods, HEAD, a trailing slash, 404s: FastAPI's way.
    steps = [
        get("/flat"),
        get("/flat", "POST"),
        get("/flat", "HEAD"),
        get("/flat/"),
        get("/v1/items/all", "DELETE"),
        get("/v1/items/all"),
        get("/v1/items/all", "DELETE"),
        get("/v1/nothing"),
    ]
    lazy = same_as_eager(mode, two_layouts, steps)
    assert direct_kind(lazy, "/flat/") is None
    assert direct_kind(lazy, "/v1/nothing") is None


def parameter_routes(mode: str) -> FastAPI:
    """Routes with path parameters, on the app and through an include, with
    convertors that refuse some segments (so the route's own match decides)."""
    app = new_app(mode)
    app.add_api_route("/flat/{number:int}", shape)
    app.add_api_route("/flat/{name}", shape)
    app.add_api_route("/flat/{number:int}/{word}", shape, methods=["GET", "PUT"])
    items = new_router(mode, prefix="/items")
    items.add_api_route("/{item_id:int}", shape)
    items.add_api_route("/{item_id}/tags/{tag}", shape)
    items.add_api_route("/{slug}", shape)
    app.include_router(items, prefix="/v1/{version}")
    return app


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_routes_with_path_parameters_take_the_direct_path_for_every_value(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new value each request (as real traffic sends), values a convertor
    # refuses (the next candidate answers), other methods, parameters of the
    # include prefix: answers and scopes as eager's, request by request.
    paths = ["/flat/1", "/flat/2", "/flat/abc", "/flat/3/x", "/v1/a/items/7", "/v1/b/items/8", "/v1/c/items/x"]
    paths += ["/v1/a/items/9/tags/t", "/flat/-4", "/flat/5/y", "/v1/d/items/10", "/flat/1", "/v1/a/items/7"]
    steps = [get(path) for path in paths] + [
        get("/flat/5/y", "PUT"),
        get("/flat/6/z", "DELETE"),
        get("/v1/a/items/11", "POST"),
    ]
    lazy = same_as_eager(mode, parameter_routes, steps)
    assert direct_kind(lazy, "/flat/2") == "DirectRoute"
    if _compat.INCLUDES_ARE_LIVE:
        assert direct_kind(lazy, "/v1/b/items/8") == "DirectInclude"
    # One direct route serves every path of the route's shape.
    assert direct_of(lazy, "/flat/1") is direct_of(lazy, "/flat/2")
    if _compat.INCLUDES_ARE_LIVE:
        assert direct_of(lazy, "/v1/a/items/7") is direct_of(lazy, "/v1/d/items/10")
    # Paths never requested, served from the first request on.
    assert served_directly(lazy, "/flat/77", monkeypatch) == 200
    if _compat.INCLUDES_ARE_LIVE:
        assert served_directly(lazy, "/v1/z/items/78", monkeypatch) == 200
        # After FastAPI's own walk of the include made the contexts that
        # serve from then on, new paths are served directly again.
        with warnings.catch_warnings():  # one endpoint serves every route: duplicate operation ids
            warnings.simplefilter("ignore", UserWarning)
            assert TestClient(lazy).get("/openapi.json").status_code == 200
        assert TestClient(lazy).get("/v1/y/items/79").status_code == 200
        assert served_directly(lazy, "/v1/x/items/80", monkeypatch) == 200


def _route_at(app: FastAPI, path: str) -> APIRoute:
    """The route object `.routes` lists for `path` (its router's own, through an include)."""
    for route in app.routes:
        # Not getattr(): asking a deferred route for a name FastAPI's routes have builds it.
        router = None if isinstance(route, APIRoute) else getattr(route, "original_router", None)
        routes = router.routes if router is not None else [route]
        for candidate in routes:
            if isinstance(candidate, APIRoute) and candidate.__dict__["path"] == path:
                return candidate
    raise LookupError(path)


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_the_first_request_a_route_is_selected_for_takes_the_direct_path(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Built where FastAPI's dispatch would have built it, and served at once.
    lazy = parameter_routes(mode)
    assert served_directly(lazy, "/flat/1", monkeypatch) == 200
    assert served_directly(lazy, "/flat/2/x", monkeypatch) == 200
    if _compat.INCLUDES_ARE_LIVE:
        assert served_directly(lazy, "/v1/a/items/7", monkeypatch) == 200
        assert served_directly(lazy, "/v1/a/items/x/tags/t", monkeypatch) == 200
    lazy = two_layouts(mode)
    assert served_directly(lazy, "/flat", monkeypatch) == 200
    if _compat.INCLUDES_ARE_LIVE:
        assert served_directly(lazy, "/v1/items/all", monkeypatch) == 200


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_a_first_request_that_does_not_select_a_route_builds_nothing(mode: str) -> None:
    # A method the route does not take (405), a value its convertor refuses
    # (the next candidate answers): FastAPI's dispatch builds nothing for the
    # first candidate, and the direct path does not either. (Through an
    # include, a 405 needs the route's effective context: that builds it.)
    steps = [get("/flat/1", "POST"), get("/flat/abc"), get("/v1/a/items/abc"), get("/flat/2/x", "DELETE")]
    lazy = same_as_eager(mode, parameter_routes, steps)
    assert vars(_route_at(lazy, "/flat/{number:int}")).get("_lazyrouter_factory") is not None
    assert vars(_route_at(lazy, "/flat/{number:int}/{word}")).get("_lazyrouter_factory") is not None
    assert vars(_route_at(lazy, "/flat/{name}")).get("_lazyrouter_factory") is None  # it answered /flat/abc
    if _compat.INCLUDES_ARE_LIVE:
        assert vars(_route_at(lazy, "/items/{item_id:int}")).get("_lazyrouter_factory") is not None
        assert vars(_route_at(lazy, "/items/{slug}")).get("_lazyrouter_factory") is None
    steps += [get("/v1/a/items/7", "DELETE"), get("/flat/1"), get("/v1/a/items/8"), get("/flat/2/x")]
    same_as_eager(mode, parameter_routes, steps)


def _broken(item: dict) -> None:  # type: ignore[type-arg]
    """A path parameter of a type FastAPI refuses: the route cannot be built."""


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
@pytest.mark.parametrize("path", ["/broken/{item}", "/r/broken/{item}"])
def test_a_route_that_fails_to_build_is_tried_by_the_direct_path_once(
    mode: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The direct path tries the build first; FastAPI's dispatch then tries it
    # again and answers with the error its own way, and from then on tries it
    # alone: once a request.
    app = new_app(mode)
    router = new_router(mode)
    app.add_api_route("/broken/{item}", _broken)
    router.add_api_route("/broken/{item}", _broken)
    app.include_router(router, prefix="/r")
    tries: list[str] = []
    original = APIRouter.add_api_route

    def counted(self: APIRouter, route_path: str, *args: Any, **kwargs: Any) -> Any:
        tries.append(route_path)
        return original(self, route_path, *args, **kwargs)

    monkeypatch.setattr(APIRouter, "add_api_route", counted)
    client = TestClient(app, raise_server_exceptions=False)
    request = path.replace("{item}", "1")
    assert client.get(request).status_code == 500
    assert len(tries) == 2
    assert client.get(request).status_code == 500
    assert client.get(request).status_code == 500
    assert len(tries) == 4


def _write_route_methods(app: FastAPI, client: TestClient) -> None:
    route = next(route for route in app.routes if isinstance(route, APIRoute) and route.path == "/flat")
    route.methods.clear()  # type: ignore[union-attr]
    route.methods.add("PUT")  # type: ignore[union-attr]


def _recompile_path(app: FastAPI, client: TestClient) -> None:
    # Starlette matches with `path_regex`, whatever `path` says.
    route = next(route for route in app.routes if isinstance(route, APIRoute) and route.path == "/flat")
    route.path_regex = re.compile("^/elsewhere$")


def _declare_later(app: FastAPI, client: TestClient) -> None:
    # The router included under /v1 (FastAPI >= 0.137 serves it live).
    entry = app.routes[-1]
    router = getattr(entry, "original_router", None)
    if router is not None:
        router.add_api_route("/later/x", shape)


def _drop_first_then_declare(app: FastAPI, client: TestClient) -> None:
    # FastAPI >= 0.137 sees an included router's list edited once a declaration marks it changed.
    router = getattr(app.routes[-1], "original_router", None)
    if router is not None:
        del router.routes[0]
        router.add_api_route("/last/x", shape)


def _read_openapi(app: FastAPI, client: TestClient) -> int:
    return len(client.get("/openapi.json").json()["paths"])


@needs_direct_path
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_changes_after_the_direct_path_is_found(mode: str) -> None:
    steps = [
        get("/flat"),
        get("/flat"),
        get("/flat", "POST"),
        _write_route_methods,  # Starlette reads `methods` per request
        get("/flat"),
        get("/flat", "PUT"),
        get("/flat", "PUT"),
        _recompile_path,
        get("/flat", "PUT"),
        get("/v1/items/all"),
        get("/v1/items/all"),
        _declare_later,
        get("/v1/items/all"),
        get("/v1/items/later/x"),
        get("/v1/items/later/x"),
        _read_openapi,  # FastAPI's own walk makes the include's contexts
        get("/v1/items/all"),
        get("/v1/items/all"),
        _drop_first_then_declare,
        get("/v1/items/all"),
        get("/v1/items/last/x"),
        get("/v1/items/last/x"),
    ]
    lazy = same_as_eager(mode, two_layouts, steps)
    if _compat.INCLUDES_ARE_LIVE:
        assert direct_kind(lazy, "/v1/items/last/x") == "DirectInclude"


@needs_direct_path
@pytest.mark.skipif(not _compat.INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 has no effective contexts")
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_after_fastapis_walk_the_contexts_it_made_serve(mode: str) -> None:
    app = new_app(mode)
    router = new_router(mode)
    seen: list[Any] = []

    @router.get("/all")
    def record(request: Request) -> None:
        seen.append(request.scope["fastapi"]["effective_route_context"])

    app.include_router(router, prefix="/v1/items")
    client = TestClient(app)
    client.get("/v1/items/all")
    client.get("/v1/items/all")
    client.get("/openapi.json")
    client.get("/v1/items/all")  # FastAPI's way, and the direct path found again
    client.get("/v1/items/all")
    entry = next(route for route in app.routes if getattr(route, "original_router", None) is not None)
    # FastAPI's walk for the document (LazyFastAPI documents lifted copies instead).
    made = entry.__dict__.get("_effective_candidates") or []
    assert bool(made) is (mode == "assign")
    if made:
        assert any(seen[-1] is context for context in made) and seen[1] is not seen[-1]
    assert direct_kind(app, "/v1/items/all") == "DirectInclude"


def test_dependency_overrides_reach_direct_requests() -> None:
    def dependency() -> str:
        return "real"

    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        router = new_router(mode)

        @router.get("/who")
        def who(value: str = Depends(dependency)) -> str:
            return value

        app.include_router(router, prefix="/r")

        @app.get("/top")
        def top(value: str = Depends(dependency)) -> str:
            return value

        return app

    def override(app: FastAPI, client: TestClient) -> None:
        app.dependency_overrides[dependency] = lambda: "override"

    steps = [get("/r/who"), get("/r/who"), get("/top"), get("/top"), override, get("/r/who"), get("/top")]
    for mode in APP_ROUTER_MODES:
        same_as_eager(mode, build, steps)


class _CountingRoute(APIRoute):
    """A route class that decides matching itself: the direct path must not skip it."""

    asked = 0

    def matches(self, scope: Any) -> tuple[Match, Any]:
        type(self).asked += 1
        return super().matches(scope)


@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_route_classes_with_their_own_matching_are_asked_every_time(mode: str) -> None:
    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        app.router.route_class = _CountingRoute
        app.add_api_route("/counted", shape)
        router = new_router(mode, route_class=_CountingRoute)
        router.add_api_route("/counted", shape)
        app.include_router(router, prefix="/r")
        return app

    steps = [get("/counted"), get("/counted"), get("/r/counted"), get("/r/counted"), get("/r/counted")]
    _CountingRoute.asked = 0
    run("eager", build, steps)
    eager_asked = _CountingRoute.asked
    _CountingRoute.asked = 0
    lazy = same_as_eager(mode, build, steps)
    assert _CountingRoute.asked - eager_asked >= eager_asked  # asked at least as often as eager
    assert direct_kind(lazy, "/counted") is None and direct_kind(lazy, "/r/counted") is None


@pytest.mark.skipif(
    "form_limits" not in inspect.signature(APIRouter).parameters, reason="no form limits on this FastAPI release"
)
@pytest.mark.parametrize("where", ["app", "router"])
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_form_limits_keep_fastapis_way(mode: str, where: str) -> None:
    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        if where == "app":
            app.router.form_limits = {"max_fields": 5}
        app.add_api_route("/form", shape)
        router = new_router(mode, form_limits={"max_files": 3} if where == "router" else None)
        router.add_api_route("/form", shape)
        app.include_router(router, prefix="/r")
        return app

    steps = [get("/form"), get("/form"), get("/r/form"), get("/r/form"), get("/r/form")]
    lazy = same_as_eager(mode, build, steps)
    assert direct_kind(lazy, "/r/form") is None
    assert (direct_kind(lazy, "/form") is None) is (where == "app" or not _compat.DIRECT_PATH)


@pytest.mark.parametrize("through", ["app", "include"])
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_under_a_mount_the_scope_is_eagers(mode: str, through: str) -> None:
    # Mounted by an included router (FastAPI >= 0.137), the mount's effective
    # context is in the scope when the inner app dispatches.
    def build(mode: str) -> FastAPI:
        outer = FastAPI()
        routes = outer.router.routes
        if through == "include":
            router = APIRouter()
            outer.include_router(router, prefix="/in")
            routes = router.routes
        routes.append(Mount("/m/{tenant}", app=two_layouts(mode)))
        return outer

    at = "/in" if through == "include" else ""
    steps = [get(f"{at}/m/acme/{path}") for path in ("flat", "flat", "v1/items/all", "v1/items/all", "v1/items/3")]
    same_as_eager(mode, build, steps)


@pytest.mark.skipif(not _compat.INCLUDES_ARE_LIVE, reason="FastAPI < 0.137 has no include entries")
def test_an_import_string_include_asked_first_leaves_the_scope_eagers(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("direct_path_routers")
    module.router = new_router("lazy_app")  # type: ignore[attr-defined]
    module.router.add_api_route("/inside", shape)
    monkeypatch.setitem(sys.modules, module.__name__, module)

    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        if mode == "eager":
            router = new_router(mode)
            router.add_api_route("/inside", shape)
            app.include_router(router, prefix="/s")
        else:
            app.include_router(f"{module.__name__}:router", prefix="/s")  # type: ignore[arg-type]
        app.add_api_route("/flat", shape)
        return app

    def status(path: str) -> Step:
        # Only the status: the entry serving an import string is a subclass of FastAPI's.
        return lambda app, client: client.get(path).status_code

    same_as_eager("lazy_app", build, [get("/flat"), get("/flat"), status("/s/inside"), get("/flat"), get("/flat")])

    # Asked by code that walks `app.routes` (instrumentators do), outside its prefix.
    entry = next(route for route in build("lazy_app").routes if type(route).__name__ == "DeferredInclude")
    scope: dict[str, Any] = {"type": "http", "path": "/flat", "root_path": "", "method": "GET"}
    assert entry.matches(scope)[0] is Match.NONE and scope["fastapi"] == {}


def slash_shapes(mode: str) -> FastAPI:
    """Paths that reach the same trie nodes get one remembered answer (see
    `RouteIndex.grouped_candidates`): templates with and without a trailing
    slash, parameters and static segments, so that a twin path differs."""
    app = new_app(mode)
    app.add_api_route("/a/{p}", shape)
    app.add_api_route("/a/{p}/", shape)
    app.add_api_route("/b/{p}", shape)
    app.add_api_route("/c/x/", shape)
    app.add_api_route("/c/{p}", shape)
    nested = new_router(mode)
    nested.add_api_route("/{p}", shape)
    nested.add_api_route("/{p}/d/", shape)
    app.include_router(nested, prefix="/n")
    return app


@pytest.mark.parametrize("redirect_slashes", [True, False])
@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_paths_of_one_shape_get_eagers_answers_in_any_order(mode: str, redirect_slashes: bool) -> None:
    def build(mode: str) -> FastAPI:
        app = slash_shapes(mode)
        app.router.redirect_slashes = redirect_slashes
        return app

    paths = ["/a/1", "/a/2/", "/a/3", "/a/4/", "/b/5", "/b/6/", "/b/7", "/c/x", "/c/x/", "/c/y/", "/c/z"]
    paths += ["/zzz/", "/zzz", "/b/8//", "/n/9", "/n/10/", "/n/11/d", "/n/12/d/", "/n/13/d/", "/a/1", "/b/6/"]
    same_as_eager(mode, build, [get(path) for path in paths] + [get(path) for path in reversed(paths)])


@pytest.mark.parametrize("mode", APP_ROUTER_MODES)
def test_paths_that_reach_nothing_do_not_share_their_twins_answer(mode: str) -> None:
    # "/a/zz" and "/a" both find no route; only "/a" has a twin ("/a/") that
    # does: an empty answer must not stand for every path that finds nothing.
    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        app.add_api_route("/a/", shape)
        return app

    same_as_eager(mode, build, [get("/a/"), get("/a/zz"), get("/zzz"), get("/a"), get("/a/")])


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_routes_declared_after_their_path_was_asked_answer_through_the_include(mode: str) -> None:
    # A route added to an included router after a request asked for its path
    # (appended to the router's own index, which stays current) is served at once.
    def build(mode: str) -> FastAPI:
        app = new_app(mode)
        app.state.router = router = new_router(mode)
        router.add_api_route("/a", shape)
        app.include_router(router, prefix="/p")
        return app

    def declare(app: FastAPI, client: TestClient) -> None:
        app.state.router.add_api_route("/x", shape)
        app.state.router.add_api_route("/items/{item_id}", shape)

    steps = [get("/p/a"), get("/p/x"), get("/p/items/1"), declare, get("/p/x"), get("/p/items/2"), get("/p/x")]
    same_as_eager(mode, build, steps)
