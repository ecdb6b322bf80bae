"""fastapi-filter: a SQLAlchemy `Filter` (lookups, `order_by`, `search`) taken by
`FilterDepends()`, applied to a SQLModel query, on the heroes of test_sqlmodel."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fastapi_filter import FilterDepends
from fastapi_filter.contrib.sqlalchemy import Filter
from sqlmodel import select

from tests.ecosystem.shop import SetUp, app_for, counting_builds, optin_is_lazy, router_for
from tests.ecosystem.test_sqlmodel import Hero, HeroPublic, SessionDep, get_session, session_factory


class HeroFilter(Filter):
    name: str | None = None
    name__ilike: str | None = None
    age__lt: int | None = None
    age__in: list[int] | None = None
    order_by: list[str] = ["name"]
    search: str | None = None

    class Constants(Filter.Constants):
        model = Hero
        search_model_fields = ["name", "secret_name"]


HEROES = [("Deadpond", "Dive Wilson", 30), ("Rusty-Man", "Tommy Sharp", 48), ("Spider-Boy", "Pedro Parqueador", 16)]
QUERIES = [
    "",
    "?name=Deadpond",
    "?name__ilike=%25man%25",
    "?age__lt=40&order_by=-age",
    "?age__in=16,48",
    "?search=pedro",
    "?order_by=nope",
    "?age__lt=old",
]


def make_app(mode: str) -> FastAPI:
    app = app_for(mode)
    heroes = router_for(mode, prefix="/heroes")

    @heroes.get("/", response_model=list[HeroPublic])
    def read_heroes(session: SessionDep, hero_filter: Annotated[HeroFilter, FilterDepends(HeroFilter)]) -> Any:
        query = hero_filter.sort(hero_filter.filter(select(Hero)))
        return session.exec(query).all()

    app.include_router(heroes, prefix="/v1")
    app.dependency_overrides[get_session] = sessions = session_factory()
    for session in sessions():
        session.add_all(Hero(name=name, secret_name=secret, age=age) for name, secret, age in HEROES)
        session.commit()
    return app


def filtered(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = []
        for query in QUERIES:
            response = client.get(f"/v1/heroes/{query}")
            seen.append((query, response.status_code, response.json()))
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", ["lazy_app", "assign", "optin"])
def test_filtered_answers_equal_eager(mode: str) -> None:
    eager, _, _ = filtered("eager")
    lazy, at_start, _ = filtered(mode)
    assert lazy == eager
    names = [[hero["name"] for hero in answer[2]] if answer[1] == 200 else answer[1] for answer in eager[:-1]]
    assert names == [
        ["Deadpond", "Rusty-Man", "Spider-Boy"],
        ["Deadpond"],
        ["Rusty-Man"],
        ["Deadpond", "Spider-Boy"],
        ["Rusty-Man", "Spider-Boy"],
        ["Spider-Boy"],
        422,
        422,
    ]
    if optin_is_lazy(mode):
        assert at_start == (0, ())
