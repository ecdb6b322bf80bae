"""The index files a router's declared routes by the first segment of their
paths, as lookups reach them (lazyrouter/_level.py, `Level.settle`): a
router's first request pays for the routes it may match, and every lookup
answers as if every route were filed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Match

from lazyrouter import LazyFastAPI, LazyRouter
from lazyrouter._index import RouteIndex


def endpoint() -> str:
    return "ok"


def index_of(paths: list[str]) -> RouteIndex:
    router = LazyRouter()
    for path in paths:
        router.add_api_route(path, endpoint)
    return router._current_index()


def test_a_first_request_files_only_the_routes_of_its_first_segment() -> None:
    app = LazyFastAPI(openapi_url=None)
    for resource in ("users", "items", "orders"):
        app.add_api_route(f"/{resource}", endpoint)
        app.add_api_route(f"/{resource}/{{key}}", endpoint)
    app.add_api_route("/{anything}/x", endpoint)  # a parameter first: filed at once
    client = TestClient(app)
    assert client.get("/items/3").json() == "ok"
    index = app.router._current_index()
    assert sorted(index.root.waiting) == ["orders", "users"]
    assert client.get("/users/x").json() == "ok"  # /{anything}/x, filed from the start, answers
    assert sorted(index.root.waiting) == ["orders"]
    assert client.get("/nothing").status_code == 404
    assert sorted(index.root.waiting) == ["orders"]


segment = st.sampled_from(["a", "b", "", "{p}", "{p:int}", "{p:path}", "a{p}"])
# Parameter names unique in a path, as FastAPI requires.
template = st.lists(segment, min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(part.replace("{p", f"{{p{i}") for i, part in enumerate(parts))
)
request_segment = st.sampled_from(["a", "b", "", "7", "x", "a7"])
request = st.lists(request_segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))


@given(templates=st.lists(template, min_size=1, max_size=10), requests=st.lists(request, min_size=1, max_size=6))
def test_lookups_answer_as_if_every_route_were_filed(templates: list[str], requests: list[str]) -> None:
    lazy = index_of(templates)
    whole = index_of(templates)
    for path in requests:  # file everything first
        whole.root.settle(path)
    for first in list(whole.root.waiting):
        whole.root.settle(f"/{first}")
    assert not whole.root.waiting
    for path in requests:
        found = [route.path for route in lazy.candidates(path)]  # type: ignore[attr-defined]
        assert found == [route.path for route in whole.candidates(path)]  # type: ignore[attr-defined]
        # Conservative: every route that matches the path is a candidate.
        matching = [route.path for route in lazy.routes if route.matches(_scope(path))[0] is not Match.NONE]  # type: ignore[attr-defined]
        assert set(matching) <= set(found)


def _scope(path: str) -> dict[str, object]:
    return {"type": "http", "path": path, "root_path": "", "method": "GET"}
