"""fastcrud: `crud_router()` generates a router of create, read, list, update and
delete endpoints for a SQLAlchemy model, on SQLite (aiosqlite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from fastcrud import crud_router
from pydantic import BaseModel
from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tests.ecosystem.databases import async_sessions
from tests.ecosystem.shop import LAZY_MODES, SetUp, app_for, counting_builds, include_module, optin_is_lazy

MODULE = "tests.ecosystem.crud_items"


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(String)


class ItemCreateSchema(BaseModel):
    name: str
    description: str


class ItemUpdateSchema(BaseModel):
    name: str
    description: str


async def get_session() -> AsyncIterator[AsyncSession]:
    raise NotImplementedError("each app overrides this with its own database")
    yield  # pragma: no cover


def items_router() -> APIRouter:
    return crud_router(
        session=get_session,
        model=Item,
        create_schema=ItemCreateSchema,
        update_schema=ItemUpdateSchema,
        path="/items",
        tags=["Items"],
    )


def make_app(mode: str, database: Path) -> FastAPI:
    app = app_for(mode)
    if mode == "import_strings":
        include_module(app, MODULE, prefix="/v1")
    else:
        app.include_router(items_router(), prefix="/v1")
    app.dependency_overrides[get_session] = async_sessions(Base.metadata, database)
    return app


CALLS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/items", {"name": "pen", "description": "blue"}),
    ("POST", "/v1/items", {"name": "ink", "description": "black"}),
    ("POST", "/v1/items", {"name": "nameless"}),
    ("GET", "/v1/items/1", None),
    ("GET", "/v1/items?offset=0&limit=10", None),
    ("PATCH", "/v1/items/1", {"name": "pen", "description": "red"}),
    ("DELETE", "/v1/items/2", None),
    ("GET", "/v1/items/2", None),
    ("GET", "/v1/items", None),
]


def crud(mode: str, database: Path) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode, database)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = []
        for method, path, body in CALLS:
            response = client.request(method, path, json=body)
            seen.append((method, path, response.status_code, response.text))
        seen.append(client.get("/openapi.json").json())
    return seen, at_start, builds.routes


GENERATED = 5
"""crud_router()'s routes: a plain APIRouter's, which FastAPI builds when they are declared."""


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_generated_crud_equals_eager(mode: str, tmp_path: Path) -> None:
    eager, eager_start, _ = crud("eager", tmp_path / "eager.db")
    lazy, at_start, _ = crud(mode, tmp_path / "lazy.db")
    assert lazy == eager
    assert [answer[2] for answer in eager[:-1]] == [200, 200, 422, 200, 200, 200, 200, 404, 200]
    assert eager_start == (GENERATED, ())
    if optin_is_lazy(mode):
        # Included by import string, the module generates the router on the first
        # request under /v1.
        assert at_start == (0 if mode == "import_strings" else GENERATED, ())
