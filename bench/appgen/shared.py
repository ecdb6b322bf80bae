"""Source of the modules every router imports: models/common.py, deps.py, fixtures.py."""

from __future__ import annotations

from appgen.spec import AUDIT, CREATED_AT, OWNER


def render_common(deferred: bool) -> str:
    """Source of ``benchapp/models/common.py`` (models shared by all routers)."""
    cfg = "\n    model_config = ConfigDict(defer_build=True)\n" if deferred else ""
    pyd = "BaseModel, ConfigDict, Field" if deferred else "BaseModel, Field"
    return f'''"""Models shared by every router of the benchmark app. Generated."""

from datetime import datetime
from enum import Enum
from typing import Literal, Optional

from pydantic import {pyd}


class Currency(str, Enum):
    """ISO currency code."""

    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


class Visibility(str, Enum):
    """Who may see an object."""

    PRIVATE = "private"
    TEAM = "team"
    PUBLIC = "public"


class Money(BaseModel):
    """An amount in a currency."""
{cfg}
    amount: float = Field(ge=0)
    currency: Currency = Currency.EUR


class Dimensions(BaseModel):
    """Physical dimensions."""
{cfg}
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    depth: float = Field(gt=0)
    unit: Literal["cm", "in"] = "cm"


class Address(BaseModel):
    """A postal address."""
{cfg}
    street: str = Field(max_length=120)
    city: str = Field(max_length=80)
    postcode: str = Field(pattern=r"^[0-9]{{5}}$")
    country: str = Field(min_length=2, max_length=2)


class Contact(BaseModel):
    """A person to contact."""
{cfg}
    name: str = Field(max_length=80)
    email: str = Field(max_length=254)
    phone: Optional[str] = Field(None, max_length=32)


class UserRef(BaseModel):
    """A reference to a user."""
{cfg}
    id: int = Field(ge=1)
    username: str = Field(max_length=32)
    email: Optional[str] = None


class Audit(BaseModel):
    """Audit trail of an object."""
{cfg}
    created_by: UserRef
    updated_at: Optional[datetime] = None
    version: int = Field(1, ge=1)
    reason: Optional[str] = Field(None, max_length=200)


class PageLinks(BaseModel):
    """Pagination links."""
{cfg}
    current: str
    next: Optional[str] = None
    prev: Optional[str] = None


class DeleteResult(BaseModel):
    """Outcome of a delete."""
{cfg}
    id: int
    deleted: bool
'''


DEPS_SOURCE = '''"""Dependencies shared by the routers of the benchmark app. Generated."""

from collections.abc import Iterator
from functools import lru_cache
from typing import Annotated, Any, Optional

from fastapi import Depends, Header


class Settings:
    """Application settings (constant for the benchmark)."""

    database_url = "sqlite://"
    page_size = 20


class FakeSession:
    """Stands in for a database session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.closed = False

    def close(self) -> None:
        self.closed = True


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()


def get_db(settings: Annotated[Settings, Depends(get_settings)]) -> Iterator[FakeSession]:
    """Yield a session, closed after the response."""
    session = FakeSession(settings)
    try:
        yield session
    finally:
        session.close()


async def get_current_user(
    authorization: Annotated[Optional[str], Header()] = None,
) -> dict[str, Any]:
    """Resolve the caller (every caller is the benchmark user)."""
    return {"id": 1, "username": "bench", "authenticated": authorization is not None}
'''


def render_fixtures() -> str:
    """Source of ``benchapp/fixtures.py`` (constant response fragments)."""
    return (
        '"""Constant response fragments of the benchmark app. Generated."""\n\n'
        "from typing import Any\n\n"
        f"CREATED_AT = {CREATED_AT!r}\n"
        f"OWNER: dict[str, Any] = {OWNER!r}\n"
        f"AUDIT: dict[str, Any] = {AUDIT!r}\n"
    )
