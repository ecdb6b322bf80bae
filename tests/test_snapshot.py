"""LazyFastAPI(openapi_snapshot=...) serves a document written ahead of time,
building no route, and falls back to generating it when routes changed."""

from __future__ import annotations

import importlib
import json
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
from lazyrouter._snapshot import differences, fingerprint, load
from lazyrouter.cli import main
from tests.conftest import count_builds

APP = """
    from typing import Annotated

    from fastapi import Depends, Query
    from pydantic import BaseModel
    from lazyrouter import LazyFastAPI, LazyRouter

    class Item(BaseModel):
        name: str

    class Tag(BaseModel):
        label: str

    def session() -> str:
        return "db"

    def user(db: Annotated[str, Depends(session)]) -> str:
        return "me"

    def make_app(**kwargs):
        app = LazyFastAPI(title="Shop", **kwargs)
        router = LazyRouter(tags=["items"], dependencies=[Depends(user)])

        @router.get("/{item_id}")
        def read(item_id: int, limit: Annotated[int, Query(le=100)] = 10) -> Item:
            \"\"\"Read one item.\"\"\"
            return Item(name=str(item_id))

        @router.get("/", response_model=list[Item])
        def search():
            return []

        @router.post("/", status_code=201)
        def create(item: Item) -> Item:
            return item

        app.include_router(router, prefix="/items")
        app.include_router("snapapp_extra:router", prefix="/extra")

        @app.webhooks.post("new-item")
        def new_item(item: Item) -> None: ...

        return app

    app = make_app()
    served = make_app(openapi_snapshot="snapshot.json")
"""


def write_app(directory: Path, source: str) -> Any:
    """(Re)write and import `snapapp`: the same module, the same declarations."""
    (directory / "snapapp.py").write_text(textwrap.dedent(source))
    sys.modules.pop("snapapp", None)
    return importlib.import_module("snapapp")


@pytest.fixture
def snapapp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    (tmp_path / "snapapp_extra.py").write_text("from lazyrouter import LazyRouter\nrouter = LazyRouter()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # No bytecode: a rewritten module of the same size in the same second would be read from it.
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    yield write_app(tmp_path, APP)
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
    app = snapapp.make_app(openapi_snapshot=tmp_path / "snapshot.json")
    builds.clear()  # the webhook, a plain APIRouter's route, was built as declared
    client = TestClient(app)
    sys.modules.pop("snapapp_extra")  # imported to write the document
    assert client.get("/openapi.json").json() == live
    assert "swagger-ui" in client.get("/docs").text
    assert builds == []
    assert "snapapp_extra" not in sys.modules


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


@pytest.mark.parametrize("written", ["document", "[]", '{"fingerprint": "0"}'])
def test_a_file_that_is_not_a_snapshot_is_a_warning(
    snapapp: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, written: str
) -> None:
    if written == "document":  # the mistake to expect: written without --snapshot
        assert main(["openapi", "snapapp:app", "-o", "snapshot.json"]) == 0
    else:
        (tmp_path / "snapshot.json").write_text(written)
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        document = TestClient(snapapp.make_app(openapi_snapshot="snapshot.json")).get("/openapi.json").json()
    assert "/items/{item_id}" in document["paths"]
    expected = "snapshot.json cannot be used (not a snapshot: write one with `lazyrouter openapi --snapshot`)"
    assert expected in caplog.text


def test_the_fingerprint_is_the_same_in_every_process(snapapp: Any, tmp_path: Path) -> None:
    code = "import snapapp; from lazyrouter._snapshot import fingerprint; print(fingerprint(snapapp.app))"
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    second = subprocess.run(run, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert first == second and len(first.strip()) == 64


# Each edit changes the document and no declaration.
EDITS = [
    pytest.param("def read(item_id: int,", "def read(item_id: str,", id="parameter-annotation"),
    pytest.param("Query(le=100)", "Query(le=50)", id="parameter-constraint"),
    pytest.param("= 10) -> Item:", "= 10) -> Tag:", id="return-annotation"),
    pytest.param("response_model=list[Item]", "response_model=list[Tag]", id="generic-argument"),
    pytest.param("def user(db:", "def user(token: str, db:", id="dependency-signature"),
    pytest.param("def session()", "def session(tenant: str)", id="nested-dependency-signature"),
    pytest.param("Read one item.", "Read one item, or none.", id="docstring"),
    pytest.param('title="Shop"', 'title="Shop", version="2.0"', id="app-setting"),
    pytest.param("def new_item(item: Item)", "def new_item(item: Tag)", id="webhook"),
]


@pytest.mark.parametrize("future", [False, True], ids=["annotations", "string-annotations"])
@pytest.mark.parametrize(("before", "after"), EDITS)
def test_a_snapshot_is_stale_after_a_change_no_declaration_shows(
    snapapp: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, before: str, after: str, future: bool
) -> None:
    source = ("from __future__ import annotations\n" if future else "") + textwrap.dedent(APP)
    write_app(tmp_path, source)
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    written = json.loads((tmp_path / "snapshot.json").read_text())["openapi"]
    assert before in source
    edited = write_app(tmp_path, source.replace(before, after))
    generated = TestClient(edited.make_app()).get("/openapi.json").json()
    assert generated != written
    with caplog.at_level(logging.WARNING, logger="lazyrouter"):
        served = TestClient(edited.make_app(openapi_snapshot="snapshot.json")).get("/openapi.json").json()
    assert "OpenAPI snapshot snapshot.json is stale" in caplog.text
    assert served == generated


def test_check_fails_on_a_stale_snapshot_the_fingerprint_does_not_see(
    snapapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    assert main(["check", "snapapp:served"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "7 routes checked: 0 errors, 0 warnings"
    # The fingerprint covers the name of a model, not its fields: served as it is.
    edited = write_app(tmp_path, textwrap.dedent(APP).replace("name: str", "name: int"))
    assert load("snapshot.json", edited.app) is not None
    assert main(["check", "snapapp:served", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"] == [
        {
            "kind": "error",
            "methods": [],
            "path": "/openapi.json",
            "endpoint": "openapi_snapshot",
            "source": "snapshot.json",
            "message": "OpenAPI snapshot snapshot.json is stale: it differs from the generated document at "
            "#/components/schemas/Item/properties/name/type",
        }
    ]


def test_check_warns_of_a_snapshot_that_would_not_be_used(
    snapapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "snapapp:served"]) == 0
    output = capsys.readouterr().out
    assert "warning (snapshot): * /openapi.json\n    endpoint openapi_snapshot at snapshot.json\n" in output
    assert "OpenAPI snapshot snapshot.json cannot be used ([Errno 2] No such file or directory" in output
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    # A dependency's return annotation is in the fingerprint, not in the document.
    write_app(
        tmp_path,
        textwrap.dedent(APP).replace(
            "def user(db: Annotated[str, Depends(session)]) -> str",
            "def user(db: Annotated[str, Depends(session)]) -> object",
        ),
    )
    assert main(["check", "snapapp:served"]) == 0
    output = capsys.readouterr().out
    assert "OpenAPI snapshot snapshot.json will not be used: its fingerprint is not the routes' (rewrite it)" in output
    assert output.splitlines()[-1] == "7 routes checked: 0 errors, 1 warnings"


def test_the_fingerprint_of_the_same_declarations_is_the_same(snapapp: Any) -> None:
    assert fingerprint(snapapp.make_app()) == fingerprint(snapapp.make_app())


def fingerprint_of(source: str) -> str:
    """The fingerprint of `router` as `source` declares it, in a module named shop."""
    namespace: dict[str, Any] = {"__name__": "shop"}
    # Compiled as written: not under this module's `from __future__ import annotations`.
    exec(compile(textwrap.dedent(PRELUDE) + textwrap.dedent(source), "shop.py", "exec", dont_inherit=True), namespace)
    return fingerprint(namespace["router"])


PRELUDE = """
    from enum import Enum
    from functools import partial
    from typing import Annotated

    from fastapi import APIRouter, Depends, Query, Security
    from pydantic import BaseModel
    from lazyrouter import LazyRouter

    class Kind(str, Enum):
        a = "a"
        b = "b"

    class Item(BaseModel):
        name: str

    def page(size: int, number: int = 1) -> int:
        return number

    def scoped(token: str = "") -> str:
        return token

    router = LazyRouter()
"""


# Pairs of declarations whose documents differ.
DIFFERENT = [
    pytest.param(
        "router.get('/')(lambda paged=Depends(partial(page, 10)): paged)",
        "router.get('/')(lambda paged=Depends(partial(page, number=2)): paged)",
        id="partial-dependency",
    ),
    pytest.param(
        """
        class Common:
            def __init__(self, q: str = ""): ...
        @router.get("/")
        def read(common: Common = Depends()): ...
        """,
        """
        class Common:
            def __init__(self, q: int = 0): ...
        @router.get("/")
        def read(common: Common = Depends()): ...
        """,
        id="class-dependency",
    ),
    pytest.param(
        """
        class Common:
            def __init__(self, q: str = ""): ...
        @router.get("/")
        def read(common: Annotated[Common, Depends()]): ...
        """,
        """
        class Common:
            def __init__(self, limit: str = ""): ...
        @router.get("/")
        def read(common: Annotated[Common, Depends()]): ...
        """,
        id="annotated-class-dependency",
    ),
    pytest.param(
        "router.get('/', dependencies=[Security(scoped, scopes=['read'])])(lambda: 1)",
        "router.get('/', dependencies=[Security(scoped, scopes=['write'])])(lambda: 1)",
        id="security-scopes",
    ),
    pytest.param(
        "router.get('/')(lambda kind=Kind.a: kind)",
        "router.get('/')(lambda kind=Kind.b: kind)",
        id="enum-default",
    ),
    pytest.param(
        "router.get('/')(lambda q=Query('a', max_length=3): q)",
        "router.get('/')(lambda q=Query('a', max_length=4): q)",
        id="query-default",
    ),
    pytest.param(
        """
        def user() -> "OnlyTypeCheckersSee": ...
        router.get("/", dependencies=[Depends(user)])(lambda: 1)
        """,
        """
        def user() -> "OnlyTypeCheckersSeeThis": ...
        router.get("/", dependencies=[Depends(user)])(lambda: 1)
        """,
        id="unresolved-string-annotation",
    ),
    pytest.param(
        "router.get('/', response_model=Item | None)(lambda: None)",
        "router.get('/', response_model=list[Item] | None)(lambda: None)",
        id="union-response-model",
    ),
    pytest.param(
        "router.add_api_websocket_route('/ws', lambda websocket, room=Query(''): None)",
        "router.add_api_websocket_route('/ws', lambda websocket, room=Query('', min_length=1): None)",
        id="websocket",
    ),
    pytest.param(
        "plain = APIRouter(); plain.get('/')(lambda q=1: q); router.include_router(plain)",
        "plain = APIRouter(); plain.get('/')(lambda q='1': q); router.include_router(plain)",
        id="plain-router",
    ),
]


@pytest.mark.parametrize(("before", "after"), DIFFERENT)
def test_the_fingerprint_covers_what_the_document_is_made_of(before: str, after: str) -> None:
    assert fingerprint_of(before) == fingerprint_of(before)
    assert fingerprint_of(before) != fingerprint_of(after)


def test_a_dependency_without_a_signature_is_fingerprinted_by_name() -> None:
    # FastAPI cannot build such a route either; `lazyrouter check` reports it.
    assert fingerprint_of("router.get('/')(lambda d=Depends(dict): d)") != fingerprint_of(
        "router.get('/')(lambda d=Depends(list): d)"
    )


def test_differences_are_json_pointers() -> None:
    snapshot = {"a/b": [1, 2], "c": {"~": 0}, "gone": 1, "list": [1]}
    generated = {"a/b": [1, 3], "c": {"~": 1}, "new": 1, "list": [1, 1]}
    assert list(differences(snapshot, generated)) == ["#/a~1b/1", "#/c/~0", "#/gone", "#/list", "#/new"]


def test_a_snapshot_behind_a_proxy_answers_as_the_generated_document(snapapp: Any) -> None:
    assert main(["openapi", "snapapp:app", "--snapshot", "-o", "snapshot.json"]) == 0
    generated = TestClient(snapapp.make_app(), root_path="/api").get("/openapi.json").json()
    # Older FastAPI releases (0.128 among them) add the root path to app.servers before generating
    # the document: the fingerprint sees it, and the document is generated.
    served = TestClient(snapapp.make_app(openapi_snapshot="snapshot.json"), root_path="/api").get("/openapi.json")
    assert served.json() == generated
    assert generated["servers"] == [{"url": "/api"}]
