"""Hosts, mounts (one at the root) and Starlette routes, the app's own and an
included router's, answer as in eager FastAPI in every mode. FastAPI < 0.137
drops an included router's mounts and hosts; later releases serve them under
the include's prefix."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from tests.modes import new_app, new_router

REQUESTS = [
    ("http://testserver", "/ok"),
    ("http://testserver", "/v1/plain"),
    ("http://api.example.com", "/v1/inner"),
    ("http://testserver", "/v1/files/inner"),
    ("http://admin.example.com", "/inner"),
    ("http://testserver", "/inner"),
    ("http://testserver", "/nowhere"),
]


def plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"plain {request.url.path}")


def mounted(name: str) -> FastAPI:
    app = FastAPI()

    @app.get("/inner")
    def inner(request: Request) -> dict[str, str]:
        return {"app": name, "path": request.url.path}

    return app


def build(mode: str) -> FastAPI:
    app = new_app(mode)
    router = new_router(mode)
    router.add_route("/plain", plain)
    router.host("api.example.com", mounted("included host"))
    router.mount("/files", mounted("included mount"))
    app.include_router(router, prefix="/v1")
    app.host("admin.example.com", mounted("host"))
    app.get("/ok")(lambda: "ok")
    app.mount("", mounted("root mount"))  # after every route: it matches every path
    return app


def answers(app: FastAPI, requests: list[tuple[str, str]] = REQUESTS) -> list[tuple[str, str, int, str]]:
    found = []
    for base_url, path in requests:
        response = TestClient(app, base_url=base_url).get(path)
        found.append((base_url, path, response.status_code, response.text))
    return found


def test_hosts_mounts_and_starlette_routes_answer_as_eagerly(mode: str) -> None:
    expected = answers(build("eager"))
    assert expected[0][2:] == (200, '"ok"')
    assert answers(build(mode)) == expected


def test_an_included_host_outside_the_include_prefix_answers_as_eagerly(mode: str) -> None:
    # FastAPI >= 0.137 matches an included router's Host on the host alone, and its
    # include then answers 404 for a path outside the prefix (not the root mount).
    outside = [("http://api.example.com", "/inner")]
    assert answers(build(mode), outside) == answers(build("eager"), outside)


def nested_hosts(mode: str) -> FastAPI:
    """A host two and three includes down, behind routes and before them."""
    app = new_app(mode)
    outer, middle, inner = new_router(mode), new_router(mode), new_router(mode)
    inner.host("deep.example.com", mounted("deepest host"))
    middle.host("api.example.com", mounted("nested host"))
    middle.get("/x")(lambda: "x")
    middle.include_router(inner, prefix="/c")
    outer.include_router(middle, prefix="/b")
    outer.get("/y")(lambda: "y")
    app.include_router(outer, prefix="/a")
    app.get("/z")(lambda: "z")
    app.mount("", mounted("root mount"))
    return app


def test_hosts_of_nested_includes_answer_as_eagerly(mode: str) -> None:
    # FastAPI >= 0.137 matches an included Host on the host alone, however deep
    # the include: for that host it answers every path it is asked about first.
    paths = ["/inner", "/a/inner", "/a/b/inner", "/a/b/c/inner", "/a/b/x", "/a/y", "/z", "/zzz"]
    hosts = ["http://api.example.com", "http://deep.example.com", "http://testserver"]
    requests = [(host, path) for host in hosts for path in paths]
    assert answers(nested_hosts(mode), requests) == answers(nested_hosts("eager"), requests)
