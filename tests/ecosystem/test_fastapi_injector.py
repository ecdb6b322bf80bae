"""fastapi-injector: `attach_injector(app, injector)`, and `Injected(...)` and
`SyncInjected(...)` dependencies of an interface and of a singleton. (Not its
request scope: each makes an event loop it never closes, eager or lazy.)"""

from __future__ import annotations

import itertools
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi_injector import Injected, SyncInjected, attach_injector
from injector import Injector, singleton

from tests.ecosystem.shop import LAZY_MODES, SetUp, answers, counting_builds, expected_builds, make_shop, router_for


class Greeter:
    def greet(self, name: str) -> str:
        raise NotImplementedError


class PoliteGreeter(Greeter):
    def greet(self, name: str) -> str:
        return f"Good day, {name}"


class Visit:
    """One for the app: the same instance wherever a request asks for it."""

    numbers = itertools.count()

    def __init__(self) -> None:
        self.number = next(self.numbers)


REQUESTS = [("GET", "/v1/greetings/ann"), ("GET", "/v1/greetings/visit"), ("GET", "/v1/greetings/visit")]


def make_app(mode: str) -> FastAPI:
    Visit.numbers = itertools.count()
    injector = Injector()
    injector.binder.bind(Greeter, to=PoliteGreeter)
    injector.binder.bind(Visit, scope=singleton)
    app = make_shop(mode)
    attach_injector(app, injector)
    greetings = router_for(mode, prefix="/greetings")

    @greetings.get("/visit")
    async def visit(first: Annotated[Visit, Injected(Visit)], second: Annotated[Visit, Injected(Visit)]) -> Any:
        return {"visit": first.number, "same": first is second}

    @greetings.get("/{name}")
    def greet(name: str, greeter: Annotated[Greeter, SyncInjected(Greeter)]) -> dict[str, str]:
        return {"greeting": greeter.greet(name)}

    app.include_router(greetings, prefix="/v1")
    return app


def injected(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        seen = answers(app, REQUESTS)
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_injected_answers_equal_eager(mode: str) -> None:
    eager, _, _ = injected("eager")
    lazy, at_start, after = injected(mode)
    assert lazy == eager
    assert [answer[3] for answer in eager] == [
        '{"greeting":"Good day, ann"}',
        '{"visit":0,"same":true}',
        '{"visit":0,"same":true}',
    ]
    start, _ = expected_builds(mode)
    assert (at_start, after) == (start, start.routes + 2)
