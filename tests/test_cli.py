"""The lazyrouter command on a deliberately broken app and on a healthy one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

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


@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "brokenapp.py").write_text(textwrap.dedent(BROKEN_APP))
    (tmp_path / "healthyapp.py").write_text(textwrap.dedent(HEALTHY_APP))
    (tmp_path / "notanapp.py").write_text("app = 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in ("brokenapp", "healthyapp", "notanapp"):
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
