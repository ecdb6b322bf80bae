"""Malformed and hostile requests get the status eager FastAPI gives, never a
500, and leave nothing behind: sent as raw ASGI, past any client's cleanup."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import weakref
from typing import Any, cast

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException
from hypothesis import given, settings
from hypothesis import strategies as st

from lazyrouter import LazyFastAPI, LazyRouter
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.modes import new_app, new_router


def require_token(x_token: str = Header()) -> None:
    if x_token != "secret":
        raise HTTPException(status_code=401)


def make_app(lazy: bool) -> FastAPI:
    app: FastAPI = LazyFastAPI() if lazy else FastAPI()
    router_class = LazyRouter if lazy else APIRouter
    for number in range(20):
        router = router_class()
        router.get("/items/{item_id:int}")(lambda item_id: {"id": item_id})
        router.get("/files/{path:path}")(lambda path: path)
        router.post("/items")(lambda payload: payload)
        router.get("/")(lambda: "index")
        secured = [Depends(require_token)] if number % 2 else []
        app.include_router(router, prefix=f"/r{number}", dependencies=secured)
    app.get("/users/{name}")(lambda name: name)
    return app


EAGER, LAZY = make_app(lazy=False), make_app(lazy=True)


def call(app: Any, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, bytes]:
    """One request through the app as a server would hand it over."""
    path = raw_path.split(b"?")[0].decode("latin-1")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path,
        "query_string": raw_path.partition(b"?")[2],
        "root_path": "",
        "headers": headers or [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 1234),
    }
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    try:
        asyncio.run(app(scope, receive, send))
    except Exception as exc:  # ServerErrorMiddleware sent a 500, then re-raised
        return 500, type(exc).__name__.encode()
    status = messages[0]["status"]
    body = b"".join(message.get("body", b"") for message in messages[1:])
    return status, body


HOSTILE_PATHS = [
    pytest.param(b"/r1/items/" + b"9" * 65536, id="64KiB-segment"),
    pytest.param(b"/" + b"a/" * 5000, id="5000-segments"),
    pytest.param(b"/r3/files/" + b"x/" * 3000, id="5000-segments-under-a-path-param"),
    pytest.param(b"//r1//items//1", id="empty-segments"),
    pytest.param(b"/r1/items/../items/1", id="dot-dot"),
    pytest.param(b"/r1/../../etc/passwd", id="escape-attempt"),
    pytest.param(b"/r1/items/1%2F2", id="encoded-slash"),
    pytest.param(b"/users/%00", id="encoded-nul"),
    pytest.param(b"/users/\x00", id="raw-nul"),
    pytest.param(b"/users/\xff\xfe", id="not-utf8"),
    pytest.param(b"/r0/items/1?" + b"q=" * 10000, id="huge-query"),
    pytest.param(b"", id="empty-path"),
    pytest.param(b"*", id="asterisk-form"),
    pytest.param(b"users/x", id="no-leading-slash"),
]


@pytest.mark.parametrize("raw_path", HOSTILE_PATHS)
@pytest.mark.parametrize("method", ["GET", "get", "POST", "PROPFIND", "OPTIONS"])
def test_hostile_paths_answer_like_eager_fastapi(method: str, raw_path: bytes) -> None:
    lazy = call(LAZY, method, raw_path)
    assert lazy == call(EAGER, method, raw_path)
    if lazy[0] == 500:
        # Starlette's int convertor calls int() on the whole segment, which
        # Python refuses past 4,300 digits: eager FastAPI answers 500 too.
        assert lazy == (500, b"ValueError") and len(raw_path) > 4300


def test_huge_headers_answer_like_eager_fastapi() -> None:
    headers = [(b"host", b"testserver"), (b"x-token", b"s" * 100_000)] + [(b"x-%d" % i, b"v") for i in range(2000)]
    assert (
        call(LAZY, "GET", b"/r1/", headers)
        == call(EAGER, "GET", b"/r1/", headers)
        == (401, b'{"detail":"Unauthorized"}')
    )


@settings(max_examples=300)
@given(
    segments=st.lists(
        st.one_of(
            st.sampled_from(["r1", "r2", "items", "files", "users", "", "..", ".", "1", "-1", "1.5"]),
            st.text(max_size=8),
        ),
        max_size=8,
    ),
    method=st.sampled_from(["GET", "POST", "HEAD", "DELETE", "TRACE"]),
    trailing_slash=st.booleans(),
)
def test_fuzzed_paths_answer_like_eager_fastapi(segments: list[str], method: str, trailing_slash: bool) -> None:
    raw_path = ("/" + "/".join(segments) + ("/" if trailing_slash else "")).encode("utf-8", "surrogateescape")
    assert call(LAZY, method, raw_path) == call(EAGER, method, raw_path)


def test_many_distinct_paths_leave_bounded_memory_behind() -> None:
    app = make_app(lazy=True)

    def distinct_requests(start: int) -> None:
        for number in range(start, start + 700):
            call(app, "GET", b"/r%d/items/%d" % (number % 20, number))
            call(app, "GET", b"/nowhere/%d/%s" % (number, b"x" * 100))
            call(app, "GET", b"/long/%d/%s" % (number, b"x" * 300))

    distinct_requests(0)  # builds the routes and fills the bounded lookup cache
    # Trace from here: what the cache holds at `before` must be traced to be
    # seen leaving it.
    tracemalloc.start()
    distinct_requests(10_000)
    gc.collect()
    before = tracemalloc.take_snapshot()
    distinct_requests(20_000)  # 4,200 paths never seen before
    distinct_requests(30_000)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename") if "lazyrouter" in str(stat))
    # Keeping anything per request would grow by more than 100 bytes a path,
    # 420 KiB here; the full, bounded lookup cache only churns (its table may
    # resize once).
    assert growth < 256 * 1024
    index = cast(LazyRouter, app.router)._current_index()
    if INCLUDES_ARE_LIVE:
        # FastAPI >= 0.137 dispatch looks candidates up by the trie nodes a path
        # reaches: 8,400 paths, 21 shapes.
        assert len(index._grouped_by_shape) <= 21  # one a router, one for the paths nowhere
    else:
        assert 0 < len(index._cached_candidates) <= 1024


def test_deleting_an_app_frees_it_and_its_routers() -> None:
    app = LazyFastAPI()
    router = LazyRouter()
    router.get("/x/{item_id}")(lambda item_id: item_id)
    app.include_router(router, prefix="/r")
    assert call(app, "GET", b"/r/x/1")[0] == 200
    app_ref, router_ref = weakref.ref(app), weakref.ref(router)
    del app, router
    gc.collect()
    assert app_ref() is None
    assert router_ref() is None


def _includes(mode: str) -> FastAPI:
    app = new_app(mode)
    router = new_router(mode)
    router.get("/a")(lambda: "a")
    router.get("")(lambda: "root")
    nested = new_router(mode)
    nested.get("/deep")(lambda: "deep")
    nested.get("/{name}")(lambda name: name)
    router.include_router(nested)
    app.include_router(router, prefix="/p")
    tenants = new_router(mode)
    tenants.get("/x")(lambda: "x")
    app.include_router(tenants, prefix="/{tenant}")
    app.get("/top")(lambda: "top")
    return app


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_paths_at_the_edges_of_an_include_prefix_answer_like_eager(mode: str) -> None:
    # Starlette's patterns end in `$`, which also matches before a final newline
    # ("/p/a%0A" is "/p/a\n"); a path may share the prefix's characters but not
    # its segments ("/pa"); the route "" serves the prefix itself.
    paths = [b"/p/a", b"/p/a\n", b"/p/a\n\n", b"/p", b"/p\n", b"/p/", b"/pa", b"/p/deep", b"/p/deep\n", b"/p/zed\n"]
    paths += [b"/acme/x", b"/acme/x\n", b"/p/x", b"/p//a", b"/p/a/", b"/top\n", b"/top/\n", b"/nope\n"]
    lazy, eager = _includes(mode), _includes("eager")
    for _ in range(2):  # built by the first round, served directly by the second
        assert [call(lazy, "GET", path) for path in paths] == [call(eager, "GET", path) for path in paths]
