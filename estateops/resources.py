"""Open the long-lived resources every command needs, from one Settings object."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store import TelemetryStore
from connectors.store.factory import open_store
from core.db import open_database
from device_profiles import ProfileSet, load_profiles
from estateops.migrate import ensure_schema
from estateops.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resources:
    settings: Settings
    profiles: ProfileSet
    sessions: async_sessionmaker[AsyncSession]
    store: TelemetryStore


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Profiles (a bad one stops start-up here), the SQL schema, the database and the store."""
    profiles = load_profiles(settings.profile_dirs)
    await ensure_schema(settings.effective_database_url)
    async with (
        open_database(settings.effective_database_url) as sessions,
        open_store(settings.influx, settings.embedded_telemetry_path) as store,
    ):
        yield Resources(settings, profiles, sessions, store)
