"""`lazyrouter lazify`: the include lines to write, the imports that go, the
includes that stay, and the proof, on a small project written for each test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lazyrouter import _equivalence
from lazyrouter.cli import main

ROUTERS = {
    "users": """
        from fastapi import APIRouter
        router = APIRouter(prefix="/users", tags=["users"])
        @router.get("/{user_id}")
        def read_user(user_id: int) -> dict:
            return {"user": user_id}
    """,
    "orders": """
        from lazyrouter import LazyRouter
        router = LazyRouter()
        @router.get("/{order_id}")
        def read_order(order_id: int) -> dict:
            return {"order": order_id}
    """,
    "items": """
        from fastapi import APIRouter
        router = APIRouter()
        @router.get("/")
        def list_items() -> list:
            return []
    """,
    "scattered": """
        from fastapi import APIRouter
        router = APIRouter()
        router.get("/a")(lambda: "a")
        router.get("/b")(lambda: "b")
    """,
    "with_lifespan": """
        from fastapi import APIRouter
        router = APIRouter(prefix="/life", on_startup=[print])
        router.get("/")(lambda: "alive")
    """,
}

MAIN = '''\
"""The app."""

from fastapi import APIRouter, Depends
from lazyrouter import LazyFastAPI

import lzshop.routers.items as items
from lzshop.routers import orders, users
from lzshop.routers import (
    scattered,
    with_lifespan,  # handlers run at start-up
)


def auth() -> None:
    return None


local = APIRouter(prefix="/local")
local.get("/")(lambda: "local")

app = LazyFastAPI()
app.include_router(users.router)
app.include_router(
    orders.router,
    prefix="/orders",
    dependencies=[Depends(auth)],
)
app.include_router(items.router, prefix="/items")
app.include_router(scattered.router)
app.include_router(with_lifespan.router)
app.include_router(local)
for extra in (items.router, orders.router):
    app.include_router(extra, prefix="/again")
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    routers = tmp_path / "lzshop" / "routers"
    routers.mkdir(parents=True)
    (tmp_path / "lzshop" / "__init__.py").write_text("")
    (routers / "__init__.py").write_text("")
    for name, source in ROUTERS.items():
        (routers / f"{name}.py").write_text(textwrap.dedent(source))
    (tmp_path / "lzshop" / "main.py").write_text(MAIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    forget_project()


def forget_project() -> None:
    for module in [name for name in sys.modules if name.startswith("lzshop")]:
        del sys.modules[module]


EXPECTED_OUTPUT = """\
kept: lzshop/main.py:29: no include prefix, and its routes share no path prefix for a manifest to record
kept: lzshop/main.py:30: the router has a lifespan or startup/shutdown handlers, merged when it is included
kept: lzshop/main.py:31: its argument is not a name imported from the router's module
kept: lzshop/main.py:33: this call includes several routers (in a loop?)
lzshop/main.py:22:
    app.include_router(users.router)
 -> app.include_router("lzshop.routers.users:router")
lzshop/main.py:23:
    app.include_router(
        orders.router,
        prefix="/orders",
        dependencies=[Depends(auth)],
    )
 -> app.include_router(
        "lzshop.routers.orders:router",
        prefix="/orders",
        dependencies=[Depends(auth)],
    )
lzshop/main.py:28:
    app.include_router(items.router, prefix="/items")
 -> app.include_router("lzshop.routers.items:router", prefix="/items")
lzshop/main.py:7: the import of users goes (nothing else uses it)
"""


def test_lazify_prints_the_lines_and_proves_them(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lazify", "lzshop.main:app"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(EXPECTED_OUTPUT)
    assert "Equivalent: " in out
    # The loop still uses items and orders: their modules stay imported.
    assert "Router modules imported at start: 3 of 3 before, 2 after (with the manifest)." in out
    assert (project / "lzshop" / "main.py").read_text() == MAIN


def test_lazify_write_edits_only_what_it_proved(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lazify", "lzshop.main:app", "--write"]) == 0
    assert capsys.readouterr().out.endswith("wrote lzshop/main.py\n")
    edited = (project / "lzshop" / "main.py").read_text()
    assert edited == (
        MAIN.replace("from lzshop.routers import orders, users\n", "from lzshop.routers import orders\n")
        .replace("app.include_router(users.router)", 'app.include_router("lzshop.routers.users:router")')
        .replace("    orders.router,\n    prefix", '    "lzshop.routers.orders:router",\n    prefix')
        .replace("app.include_router(items.router, prefix", 'app.include_router("lzshop.routers.items:router", prefix')
    )
    # Written, with a manifest for the include with no prefix: the modules wait.
    forget_project()
    assert main(["manifest", "lzshop.main:app", "-o", "manifest.json"]) == 0
    started = _imported_at_start(project, "manifest.json")
    assert "lzshop.routers.users" not in started
    assert "lzshop.routers.orders" in started  # the loop still includes it


def test_an_import_used_elsewhere_stays(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_module = project / "lzshop" / "main.py"
    main_module.write_text(MAIN + "\nUSERS_TAGS = users.router.tags\n")
    assert main(["lazify", "lzshop.main:app"]) == 0
    out = capsys.readouterr().out
    assert "the import of" not in out
    assert "Router modules imported at start: 3 of 3 before, 3 after" in out


def test_imports_of_the_changed_routers_go_or_shrink(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_module = project / "lzshop" / "main.py"
    main_module.write_text(
        "from lazyrouter import LazyFastAPI\n"
        "from lzshop.routers import (\n    items,\n    orders,\n    users,\n)\n"
        "from lzshop.routers.users import router as users_router\n"
        "app = LazyFastAPI()\n"
        "app.include_router(users_router)\n"
        "app.include_router(orders.router, prefix='/orders')\n"
        "app.include_router(items.router, prefix='/items')\n"
        "USED = users\n"
    )
    assert main(["lazify", "lzshop.main:app", "--write"]) == 0
    assert main_module.read_text() == (
        "from lazyrouter import LazyFastAPI\n"
        "from lzshop.routers import (\n    users,\n)\n"
        "app = LazyFastAPI()\n"
        'app.include_router("lzshop.routers.users:router")\n'
        "app.include_router(\"lzshop.routers.orders:router\", prefix='/orders')\n"
        "app.include_router(\"lzshop.routers.items:router\", prefix='/items')\n"
        "USED = users\n"
    )


def test_a_change_that_alters_the_app_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The router reads a setting the app changes after importing it: imported
    # later, it reads the changed value, and the OpenAPI document differs.
    (project / "lzshop" / "settings.py").write_text("TAG = 'before'\n")
    users = project / "lzshop" / "routers" / "users.py"
    users.write_text(
        "import lzshop.settings\n" + users.read_text().replace('tags=["users"]', "tags=[lzshop.settings.TAG]")
    )
    main_module = project / "lzshop" / "main.py"
    main_module.write_text(
        MAIN.replace(
            "app = LazyFastAPI()", "import lzshop.settings\nlzshop.settings.TAG = 'after'\napp = LazyFastAPI()"
        )
    )
    assert main(["lazify", "lzshop.main:app", "--write"]) == 1
    out = capsys.readouterr().out
    assert "NOT equivalent: 1 of " in out
    assert "GET /openapi.json: the body differs (200 before, 200 after)" in out
    assert "wrote" not in out
    assert "lzshop.routers.users:router" not in main_module.read_text()


def test_an_app_with_nothing_to_change(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "lzshop" / "main.py").write_text(
        "from lazyrouter import LazyFastAPI\napp = LazyFastAPI()\n"
        "app.include_router('lzshop.routers.items:router', prefix='/items')\n"
    )
    assert main(["lazify", "lzshop.main:app"]) == 0
    assert capsys.readouterr().out == "No include_router() call to change.\n"


def test_probes_run_no_endpoint() -> None:
    from fastapi import FastAPI

    calls = []
    app = FastAPI()
    app.get("/x/{n}")(lambda n: calls.append(n))
    requests = _equivalence.sample_requests(app, app.routes)
    assert ("LAZYROUTERPROBE", "/x/x") in requests
    assert requests[-1] == ("GET", "/openapi.json")
    assert all(method == _equivalence.PROBE_METHOD for method, _ in requests[:-1])


def _imported_at_start(project: Path, manifest: str) -> list[str]:
    probe = "import json, sys; import lzshop.main; print(json.dumps(sorted(sys.modules)))"
    env = {"LAZYROUTER_MANIFEST": manifest, "PATH": "", "PYTHONPATH": str(project)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    modules: list[str] = json.loads(result.stdout)
    return modules
