"""The lazyrouter command on a deliberately broken app and on a healthy one."""

from __future__ import annotations

import importlib
import io
import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lazyrouter._compat import INCLUDES_ARE_LIVE
from lazyrouter.cli import main

BROKEN_APP = """
    from fastapi import APIRouter
    from pydantic import BaseModel
    from lazyrouter import LazyFastAPI, LazyRouter

    class Item(BaseModel):
        name: str

    app = LazyFastAPI()
    router = LazyRouter()

    @router.get("/items/{item}")
    def model_in_path(item: Item) -> Item:
        return item

    @router.get("/ok/{item_id}")
    def ok(item_id: int) -> dict:
        return {}

    @router.get("/teapot", status_code=204, response_model=Item)
    def body_on_204() -> Item:
        return Item(name="x")

    @router.get("/x/{name}")
    def by_name(name: str) -> str:
        return name

    @router.get("/x/bulk")
    def bulk() -> str:
        return "never reached"

    @router.get("/ok/{item_id}", name="again")
    def again(item_id: int) -> dict:
        return {}

    app.include_router(router, prefix="/api")
"""

HEALTHY_APP = """
    from lazyrouter import LazyFastAPI, LazyRouter

    app = LazyFastAPI(title="Healthy")
    router = LazyRouter()

    @router.get("/items/{item_id}")
    def read(item_id: int) -> dict:
        return {"id": item_id}

    app.include_router(router, prefix="/api")
"""


PLAIN_APP = """
    from fastapi import FastAPI
    from pydantic import BaseModel
    from lazyrouter import LazyRouter

    class Item(BaseModel):
        name: str

    app = FastAPI()
    router = LazyRouter()

    @router.get("/items/{item}")
    def model_in_path(item: Item) -> Item:
        return item

    app.include_router(router, prefix="/v1")
    app.include_router(router, prefix="/v2")
"""

MOUNTS_APP = """
    from fastapi import FastAPI
    from starlette.responses import PlainTextResponse
    from lazyrouter import LazyFastAPI

    app = LazyFastAPI()

    @app.get("/static/{name}")
    def static(name: str) -> str:
        return name

    app.mount("/static", FastAPI())
    app.host("api.example.com", FastAPI())
    app.add_route("/plain", lambda request: PlainTextResponse("plain"))
"""

MANY_ROUTES_APP = """
    from lazyrouter import LazyFastAPI

    app = LazyFastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    for number in range(30):
        app.get(f"/route{number}")(lambda: None)
"""

PROFILED_APP = """
    from fastapi.routing import APIRoute
    from pydantic import BaseModel
    from lazyrouter import LazyFastAPI

    class Base(BaseModel):
        name: str

    class Left(Base): ...

    class Right(Base): ...

    class Both(Left, Right): ...

    namespace = {"__module__": __name__, "__annotations__": {"x": int}}
    models = [type(f"Model{number}", (BaseModel,), dict(namespace)) for number in range(8)]

    class CountingRoute(APIRoute):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)

    app = LazyFastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> Both:
        return Both(name=str(item_id))

    app.router.route_class = CountingRoute

    @app.get("/counted")
    def counted() -> dict:
        return {}
"""

EAGER_APP = """
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> dict:
        return {"id": item_id}
"""

PARTIAL_APP = """
    from functools import partial
    from pydantic import BaseModel
    from lazyrouter import LazyFastAPI

    class Item(BaseModel):
        name: str

    def model_in_path(item: Item, flag: bool) -> Item:
        return item

    app = LazyFastAPI()
    app.get("/items/{item}")(partial(model_in_path, flag=True))
"""

OPTIN_APP = """
    from fastapi import FastAPI
    from lazyrouter import LazyRouter

    app = FastAPI()
    users, orders = LazyRouter(), LazyRouter()

    @users.get("/{user_id}")
    def read_user(user_id: int) -> int:
        return user_id

    @orders.get("/{order_id}")
    def read_order(order_id: int) -> int:
        return order_id

    @orders.get("/bulk")
    def bulk() -> list:
        return []

    app.include_router(users, prefix="/users")
    app.include_router(orders, prefix="/orders")
"""

APPS = {
    "optinapp": OPTIN_APP,
    "brokenapp": BROKEN_APP,
    "partialapp": PARTIAL_APP,
    "eagerapp": EAGER_APP,
    "healthyapp": HEALTHY_APP,
    "plainapp": PLAIN_APP,
    "mountsapp": MOUNTS_APP,
    "manyroutesapp": MANY_ROUTES_APP,
    "profiledapp": PROFILED_APP,
    "notanapp": "app = 1\n",
}


@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name, source in APPS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in APPS:
        sys.modules.pop(name, None)


def test_check_reports_every_failure_duplicate_and_shadowed_route(
    apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "brokenapp:app", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    problems = {(problem["kind"], problem["path"]): problem for problem in report["problems"]}
    assert sorted(problems) == [
        ("duplicate", "/api/ok/{item_id}"),
        ("error", "/api/items/{item}"),
        ("error", "/api/teapot"),
        ("shadowed", "/api/x/bulk"),
    ]
    model_in_path = problems[("error", "/api/items/{item}")]
    assert model_in_path["methods"] == ["GET"]
    assert model_in_path["endpoint"] == "brokenapp:model_in_path"
    assert model_in_path["source"] == f"{apps / 'brokenapp.py'}:12"
    assert "Path params must be of one of the supported types" in model_in_path["message"]
    assert "Status code 204 must not have a response body" in problems[("error", "/api/teapot")]["message"]


def test_check_prints_a_plain_report_and_exit_status(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "healthyapp:app"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "5 routes checked: 0 errors, 0 warnings"
    assert main(["check", "brokenapp:app"]) == 1
    output = capsys.readouterr().out
    assert "ERROR: GET /api/items/{item}\n    endpoint brokenapp:model_in_path at " in output
    assert output.splitlines()[-1] == "10 routes checked: 2 errors, 2 warnings"


def test_check_names_the_function_a_partial_endpoint_calls(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "partialapp:app"]) == 1
    assert f"    endpoint partialapp:model_in_path at {apps / 'partialapp.py'}:9\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("missingapp:app", "could not load 'missingapp:app': ModuleNotFoundError", id="missing"),
        pytest.param("notanapp:app", "'notanapp:app' is a int, not a FastAPI app", id="not-an-app"),
        pytest.param("healthyapp", "expected 'module:attribute', got 'healthyapp'", id="malformed"),
    ],
)
def test_apps_that_cannot_be_loaded_exit_2(
    apps: Path, target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", target]) == 2
    assert message in capsys.readouterr().err


def test_openapi_writes_the_document(apps: Path) -> None:
    assert main(["openapi", "healthyapp:app", "-o", "openapi.json"]) == 0
    document = json.loads((apps / "openapi.json").read_text())
    assert document["info"]["title"] == "Healthy"
    assert list(document["paths"]) == ["/api/items/{item_id}"]


def test_profile_runs_as_a_command(apps: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lazyrouter", "profile", "healthyapp:app", "--top", "1"],
        capture_output=True,
        text=True,
        check=True,
        cwd=apps,
    )
    assert "import fastapi" in result.stdout
    assert "Routes: 1 declared lazily" in result.stdout
    assert "GET /api/items/{item_id}  (healthyapp:read)" in result.stdout


def test_profile_of_a_broken_app_lists_what_builds(apps: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lazyrouter", "profile", "brokenapp:app"],
        capture_output=True,
        text=True,
        cwd=apps,
    )
    assert result.returncode == 0, result.stderr
    # Six routes declared, two of them cannot be built: profiled are the four others.
    assert "Routes: 4 declared lazily" in result.stdout, result.stdout
    assert "GET /api/ok/{item_id}  (brokenapp:ok)" in result.stdout
    assert "Could not build route GET /api/items/{item}" in result.stderr


def test_check_finds_the_lazy_routers_a_plain_app_includes(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not INCLUDES_ARE_LIVE:
        # include_router() copies, and so builds, the routes: the error is the import's, as eagerly.
        assert main(["check", "plainapp:app"]) == 2
        assert "could not load 'plainapp:app': AssertionError: Path params" in capsys.readouterr().err
        return
    assert main(["check", "plainapp:app"]) == 1
    output = capsys.readouterr().out
    # Included twice, checked once.
    assert output.count("endpoint plainapp:model_in_path at ") == 1
    assert output.splitlines()[-1] == "1 routes checked: 1 errors, 0 warnings"


def test_check_sees_the_routes_of_included_lazy_routers_under_their_prefixes(
    apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /users/{user_id} and /orders/{order_id} are two paths; /orders/bulk is
    # shadowed by /orders/{order_id} (FastAPI < 0.137 copies the routes into the app).
    assert main(["check", "optinapp:app"]) == 0
    output = capsys.readouterr().out.splitlines()
    assert output[0] == "warning (shadowed): GET /orders/bulk"
    assert output[2] == "    unreachable: /orders/{order_id} is declared earlier for the same methods"
    # FastAPI < 0.137: the app's own routes, its docs routes included.
    assert output[-1] == f"{3 if INCLUDES_ARE_LIVE else 7} routes checked: 0 errors, 1 warnings"


def test_mounts_hosts_and_starlette_routes_are_never_unreachable(
    apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "mountsapp:app"]) == 0
    assert capsys.readouterr().out.splitlines() == ["8 routes checked: 0 errors, 0 warnings"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_check_shows_progress_on_a_terminal(
    apps: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["check", "manyroutesapp:app"]) == 0
    bar = f"\rbuilding routes [{'#' * 25}{' ' * 5}] 25/30\rbuilding routes [{'#' * 30}] 30/30\n"
    assert terminal.getvalue() == bar
    assert capsys.readouterr().out == "30 routes checked: 0 errors, 0 warnings\n"
    assert main(["check", "manyroutesapp:app", "--json"]) == 0
    assert terminal.getvalue() == bar  # none for machines
    assert json.loads(capsys.readouterr().out) == {"routes": 30, "problems": []}


@pytest.mark.parametrize("snapshot", [False, True], ids=["document", "snapshot"])
def test_openapi_refuses_to_write_a_document_missing_a_router_it_could_not_import(
    apps: Path, snapshot: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    (apps / "importsbroken.py").write_text(
        "from lazyrouter import LazyFastAPI\n"
        "app = LazyFastAPI()\n"
        "app.include_router('nosuchmodule.routers:router', prefix='/gone')\n"
        "app.get('/here')(lambda: None)\n"
    )
    try:
        assert main(["openapi", "importsbroken:app", "-o", "out.json", *(["--snapshot"] if snapshot else [])]) == 1
    finally:
        sys.modules.pop("importsbroken", None)
    assert not (apps / "out.json").exists()
    assert "ERROR: Could not import router 'nosuchmodule.routers:router' (included under '/gone')" in (
        capsys.readouterr().err
    )


def test_openapi_prints_the_document_by_default(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "healthyapp:app"]) == 0
    assert json.loads(capsys.readouterr().out)["info"]["title"] == "Healthy"


def test_a_snapshot_needs_a_lazy_app(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "eagerapp:app", "--snapshot"]) == 2
    expected = "lazyrouter: 'eagerapp:app' is not served by a LazyRouter: a snapshot needs LazyFastAPI\n"
    assert capsys.readouterr().err == expected


def test_lazify_needs_a_lazy_router(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lazify", "eagerapp:app"]) == 2
    expected = "lazyrouter: 'eagerapp:app' is not served by a LazyRouter: only a LazyRouter includes import strings\n"
    assert capsys.readouterr().err == expected


def test_profile_of_an_app_no_lazy_router_serves(apps: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "eagerapp:app"]) == 0
    output = capsys.readouterr().out
    assert "Routes: 0 declared lazily" in output
    assert "No LazyRouter serves this app: every route was built at import" in output


def test_profile_names_routes_built_at_declaration_and_eager_models(
    apps: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["profile", "profiledapp:app", "--top", "5"]) == 0
    output = capsys.readouterr().out
    # Base, Left, Right, Both (reached twice) and the eight others, each counted once.
    assert "Models in 'profiledapp': 12, of which 12 build their schema at import" in output
    assert "GET /items/{item_id}  (profiledapp:read) models: Both" in output
    assert "Routes built at declaration: 1 (their route class overrides __init__" in output
    assert "Suggestion: 12 models build their schema at import." in output


def test_importing_the_main_module_runs_no_command() -> None:
    # Tools that import every module of a package (documentation builders) must not run it.
    sys.modules.pop("lazyrouter.__main__", None)
    module = importlib.import_module("lazyrouter.__main__")
    assert module.main is main


def test_profile_reports_the_rest_when_the_interpreter_times_no_import(
    apps: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An interpreter without `-X importtime` (PyPy) prints no import time.
    silent = shutil.which("true")
    if silent is None:
        pytest.skip("no `true` command")
    monkeypatch.setattr(sys, "executable", silent)
    assert main(["profile", "healthyapp:app"]) == 0
    output = capsys.readouterr().out
    assert "  import " not in output
    assert "(import of healthyapp:app in this process: " in output
    assert "Routes: 1 declared lazily" in output
