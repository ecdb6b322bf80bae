"""sse-starlette: endpoints that answer an `EventSourceResponse` of the events an
async generator yields, read as a client reads the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sse_starlette import EventSourceResponse, ServerSentEvent

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


def make_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    events = router_for(mode, prefix="/events")

    @events.get("/ticks/{count}")
    async def ticks(count: int, request: Request) -> EventSourceResponse:
        async def generate() -> AsyncIterator[dict[str, Any]]:
            for number in range(count):
                yield {"event": "tick", "id": str(number), "data": f"tick {number}"}

        return EventSourceResponse(generate())

    @events.get("/typed")
    async def typed() -> EventSourceResponse:
        async def generate() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(data={"a": 1}, event="json", retry=1000)
            yield ServerSentEvent(comment="a comment")

        return EventSourceResponse(generate(), headers={"x-stream": "typed"})

    app.include_router(events, prefix="/v1")
    return app


def streamed(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = []
        for path in ["/v1/events/ticks/3", "/v1/events/typed", "/v1/events/ticks/x"]:
            with client.stream("GET", path) as response:
                headers = {name: response.headers.get(name) for name in ("content-type", "cache-control", "x-stream")}
                seen.append((path, response.status_code, headers, response.read().decode()))
        seen.append(answers(app, REQUESTS))
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_event_streams_equal_eager(mode: str) -> None:
    eager, _, _ = streamed("eager")
    lazy, at_start, _ = streamed(mode)
    assert lazy == eager
    assert eager[0][3].startswith("id: 0\r\nevent: tick\r\ndata: tick 0\r\n\r\n")
    assert eager[1][2]["content-type"] == "text/event-stream; charset=utf-8"
    if optin_is_lazy(mode):
        assert at_start == expected_builds(mode)[0]
