"""slowapi: `@limiter.limit()` on endpoints, its exception handler and headers."""

from __future__ import annotations

from typing import Any

import pytest
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address

from tests.ecosystem.shop import LAZY_MODES, SetUp, answers, counting_builds, expected_builds, make_shop, optin_is_lazy

REQUESTS = [("GET", "/v1/items/3")] * 4 + [("GET", "/top/1")] * 3 + [("GET", "/v1/items/nested/users/a")] * 3


def limited(mode: str) -> tuple[list[Any], SetUp, int]:
    # (headers_enabled needs endpoints that take a `response`: the decorator
    # is what is tested here, on the shop's plain endpoints.)
    limiter = Limiter(key_func=get_remote_address)
    with counting_builds() as builds:
        app = make_shop(mode, limiter.limit("2/minute"))
        app.state.limiter = limiter
        app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
        at_start = builds.set_up()
        seen = answers(app, REQUESTS)
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_rate_limits_equal_eager(mode: str) -> None:
    eager, _, _ = limited("eager")
    lazy, at_start, after = limited(mode)
    assert lazy == eager
    assert [answer[2] for answer in eager] == [200, 200, 429, 429, 200, 200, 429, 200, 200, 429]
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode, reached=3)
