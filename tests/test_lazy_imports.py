"""Routers included by import string are imported on the first request under
their prefix, and behave exactly like routers included by object."""

from __future__ import annotations

import logging
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.testclient import TestClient

from lazyrouter import LazyFastAPI, LazyRouter, LazyRouterError, RouterImportError

MODULES = {
    "users": """
        from fastapi import Depends
        from lazyrouter import LazyRouter
        import lazyshop_imports
        lazyshop_imports.count["users"] += 1

        router = LazyRouter(tags=["users"])

        @router.get("/{user_id}")
        def read_user(user_id: int) -> dict:
            return {"user": user_id}

        @router.get("/", name="list_users")
        def list_users() -> list:
            return []
    """,
    "orders": """
        from fastapi import APIRouter
        import lazyshop_imports
        lazyshop_imports.count["orders"] += 1

        router = APIRouter()

        @router.get("/{order_id}", name="read_order")
        def read_order(order_id: int) -> dict:
            return {"order": order_id}
    """,
    "broken": """
        raise RuntimeError("database URL missing")
    """,
    "not_a_router": """
        router = 42
    """,
    "with_lifespan": """
        from lazyrouter import LazyRouter
        router = LazyRouter(on_startup=[print])
    """,
}


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    package = tmp_path / "lazyshop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in MODULES.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    (tmp_path / "lazyshop_imports.py").write_text("import collections\ncount = collections.Counter()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazyshop"
    for module in [name for name in sys.modules if name.startswith(("lazyshop", "lazyshop_imports"))]:
        del sys.modules[module]


def deny(request: Request) -> None:
    if request.headers.get("x-deny"):
        raise HTTPException(status_code=403)


def make_app() -> FastAPI:
    app = LazyFastAPI()
    app.include_router("lazyshop.users:router", prefix="/users", tags=["people"], dependencies=[Depends(deny)])
    app.include_router("lazyshop.orders:router", prefix="/orders")
    app.get("/health")(lambda: "ok")
    return app


def test_a_module_is_imported_on_the_first_request_under_its_prefix(shop: str) -> None:
    client = TestClient(make_app())
    assert "lazyshop.users" not in sys.modules
    assert client.get("/health").json() == "ok"
    assert client.get("/nowhere").status_code == 404
    assert "lazyshop.users" not in sys.modules
    assert client.get("/users/7").json() == {"user": 7}
    assert "lazyshop.users" in sys.modules
    assert "lazyshop.orders" not in sys.modules
    assert client.get("/orders/1").json() == {"order": 1}


def test_include_arguments_apply_as_for_an_object(shop: str) -> None:
    client = TestClient(make_app())
    assert client.get("/users/7", headers={"x-deny": "1"}).status_code == 403
    assert client.get("/users", follow_redirects=False).headers["location"] == "http://testserver/users/"
    import lazyshop.orders  # type: ignore[import-not-found]  # written by the fixture
    import lazyshop.users  # type: ignore[import-not-found]

    eager = FastAPI()
    eager.include_router(lazyshop.users.router, prefix="/users", tags=["people"], dependencies=[Depends(deny)])
    eager.include_router(lazyshop.orders.router, prefix="/orders")
    eager.get("/health")(lambda: "ok")
    assert client.get("/openapi.json").json() == TestClient(eager).get("/openapi.json").json()


def test_url_path_for_imports_only_up_to_the_module_that_has_the_name(shop: str) -> None:
    app = make_app()
    assert app.url_path_for("read_user", user_id=3) == "/users/3"
    assert "lazyshop.users" in sys.modules
    assert "lazyshop.orders" not in sys.modules
    assert app.url_path_for("read_order", order_id=4) == "/orders/4"
    assert "lazyshop.orders" in sys.modules


def test_concurrent_first_requests_import_once(shop: str) -> None:
    app = make_app()
    clients = [TestClient(app) for _ in range(6)]
    barrier = threading.Barrier(len(clients))

    def first_request(client: TestClient) -> int:
        barrier.wait()
        return int(client.get("/users/1").status_code)

    with ThreadPoolExecutor(len(clients)) as pool:
        assert list(pool.map(first_request, clients)) == [200] * len(clients)
    assert sys.modules["lazyshop_imports"].count == {"users": 1}


def test_an_import_string_names_a_module_and_an_attribute() -> None:
    # With no prefix, see tests/test_manifest.py.
    with pytest.raises(LazyRouterError, match="must be of the form 'package.module:router'"):
        LazyRouter().include_router("shop.users", prefix="/users")


@pytest.mark.parametrize(
    ("import_string", "reason"),
    [
        pytest.param("lazyshop.broken:router", "RuntimeError: database URL missing", id="module-raises"),
        pytest.param(
            "lazyshop.missing:router", "ModuleNotFoundError: No module named 'lazyshop.missing'", id="missing"
        ),
        pytest.param("lazyshop.not_a_router:router", "router is a int, not an APIRouter", id="not-a-router"),
        pytest.param("lazyshop.with_lifespan:router", "it has a lifespan or startup/shutdown handlers", id="lifespan"),
    ],
)
def test_import_failures_answer_500_under_their_prefix_only(
    shop: str, import_string: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    app.include_router(import_string, prefix="/bad")  # type: ignore[arg-type]  # a LazyFastAPI
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert client.get("/bad/anything").status_code == 500
    [record] = [record for record in caplog.records if record.name == "lazyrouter"]
    assert record.getMessage().startswith(f"Could not import router '{import_string}' (included under '/bad'): ")
    assert reason in record.getMessage()
    assert client.get("/users/1").json() == {"user": 1}
    with pytest.raises(RouterImportError):
        TestClient(app).get("/bad")


@pytest.mark.parametrize("nested", [False, True], ids=["on-the-app", "in-an-included-router"])
def test_resolve_all_reports_an_import_failure_and_builds_the_rest(shop: str, nested: bool) -> None:
    app = make_app()
    if nested:
        router = LazyRouter()
        router.include_router("lazyshop.broken:router", prefix="/bad")
        app.include_router(router, prefix="/v1")
    else:
        app.include_router("lazyshop.broken:router", prefix="/bad")  # type: ignore[arg-type]  # a LazyFastAPI
    router_of_app = cast(LazyRouter, app.router)
    with pytest.raises(RouterImportError, match="database URL missing"):
        router_of_app.resolve_all()
    failures = [error for _, error in router_of_app.resolve_each() if error is not None]
    assert [type(error) for error in failures] == [RouterImportError]
    assert TestClient(app).get("/users/1").json() == {"user": 1}


@pytest.mark.skipif(not hasattr(APIRouter, "frontend"), reason="frontend() is FastAPI >= 0.164")
def test_frontends_of_a_router_included_by_import_string_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "index.html").write_text("<p>spa</p>")
    (tmp_path / "lazyspa.py").write_text(
        textwrap.dedent(
            f"""
            from lazyrouter import LazyRouter
            router = LazyRouter()
            router.get("/api/ping")(lambda: "pong")
            router.frontend("/app", directory={str(build)!r})
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        lazy = LazyFastAPI()
        lazy.include_router("lazyspa:router", prefix="/ui")
        assert "lazyspa" not in sys.modules
        import lazyspa  # type: ignore[import-not-found]  # written above

        eager = FastAPI()
        eager.include_router(lazyspa.router, prefix="/ui")
        for path in ("/ui/app", "/ui/app/", "/ui/app/deep/link", "/ui/api/ping", "/ui/nothing", "/app"):
            expected = TestClient(eager).get(path)
            answer = TestClient(lazy).get(path)
            assert (answer.status_code, answer.text) == (expected.status_code, expected.text), path
    finally:
        sys.modules.pop("lazyspa", None)
