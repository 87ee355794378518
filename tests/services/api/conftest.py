"""Fixtures of the API tests: a real SQL database with the registry's tables, and a client.

Every test runs on SQLite and on PostgreSQL (the shared `empty_database_url` fixture);
tables come from `Base.metadata.create_all`, so these tests do not depend on migrations.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from estateops.settings import Settings
from gateway.store.base import TelemetryStore
from services.api import create_app
from services.db import Base, create_engine_for, session_factory
from tests.services.api.factories import FakeStore, seed_dead_letters, seed_registry


@pytest.fixture
def api_database_url(empty_database_url: str) -> str:
    return empty_database_url


@pytest.fixture
async def sessions(api_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine_for(api_database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def seeded(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    await seed_registry(sessions)
    await seed_dead_letters(sessions)
    return sessions


@pytest.fixture
def settings(tmp_path: Path, api_database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=api_database_url)


@pytest.fixture
def fake_store() -> FakeStore:
    return FakeStore()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` with its lifespan running, all in the test's event loop."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


@pytest.fixture
def build_app(settings: Settings, seeded: async_sessionmaker[AsyncSession],
              fake_store: FakeStore) -> Callable[..., FastAPI]:
    def build(*, store: TelemetryStore | None = None,
              sessions: async_sessionmaker[AsyncSession] | None = None) -> FastAPI:
        return create_app(settings, store=fake_store if store is None else store,
                          sessions=seeded if sessions is None else sessions)

    return build


@pytest.fixture
async def client(build_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(build_app()) as api:
        yield api
