"""SQLite databases for the extensions that keep users or rows in one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from sqlalchemy import MetaData, create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool


def async_sessions(metadata: MetaData, database: Path) -> Callable[[], AsyncIterator[AsyncSession]]:
    """A session dependency on a fresh SQLite file holding `metadata`'s tables."""
    metadata.create_all(create_engine(f"sqlite:///{database}"))
    # A connection per session: TestClient runs each request in an event loop of its own.
    sessions = async_sessionmaker(create_async_engine(f"sqlite+aiosqlite:///{database}", poolclass=NullPool))

    async def get_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            yield session

    return get_session
