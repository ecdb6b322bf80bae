"""sqladmin: an admin for a SQLAlchemy model on SQLite, mounted on the app."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqladmin import Admin, ModelView
from sqlalchemy import Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

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


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


class UserAdmin(ModelView, model=User):
    column_list = [User.id, User.name]


def make_app(mode: str) -> FastAPI:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([User(id=1, name="ann"), User(id=2, name="bob")])
        session.commit()
    app = make_shop(mode)
    admin = Admin(app, engine)
    admin.add_view(UserAdmin)
    return app


def administered(mode: str) -> tuple[list[Any], SetUp, int]:
    with counting_builds() as builds:
        app = make_app(mode)
        at_start = builds.set_up()
        client = TestClient(app)
        seen: list[Any] = []
        for path in ["/admin/", "/admin/user/list", "/admin/user/details/2", "/admin/nothing", "/admin"]:
            response = client.get(path, follow_redirects=False)
            seen.append((path, response.status_code, response.headers.get("location"), "bob" in response.text))
        seen.append(answers(app, REQUESTS))
    return seen, at_start, builds.routes


@pytest.mark.parametrize("mode", LAZY_MODES)
def test_admin_equals_eager(mode: str) -> None:
    eager, _, _ = administered("eager")
    lazy, at_start, after = administered(mode)
    assert lazy == eager
    assert eager[1] == ("/admin/user/list", 200, None, True)
    if optin_is_lazy(mode):
        assert (at_start, after) == expected_builds(mode)
