"""starlette-exporter: its middleware labels each request with the route's path
template, found by calling `matches()` on the app's routes."""

from __future__ import annotations

import itertools

import pytest
from prometheus_client import REGISTRY, generate_latest
from starlette_exporter import PrometheusMiddleware, handle_metrics

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

_apps = itertools.count()


def metric_lines(mode: str) -> tuple[list[str], SetUp, int]:
    prefix = f"shop{next(_apps)}"
    with counting_builds() as builds:
        app = make_shop(mode)
        app.add_middleware(PrometheusMiddleware, app_name="shop", prefix=prefix, group_paths=True)
        app.add_route("/metrics", handle_metrics)
        at_start = builds.set_up()
        answers(app, REQUESTS)
    lines = [
        line.replace(prefix, "shop")
        for line in generate_latest(REGISTRY).decode().splitlines()
        if line.startswith(f"{prefix}_requests_total")
    ]
    return sorted(lines), at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_request_labels_equal_eager(mode: str) -> None:
    eager, _, _ = metric_lines("eager")
    lazy, at_start, after = metric_lines(mode)
    assert lazy == eager
    # Path templates of the routes that answered; 404, 405 and redirects unlabelled.
    assert [line.split("path=")[1].split(",")[0] for line in eager] == [
        '"/top/{x}"',
        '"/v1/items/featured"',
        '"/v1/items/nested/users/{name}"',
        '"/v1/items/{item_id}"',
    ]
    if optin_is_lazy(mode):
        # Built: the four routes the requests reached, nothing at start.
        assert (at_start, after) == expected_builds(mode)
