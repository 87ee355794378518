"""An API on a migrated database (SQLite and PostgreSQL) with two registered estates.

The schema comes from the Alembic migrations here, so these tests also prove that the
staff tables migrate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from estateops.settings import Settings
from services.api import create_app
from tests.services.api.conftest import serving
from tests.services.api.factories import FakeStore
from tests.utils.auth import JWT_SECRET
from tests.utils.estates import register_small_estate

UNREACHABLE_BROKER = "mqtt://127.0.0.1:9"


@pytest.fixture
async def estates(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    return await register_small_estate(sessions), await register_small_estate(sessions)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def api_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    auth={"jwt_secret": JWT_SECRET, "token_ttl_s": 600},
                    mqtt={"url": UNREACHABLE_BROKER})


@pytest.fixture
def app(api_settings: Settings, sessions: async_sessionmaker[AsyncSession],
        clock: ManualClock, estates: tuple[str, str]) -> FastAPI:
    return create_app(api_settings, store=FakeStore(), sessions=sessions, clock=clock)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as client:
        yield client
