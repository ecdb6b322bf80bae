"""LazyFastAPI(openapi_snapshot=...) serves a document written ahead of time,
building no route, and falls back to generating it when routes changed."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lazyrouter import LazyFastAPI
from lazyrouter.cli import main
from tests.conftest import count_builds

APP = """
    from fastapi import Depends
    from pydantic import BaseModel
    from lazyrouter import LazyFastAPI, LazyRouter

    class Item(BaseModel):
        name: str

    def user() -> str:
        return "me"

    def make_app(**kwargs):
        app = LazyFastAPI(title="Shop", **kwargs)
        router = LazyRouter(tags=["items"], dependencies=[Depends(user)])

        @router.get("/{item_id}")
        def read(item_id: int) -> Item:
            return Item(name=str(item_id))

        @router.post("/", status_code=201)
        def create(item: Item) -> Item:
            return item

        app.include_router(router, prefix="/items")
        app.include_router("snapapp_extra:router", prefix="/extra")
        return app

    app = make_app()
"""


@pytest.fixture
def snapapp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / "snapapp.py").write_text(textwrap.dedent(APP))
    (tmp_path / "snapapp_extra.py").write_text("from lazyrouter import LazyRouter\nrouter = LazyRouter()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import snapapp  # type: ignore[import-not-found]  # written by the fixture

    yield snapapp
    for name in ("snapapp", "snapapp_extra"):
        sys.modules.pop(name, None)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[Callable[..., Any]]:
    built: list[Callable[..., Any]] = []
    count_builds(monkeypatch, built.append)
    return built


def test_a_fresh_snapshot_is_served_without_building_routes(snapapp: Any, tmp_path: Path, builds: list[Any]) -> None:
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    live = TestClient(snapapp.make_app()).get("/openapi.json").json()
    builds.clear()
    app = snapapp.make_app(openapi_snapshot=tmp_path / "snapshot.json")
    client = TestClient(app)
    assert client.get("/openapi.json").json() == live
    assert "swagger-ui" in client.get("/docs").text
    assert builds == []


def test_a_stale_snapshot_falls_back_to_generating(
    snapapp: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    app = snapapp.make_app(openapi_snapshot="snapshot.json")
    app.get("/new")(lambda: "new")
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        document = TestClient(app).get("/openapi.json").json()
    assert "/new" in document["paths"]
    assert "OpenAPI snapshot snapshot.json is stale" in caplog.text


def test_routes_declared_after_the_snapshot_was_served_are_documented(snapapp: Any) -> None:
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    app = snapapp.make_app(openapi_snapshot="snapshot.json")
    client = TestClient(app)
    assert "/later" not in client.get("/openapi.json").json()["paths"]
    app.get("/later")(lambda: "later")
    assert "/later" in client.get("/openapi.json").json()["paths"]


def test_a_missing_snapshot_is_a_warning_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    app = LazyFastAPI(openapi_snapshot="/nonexistent/snapshot.json")
    app.get("/x")(lambda: "x")
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        assert "/x" in TestClient(app).get("/openapi.json").json()["paths"]
    assert "cannot be used" in caplog.text


def test_the_fingerprint_is_the_same_in_every_process(snapapp: Any, tmp_path: Path) -> None:
    code = "import snapapp; from lazyrouter._snapshot import fingerprint; print(fingerprint(snapapp.app.router))"
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    second = subprocess.run(run, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert first == second and len(first.strip()) == 64
