"""fastapi-limiter: `RateLimiter` dependencies (pyrate-limiter, in memory), on
the app and on routes. On each request it walks `request.app.routes` for the
route it guards, reading `.path`, `.methods`, `.endpoint` and `.dependencies`.

Routes declared on the app only, as its documentation shows: on FastAPI >= 0.137
the walk fails on an included router, eager or lazy alike (an `_IncludedRouter`
has no `.path`). So the modes are the two whose app is lazy itself."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from fastapi_limiter.depends import RateLimiter
from pyrate_limiter import Duration, Limiter, Rate

from tests.ecosystem.shop import SetUp, answers, counting_builds
from tests.modes import new_app

REQUESTS = [("GET", "/items/3")] * 4 + [("GET", "/items/4")] * 2 + [("GET", "/limited")] * 2 + [("GET", "/nope")]


def per_minute(times: int) -> Any:
    return Depends(RateLimiter(limiter=Limiter(Rate(times, Duration.MINUTE))))


def make_app(mode: str, app_wide: bool) -> FastAPI:
    # (A Limiter has one bucket: what it limits, it limits together.)
    app = new_app(mode, dependencies=[per_minute(3)] if app_wide else [])

    @app.get("/items/{item_id}", dependencies=[] if app_wide else [per_minute(3)])
    async def read_item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @app.get("/limited", dependencies=[per_minute(1)])
    async def limited() -> dict[str, str]:
        return {"msg": "Hello World"}

    @app.get("/unlimited")
    async def unlimited() -> dict[str, str]:
        return {"msg": "never requested"}

    return app


def limited(mode: str, app_wide: bool) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode, app_wide)
        at_start = builds.set_up()
        seen = answers(app, REQUESTS)
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", ["lazy_app", "assign"])
def test_rate_limits_equal_eager(mode: str) -> None:
    eager, _, _ = limited("eager", app_wide=False)
    lazy, at_start, after = limited(mode, app_wide=False)
    assert lazy == eager
    assert [answer[2] for answer in eager] == [200, 200, 200, 429, 429, 429, 200, 429, 404]
    # The walk reads .endpoint and .dependencies only of the route requested.
    assert (at_start, after) == (SetUp(0, ()), 2)


_APP_SETTINGS_DROPPED = (
    "`app.router = LazyRouter()` replaces the router that FastAPI(dependencies=[...]) made, and "
    "the app-wide dependencies with it (tests.modes.new_app assigns a bare LazyRouter(), as the "
    "README shows): every route loses its rate limit; eager `app.router = APIRouter()` would too"
)


@pytest.mark.parametrize(
    "mode", ["lazy_app", pytest.param("assign", marks=pytest.mark.xfail(strict=True, reason=_APP_SETTINGS_DROPPED))]
)
def test_app_wide_limits_equal_eager(mode: str) -> None:
    eager, _, _ = limited("eager", app_wide=True)
    lazy, _, _ = limited(mode, app_wide=True)
    assert [answer[2] for answer in eager] == [200, 200, 200, 429, 429, 429, 429, 429, 404]
    assert lazy == eager
