"""fastapi-health: `health([...conditions])` makes an endpoint whose signature
it writes itself (each condition a dependency), added with `add_api_route()`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi_health  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI

from tests.ecosystem.shop import (
    LAZY_MODES,
    REQUESTS,
    SetUp,
    answers,
    counting_builds,
    expected_builds,
    make_shop,
    optin_is_lazy,
    router_for,
)

# The package has no type hints: its one name, typed.
health: Callable[..., Callable[..., Any]] = fastapi_health.health


def is_database_online() -> bool:
    return True


def get_session_info() -> dict[str, Any]:
    return {"session": "open", "pool": 3}


def is_queue_online() -> bool:
    return False


def make_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    app.add_api_route("/health", health([is_database_online, get_session_info]))
    probes = router_for(mode)
    probes.add_api_route("/ready", health([is_database_online, is_queue_online], failure_status=500))
    app.include_router(probes, prefix="/probes")
    return app


def probed(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        seen = answers(app, [("GET", "/health"), ("GET", "/probes/ready"), *REQUESTS])
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_health_answers_equal_eager(mode: str) -> None:
    eager, _, _ = probed("eager")
    lazy, at_start, after = probed(mode)
    assert lazy == eager
    assert eager[0][2:4] == (200, '{"session":"open","pool":3}')
    assert eager[1][2] == 500
    if optin_is_lazy(mode):
        start, reached = expected_builds(mode, reached=6)
        # With opt-in, /health is on the plain app: FastAPI's, built when added.
        assert (at_start, after) == (SetUp(start.routes + (mode == "optin"), ()), reached)
