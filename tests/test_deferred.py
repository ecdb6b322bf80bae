"""What a deferred route tells on its build, and how a router that cannot be
imported stands among the routes it is included with."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound

from lazyrouter import LazyFastAPI


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
