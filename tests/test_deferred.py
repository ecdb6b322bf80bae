"""What a deferred route tells on its build, how a router that cannot be
imported stands among the routes it is included with, and when a path that
only an include makes invalid fails."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound

from lazyrouter import LazyFastAPI
from lazyrouter._compat import INCLUDES_ARE_LIVE
from tests.modes import new_app, new_router


def ok() -> str:
    return "ok"


def test_each_build_logs_one_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    app = LazyFastAPI()
    app.get("/ok")(ok)
    client = TestClient(app)
    with caplog.at_level(logging.DEBUG, logger="lazyrouter"):
        assert client.get("/ok").text == '"ok"'
        assert client.get("/ok").text == '"ok"'
    built = [record.getMessage() for record in caplog.records if record.name == "lazyrouter"]
    assert len(built) == 1
    assert re.fullmatch(
        r"Built route GET /ok \(tests\.test_deferred:ok, .*test_deferred\.py:\d+\) in \d+\.\d\d ms", built[0]
    )


def test_url_path_for_looks_past_a_router_that_cannot_be_imported(caplog: pytest.LogCaptureFixture) -> None:
    app = LazyFastAPI()
    app.include_router("nosuchmodule:router", prefix="/broken")
    app.get("/ok", name="ok")(ok)
    with caplog.at_level(logging.CRITICAL, logger="lazyrouter"):  # the import's error, logged once
        assert app.url_path_for("ok") == "/ok"
        with pytest.raises(NoMatchFound, match='No route exists for name "missing" and params "".'):
            app.url_path_for("missing")


def by_id(id: str) -> str:
    return id


def outcome_of_a_duplicated_parameter(mode: str) -> tuple[str, str]:
    """Where `/items/{id}` + `/{id}` fails: at include_router(), or at the request."""
    app = new_app(mode)
    router = new_router(mode)
    router.get("/{id}")(by_id)
    try:
        app.include_router(router, prefix="/items/{id}")
    except ValueError as error:
        return "include", str(error)
    response = TestClient(app, raise_server_exceptions=False).get("/items/1/2")
    return "request", f"{response.status_code} {response.text}"


def test_a_path_an_include_prefix_makes_invalid_fails_where_eagerly(
    mode: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    if not INCLUDES_ARE_LIVE and mode in ("lazy_app", "assign"):
        # FastAPI < 0.137 compiles the included routes' paths in include_router().
        reason = "the paths an include prefix makes are compiled when the route is built"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    with caplog.at_level(logging.CRITICAL, logger="lazyrouter"):
        found = outcome_of_a_duplicated_parameter(mode)
    expected = outcome_of_a_duplicated_parameter("eager")
    assert expected in (
        ("include", "Duplicated param name id at path /items/{id}/{id}"),
        ("request", "500 Internal Server Error"),
    )
    assert found == expected
