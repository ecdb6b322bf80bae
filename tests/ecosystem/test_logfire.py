"""logfire: `logfire.instrument_fastapi(app)`, nothing sent; the spans it records
(names, `http.route`, the endpoint arguments it attaches) against eager."""

from __future__ import annotations

from typing import Any

import logfire
import pytest
from fastapi import FastAPI
from logfire.testing import TestExporter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

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

EXPORTER = TestExporter()
logfire.configure(
    send_to_logfire=False, console=False, additional_span_processors=[SimpleSpanProcessor(EXPORTER)], metrics=False
)


def spans(mode: str) -> tuple[list[Any], list[Any], SetUp, int]:
    EXPORTER.clear()
    with counting_builds() as builds:
        app: FastAPI = make_shop(mode)
        logfire.instrument_fastapi(app)  # per app: nothing to undo for the next one
        at_start = builds.set_up()
        seen = answers(app, REQUESTS)
    recorded = sorted(
        (
            span["name"],
            span["attributes"].get("http.route"),
            span["attributes"].get("fastapi.arguments.values"),
            span["attributes"].get("http.response.status_code") or span["attributes"].get("http.status_code"),
        )
        for span in EXPORTER.exported_spans_as_dict()
    )
    return seen, recorded, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_spans_equal_eager(mode: str) -> None:
    eager_answers, eager_spans, _, _ = spans("eager")
    lazy_answers, lazy_spans, at_start, after = spans(mode)
    assert lazy_answers == eager_answers
    assert lazy_spans == eager_spans
    assert ("GET /v1/items/{item_id}", "/v1/items/{item_id}", '{"item_id":3}', 200) in eager_spans
    assert ("POST /v1/items/{item_id}", "/v1/items/{item_id}", None, 405) in eager_spans
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode)
