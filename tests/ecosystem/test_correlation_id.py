"""asgi-correlation-id: its middleware and the id it hands endpoints."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from asgi_correlation_id import CorrelationIdMiddleware, correlation_id

from tests.ecosystem.shop import (
    LAZY_MODES,
    REQUESTS,
    SetUp,
    answers,
    counting_builds,
    expected_builds,
    make_shop,
    optin_is_lazy,
)


def with_id(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    import functools

    @functools.wraps(endpoint)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return {**endpoint(*args, **kwargs), "id": correlation_id.get()}

    return wrapped


def correlated(mode: str) -> tuple[list[object], SetUp, int]:
    ids = (f"id-{number}" for number in itertools.count())
    with counting_builds() as builds:
        app = make_shop(mode, with_id)
        app.add_middleware(CorrelationIdMiddleware, generator=lambda: next(ids), validator=None)
        at_start = builds.set_up()
        seen = answers(app, REQUESTS, ("x-request-id",))
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_correlation_ids_equal_eager(mode: str) -> None:
    eager, _, _ = correlated("eager")
    lazy, at_start, after = correlated(mode)
    assert lazy == eager
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode)
