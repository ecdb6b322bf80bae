"""strawberry-graphql: a `GraphQLRouter` (an APIRouter subclass that declares its
own routes) included into the app, queried over GET and POST."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from fastapi import FastAPI
from fastapi.testclient import TestClient
from strawberry.fastapi import GraphQLRouter

from tests.ecosystem.shop import LAZY_MODES, REQUESTS, SetUp, answers, counting_builds, make_shop, optin_is_lazy


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"


def make_app(mode: str) -> FastAPI:
    app = make_shop(mode)
    app.include_router(GraphQLRouter(strawberry.Schema(query=Query)), prefix="/graphql")
    return app


def queried(mode: str) -> tuple[list[Any], SetUp]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = [
            client.post("/graphql", json={"query": '{ hello(name: "ann") }'}).json(),
            client.get("/graphql", params={"query": "{ hello }"}).json(),
            client.post("/graphql", json={"query": "{ nope }"}).status_code,
            client.get("/graphql", headers={"accept": "text/html"}).status_code,
            answers(app, REQUESTS),
            sorted(client.get("/openapi.json").json()["paths"]),
        ]
    return seen, at_start


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_graphql_router_equals_eager(mode: str) -> None:
    eager, eager_start = queried("eager")
    lazy, at_start = queried(mode)
    assert lazy == eager
    assert eager[:2] == [{"data": {"hello": "hello ann"}}, {"data": {"hello": "hello world"}}]
    if optin_is_lazy(mode):
        # The GraphQLRouter is a plain APIRouter: FastAPI built its routes when it
        # declared them, eager or lazy alike; the shop's routes wait.
        assert at_start == (eager_start.routes - 4 + (1 if mode == "optin" else 0), ())
