"""SQLModel in endpoints, as its FastAPI tutorial writes them: table models,
`response_model=HeroPublic`, a session dependency (overridden per app with an
in-memory SQLite engine, as its testing tutorial does), 404s and partial updates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, create_engine, select

from tests.ecosystem.shop import LAZY_MODES, SetUp, app_for, counting_builds, include_module, optin_is_lazy, router_for

MODULE = "tests.ecosystem.heroes"


class HeroBase(SQLModel):
    name: str = Field(index=True)
    age: int | None = Field(default=None, index=True)


class Hero(HeroBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    secret_name: str


class HeroPublic(HeroBase):
    id: int


class HeroCreate(HeroBase):
    secret_name: str


class HeroUpdate(SQLModel):
    name: str | None = None
    age: int | None = None
    secret_name: str | None = None


def get_session() -> Iterator[Session]:
    raise NotImplementedError("each app overrides this with its own database")
    yield  # pragma: no cover


SessionDep = Annotated[Session, Depends(get_session)]


def heroes_router(mode: str) -> APIRouter:
    heroes = router_for(mode, prefix="/heroes", tags=["heroes"])

    @heroes.post("/", response_model=HeroPublic)
    def create_hero(hero: HeroCreate, session: SessionDep) -> Hero:
        db_hero = Hero.model_validate(hero)
        session.add(db_hero)
        session.commit()
        session.refresh(db_hero)
        return db_hero

    @heroes.get("/", response_model=list[HeroPublic])
    def read_heroes(session: SessionDep, offset: int = 0, limit: Annotated[int, Query(le=100)] = 100) -> Any:
        return session.exec(select(Hero).offset(offset).limit(limit)).all()

    @heroes.get("/{hero_id}", response_model=HeroPublic)
    def read_hero(hero_id: int, session: SessionDep) -> Hero:
        hero = session.get(Hero, hero_id)
        if not hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        return hero

    @heroes.patch("/{hero_id}", response_model=HeroPublic)
    def update_hero(hero_id: int, hero: HeroUpdate, session: SessionDep) -> Hero:
        db_hero = session.get(Hero, hero_id)
        if not db_hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        db_hero.sqlmodel_update(hero.model_dump(exclude_unset=True))
        session.add(db_hero)
        session.commit()
        session.refresh(db_hero)
        return db_hero

    @heroes.delete("/{hero_id}")
    def delete_hero(hero_id: int, session: SessionDep) -> dict[str, bool]:
        hero = session.get(Hero, hero_id)
        if not hero:
            raise HTTPException(status_code=404, detail="Hero not found")
        session.delete(hero)
        session.commit()
        return {"ok": True}

    return heroes


def session_factory() -> Callable[[], Iterator[Session]]:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)

    def get_session_override() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    return get_session_override


def make_app(mode: str) -> FastAPI:
    app = app_for(mode)
    if mode == "import_strings":
        include_module(app, MODULE, prefix="/v1")
    else:
        app.include_router(heroes_router(mode), prefix="/v1")
    app.dependency_overrides[get_session] = session_factory()
    return app


def answered(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        calls = [
            ("POST", "/v1/heroes/", {"name": "Deadpond", "secret_name": "Dive Wilson"}),
            ("POST", "/v1/heroes/", {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48}),
            ("POST", "/v1/heroes/", {"name": "Nameless"}),
            ("GET", "/v1/heroes/?limit=101", None),
            ("PATCH", "/v1/heroes/1", {"age": 30}),
            ("GET", "/v1/heroes/", None),
            ("DELETE", "/v1/heroes/2", None),
            ("GET", "/v1/heroes/2", None),
            ("GET", "/v1/heroes/1", None),
        ]
        seen: list[Any] = []
        for method, path, body in calls:
            response = client.request(method, path, json=body)
            seen.append((method, path, response.status_code, response.json()))
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_heroes_equal_eager(mode: str) -> None:
    eager, _, _ = answered("eager")
    lazy, at_start, _ = answered(mode)
    assert lazy == eager
    assert [answer[2] for answer in eager[:-1]] == [200, 200, 422, 422, 200, 200, 200, 404, 200]
    assert "secret_name" not in eager[0][3]
    assert eager[-2][3] == {"name": "Deadpond", "age": 30, "id": 1}
    if optin_is_lazy(mode):
        assert at_start == (0, ())
