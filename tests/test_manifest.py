"""Routers that declare their own prefix, included by import string with no
prefix: a manifest says where their routes are, so they are imported on first
need; a stale manifest fails loudly and never answers wrongly."""

from __future__ import annotations

import importlib
import json
import logging
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fastapi
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lazyrouter import LazyFastAPI, LazyRouter, RouterImportError, _compat, _manifest
from lazyrouter.cli import main
from tests.apps import RACING_WARM_UP, IncludeSpec, RouterSpec, RouteSpec, add_route, as_module, build_router
from tests.apps import include_options as include_arguments
from tests.test_differential import _answer, _has_duplicated_params, _templates, app_specs, requests

MODULES = {
    "users": """
        from fastapi import APIRouter, WebSocket
        import mshop_imports
        mshop_imports.count["users"] += 1

        router = APIRouter(prefix="/users", tags=["users"])

        @router.get("/{user_id}", name="read_user")
        def read_user(user_id: int) -> dict:
            return {"user": user_id}

        @router.websocket("/live")
        async def live(websocket: WebSocket) -> None:
            await websocket.accept()
            await websocket.send_text("hello")
            await websocket.close()
    """,
    "orders": """
        from lazyrouter import LazyRouter
        import mshop_imports
        mshop_imports.count["orders"] += 1

        router = LazyRouter(prefix="/orders")

        @router.get("/{order_id}", name="read_order")
        def read_order(order_id: int) -> dict:
            return {"order": order_id}
    """,
    "api": """
        from lazyrouter import LazyRouter
        import mshop_imports
        mshop_imports.count["api"] += 1

        router = LazyRouter()
        router.include_router("mshop.users:router")
    """,
    "broken": """
        raise RuntimeError("database URL missing")
    """,
    "with_lifespan": """
        from lazyrouter import LazyRouter
        router = LazyRouter(prefix="/life", on_startup=[print])
        router.get("/")(lambda: "alive")
    """,
}

PREFIXES = {
    "mshop.users:router": "/users",
    "mshop.orders:router": "/orders",
    "mshop.broken:router": "/broken",
    "mshop.with_lifespan:router": "/life",
    "mshop.never_included:router": "/never",
}


def write_manifest(path: Path, prefixes: dict[str, str], app: str = "mshop.main:app") -> Path:
    routers = {name: {"prefix": prefix, "router_prefix": prefix} for name, prefix in prefixes.items()}
    path.write_text(json.dumps({"lazyrouter_manifest": 1, "app": app, "fastapi": "0", "routers": routers}))
    return path


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The package's directory; `manifest.json` there records every router."""
    package = tmp_path / "mshop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in MODULES.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    (tmp_path / "mshop_imports.py").write_text("import collections\ncount = collections.Counter()\n")
    write_manifest(tmp_path / "manifest.json", PREFIXES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(_manifest.ENVIRONMENT, raising=False)
    yield tmp_path
    for module in [name for name in sys.modules if name.startswith("mshop")]:
        del sys.modules[module]


def imports() -> dict[str, int]:
    """How many times each module of the package was imported."""
    return dict(importlib.import_module("mshop_imports").count)


def lazy_app(manifest: Path | None = Path("manifest.json")) -> LazyFastAPI:
    app = LazyFastAPI(manifest=manifest)
    app.include_router("mshop.users:router")
    app.include_router("mshop.orders:router", tags=["orders"])
    app.get("/health")(lambda: "ok")
    return app


def eager_app() -> FastAPI:
    import mshop.orders  # type: ignore[import-not-found]  # written by the fixture
    import mshop.users  # type: ignore[import-not-found]

    app = FastAPI()
    app.include_router(mshop.users.router)
    app.include_router(mshop.orders.router, tags=["orders"])
    app.get("/health")(lambda: "ok")
    return app


def test_a_router_is_imported_on_the_first_request_under_its_own_prefix(shop: Path) -> None:
    client = TestClient(lazy_app())
    assert client.get("/health").json() == "ok"
    assert client.get("/nowhere").status_code == 404
    assert client.get("/usersx/1").status_code == 404  # segments, not characters
    assert imports() == {}
    assert client.get("/users/7").json() == {"user": 7}
    assert imports() == {"users": 1}
    with client.websocket_connect("/users/live") as websocket:
        assert websocket.receive_text() == "hello"
    assert client.get("/orders/1").json() == {"order": 1}
    assert imports() == {"users": 1, "orders": 1}


def test_answers_and_openapi_are_eager_fastapis(shop: Path) -> None:
    lazy, eager = TestClient(lazy_app()), TestClient(eager_app())
    for path in ("/users/7", "/users/x", "/users", "/users/", "/orders/1", "/orders", "/health", "/other"):
        assert _answer(lazy, "GET", path, {}) == _answer(eager, "GET", path, {}), path
    assert lazy.get("/openapi.json").json() == eager.get("/openapi.json").json()


def test_the_environment_names_the_manifest_of_every_router(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # mshop.api's LazyRouter includes mshop.users with no prefix and was given no manifest.
    monkeypatch.setenv(_manifest.ENVIRONMENT, str(shop / "manifest.json"))
    app = LazyFastAPI()
    app.include_router("mshop.api:router", prefix="/api")
    client = TestClient(app)
    assert client.get("/health").status_code == 404
    assert imports() == {}
    assert client.get("/api/users/3").json() == {"user": 3}
    assert imports() == {"api": 1, "users": 1}


def test_without_a_manifest_entry_the_router_is_imported_at_once_with_a_warning(
    shop: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_manifest(shop / "partial.json", {"mshop.orders:router": "/orders"})
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        app = lazy_app(Path("partial.json"))
    assert imports() == {"users": 1}
    [record] = caplog.records
    assert record.getMessage() == (
        "include_router('mshop.users:router') has no prefix and the manifest partial.json has no entry for it: "
        "it is imported now. To import it on its first request, write a manifest: "
        "lazyrouter manifest MODULE:APP -o FILE"
    )
    lazy, eager = TestClient(app), TestClient(eager_app())
    assert lazy.get("/openapi.json").json() == eager.get("/openapi.json").json()


@pytest.mark.parametrize(
    ("manifest", "why"),
    [
        pytest.param(
            None, "no manifest says where its routes are (manifest=FILE or LAZYROUTER_MANIFEST=FILE)", id="none"
        ),
        pytest.param("missing.json", "the manifest missing.json cannot be read", id="missing"),
        pytest.param("shared.json", "the manifest shared.json records no path prefix shared by its routes", id="empty"),
        pytest.param("old.json", "the manifest old.json cannot be read", id="other-format"),
    ],
)
def test_each_reason_for_importing_at_once_is_told(
    shop: Path, caplog: pytest.LogCaptureFixture, manifest: str | None, why: str
) -> None:
    write_manifest(shop / "shared.json", {"mshop.users:router": ""})
    (shop / "old.json").write_text(json.dumps({"lazyrouter_manifest": 0, "routers": {}}))
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        LazyRouter(manifest=manifest).include_router("mshop.users:router")
    assert imports() == {"users": 1}
    assert f"include_router('mshop.users:router') has no prefix and {why}: it is imported now." in caplog.text


def test_importing_at_once_fails_at_once(shop: Path) -> None:
    with pytest.raises(
        RouterImportError,
        match=r"^Could not import router 'mshop.broken:router' \(included with no prefix\): RuntimeError: database",
    ):
        LazyRouter().include_router("mshop.broken:router")


STALE = "Could not import router 'mshop.users:router' (included under '/users'): "


def stale_users(shop: Path, old: str, new: str) -> None:
    module = shop / "mshop" / "users.py"
    module.write_text(module.read_text().replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(
            'prefix="/users"',
            'prefix="/people"',
            "the manifest manifest.json records its routes under '/users', but they are under '/people' now "
            "(route path '/people/{user_id}'); write the manifest again: "
            "lazyrouter manifest mshop.main:app -o manifest.json",
            id="prefix-changed",
        ),
        pytest.param(
            "router", "users_router", "AttributeError: module 'mshop.users' has no attribute 'router'", id="renamed"
        ),
    ],
)
def test_a_stale_manifest_fails_every_request_under_its_prefix(
    shop: Path, caplog: pytest.LogCaptureFixture, old: str, new: str, reason: str
) -> None:
    stale_users(shop, old, new)
    client = TestClient(lazy_app(), raise_server_exceptions=False)
    # Only an import tells where the routes really are: a request under the
    # new prefix finds nothing, as though the router were not there.
    assert client.get("/people/1").status_code == 404
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert client.get("/users/1").status_code == 500
    assert [record.getMessage() for record in caplog.records] == [STALE + reason]
    # Still nothing under the new prefix: the stale include serves nothing.
    assert client.get("/people/1").status_code == 404
    assert client.get("/orders/1").json() == {"order": 1}


def test_a_module_gone_fails_requests_under_its_prefix(shop: Path, caplog: pytest.LogCaptureFixture) -> None:
    (shop / "mshop" / "users.py").unlink()
    client = TestClient(lazy_app(), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert client.get("/users/1").status_code == 500
    assert caplog.records[0].getMessage() == STALE + "ModuleNotFoundError: No module named 'mshop.users'"
    assert client.get("/health").json() == "ok"


@pytest.mark.parametrize(
    ("route", "outside"),
    [
        pytest.param('router.websocket("/ws")(lambda websocket: None)', "/users/ws", id="websocket-route"),
        pytest.param('router.add_route("/raw", lambda request: None)', "/raw", id="starlette-route"),
        pytest.param(
            "inner = APIRouter(prefix='/admin')\ninner.get('/')(lambda: 1)\nrouter.include_router(inner)",
            "/users/admin/",
            id="nested-include",
        ),
    ],
)
def test_every_route_must_be_under_the_recorded_prefix(
    shop: Path, caplog: pytest.LogCaptureFixture, route: str, outside: str
) -> None:
    source = "from fastapi import APIRouter\nrouter = APIRouter(prefix='/users')\nrouter.get('/v1/{n}')(lambda n: n)\n"
    (shop / "mshop" / "extra.py").write_text(source + route + "\n")
    write_manifest(shop / "manifest.json", {"mshop.extra:router": "/users/v1"})
    app = LazyFastAPI(manifest="manifest.json")
    app.include_router("mshop.extra:router")
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert TestClient(app, raise_server_exceptions=False).get("/users/v1/1").status_code == 500
    assert f"(route path {outside!r})" in caplog.records[0].getMessage()


def test_nested_starlette_routes_are_where_each_fastapi_release_serves_them(shop: Path) -> None:
    # FastAPI < 0.137 gives a Starlette route of a nested router the include
    # prefixes only: "/raw", outside "/users"; later releases "/users/raw".
    source = (
        "from fastapi import APIRouter\nrouter = APIRouter(prefix='/users')\nrouter.get('/{n}')(lambda n: n)\n"
        "inner = APIRouter()\ninner.add_route('/raw', lambda request: None)\nrouter.include_router(inner)\n"
    )
    (shop / "mshop" / "nested.py").write_text(source)
    import mshop.nested  # type: ignore[import-not-found]  # written above

    assert _manifest.route_prefix(mshop.nested.router) == ("/users" if _compat.INCLUDES_ARE_LIVE else "")


def test_a_longer_recorded_prefix_narrows_what_imports_the_module(shop: Path) -> None:
    module = shop / "mshop" / "orders.py"
    module.write_text(module.read_text().replace('prefix="/orders"', 'prefix="/orders/v2"'))
    write_manifest(shop / "manifest.json", {"mshop.orders:router": "/orders/v2"})
    app = LazyFastAPI(manifest="manifest.json")
    app.include_router("mshop.orders:router")
    client = TestClient(app)
    assert client.get("/orders/v1").status_code == 404
    assert imports() == {}
    assert client.get("/orders/v2/3").json() == {"order": 3}


def test_a_router_with_a_lifespan_is_refused_with_the_reason(shop: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = lazy_app()
    app.include_router("mshop.with_lifespan:router")
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="lazyrouter"):
        assert client.get("/life/").status_code == 500
    assert caplog.records[0].getMessage() == (
        "Could not import router 'mshop.with_lifespan:router' (included under '/life'): "
        "it has a lifespan or startup/shutdown handlers; include it by object"
    )


def test_import_failures_stay_under_their_prefix(shop: Path) -> None:
    app = lazy_app()
    app.include_router("mshop.broken:router")
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/broken/x").status_code == 500
    assert client.get("/users/1").json() == {"user": 1}
    assert client.get("/brokenx").status_code == 404


def test_concurrent_first_requests_import_once(shop: Path) -> None:
    app = lazy_app()
    clients = [TestClient(app) for _ in range(6)]
    barrier = threading.Barrier(len(clients))

    def first_request(client: TestClient) -> int:
        barrier.wait()
        return int(client.get("/orders/1").status_code)

    with ThreadPoolExecutor(len(clients)) as pool:
        assert list(pool.map(first_request, clients)) == [200] * len(clients)
    assert imports() == {"orders": 1}


def test_url_path_for_imports_only_up_to_the_router_that_has_the_name(shop: Path) -> None:
    app = lazy_app()
    assert app.url_path_for("read_user", user_id=3) == "/users/3"
    assert imports() == {"users": 1}
    assert app.url_path_for("read_order", order_id=4) == "/orders/4"
    assert imports() == {"users": 1, "orders": 1}


CHECKED_APP = """
from lazyrouter import LazyFastAPI
app = LazyFastAPI(manifest="manifest.json")
app.include_router("mshop.users:router")
app.include_router("mshop.orders:router", tags=["orders"])
app.get("/health")(lambda: "ok")
"""


def _routes(app: FastAPI) -> FastAPI:
    app.routes  # noqa: B018  # reading it is what is tested
    return app


def _openapi(app: FastAPI) -> FastAPI:
    assert TestClient(app).get("/openapi.json").status_code == 200
    return app


def _resolve_all(app: FastAPI) -> FastAPI:
    assert isinstance(app.router, LazyRouter)
    assert app.router.resolve_all().failed == 0
    return app


def _check(app: FastAPI) -> FastAPI:
    # lazyrouter check imports the app itself: the same app, from a module.
    (Path("mshop") / "main.py").write_text(CHECKED_APP)
    assert main(["check", "mshop.main:app"]) == 0
    checked: FastAPI = sys.modules["mshop.main"].app
    return checked


@pytest.mark.parametrize(
    "need", [_routes, _openapi, _resolve_all, _check], ids=["routes", "openapi", "resolve_all", "check"]
)
def test_what_needs_every_route_imports_every_router(shop: Path, need: Any) -> None:
    app = need(lazy_app())
    # FastAPI >= 0.137 lists an include entry per include, as eager FastAPI does: nothing to import.
    listing_only = need is _routes and _compat.INCLUDES_ARE_LIVE
    assert imports() == ({} if listing_only else {"users": 1, "orders": 1})
    lazy, eager = TestClient(app), TestClient(eager_app())
    for path in ("/users/7", "/users/", "/orders/1", "/health", "/people/1", "/openapi.json"):
        assert _answer(lazy, "GET", path, {}) == _answer(eager, "GET", path, {}), path
    assert len(app.routes) == len(eager_app().routes)


def test_a_stale_manifest_fails_resolve_all(shop: Path) -> None:
    stale_users(shop, 'prefix="/users"', 'prefix="/people"')
    with pytest.raises(RouterImportError, match="records its routes under '/users', but they are under '/people'"):
        lazy_app().router.resolve_all()


def test_a_stale_manifest_fails_check(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale_users(shop, 'prefix="/users"', 'prefix="/people"')
    main_module = shop / "mshop" / "main.py"
    main_module.write_text(
        "from lazyrouter import LazyFastAPI\n"
        "app = LazyFastAPI(manifest='manifest.json')\n"
        "app.include_router('mshop.users:router')\n"
    )
    assert main(["check", "mshop.main:app"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: * /users" in out
    assert "records its routes under '/users', but they are under '/people' now" in out


def test_stale_routes_are_never_served_through_openapi_or_listing(shop: Path) -> None:
    stale_users(shop, 'prefix="/users"', 'prefix="/people"')
    app = lazy_app()
    client = TestClient(app, raise_server_exceptions=False)
    paths = client.get("/openapi.json").json()["paths"]
    assert sorted(paths) == ["/health", "/orders/{order_id}"]
    assert client.get("/people/1").status_code == 404
    assert "/people/{user_id}" not in [getattr(route, "path", None) for route in app.router.served_routes()]
    assert client.get("/people/1").status_code == 404


def test_a_manifest_is_read_once_and_again_when_rewritten(shop: Path) -> None:
    router = LazyRouter(manifest="manifest.json")
    router.include_router("mshop.users:router")
    assert imports() == {}
    write_manifest(shop / "manifest.json", {"mshop.users:router": "/users"})
    router.include_router("mshop.orders:router")
    assert imports() == {"orders": 1}  # no entry in the rewritten manifest: imported at once


# -- against eager FastAPI, in every mode that includes by import string -----

MANIFEST_MODES = ("lazy_app", "assign", "optin", "warm_up")


def build(spec: RouterSpec, mode: str, manifest: Path) -> FastAPI:
    """`spec`'s app: each router the top level includes is written as a module
    and included by import string (with no prefix, through `manifest`). On a
    plain FastAPI app ("optin"), the top level is a router the app includes;
    the eager twin of a mode has the same shape with plain classes."""
    eager = mode.startswith("eager")
    router_class: type[APIRouter] = APIRouter if eager else LazyRouter
    children = {
        number: build_router(item.router, router_class, f"app_{number}")
        for number, item in enumerate(spec.items)
        if isinstance(item, IncludeSpec)
    }
    names = {} if eager else {number: as_module(child) for number, child in children.items()}
    prefixes = {
        names[number]: _manifest.route_prefix(children[number])
        for number, item in enumerate(spec.items)
        if isinstance(item, IncludeSpec) and not item.prefix and names
    }
    write_manifest(manifest, prefixes)
    app: FastAPI
    target: Any  # where the top level's routes and includes go: the app or a router
    if mode == "eager":
        app = target = FastAPI()
    elif mode == "eager_optin":
        app, target = FastAPI(), APIRouter()
    elif mode == "optin":
        app, target = FastAPI(), LazyRouter(manifest=manifest)
    elif mode == "assign":
        app = FastAPI()
        app.router = target = LazyRouter(manifest=manifest)
    else:
        app = target = LazyFastAPI(manifest=manifest, warm_up=RACING_WARM_UP if mode == "warm_up" else False)
    for number, item in enumerate(spec.items):
        if isinstance(item, IncludeSpec):
            included: Any = names.get(number, children[number])
            target.include_router(included, **include_arguments(item, f"app_{number}"))
        else:
            add_route(target, item, f"app_{number}")
    if mode.endswith("optin"):
        app.include_router(target)
    return app


# A quarter of the profile's examples: each builds the app six times.
@settings(
    max_examples=max(20, settings().max_examples // 4),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), spec=app_specs)
def test_manifest_backed_includes_answer_like_eager_fastapi(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, spec: RouterSpec
) -> None:
    assume(not any(_has_duplicated_params(template) for template in _templates(spec)))
    directory = tmp_path_factory.mktemp("manifests")
    try:
        expected_apps = {"eager": build(spec, "eager", directory / "e.json")}
        expected_apps["eager_optin"] = build(spec, "eager_optin", directory / "e.json")
    except Exception:  # FastAPI refuses the spec at declaration: compared elsewhere
        assume(False)
    batch = data.draw(requests(spec))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate operation ids in random apps
        for mode in MANIFEST_MODES:
            eager = TestClient(
                expected_apps["eager_optin" if mode == "optin" else "eager"], raise_server_exceptions=False
            )
            with TestClient(build(spec, mode, directory / f"{mode}.json"), raise_server_exceptions=False) as client:
                for request in batch:
                    assert _answer(client, *request) == _answer(eager, *request), (mode, request)
                assert _answer(client, "GET", "/openapi.json", {}) == _answer(eager, "GET", "/openapi.json", {})


def test_a_router_served_at_its_own_prefix_and_under_an_include_prefix(tmp_path: Path) -> None:
    # One spec the generator may miss: own prefixes at two levels, a Starlette
    # route beside the API routes, and a mount (served only where FastAPI
    # keeps mounts of included routers).
    inner = RouterSpec(prefix="/v1", items=[RouteSpec("/{p}", ["GET"]), RouteSpec("/raw", ["GET"], "starlette")])
    spec = RouterSpec(
        items=[
            IncludeSpec(RouterSpec(prefix="/api", items=[IncludeSpec(inner), RouteSpec("/", ["GET", "POST"])])),
            IncludeSpec(RouterSpec(prefix="/files", items=[RouteSpec("/files/static", [], "mount")])),
        ]
    )
    paths = ["/api/v1/x", "/api/", "/api", "/raw", "/api/raw", "/files/static/a", "/files/x", "/other"]
    for mode in MANIFEST_MODES:
        eager = TestClient(build(spec, "eager_optin" if mode == "optin" else "eager", tmp_path / "e.json"))
        lazy = TestClient(build(spec, mode, tmp_path / f"{mode}.json"))
        for path in paths:
            assert _answer(lazy, "GET", path, {}) == _answer(eager, "GET", path, {}), (mode, path)


# -- lazyrouter manifest -------------------------------------------------------

MAIN = """
from fastapi import APIRouter
from lazyrouter import LazyFastAPI

app = LazyFastAPI(manifest="manifest.json")
app.include_router("mshop.users:router")
app.include_router("mshop.orders:router", tags=["orders"])
app.include_router("mshop.api:router", prefix="/api")
app.include_router("mshop.scattered:router")
"""


def test_the_manifest_command_records_every_include_with_no_prefix(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (shop / "mshop" / "main.py").write_text(MAIN)
    (shop / "mshop" / "scattered.py").write_text(
        "from fastapi import APIRouter\nrouter = APIRouter()\n"
        "router.get('/a')(lambda: 1)\nrouter.get('/b')(lambda: 2)\n"
    )
    stale_users(shop, 'prefix="/users"', 'prefix="/people"')  # the manifest in use is stale: not read
    assert main(["manifest", "mshop.main:app", "-o", "written.json"]) == 0
    assert json.loads((shop / "written.json").read_text()) == {
        "lazyrouter_manifest": 1,
        "app": "mshop.main:app",
        "fastapi": fastapi.__version__,
        "routers": {
            "mshop.orders:router": {"prefix": "/orders", "router_prefix": "/orders"},
            "mshop.scattered:router": {"prefix": "", "router_prefix": ""},
            "mshop.users:router": {"prefix": "/people", "router_prefix": "/people"},
        },
    }
    assert capsys.readouterr().err == (
        "mshop.orders:router: under /orders\n"
        "mshop.scattered:router: imported at start: its routes share no path prefix\n"
        "mshop.users:router: under /people\n"
    )
    for module in [name for name in sys.modules if name.startswith("mshop")]:
        del sys.modules[module]
    app = LazyFastAPI(manifest="written.json")
    app.include_router("mshop.users:router")
    app.include_router("mshop.api:router", prefix="/api")
    assert imports() == {}
    assert TestClient(app).get("/api/people/2").json() == {"user": 2}


def test_the_manifest_command_writes_to_standard_output(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (shop / "mshop" / "main.py").write_text("from lazyrouter import LazyFastAPI\napp = LazyFastAPI()\n")
    assert main(["manifest", "mshop.main:app"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["routers"] == {}
    assert captured.err == "No router is included by import string with no prefix: the manifest is empty.\n"


@pytest.mark.parametrize("lifespan", [False, True], ids=["no-lifespan", "lifespan"])
def test_only_a_real_lifespan_of_an_included_router_is_refused(shop: Path, lifespan: bool) -> None:
    # include_router() merges the included router's lifespan even when both are defaults.
    nested = "APIRouter(lifespan=lifespan)" if lifespan else "APIRouter()"
    (shop / "mshop" / "parent.py").write_text(
        "import contextlib\nfrom fastapi import APIRouter\n"
        "@contextlib.asynccontextmanager\nasync def lifespan(app):\n    yield\n"
        f"router = APIRouter(prefix='/parent')\nchild = {nested}\nchild.get('/')(lambda: 'child')\n"
        "router.include_router(child, prefix='/child')\n"
    )
    write_manifest(shop / "manifest.json", {"mshop.parent:router": "/parent"})
    app = LazyFastAPI(manifest="manifest.json")
    app.include_router("mshop.parent:router")
    answer = TestClient(app, raise_server_exceptions=False).get("/parent/child/")
    assert (answer.status_code, answer.text) == ((500, "Internal Server Error") if lifespan else (200, '"child"'))
