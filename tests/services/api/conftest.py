"""Fixtures of the API tests: a real SQL database with the registry's tables, and a client.

Every test runs on SQLite and on PostgreSQL (the shared `database_kind` fixture); tables
come from `Base.metadata.create_all`, so these tests do not depend on migrations.
`client` is logged in as an admin (every estate); `anonymous` carries no token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.base import TelemetryStore
from core.clock import ManualClock
from core.db import Base, create_engine_for, session_factory
from estateops.settings import Settings
from services.api import create_app
from services.workorders.alert import Alert
from tests.fixtures.database import database_copy
from tests.fixtures.postgres import PostgresServer, create_database
from tests.services.api.factories import FakeStore, seed_dead_letters, seed_registry
from tests.utils.auth import JWT_SECRET, staff_headers


async def _create_tables(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def tables_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the models' tables, made once per session (copied per test)."""
    path = tmp_path_factory.mktemp("api-tables") / "estateops.sqlite3"
    asyncio.run(_create_tables(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def tables_postgres(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database with the models' tables, made once per session: a template."""
    name = create_database(postgres_server, prefix="api_tables")
    asyncio.run(_create_tables(postgres_server.url(name)))
    return name


@pytest.fixture
def api_database_url(database_kind: str, request: pytest.FixtureRequest,
                     tmp_path: Path) -> Iterator[str]:
    """A database of the models' tables (`Base.metadata.create_all`, not the migrations): a
    copy of one made once per session, far faster than creating them for each test."""
    with database_copy(database_kind, request, tmp_path, sqlite_template="tables_sqlite",
                       postgres_template="tables_postgres") as url:
        yield url


@pytest.fixture
async def sessions(api_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine_for(api_database_url)
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
    return Settings(data_dir=tmp_path, database_url=api_database_url,
                    auth={"jwt_secret": JWT_SECRET},
                    mqtt={"url": "mqtt://127.0.0.1:9"})  # no broker: the alert listener waits


@pytest.fixture
def fake_store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> ManualClock:
    """The API's clock: starts at the real now (tokens are minted with it), moves on demand."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class RecordingNotifier:
    """An AlertSink that keeps what the API asked it to send."""

    alerts: list[Alert] = field(default_factory=list)

    async def notify(self, alert: Alert) -> None:
        self.alerts.append(alert)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@asynccontextmanager
async def serving(app: FastAPI, headers: dict[str, str] | None = None
                  ) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app` with its lifespan running, all in the test's event loop."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test",
                                     headers=headers) as client:
            yield client


@pytest.fixture
async def admin_headers(seeded: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return await staff_headers(seeded)


@pytest.fixture
def build_app(settings: Settings, seeded: async_sessionmaker[AsyncSession],
              fake_store: FakeStore, clock: ManualClock,
              notifier: RecordingNotifier) -> Callable[..., FastAPI]:
    def build(*, store: TelemetryStore | None = None,
              sessions: async_sessionmaker[AsyncSession] | None = None) -> FastAPI:
        return create_app(settings, store=fake_store if store is None else store,
                          sessions=seeded if sessions is None else sessions, clock=clock,
                          notifier=notifier)

    return build


@pytest.fixture
async def client(build_app: Callable[..., FastAPI],
                 admin_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(build_app(), admin_headers) as api:
        yield api


@pytest.fixture
async def anonymous(build_app: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(build_app()) as api:
        yield api
